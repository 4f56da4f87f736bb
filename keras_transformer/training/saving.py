"""`load_model`: a `.keras` file of ours loaded in one call, whatever of ours it names (layers, models,
and the loss, metric and schedule a compiled model carries)."""

import keras


def load_model(path, compile=True, safe_mode=True):
    """`keras.saving.load_model(path)` after registering every Keras class of this package.

    `import keras_transformer` imports nothing until a name is used, so a bare `keras.saving.load_model`
    of a `.keras` file that names our classes would not find them; this imports them first.

    Args:
        path: the `.keras` file.
        compile, safe_mode: as for `keras.saving.load_model` (`safe_mode=True`: no Python code is loaded).

    Returns:
        The Keras model.
    """
    # The imports register the classes (`keras.saving.register_keras_serializable`).
    from keras_transformer import layers, models  # noqa: F401
    from keras_transformer.models import encoder, transformer  # noqa: F401
    from keras_transformer.training import losses, metrics, schedules  # noqa: F401

    return keras.saving.load_model(path, compile=compile, safe_mode=safe_mode)
