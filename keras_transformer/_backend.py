"""Which Keras backend runs, and the one check that TensorFlow-only features make.

Layers, models, training utilities and `generate` run on every Keras 3 backend (TensorFlow, JAX,
PyTorch). What traces the model into a TensorFlow graph does not: `TextPipeline` (tokenizers and
model in one `tf.function`), the SavedModel and TFLite exports. They call `require_tensorflow`,
which names the backend in use and the way out: rebuild the model on TensorFlow from its config and
weights (see `examples/export_from_another_backend.py`).

Example:
>>> import keras
>>> require_tensorflow("export") if keras.backend.backend() == "tensorflow" else None
"""

import keras


def name():
    """The Keras backend of this process: "tensorflow", "jax" or "torch" (fixed at `import keras`)."""
    return keras.backend.backend()


def require_tensorflow(feature):
    """Raise a `RuntimeError` naming `feature` and the backend unless Keras runs on TensorFlow."""
    backend = name()
    if backend == "tensorflow":
        return
    raise RuntimeError(
        f"{feature} needs the TensorFlow backend of Keras; this process runs Keras on the {backend!r} "
        f"backend (KERAS_BACKEND={backend}). Save the weights (`model.save_weights('model.weights.h5')`), "
        "then, in a process started with KERAS_BACKEND=tensorflow, rebuild the model with "
        "`build_transformer(config)` from the same `TransformerConfig`, load the weights and export that."
    )
