"""Whether an optional module is installed, without importing it (nor Keras, whose import would load
its backend)."""

import importlib.util

from keras_transformer.errors import MissingExtra


def installed(module):
    """Whether `module` ("tensorflow", "tensorflow_datasets") can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False


def require(what, extra, modules):
    """`MissingExtra` (a `keras_transformer.errors.UserError`) unless every one of `modules` is installed.

    Args:
        what: what needs them, as the user asked for it ("evaluate dates_iso", "plot_attention").
        extra: the `keras-transformer[...]` extra that installs them ("data", "plot", "minilm").
        modules: importable module names.

    Example:
    >>> require("plot_attention", "plot", ["os"])
    >>> require("plot_attention", "plot", ["no_such_module_here"])
    Traceback (most recent call last):
    ...
    keras_transformer.errors.MissingExtra: plot_attention needs no_such_module_here: pip install "keras-transformer[plot]"
    """
    missing = [module for module in modules if not installed(module)]
    if missing:
        raise MissingExtra(f'{what} needs {", ".join(missing)}: pip install "keras-transformer[{extra}]"')
