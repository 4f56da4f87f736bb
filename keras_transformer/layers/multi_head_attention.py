"""Multi-head attention: h heads with their own Q/K/V projections, concatenated and projected."""

import keras
from keras import ops

from keras_transformer import _validation
from keras_transformer.layers import masks
from keras_transformer.layers.scaled_dot_product_attention import ScaledDotProductAttention


@keras.saving.register_keras_serializable(package="keras_transformer")
class MultiHeadAttention(keras.layers.Layer):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O, head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V).

    Vaswani et al. (2017, section 3.2.2). Each head projects to `d_k = d_model / num_heads`, so the total
    cost matches one head of full width while the heads attend to different subspaces. Queries and
    keys/values may have different lengths: self-attention passes the same sequence twice;
    source-target attention passes decoder states as `query` and the encoder output as `value`.

    The weights have the shapes of `keras.layers.MultiHeadAttention` (query/key/value kernels
    `(D, H, K)`, output kernel `(H, K, D)`), so weights copy across one to one.

    The call is split into `project_key_value` and `attend` so that a caller holding already projected
    keys and values (a decoding cache, or encoder keys computed once) can skip the key/value projection.

    Args:
        num_heads: H.
        d_model: D, the model width; must be divisible by `num_heads`.
        dropout: dropout on the attention weights in training (0 in the paper, which uses residual
            dropout in the blocks instead).
        use_bias: biases in the four projections.
        kernel_initializer, bias_initializer: for the projections.

    Call arguments:
        query: `(B, T, Dq)`.
        value: `(B, S, Dv)`.
        key: `(B, S, Dk)`, defaults to `value`.
        query_mask, value_mask, key_mask: boolean `(B, T)` / `(B, S)` padding masks, True for real
            tokens. Keras fills them from `mask_zero` embeddings; pass them explicitly otherwise.
        attention_mask: boolean `(B, T, S)`, True = may attend.
        use_causal_mask: forbid attention to later positions (decoder self-attention).
        return_attention_scores: also return the weights `(B, H, T, S)`, as Keras'
            `MultiHeadAttention` does.
        training: Python bool.

    Returns:
        `(B, T, D)`, or `(output, weights)` with `return_attention_scores=True`.

    Example:
    >>> import numpy as np
    >>> attention = MultiHeadAttention(num_heads=2, d_model=8)
    >>> decoder_states = np.random.rand(3, 4, 8).astype("float32")
    >>> encoder_output = np.random.rand(3, 6, 8).astype("float32")
    >>> out, weights = attention(decoder_states, encoder_output, return_attention_scores=True)
    >>> tuple(out.shape), tuple(weights.shape)
    ((3, 4, 8), (3, 2, 4, 6))
    """

    def __init__(
        self,
        num_heads,
        d_model,
        dropout=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = _validation.positive_int("num_heads", num_heads)
        self.d_model = _validation.positive_int("d_model", d_model)
        _validation.divides("num_heads", num_heads, "d_model", d_model)
        self.key_dim = d_model // num_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True
        self.attention = ScaledDotProductAttention(
            dropout=dropout, dtype=self.dtype_policy, name="scaled_dot_product_attention"
        )

    def _projection(self, name, equation, output_shape, bias_axes):
        projection = keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name=name,
        )
        # Padding reaches attention through explicit masks; the projections only let Keras masks pass.
        projection.supports_masking = True
        return projection

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(
                    f"MultiHeadAttention expects `{name}` of rank 3 (B, length, features). "
                    f"Received: {name}.shape={tuple(shape)}"
                )
        heads = (self.num_heads, self.key_dim)
        # (B, T, Dq) -> (B, T, H, K); likewise for keys and values.
        self.query_dense = self._projection("query", "btd,dhk->bthk", (None,) + heads, "hk")
        self.key_dense = self._projection("key", "bsd,dhk->bshk", (None,) + heads, "hk")
        self.value_dense = self._projection("value", "bsd,dhk->bshk", (None,) + heads, "hk")
        # (B, T, H, K) -> (B, T, D): concatenating the heads and applying W^O in one contraction.
        self.output_dense = self._projection("attention_output", "bthk,hkd->btd", (None, self.d_model), "d")
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        self.output_dense.build((None, None) + heads)

    def project_key_value(self, value, key=None):
        """`(B, S, D)` value (and key) -> the per-head keys and values, each `(B, S, H, K)`."""
        key = value if key is None else key
        return self.key_dense(key), self.value_dense(value)

    def attend(self, query, key_heads, value_heads, mask=None, return_attention_scores=False, training=None):
        """Attention of `query` `(B, T, D)` over projected keys/values `(B, S, H, K)`.

        `mask` is the merged boolean `(B, T, S)` mask. Returns `(B, T, D)`, or the pair with weights.
        """
        query_heads = self.query_dense(query)
        result = self.attention(
            query_heads,
            key_heads,
            value_heads,
            mask=mask,
            return_attention_scores=return_attention_scores,
            training=training,
        )
        heads, weights = result if return_attention_scores else (result, None)
        output = self.output_dense(heads)  # (B, T, H, K) -> (B, T, D)
        return (output, weights) if return_attention_scores else output

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        key = value if key is None else key
        self._validate_inputs(query, value, key, attention_mask)
        if key_mask is None:
            key_mask = value_mask
        elif value_mask is not None:
            key_mask = ops.logical_and(key_mask, value_mask)
        mask = masks.merge_masks(
            ops.shape(query)[1],
            key_mask=key_mask,
            query_mask=query_mask,
            attention_mask=attention_mask,
            causal=use_causal_mask,
        )
        key_heads, value_heads = self.project_key_value(value, key)
        return self.attend(
            query,
            key_heads,
            value_heads,
            mask=mask,
            return_attention_scores=return_attention_scores,
            training=training,
        )

    def _validate_inputs(self, query, value, key, attention_mask):
        for name, tensor in (("query", query), ("value", value), ("key", key)):
            if len(tensor.shape) != 3:
                raise ValueError(
                    f"MultiHeadAttention expects `{name}` of rank 3 (B, length, features). "
                    f"Received: {name}.shape={tuple(tensor.shape)}"
                )
        batch_sizes = {t.shape[0] for t in (query, value, key) if t.shape[0] is not None}
        if len(batch_sizes) > 1:
            raise ValueError(
                "`query`, `value` and `key` must have the same batch size. Received: "
                f"query.shape={tuple(query.shape)}, value.shape={tuple(value.shape)}, "
                f"key.shape={tuple(key.shape)}"
            )
        if value.shape[1] is not None and key.shape[1] is not None and value.shape[1] != key.shape[1]:
            raise ValueError(
                "`key` and `value` must have the same length S. Received: "
                f"key.shape={tuple(key.shape)}, value.shape={tuple(value.shape)}"
            )
        if attention_mask is not None:
            if len(attention_mask.shape) != 3:
                raise ValueError(
                    "`attention_mask` must have shape (B, T, S). "
                    f"Received: attention_mask.shape={tuple(attention_mask.shape)}"
                )
            for axis, (want, name) in enumerate(((query.shape[1], "T"), (value.shape[1], "S")), start=1):
                have = attention_mask.shape[axis]
                if want is not None and have is not None and have not in (1, want):
                    raise ValueError(
                        f"`attention_mask` must have shape (B, T={query.shape[1]}, S={value.shape[1]}). "
                        f"Received: attention_mask.shape={tuple(attention_mask.shape)}"
                    )

    def compute_mask(self, query, previous_mask=None):
        # Keras passes the mask of the first argument: the output keeps the queries' padding.
        return previous_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "d_model": self.d_model,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
