"""Encoder-decoder models assembled from `keras_transformer.layers` with the functional API."""

from keras_transformer.models.config import TransformerConfig
from keras_transformer.models.transformer import build_attention_model, build_transformer

__all__ = ["TransformerConfig", "build_attention_model", "build_transformer"]
