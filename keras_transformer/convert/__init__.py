"""Checkpoints trained elsewhere converted into this package's models: BERT-style encoders read from
safetensors files (no torch needed)."""

from keras_transformer.convert.bert import (
    IGNORED_TENSORS,
    ConversionError,
    bert_encoder_config,
    convert_bert,
    weights_sha256,
)
from keras_transformer.convert.safetensors import SafetensorsError, read_safetensors

__all__ = [
    "IGNORED_TENSORS",
    "ConversionError",
    "SafetensorsError",
    "bert_encoder_config",
    "convert_bert",
    "read_safetensors",
    "weights_sha256",
]
