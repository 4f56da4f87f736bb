"""Encoder-decoder models assembled from `keras_transformer.layers` with the functional API."""

from keras_transformer.models.config import TransformerConfig
from keras_transformer.models.transformer import (
    TransformerLayers,
    TransformerModel,
    build_attention_model,
    build_transformer,
    config_of,
)

__all__ = [
    "TransformerConfig",
    "TransformerLayers",
    "TransformerModel",
    "build_attention_model",
    "build_transformer",
    "config_of",
]
