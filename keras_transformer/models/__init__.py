"""Encoder-decoder and encoder-only models assembled from `keras_transformer.layers` with the
functional API."""

from keras_transformer.models.config import TransformerConfig
from keras_transformer.models.encoder import EncoderConfig, EncoderModel, build_encoder
from keras_transformer.models.transformer import (
    TransformerLayers,
    TransformerModel,
    build_attention_model,
    build_transformer,
    config_of,
)

__all__ = [
    "EncoderConfig",
    "EncoderModel",
    "TransformerConfig",
    "TransformerLayers",
    "TransformerModel",
    "build_attention_model",
    "build_encoder",
    "build_transformer",
    "config_of",
]
