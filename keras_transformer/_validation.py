"""The one home of argument checks: each raises a `keras_transformer.errors.InvalidArgumentError` (a
`ValueError`; `InvalidTypeError`, also a `TypeError`, for a wrong type) that names the argument and
says what was received, e.g. "`beam_size` must be a positive int. Received: beam_size=0".

`bool` is never accepted where a number is asked for (`True` is an `int` to Python, not to a user).

Example:
>>> positive_int("beam_size", 4)
4
>>> positive_int("beam_size", True)
Traceback (most recent call last):
...
keras_transformer.errors.InvalidArgumentError: `beam_size` must be a positive int. Received: beam_size=True
"""

import collections.abc
import dataclasses
import math
import numbers

from keras_transformer.errors import InvalidArgumentError, InvalidTypeError


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive_int(name, value, allow_none=False):
    """`value` as an int >= 1 (`None` passes through when `allow_none`)."""
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 1:
        what = "None or a positive int" if allow_none else "a positive int"
        raise InvalidArgumentError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return int(value)


def int_at_least(name, value, low):
    """`value` as an int >= `low`."""
    if not _is_int(value) or value < low:
        raise InvalidArgumentError(f"`{name}` must be an int >= {low}. Received: {name}={value!r}")
    return int(value)


def non_negative_int(name, value):
    """`value` as an int >= 0."""
    return int_at_least(name, value, 0)


def int_in_range(name, value, low, high):
    """`value` as an int with low <= value < high."""
    if not _is_int(value) or not low <= value < high:
        raise InvalidArgumentError(f"`{name}` must be an int in [{low}, {high}). Received: {name}={value!r}")
    return int(value)


def divides(divisor_name, divisor, name, value):
    """Check that the int `divisor` divides the int `value` (both already checked positive)."""
    if value % divisor:
        raise InvalidArgumentError(
            f"`{divisor_name}` must divide `{name}`. Received: {name}={value!r}, {divisor_name}={divisor!r}"
        )


def positive_number(name, value):
    """`value` as a finite float > 0."""
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise InvalidArgumentError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def non_negative_number(name, value):
    """`value` as a finite float >= 0."""
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise InvalidArgumentError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def fraction(name, value, low_open=False, high_open=True):
    """`value` as a float in [0, 1), or (0, 1] with `low_open=True, high_open=False`."""
    ok = _is_number(value) and math.isfinite(value)
    if ok:
        ok = (value > 0 if low_open else value >= 0) and (value < 1 if high_open else value <= 1)
    if not ok:
        interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
        raise InvalidArgumentError(f"`{name}` must be a number in {interval}. Received: {name}={value!r}")
    return float(value)


def boolean(name, value):
    """`value` if it is a bool."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def one_of(name, value, choices):
    """`value` if it is one of `choices`."""
    if value not in choices:
        raise InvalidArgumentError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value


def texts(name, value, method="predict"):
    """`value` as a list of str; `InvalidTypeError` (a `TypeError`) naming `name` and what was
    received for one bare string, bytes, None or another non-iterable, a set or a dict (no order to
    keep), or an item that is not a str (naming its index: a nested list, bytes, None). `method` is
    what the user called, for the hint. Every runtime's `predict` checks its texts here, so each says
    the same.

    Example:
    >>> texts("texts", ("one", "two"))
    ['one', 'two']
    >>> texts("texts", [["one"], "two"])
    Traceback (most recent call last):
    ...
    keras_transformer.errors.InvalidTypeError: `texts` must hold str. Received: texts[0]=['one'] (type list): a nested list? predict takes one flat list of texts
    """
    if isinstance(value, str):
        raise InvalidTypeError(f"`{name}` must be a list of strings, not one string. Wrap it: {method}([text]).")
    if isinstance(value, (bytes, bytearray)):
        raise InvalidTypeError(
            f"`{name}` must be a list of str, not bytes. Received: {name}={_shown(value)}; decode it first: "
            f"{method}([data.decode('utf-8')])"
        )
    if isinstance(value, (collections.abc.Set, collections.abc.Mapping)):
        raise InvalidTypeError(
            f"`{name}` must be a list of strings (outputs come back in its order). Received: a "
            f"{type(value).__name__}; pass list(...) in the order you want"
        )
    try:
        value = list(value)
    except TypeError:
        raise InvalidTypeError(
            f"`{name}` must be a list of strings. Received: {name}={_shown(value)} (type {type(value).__name__}); "
            f"e.g. {method}([\"text\"])"
        ) from None
    for index, text in enumerate(value):
        if not isinstance(text, str):
            hint = {
                "list": f": a nested list? {method} takes one flat list of texts",
                "tuple": f": a nested list? {method} takes one flat list of texts",
                "bytes": ": decode it first (data.decode('utf-8'))",
            }.get(type(text).__name__, "")
            raise InvalidTypeError(
                f"`{name}` must hold str. Received: {name}[{index}]={_shown(text)} (type {type(text).__name__}){hint}"
            )
    return value


def _shown(value, limit=60):
    """`repr(value)`, cut to `limit` characters: an error message quotes what it received, not a megabyte."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def known_fields(name, values, known, keywords=False):
    """`values` (a dict) if each of its keys is known; `known` is a dataclass (its field names) or
    an iterable of names. `name` says what the keys are, for the error. With `keywords` (the keys are a
    call's keyword arguments) an unknown one is an `InvalidTypeError`, a `TypeError` as Python raises
    for an unexpected keyword, and a `ValueError` too.

    Example:
    >>> known_fields("decoding settings", {"beam_size": 4}, ["beam_size", "top_k"])
    {'beam_size': 4}
    >>> known_fields("decoding settings", {"beam": 4}, ["beam_size", "top_k"])
    Traceback (most recent call last):
    ...
    keras_transformer.errors.InvalidArgumentError: Unknown decoding settings ['beam']; known: ['beam_size', 'top_k']. Received: {'beam': 4}
    """
    if not isinstance(values, collections.abc.Mapping):
        raise InvalidArgumentError(f"Expected a dict of {name}. Received: {values!r}")
    if dataclasses.is_dataclass(known):
        known = [field.name for field in dataclasses.fields(known)]
    known = set(known)
    unknown = sorted(set(values) - known)
    if unknown:
        error = InvalidTypeError if keywords else InvalidArgumentError
        raise error(f"Unknown {name} {unknown}; known: {sorted(known)}. Received: {values!r}")
    return values


def id_rows(ids):
    """Ids for a plain-Python `detokenize` -> `(rows, single)`: rows of ids (lists or a 2-D NumPy
    array), and whether `ids` was one row (a flat list, possibly empty)."""
    if hasattr(ids, "tolist"):  # a NumPy array
        ids = ids.tolist()
    ids = list(ids)
    if not ids or not hasattr(ids[0], "__len__"):
        return [ids], True
    return ids, False


def token_id(token):
    """`token` as a Python int; `TypeError` for a bool or anything that is not an integer."""
    if isinstance(token, bool) or not hasattr(token, "__index__"):
        raise TypeError(f"`ids` must hold integer token ids. Received: {token!r}")
    return token.__index__()
