"""The encoder block (self-attention + feed-forward) and the encoder stack of N blocks."""

import keras
from keras import ops

from keras_transformer.layers import masks
from keras_transformer.layers._block import ResidualSublayer, TransformerBlockBase, TransformerStackBase, layer_norm
from keras_transformer.layers.feed_forward import FeedForward
from keras_transformer.layers.multi_head_attention import MultiHeadAttention


@keras.saving.register_keras_serializable(package="keras_transformer")
class TransformerEncoderBlock(TransformerBlockBase):
    """One encoder layer: multi-head self-attention, then the position-wise feed-forward network.

    Each sublayer sits in a residual connection with dropout and layer normalization (Vaswani et al.,
    2017, section 3.1): `LayerNorm(x + Dropout(Sublayer(x)))` by default, or with
    `normalize_first=True` the pre-LN form `x + Dropout(Sublayer(LayerNorm(x)))`, which trains more
    stably in deep stacks (Xiong et al., 2020).

    Args:
        d_model: D.
        num_heads: H, dividing D.
        d_ff: F, the feed-forward inner width.
        dropout: residual dropout rate (0.1 in the paper).
        attention_dropout: dropout on attention weights (0 in the paper).
        activation: feed-forward activation, "relu" (paper) or "gelu".
        normalize_first: pre-LN instead of the paper's post-LN.
        layer_norm_epsilon: epsilon of the layer norms.

    Call arguments:
        inputs: `(B, S, D)`.
        mask: optional boolean `(B, S)` padding mask, True for real tokens (Keras fills it from a
            `mask_zero` embedding).
        attention_mask: optional boolean `(B, S, S)`, True = may attend.
        return_attention_scores: also return the self-attention weights `(B, H, S, S)`.
        training: Python bool.

    Returns:
        `(B, S, D)`, or `(outputs, weights)` with `return_attention_scores=True`.

    Example:
    >>> import numpy as np
    >>> block = TransformerEncoderBlock(d_model=8, num_heads=2, d_ff=16)
    >>> tuple(block(np.zeros((2, 5, 8), "float32")).shape)
    (2, 5, 8)
    """

    def build(self, input_shape):
        if input_shape[-1] != self.d_model:
            raise ValueError(
                f"TransformerEncoderBlock expects inputs ending in d_model={self.d_model}. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        policy = self.dtype_policy
        self.self_attention = MultiHeadAttention(
            self.num_heads, self.d_model, dropout=self.attention_dropout, dtype=policy, name="self_attention"
        )
        self.feed_forward = FeedForward(self.d_ff, activation=self.activation, dtype=policy, name="feed_forward")
        self.self_attention_norm = layer_norm("self_attention_norm", self.layer_norm_epsilon, policy)
        self.feed_forward_norm = layer_norm("feed_forward_norm", self.layer_norm_epsilon, policy)
        self.residual_dropout = keras.layers.Dropout(self.dropout, dtype=policy, name="residual_dropout")
        for sublayer in (self.self_attention_norm, self.feed_forward_norm):
            sublayer.build(input_shape)
        self.self_attention.build(input_shape, input_shape)
        self.feed_forward.build(input_shape)
        self.self_attention_sublayer = ResidualSublayer(
            self.self_attention_norm, self.residual_dropout, self.normalize_first
        )
        self.feed_forward_sublayer = ResidualSublayer(self.feed_forward_norm, self.residual_dropout, self.normalize_first)

    def call(self, inputs, mask=None, attention_mask=None, return_attention_scores=False, training=None):
        if len(inputs.shape) != 3:
            raise ValueError(
                f"TransformerEncoderBlock expects inputs of rank 3 (B, S, D). Received: inputs.shape={tuple(inputs.shape)}"
            )
        merged_mask = masks.merge_masks(ops.shape(inputs)[1], key_mask=mask, attention_mask=attention_mask)
        weights = None

        def self_attention(x):
            nonlocal weights
            result = self.self_attention(
                x,
                x,
                attention_mask=merged_mask,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            if return_attention_scores:
                result, weights = result
            return result

        x = self.self_attention_sublayer(inputs, self_attention, training)
        x = self.feed_forward_sublayer(x, lambda y: self.feed_forward(y, training=training), training)
        return (x, weights) if return_attention_scores else x

    def compute_mask(self, inputs, mask=None, **kwargs):
        return mask



@keras.saving.register_keras_serializable(package="keras_transformer")
class TransformerEncoder(TransformerStackBase):
    """The encoder: a stack of `num_layers` identical `TransformerEncoderBlock`s (N = 6 in the paper).

    With `normalize_first=True` a final layer norm closes the stack, as pre-LN models need.

    Args:
        num_layers: N.
        d_model, num_heads, d_ff, dropout, attention_dropout, activation, normalize_first,
        layer_norm_epsilon: as for `TransformerEncoderBlock`, shared by every block.

    Call arguments:
        inputs: `(B, S, D)` embedded source.
        mask: optional boolean `(B, S)` padding mask.
        return_attention_scores: also return every block's weights stacked, `(B, N, H, S, S)`.
        training: Python bool.

    Returns:
        `(B, S, D)`, or `(outputs, weights)`.

    Example:
    >>> import numpy as np
    >>> encoder = TransformerEncoder(num_layers=2, d_model=8, num_heads=2, d_ff=16)
    >>> tuple(encoder(np.zeros((2, 5, 8), "float32")).shape)
    (2, 5, 8)
    """

    block_class = TransformerEncoderBlock

    def build(self, input_shape):
        self.build_blocks(input_shape)

    def call(self, inputs, mask=None, return_attention_scores=False, training=None):
        x, all_weights = inputs, []
        for block in self.blocks:
            if return_attention_scores:
                x, weights = block(x, mask=mask, return_attention_scores=True, training=training)
                all_weights.append(weights)
            else:
                x = block(x, mask=mask, training=training)
        if self.final_norm is not None:
            x = self.final_norm(x)
        if return_attention_scores:
            return x, ops.stack(all_weights, axis=1)  # N x (B, H, S, S) -> (B, N, H, S, S)
        return x

    def compute_mask(self, inputs, mask=None, **kwargs):
        return mask

