"""Boolean attention masks (True = may attend): padding, causal, and their merge.

Every part of the package hands masks around in this one convention, so these helpers are the only place
that turns token ids or Keras masks into the `(B, T, S)` masks the attention layers consume.
"""

from keras import ops


def padding_mask(token_ids, padding_id=0):
    """`(B, S)` boolean mask, True where `token_ids` is a real token (not `padding_id`)."""
    return ops.not_equal(token_ids, padding_id)


def causal_mask(query_length, key_length=None, query_offset=0):
    """`(1, T, S)` boolean mask, True where key position <= query position.

    Built from two `arange`s and a comparison (no `tril` of a dynamic shape) so that the same code
    converts to TFLite builtin ops. `query_offset` shifts the query positions, which cached decoding
    uses when the queries are the last `T` positions of a longer sequence.
    """
    if key_length is None:
        key_length = query_length
    query_positions = ops.arange(query_length, dtype="int32") + query_offset
    key_positions = ops.arange(key_length, dtype="int32")
    # (T, 1) >= (1, S) -> (T, S) -> (1, T, S). expand_dims rather than [None] indexing: TFLite's
    # builtin StridedSlice cannot add axes to a boolean tensor.
    mask = ops.greater_equal(ops.expand_dims(query_positions, 1), ops.expand_dims(key_positions, 0))
    return ops.expand_dims(mask, 0)


def merge_masks(query_length, key_mask=None, query_mask=None, attention_mask=None, causal=False):
    """Combine the masks attention may receive into one `(B, T, S)` boolean mask, or None.

    Args:
        query_length: T, the number of query positions (a Python int or a scalar tensor).
        key_mask: `(B, S)` boolean, True for keys that are real tokens.
        query_mask: `(B, T)` boolean, True for queries that are real tokens. Padded query rows are
            masked out entirely, so their outputs are zeros.
        attention_mask: `(B, T, S)` boolean, any extra pattern.
        causal: whether to forbid attention to later positions (requires S == T).

    Returns:
        A boolean tensor broadcastable to `(B, T, S)`, or None when no mask applies.
    """
    mask = None

    def _and(current, new):
        new = ops.cast(new, "bool")
        return new if current is None else ops.logical_and(current, new)

    if key_mask is not None:
        mask = _and(mask, ops.expand_dims(key_mask, axis=1))  # (B, S) -> (B, 1, S)
    if query_mask is not None:
        mask = _and(mask, ops.expand_dims(query_mask, axis=2))  # (B, T) -> (B, T, 1)
    if attention_mask is not None:
        mask = _and(mask, attention_mask)
    if causal:
        mask = _and(mask, causal_mask(query_length))
    return mask
