"""Shape buckets for XLA-compiled decoding: pad a batch of source ids up to one of a few shapes, so
that a compiled decoding loop is built once per bucket and reused, whatever batch sizes and source
lengths come.

- Source length: up to the next multiple of `LENGTH_STEP` (at most the model's `max_length`). The
  added positions are padding, which every attention masks out.
- Batch size: up to the next power of two (1, 2, 4, ... 64), then the next multiple of 64. The added
  rows are copies of the first row, so they finish when it finishes and never keep a loop running
  longer than the real rows do; their outputs are dropped.

Both paddings leave the real rows' outputs as they are (tests compare token for token).
"""

from keras import ops

LENGTH_STEP = 8
BATCH_STEP = 64


def pad_to_bucket(encoder_tokens, max_length, pad_batch=True):
    """`(B, S)` ids -> `(B', S')` ids padded to their bucket (graph code: B and S may be dynamic).

    Args:
        encoder_tokens: `(B, S)` int32 ids, B >= 1.
        max_length: the model's `max_length` (S' never exceeds it, nor S).
        pad_batch: also pad the batch (False keeps B).

    Returns:
        The padded ids; the real rows are the first B.
    """
    batch, length = ops.shape(encoder_tokens)[0], ops.shape(encoder_tokens)[1]
    step = ops.convert_to_tensor(LENGTH_STEP, "int32")
    padded_length = ops.maximum(step, ((length + step - 1) // step) * step)
    padded_length = ops.minimum(padded_length, ops.maximum(ops.convert_to_tensor(max_length, "int32"), length))
    encoder_tokens = ops.pad(encoder_tokens, [[0, 0], [0, padded_length - length]])
    if not pad_batch:
        return encoder_tokens
    # Next power of two up to BATCH_STEP, then the next multiple of BATCH_STEP.
    as_float = ops.cast(ops.maximum(batch, 1), "float32")
    power = ops.cast(ops.power(2.0, ops.ceil(ops.log2(as_float) - 1e-6)), "int32")
    chunk = ops.convert_to_tensor(BATCH_STEP, "int32")
    padded_batch = ops.where(batch <= chunk, power, ((batch + chunk - 1) // chunk) * chunk)
    # Added rows copy row 0; an empty batch gets one all-padding row (the zeros appended here).
    with_zeros = ops.concatenate([encoder_tokens, ops.zeros((1, ops.shape(encoder_tokens)[1]), "int32")], axis=0)
    filler = ops.where(batch > 0, 0, batch)
    rows = ops.concatenate([ops.arange(batch, dtype="int32"), ops.full((padded_batch - batch,), filler, "int32")], axis=0)
    return ops.take(with_zeros, rows, axis=0)


def unpad(outputs, batch):
    """The first `batch` rows of every output of a padded decode."""
    return {name: value[:batch] for name, value in outputs.items()}
