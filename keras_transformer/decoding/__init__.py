"""Generation with a key/value cache: greedy search, beam search and sampling, driven by `DecodingSettings`."""

from keras_transformer.decoding.dispatch import decode
from keras_transformer.decoding.generate import generate
from keras_transformer.decoding.incremental import IncrementalDecoder
from keras_transformer.decoding.search import beam_search, greedy_search, length_penalty, sample
from keras_transformer.decoding.settings import DecodingSettings

__all__ = [
    "DecodingSettings",
    "IncrementalDecoder",
    "beam_search",
    "decode",
    "generate",
    "greedy_search",
    "length_penalty",
    "sample",
]
