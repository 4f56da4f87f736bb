"""Whether an optional module is installed, without importing it (nor Keras, whose import would load
its backend)."""

import importlib.util


def installed(module):
    """Whether `module` ("tensorflow", "tensorflow_datasets") can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False
