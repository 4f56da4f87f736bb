"""keras-transformer: the Transformer of "Attention Is All You Need" as Keras 3 layers and models.

Every name below is imported on first use (`keras_transformer._lazy`): `import keras_transformer`
imports neither Keras nor TensorFlow, so the command line's `--help` and `zoo list` answer at once, and
Keras on JAX or PyTorch needs no TensorFlow (the TensorFlow-only names, `TextPipeline` and
`SentenceEncoder`, then fail when used).

Our Keras classes register themselves (for `keras.saving.load_model`) when their module is imported:
`keras_transformer.layers` registers every layer, `from keras_transformer.models import TransformerModel`
(or `EncoderModel`; any use of `build_transformer` or `build_encoder` too) the model class and its layers,
and a loss, metric or schedule of `keras_transformer.training` when it is first used.
`keras_transformer.load_model(path)` registers them all and loads a `.keras` file in one call;
`import keras_transformer` alone registers nothing.
"""

from keras_transformer import _lazy, _modules

__version__ = "0.1.0"

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "DecodingSettings": ("keras_transformer.decoding.settings", "DecodingSettings"),
        "EncoderConfig": ("keras_transformer.models", "EncoderConfig"),
        "SentenceEncoder": ("keras_transformer.sentence_encoder", "SentenceEncoder"),
        "TextPipeline": ("keras_transformer.pipeline", "TextPipeline"),
        "TransformerConfig": ("keras_transformer.models", "TransformerConfig"),
        "build_attention_model": ("keras_transformer.models", "build_attention_model"),
        "build_encoder": ("keras_transformer.models", "build_encoder"),
        "load_model": ("keras_transformer.training.saving", "load_model"),
        "build_transformer": ("keras_transformer.models", "build_transformer"),
        "layers": "keras_transformer.layers",
        "models": "keras_transformer.models",
        "training": "keras_transformer.training",
        # Subpackages reached as attributes (`keras_transformer.zoo.load(...)` after `import keras_transformer`);
        # left out of `__all__`, as some need an extra.
        "convert": "keras_transformer.convert",
        "data": "keras_transformer.data",
        "decoding": "keras_transformer.decoding",
        "evaluation": "keras_transformer.evaluation",
        "export": "keras_transformer.export",
        "text": "keras_transformer.text",
        "viz": "keras_transformer.viz",
        "zoo": "keras_transformer.zoo",
    },
)

__all__ = [
    "DecodingSettings",
    "EncoderConfig",
    "SentenceEncoder",
    "TextPipeline",
    "TransformerConfig",
    "build_attention_model",
    "build_encoder",
    "load_model",
    "build_transformer",
    "layers",
    "models",
    "training",
]

if not _modules.installed("tensorflow"):
    # `from keras_transformer import *` must work on JAX or PyTorch without TensorFlow installed.
    __all__ = [name for name in __all__ if name not in ("SentenceEncoder", "TextPipeline")]
