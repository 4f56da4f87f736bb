"""Run-time checks on tensor values that name the argument and the value received.

Shapes known at trace time are checked in Python (a `ValueError`), and so are eager tensors on every
backend. Values only known when the graph runs are checked with `tf.debugging` asserts on the
TensorFlow backend, which fail with an `InvalidArgumentError` carrying the same message; JAX tracers
and `torch.compile` graphs carry no asserts, so there (as inside an XLA-compiled TensorFlow step,
which drops assert ops) these checks are silent: `TokenEmbedding` documents that policy.
"""

import contextlib
import threading

import keras
import numpy as np
from keras import ops

_state = threading.local()


@contextlib.contextmanager
def graph_checks_disabled():
    """Build graphs without assert ops (eager checks still run).

    For export only: TFLite has no builtin Assert, and an exported signature validates its own
    inputs (or, as a decoding loop, only ever feeds valid ids and positions).
    """
    previous = getattr(_state, "disabled", False)
    _state.disabled = True
    try:
        yield
    finally:
        _state.disabled = previous


def _graph_checks_enabled():
    return not getattr(_state, "disabled", False)


def _is_eager(tensor):
    if keras.backend.backend() == "torch":
        import torch

        # Converting inside a torch.compile graph would break the graph; a GPU tensor would need a copy.
        if torch.compiler.is_compiling() or (isinstance(tensor, torch.Tensor) and tensor.device.type != "cpu"):
            return False
    try:
        np.asarray(tensor)
        return True
    except Exception:  # symbolic tensors and JAX tracers refuse conversion
        return False


def check_range(values, name, low, high, what):
    """Fail unless low <= values < high everywhere. `what` describes `high` (e.g. 'vocabulary_size=10')."""
    if _is_eager(values):
        array = np.asarray(values)
        if array.size and (array.min() < low or array.max() >= high):
            bad = array[(array < low) | (array >= high)]
            raise ValueError(
                f"`{name}` must be in [{low}, {high}) ({what}). Received values out of range, "
                f"e.g. {bad.ravel()[:5].tolist()}"
            )
        return values
    if keras.backend.backend() != "tensorflow":
        return values
    import tensorflow as tf

    if isinstance(values, tf.Tensor) and _graph_checks_enabled():
        message = f"`{name}` must be in [{low}, {high}) ({what}). Received values out of range:"
        checks = [
            tf.debugging.assert_greater_equal(values, ops.cast(low, values.dtype), message=message),
            tf.debugging.assert_less(values, ops.cast(high, values.dtype), message=message),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(values)
    return values


def check_length(length, limit, name, guarded):
    """Fail unless a sequence length (int or scalar tensor) is <= limit; returns `guarded`, which in a
    graph only computes after the check has passed."""
    message = f"The sequence length of `{name}` must be at most max_length={limit}."
    if isinstance(length, int):
        if length > limit:
            raise ValueError(f"{message} Received: length={length}")
        return guarded
    if _is_eager(length):
        return check_length(int(np.asarray(length)), limit, name, guarded)
    if keras.backend.backend() != "tensorflow":
        return guarded
    import tensorflow as tf

    if not _graph_checks_enabled():
        return guarded
    check = tf.debugging.assert_less_equal(length, tf.cast(limit, length.dtype), message=f"{message} Received length:")
    with tf.control_dependencies([check]):
        return tf.identity(guarded)
