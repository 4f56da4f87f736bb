"""Generation with a key/value cache: greedy search, beam search and sampling, driven by `DecodingSettings`.

Names are imported on first use: `DecodingSettings` (what a zoo folder's `zoo.json` stores) loads no Keras.
"""

from keras_transformer import _lazy

_NAMES = {
    "DecodingSettings": ("keras_transformer.decoding.settings", "DecodingSettings"),
    "IncrementalDecoder": ("keras_transformer.decoding.incremental", "IncrementalDecoder"),
    "beam_search": ("keras_transformer.decoding.search", "beam_search"),
    "decode": ("keras_transformer.decoding.dispatch", "decode"),
    "generate": ("keras_transformer.decoding.generation", "generate"),
    "greedy_search": ("keras_transformer.decoding.search", "greedy_search"),
    "length_penalty": ("keras_transformer.decoding.search", "length_penalty"),
    "sample": ("keras_transformer.decoding.search", "sample"),
}
__getattr__, __dir__ = _lazy.attach(__name__, _NAMES)
__all__ = sorted(_NAMES)
