"""Checkpoint averaging (Vaswani et al. 2017, section 6.1): the model's weights set to the mean of the
weights of several checkpoints, usually the last few epochs'."""

import warnings

import numpy as np


def average_checkpoints(model, paths):
    """Set `model`'s weights to the element-wise mean of the weights in the files `paths`.

    The files are Keras weights files (`model.save_weights`) of this model's architecture; they may
    hold optimizer variables too (`ResumableCheckpoint` files do), which are not averaged. The
    model's own optimizer state, if it has one, is left as it was. Floating-point weights are
    averaged in float64; other variables (counters, seeds) take the last file's value.

    Args:
        model: a built model.
        paths: one or more weights files.

    Returns:
        `model`.

    Example:
    >>> import os, tempfile
    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    >>> folder = tempfile.mkdtemp()
    >>> for index, value in enumerate([1.0, 3.0]):
    ...     model.set_weights([np.full((2, 1), value)])
    ...     model.save_weights(os.path.join(folder, f"{index}.weights.h5"))
    >>> paths = [os.path.join(folder, f"{index}.weights.h5") for index in range(2)]
    >>> average_checkpoints(model, paths).get_weights()[0].ravel().tolist()
    [2.0, 2.0]
    """
    if isinstance(paths, (str, bytes)) or not paths:
        raise ValueError(f"`paths` must be a non-empty list of weights files. Received: paths={paths!r}")
    paths = [str(path) for path in paths]
    optimizer = getattr(model, "optimizer", None)
    optimizer_state = [v.numpy() for v in optimizer.variables] if optimizer is not None and optimizer.built else None
    totals = None
    for path in paths:
        with warnings.catch_warnings():
            # A file without optimizer state (or a model without a built optimizer) makes Keras warn
            # that it skips the optimizer's variables: they are not what is averaged.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(path)
        weights = model.get_weights()
        if totals is None:
            totals = [w.astype("float64") if _is_float(w) else w for w in weights]
        else:
            totals = [t + w if _is_float(w) else w for t, w in zip(totals, weights)]
    model.set_weights([(t / len(paths)).astype(w.dtype) if _is_float(w) else t for t, w in zip(totals, weights)])
    if optimizer_state is not None:
        for variable, value in zip(optimizer.variables, optimizer_state):
            variable.assign(value)
    return model


def _is_float(array):
    return np.issubdtype(array.dtype, np.floating)
