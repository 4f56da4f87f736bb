"""The one cache of compiled decoding functions, per model, that `generate` and `TextPipeline` share.

Keyed weakly by the model: deleting a model frees it and its functions. A cached function must
therefore refer to its model only weakly (a strong reference from a value would keep its key alive).
"""

import collections
import weakref

MAX_PER_MODEL = 8
_FUNCTIONS = weakref.WeakKeyDictionary()  # model -> OrderedDict(key -> function), least recent first


def function(model, key, build):
    """The function cached for `model` under `key` (a hashable tuple saying what it computes), made
    by `build()` on first use; beyond `MAX_PER_MODEL` a model's least recently used functions go."""
    functions = _FUNCTIONS.setdefault(model, collections.OrderedDict())
    if key in functions:
        functions.move_to_end(key)
        return functions[key]
    functions[key] = build()
    while len(functions) > MAX_PER_MODEL:
        functions.popitem(last=False)
    return functions[key]


def cached(model):
    """A copy of what is cached for `model`: `{key: function}`, least recently used first."""
    return dict(_FUNCTIONS.get(model, {}))
