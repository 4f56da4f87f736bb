"""A package's public names imported on first use (PEP 562), so that importing the package imports no
Keras or TensorFlow until a name that needs them is asked for."""

import importlib
import sys


def attach(module_name, names):
    """`(__getattr__, __dir__)` for the module `module_name`, serving `names` on first access.

    Args:
        module_name: the module's `__name__`.
        names: `{public name: "module.path"}` for a module, or `{public name: ("module.path", "attribute")}`
            for one of its attributes.

    Returns:
        The module's `__getattr__` (imports the name's module, keeps the value in the module's
        namespace so that the next access is a plain lookup; `AttributeError` naming the module and
        the attribute for any other name) and `__dir__` (the module's names and the lazy ones).

    Example:
    >>> __getattr__, __dir__ = attach("example", {"dumps": ("json", "dumps"), "decoder": "json.decoder"})
    >>> __getattr__("dumps")([1, 2])
    '[1, 2]'
    >>> __getattr__("decoder").__name__
    'json.decoder'
    >>> __getattr__("loads")
    Traceback (most recent call last):
    ...
    AttributeError: module 'example' has no attribute 'loads'
    """
    table = {}
    for name, target in names.items():
        module, attribute = (target, None) if isinstance(target, str) else target
        table[name] = (module, attribute)

    def __getattr__(name):
        if name not in table:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        module, attribute = table[name]
        value = importlib.import_module(module)
        if attribute is not None:
            value = getattr(value, attribute)
        owner = sys.modules.get(module_name)
        if owner is not None:
            setattr(owner, name, value)
        return value

    def __dir__():
        owner = sys.modules.get(module_name)
        return sorted(set(vars(owner) if owner is not None else ()) | set(table))

    return __getattr__, __dir__
