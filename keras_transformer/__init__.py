"""keras-transformer: the Transformer of "Attention Is All You Need" as Keras 3 layers and models."""

from keras_transformer import layers, models, training
from keras_transformer.models import TransformerConfig, build_attention_model, build_transformer

__version__ = "0.1.0"

__all__ = [
    "TransformerConfig",
    "build_attention_model",
    "build_transformer",
    "layers",
    "models",
    "training",
]
