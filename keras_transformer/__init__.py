"""keras-transformer: the Transformer of "Attention Is All You Need" as Keras 3 layers and models."""

import importlib
import os
import sys

from keras_transformer import _modules

__version__ = "0.1.0"

# The names below need Keras (and so TensorFlow). A plain `import keras_transformer` imports them at
# once, which also registers the layers for `keras.saving.load_model`. The `keras-transformer`
# command (or anything run with this variable set to 1) imports them on first use instead, so that
# `--help` and `zoo list` answer without loading TensorFlow; its other commands import what they use.
LAZY_IMPORT_VARIABLE = "KERAS_TRANSFORMER_LAZY_IMPORT"
_COMMAND = "keras-transformer"

_LAZY = {
    "layers": ("keras_transformer.layers", None),
    "models": ("keras_transformer.models", None),
    "training": ("keras_transformer.training", None),
    "TransformerConfig": ("keras_transformer.models", "TransformerConfig"),
    "build_attention_model": ("keras_transformer.models", "build_attention_model"),
    "build_transformer": ("keras_transformer.models", "build_transformer"),
    "DecodingSettings": ("keras_transformer.decoding.settings", "DecodingSettings"),
    "TextPipeline": ("keras_transformer.pipeline", "TextPipeline"),
    "EncoderConfig": ("keras_transformer.models", "EncoderConfig"),
    "build_encoder": ("keras_transformer.models", "build_encoder"),
    "SentenceEncoder": ("keras_transformer.sentence_encoder", "SentenceEncoder"),
}


def __getattr__(name):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = importlib.import_module(module)
        return value if attribute is None else getattr(value, attribute)
    raise AttributeError(f"module 'keras_transformer' has no attribute {name!r}")


def _lazy():
    program = os.path.basename(sys.argv[0]) if getattr(sys, "argv", None) else ""
    return os.environ.get(LAZY_IMPORT_VARIABLE) == "1" or program == _COMMAND


if not _lazy():
    from keras_transformer import layers, models, training  # noqa: E402
    from keras_transformer.decoding.settings import DecodingSettings  # noqa: E402
    from keras_transformer.models import TransformerConfig, build_attention_model, build_transformer  # noqa: E402
    from keras_transformer.models import EncoderConfig, build_encoder  # noqa: E402

    # Keras on JAX or PyTorch needs no TensorFlow: without it, the layers, models, training utilities
    # and `generate` import as usual, and the TensorFlow-only names fail only when used.
    if _modules.installed("tensorflow"):
        from keras_transformer.pipeline import TextPipeline  # noqa: E402
        from keras_transformer.sentence_encoder import SentenceEncoder  # noqa: E402

__all__ = [
    "DecodingSettings",
    "EncoderConfig",
    "SentenceEncoder",
    "TextPipeline",
    "TransformerConfig",
    "build_attention_model",
    "build_encoder",
    "build_transformer",
    "layers",
    "models",
    "training",
]

if not _modules.installed("tensorflow"):
    # `from keras_transformer import *` must work on JAX or PyTorch without TensorFlow installed.
    __all__ = [name for name in __all__ if name not in ("SentenceEncoder", "TextPipeline")]
