"""A slow, explicit NumPy Transformer to check the layers against: the paper's equations, written out.

It reads weights out of our layers but shares none of their code.
"""

import numpy as np


def layer_norm(x, norm_layer):
    gamma, beta = np.asarray(norm_layer.gamma), np.asarray(norm_layer.beta)
    mean = x.mean(-1, keepdims=True)
    variance = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + norm_layer.epsilon) * gamma + beta


def multi_head_attention(query, value, layer, mask=None):
    """query (B, T, D), value (B, S, D), mask (B, T, S) boolean or None -> (B, T, D)."""

    def project(x, dense):
        return np.einsum("bld,dhk->blhk", x, np.asarray(dense.kernel)) + np.asarray(dense.bias)

    q, k, v = project(query, layer.query_dense), project(value, layer.key_dense), project(value, layer.value_dense)
    batch, query_length, heads, depth = q.shape
    output = np.zeros((batch, query_length, heads, depth))
    for b in range(batch):
        for h in range(heads):
            scores = q[b, :, h] @ k[b, :, h].T / np.sqrt(depth)
            if mask is not None:
                scores = np.where(mask[b], scores, -np.inf)
            for t in range(query_length):
                if np.isfinite(scores[t]).any():
                    row = np.exp(scores[t] - np.max(scores[t]))
                    output[b, t, h] = (row / row.sum()) @ v[b, :, h]
    return np.einsum("blhk,hkd->bld", output, np.asarray(layer.output_dense.kernel)) + np.asarray(
        layer.output_dense.bias
    )


def feed_forward(x, layer):
    hidden = np.maximum(x @ np.asarray(layer.inner_dense.kernel) + np.asarray(layer.inner_dense.bias), 0)
    return hidden @ np.asarray(layer.output_dense.kernel) + np.asarray(layer.output_dense.bias)


def _sublayer(x, fn, norm, normalize_first):
    return x + fn(layer_norm(x, norm)) if normalize_first else layer_norm(x + fn(x), norm)


def encoder_block(x, block, padding=None):
    """x (B, S, D); padding (B, S) True for real tokens."""
    mask = None if padding is None else padding[:, None, :] & padding[:, :, None]
    x = _sublayer(
        x,
        lambda y: multi_head_attention(y, y, block.self_attention, mask),
        block.self_attention_norm,
        block.normalize_first,
    )
    return _sublayer(x, lambda y: feed_forward(y, block.feed_forward), block.feed_forward_norm, block.normalize_first)


def decoder_block(x, memory, block, target_padding=None, source_padding=None):
    """x (B, T, D) decoder states, memory (B, S, D) encoder output."""
    length = x.shape[1]
    self_mask = np.tril(np.ones((length, length), bool))[None]
    if target_padding is not None:
        self_mask = self_mask & target_padding[:, None, :]
    source_mask = None if source_padding is None else np.repeat(source_padding[:, None, :], length, axis=1)
    x = _sublayer(
        x,
        lambda y: multi_head_attention(y, y, block.masked_self_attention, np.broadcast_to(self_mask, (x.shape[0], length, length))),
        block.masked_self_attention_norm,
        block.normalize_first,
    )
    x = _sublayer(
        x,
        lambda y: multi_head_attention(y, memory, block.source_target_attention, source_mask),
        block.source_target_attention_norm,
        block.normalize_first,
    )
    return _sublayer(x, lambda y: feed_forward(y, block.feed_forward), block.feed_forward_norm, block.normalize_first)
