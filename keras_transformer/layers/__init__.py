"""The Transformer's building blocks as Keras layers, one concept a file."""

from keras_transformer.layers._checks import graph_checks_disabled
from keras_transformer.layers.decoder import TransformerDecoder, TransformerDecoderBlock
from keras_transformer.layers.embedding import TokenEmbedding
from keras_transformer.layers.encoder import TransformerEncoder, TransformerEncoderBlock
from keras_transformer.layers.feed_forward import FeedForward
from keras_transformer.layers.masks import causal_mask, merge_masks, padding_mask
from keras_transformer.layers.multi_head_attention import MultiHeadAttention
from keras_transformer.layers.positional_encoding import PositionalEncoding, sinusoidal_table
from keras_transformer.layers.ssru import SSRU
from keras_transformer.layers.scaled_dot_product_attention import (
    ScaledDotProductAttention,
    fast_scaled_dot_product_attention,
    scaled_dot_product_attention,
)

__all__ = [
    "FeedForward",
    "MultiHeadAttention",
    "PositionalEncoding",
    "SSRU",
    "ScaledDotProductAttention",
    "TokenEmbedding",
    "TransformerDecoder",
    "TransformerDecoderBlock",
    "TransformerEncoder",
    "TransformerEncoderBlock",
    "causal_mask",
    "fast_scaled_dot_product_attention",
    "graph_checks_disabled",
    "merge_masks",
    "padding_mask",
    "scaled_dot_product_attention",
    "sinusoidal_table",
]
