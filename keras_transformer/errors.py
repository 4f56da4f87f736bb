"""The errors a caller can fix: each message says what was wrong and how to put it right.

`UserError` is the family. The `keras-transformer` command prints one as a single line,
`keras-transformer <command>: <message>`, and exits with status 2; any other exception is a bug (ours
or a dependency's) and keeps its traceback (exit status 1). Each member also keeps the built-in class
it was before the family existed, so `except ValueError` and `pytest.raises(ValueError)` still work:

- `InvalidArgumentError(UserError, ValueError)`: an argument or option the caller gave is out of range,
  unknown or of the wrong kind (every check of `keras_transformer._validation`);
  `InvalidTypeError(InvalidArgumentError, TypeError)` when it is of the wrong type.
- `DataError(UserError, ValueError)`: the caller's data cannot be used, e.g. a pairs file
  (`keras_transformer.data.text_pairs.DataFileError` names the file and line).
- `ZooError(UserError, ValueError)`: a zoo model name or folder cannot be used (unknown name, a missing
  file, a checksum mismatch); importable from `keras_transformer.zoo` too.
- `MissingExtra(UserError, ImportError)`: an optional dependency is not installed; the message names
  the `pip install "keras-transformer[...]"` extra that brings it.

A problem only the command line has (no texts on standard input, ...) raises `cli.CommandError`, a
`UserError` too. This module imports nothing, so every floor of the package can raise these.

Example:
>>> from keras_transformer import _validation
>>> try:
...     _validation.positive_int("beam_size", 0)
... except UserError as error:
...     print(f"keras-transformer predict: {error}")
keras-transformer predict: `beam_size` must be a positive int. Received: beam_size=0
"""


class UserError(Exception):
    """The caller gave something we cannot use; the message says what and how to fix it."""


class InvalidArgumentError(UserError, ValueError):
    """An argument or option is out of range or unknown; the message names it and what was received."""


class InvalidTypeError(InvalidArgumentError, TypeError):
    """An argument is of the wrong type (also a `TypeError`); the message names it and the type received."""


class DataError(UserError, ValueError):
    """The caller's data cannot be used; the message names the file (and line) where it can."""


class ZooError(UserError, ValueError):
    """A zoo model cannot be found or loaded: unknown name, missing file, checksum mismatch."""


class MissingExtra(UserError, ImportError):
    """An optional dependency is missing; the message names the `pip install` extra that brings it."""


__all__ = ["DataError", "InvalidArgumentError", "InvalidTypeError", "MissingExtra", "UserError", "ZooError"]
