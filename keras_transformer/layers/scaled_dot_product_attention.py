"""Scaled dot-product attention, softmax(Q Kᵀ / √d_k) V, as pure functions and as a layer.

Inputs are laid out `(B, T, K)` for one head or `(B, T, H, K)` for several (the layout of
`keras.ops.dot_product_attention` and of the projections in `MultiHeadAttention`), so the same code
serves a learner's single head and the multi-head layer without transposes.
"""

import math

import keras
from keras import ops

from keras_transformer import _validation


def _check_rank(name, tensor):
    if len(tensor.shape) not in (3, 4):
        raise ValueError(
            f"`{name}` must have rank 3 (B, T, K) or rank 4 (B, T, H, K). "
            f"Received: {name}.shape={tuple(tensor.shape)}"
        )


def _heads_mask(mask, rank):
    """A boolean mask broadcastable to (B, T, S) or (B, H, T, S), lifted to the 4-D `(B, H, T, S)`."""
    if mask is None:
        return None
    mask = ops.cast(mask, "bool")
    if len(mask.shape) == 2:  # (T, S) -> (1, 1, T, S)
        return ops.expand_dims(ops.expand_dims(mask, 0), 0)
    if len(mask.shape) == 3:  # (B, T, S) -> (B, 1, T, S)
        return ops.expand_dims(mask, axis=1)
    if len(mask.shape) == 4 and rank == 4:
        return mask
    raise ValueError(
        "`mask` must be broadcastable to (B, T, S), or to (B, H, T, S) for multi-head inputs. "
        f"Received: mask.shape={tuple(mask.shape)}"
    )


def _as_heads(tensor):
    """(B, T, K) -> (B, T, 1, K); rank-4 tensors pass unchanged."""
    return ops.expand_dims(tensor, axis=2) if len(tensor.shape) == 3 else tensor


def _validate(query, key, value, mask):
    for name, tensor in (("query", query), ("key", key), ("value", value)):
        _check_rank(name, tensor)
    if not (len(query.shape) == len(key.shape) == len(value.shape)):
        raise ValueError(
            "`query`, `key` and `value` must have the same rank. Received: "
            f"query.shape={tuple(query.shape)}, key.shape={tuple(key.shape)}, "
            f"value.shape={tuple(value.shape)}"
        )
    if query.shape[-1] is not None and key.shape[-1] is not None and query.shape[-1] != key.shape[-1]:
        raise ValueError(
            "`query` and `key` must have the same last dimension d_k. Received: "
            f"query.shape={tuple(query.shape)}, key.shape={tuple(key.shape)}"
        )
    if key.shape[1] is not None and value.shape[1] is not None and key.shape[1] != value.shape[1]:
        raise ValueError(
            "`key` and `value` must have the same length S. Received: "
            f"key.shape={tuple(key.shape)}, value.shape={tuple(value.shape)}"
        )
    if mask is not None:
        expected = (query.shape[1], key.shape[1])
        got = tuple(mask.shape[-2:])
        for want, have in zip(expected, got):
            if want is not None and have is not None and have not in (1, want):
                raise ValueError(
                    f"`mask` must be broadcastable to (B, T={expected[0]}, S={expected[1]}). "
                    f"Received: mask.shape={tuple(mask.shape)}"
                )


def scaled_dot_product_attention(query, key, value, mask=None, dropout=None):
    """The explicit path: softmax(Q Kᵀ / √d_k) V, returning the output and the attention weights.

    Args:
        query: `(B, T, K)` or `(B, T, H, K)`.
        key: `(B, S, K)` or `(B, S, H, K)`.
        value: `(B, S, Kv)` or `(B, S, H, Kv)`.
        mask: optional boolean, True = may attend, broadcastable to `(B, T, S)` (or `(B, H, T, S)`).
            A query row with no allowed key gets zero weights and a zero output, never NaN.
        dropout: optional callable applied to the weights (attention dropout) before they meet V.

    Returns:
        `(output, weights)`: output `(B, T, Kv)` or `(B, T, H, Kv)`; weights `(B, T, S)` or
        `(B, H, T, S)`, rows summing to 1 over allowed keys (0 for rows with none).
    """
    _validate(query, key, value, mask)
    single_head = len(query.shape) == 3
    query, key, value = _as_heads(query), _as_heads(key), _as_heads(value)
    mask = _heads_mask(mask, 4)
    depth = query.shape[-1]

    # (B, T, H, K) x (B, S, H, K) -> (B, H, T, S)
    scores = ops.einsum("bthk,bshk->bhts", query, key)
    # The softmax runs in float32 whatever the compute dtype: float16 logits overflow easily.
    scores = ops.cast(scores, "float32") / math.sqrt(depth)
    if mask is not None:
        scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
    weights = ops.softmax(scores, axis=-1)
    if mask is not None:
        # A fully masked row would otherwise get a uniform softmax; it must attend to nothing.
        weights = ops.where(mask, weights, ops.zeros_like(weights))
    weights = ops.cast(weights, value.dtype)
    attended = dropout(weights) if dropout is not None else weights
    # (B, H, T, S) x (B, S, H, Kv) -> (B, T, H, Kv)
    output = ops.einsum("bhts,bshv->bthv", attended, value)
    if single_head:
        return ops.squeeze(output, axis=2), ops.squeeze(weights, axis=1)
    return output, weights


def _jax_cpu_float16(tensor):
    if keras.backend.backend() != "jax" or keras.backend.standardize_dtype(tensor.dtype) != "float16":
        return False
    import jax

    return jax.default_backend() == "cpu"


def fast_scaled_dot_product_attention(query, key, value, mask=None):
    """The same function through `keras.ops.dot_product_attention` (fused kernels where the backend has
    them); returns only the output. Rows with no allowed key give zeros, as in the explicit path."""
    _validate(query, key, value, mask)
    if value.shape[-1] != key.shape[-1] or _jax_cpu_float16(query):
        # JAX's fused attention needs values as wide as keys (always so inside a Transformer), and
        # accumulates float16 in float32, which XLA on CPU cannot compile.
        return scaled_dot_product_attention(query, key, value, mask)[0]
    single_head = len(query.shape) == 3
    query, key, value = _as_heads(query), _as_heads(key), _as_heads(value)
    mask = _heads_mask(mask, 4)
    output = ops.dot_product_attention(query, key, value, mask=mask)
    if mask is not None:
        # (B|1, H|1, T, S) -> (B|1, H|1, T) -> (B|1, T, H|1, 1)
        has_key = ops.any(mask, axis=-1)
        has_key = ops.expand_dims(ops.transpose(has_key, (0, 2, 1)), axis=-1)
        output = ops.where(has_key, output, ops.zeros_like(output))
    if single_head:
        return ops.squeeze(output, axis=2)
    return output


@keras.saving.register_keras_serializable(package="keras_transformer")
class ScaledDotProductAttention(keras.layers.Layer):
    """Scaled dot-product attention: softmax(Q Kᵀ / √d_k) V (Vaswani et al., 2017, section 3.2.1).

    A layer without weights: it compares each query with every key, scales by 1/√d_k so the dot
    products do not push the softmax into regions of tiny gradients, and returns the weighted sum of
    the values.

    Args:
        dropout: rate of dropout on the attention weights during training (0 in the paper).

    Call arguments:
        query: `(B, T, K)` or `(B, T, H, K)`.
        key: `(B, S, K)` or `(B, S, H, K)`.
        value: `(B, S, Kv)` or `(B, S, H, Kv)`.
        mask: optional boolean, True = may attend, broadcastable to `(B, T, S)`.
        return_attention_scores: also return the weights. Without it (and without attention dropout
            in training) the layer takes the fast path, `keras.ops.dot_product_attention`.
        training: Python bool, for dropout.

    Returns:
        The output `(B, T, Kv)` (or `(B, T, H, Kv)`); with `return_attention_scores=True` the pair
        `(output, weights)`, weights `(B, T, S)` (or `(B, H, T, S)`).

    Example:
    >>> import numpy as np
    >>> attention = ScaledDotProductAttention()
    >>> q = np.random.rand(2, 3, 4).astype("float32")
    >>> kv = np.random.rand(2, 5, 4).astype("float32")
    >>> output, weights = attention(q, kv, kv, return_attention_scores=True)
    >>> tuple(output.shape), tuple(weights.shape)
    ((2, 3, 4), (2, 3, 5))

    References:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017, equation (1).
    """

    def __init__(self, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        _validation.fraction("dropout", dropout)
        self.dropout = dropout
        # Masking is explicit (`mask`); a Keras mask on the inputs is accepted and not propagated.
        self.supports_masking = True
        self._dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def call(self, query, key, value, mask=None, return_attention_scores=False, training=None):
        use_dropout = training and self.dropout > 0
        if not return_attention_scores and not use_dropout:
            return fast_scaled_dot_product_attention(query, key, value, mask)
        dropout = (lambda w: self._dropout_layer(w, training=training)) if use_dropout else None
        output, weights = scaled_dot_product_attention(query, key, value, mask, dropout=dropout)
        return (output, weights) if return_attention_scores else output

    def compute_mask(self, *args, **kwargs):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"dropout": self.dropout})
        return config
