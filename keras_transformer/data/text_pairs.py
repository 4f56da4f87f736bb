"""A user's own parallel text: read a TSV file or two line-aligned files into checked pairs, split them
into train / validation / test by a stable hash of the source, and build the tokenizers.

File format:

- **TSV** (`read_tsv`): one pair a line, `source<TAB>target`. There is no header: a first line such as
  `word<TAB>phonemes` is read as a pair like any other, so remove it before training. A line with
  more or fewer than 2 tab-separated columns is an error (a tab cannot appear inside a field).
- **Two line-aligned files** (`read_aligned`): line i of the source file pairs with line i of the target
  file; the two must have the same number of lines.

Both: UTF-8 (a leading byte-order mark is ignored), `\\n` or `\\r\\n` line ends. Blank lines at the end
of a file are ignored; any other blank line, an empty source or target (no symbol after splitting),
an undecodable byte or a line over the length limit is an error that names the file and the 1-based
line number, e.g. `my.tsv line 7: expected 2 tab-separated columns (source, target), found 1`.
Every such error is a `DataFileError`: a `keras_transformer.errors.DataError` (and so a `ValueError`),
which the command line prints as one line. A bad argument (`symbols`, `on_long`, `fractions`, a length
limit) is a `keras_transformer.errors.InvalidArgumentError`.

Length policy: lengths are counted in symbols, as the tokenizer will split them ("characters": code
points; "whitespace": runs of non-whitespace). A source longer than `max_source_length` or a target
longer than `max_target_length` is refused with a `LineTooLongError` by default
(`on_long="error"`); with `on_long="truncate"` it is cut to its first symbols (in "whitespace" mode
the kept symbols are joined with one space) and the pair is counted in `TextPairs.truncated`.
"""

import dataclasses
import hashlib
import os
import re

from keras_transformer import _validation
from keras_transformer.errors import DataError, InvalidArgumentError

SYMBOLS = ("characters", "whitespace")
ON_LONG = ("error", "truncate")
SPLITS = ("train", "validation", "test")
DEFAULT_FRACTIONS = (0.9, 0.05, 0.05)
# The separators `Tokenizer(split="whitespace")` splits on (ASCII whitespace only, as
# `tf.strings.split` does): U+00A0, U+3000 and friends stay inside a symbol.
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_UTF8_BOM = b"\xef\xbb\xbf"


class DataFileError(DataError):
    """A data file cannot be used (a `DataError`, so a `ValueError`). `path` names the file, `line` the
    1-based line (None: the whole file)."""

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        where = self.path if line is None else f"{self.path} line {line}"
        super().__init__(f"{where}: {message}")


class MissingFileError(DataFileError, FileNotFoundError):
    """The file does not exist (or is not a regular file)."""


class EmptyFileError(DataFileError):
    """The file holds no pair."""


class EncodingError(DataFileError):
    """A line is not valid UTF-8."""


class ColumnError(DataFileError):
    """A TSV line has other than 2 columns, or a source or target is empty."""


class LineTooLongError(DataFileError):
    """A source or target is longer than its length limit (with `on_long="error"`)."""


class LineCountError(DataFileError):
    """Two line-aligned files have different numbers of lines."""


@dataclasses.dataclass(frozen=True)
class TextPairs:
    """Source and target texts, with where each pair came from.

    Attributes:
        sources, targets: tuples of `str`, one a pair.
        lines: the 1-based line number of each pair in its file(s).
        path: the file read (for two files, `"source_path + target_path"`), for messages.
        truncated: how many pairs were cut to the length limit (`on_long="truncate"`).
    """

    sources: tuple
    targets: tuple
    lines: tuple
    path: str
    truncated: int = 0

    def __len__(self):
        return len(self.sources)

    def subset(self, indices):
        """The pairs at `indices`, in that order (`truncated` counts the whole file, not the subset)."""
        return TextPairs(
            sources=tuple(self.sources[i] for i in indices),
            targets=tuple(self.targets[i] for i in indices),
            lines=tuple(self.lines[i] for i in indices),
            path=self.path,
            truncated=self.truncated,
        )


@dataclasses.dataclass(frozen=True)
class PairSplits:
    """The three parts of a data file: `train`, `validation`, `test`, each a `TextPairs`."""

    train: TextPairs
    validation: TextPairs
    test: TextPairs

    def sizes(self):
        return {name: len(getattr(self, name)) for name in SPLITS}


def read_pairs(
    path,
    target_path=None,
    symbols="characters",
    max_source_length=None,
    max_target_length=None,
    on_long="error",
    target_symbols=None,
):
    """Read pairs from a TSV file (`target_path=None`) or from two line-aligned files.

    Args:
        path: the TSV file, or the source file when `target_path` is given.
        target_path: None, or the target file, line-aligned with `path`.
        symbols: `"characters"` or `"whitespace"`: how lengths and emptiness are counted (the split the
            tokenizers will use).
        target_symbols: the same for the target side, when it differs (default `symbols`).
        max_source_length, max_target_length: None (no limit) or the most symbols a source or a target
            may have.
        on_long: `"error"` (refuse a longer text with `LineTooLongError`) or `"truncate"` (cut it).

    Returns:
        A `TextPairs`.

    Raises:
        DataFileError: (a `keras_transformer.errors.DataError`) naming the file and line; see the module
            docstring.
        InvalidArgumentError: (a `ValueError`) a bad `symbols`, limit or `on_long`.

    Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pairs.tsv"
    >>> _ = path.write_text("cat\\tK AE1 T\\ndog\\tD AO1 G\\n", encoding="utf-8")
    >>> pairs = read_pairs(path)
    >>> pairs.sources, pairs.targets, pairs.lines
    (('cat', 'dog'), ('K AE1 T', 'D AO1 G'), (1, 2))
    """
    limits = {
        "symbols": symbols,
        "max_source_length": max_source_length,
        "max_target_length": max_target_length,
        "on_long": on_long,
        "target_symbols": target_symbols,
    }
    if target_path is None:
        return read_tsv(path, **limits)
    return read_aligned(path, target_path, **limits)


def read_tsv(
    path, symbols="characters", max_source_length=None, max_target_length=None, on_long="error", target_symbols=None
):
    """Pairs from a TSV file of `source<TAB>target` lines (no header). Arguments as for `read_pairs`."""
    limits = _Limits(symbols, target_symbols, max_source_length, max_target_length, on_long)
    sources, targets, lines, truncated = [], [], [], 0
    for number, text in _read_lines(path):
        columns = text.split("\t")
        if len(columns) != 2:
            raise ColumnError(path, number, f"expected 2 tab-separated columns (source, target), found {len(columns)}")
        source, source_cut = limits.check(columns[0], "source", path, number)
        target, target_cut = limits.check(columns[1], "target", path, number)
        sources.append(source)
        targets.append(target)
        lines.append(number)
        truncated += source_cut or target_cut
    return TextPairs(tuple(sources), tuple(targets), tuple(lines), str(path), truncated)


def read_aligned(
    source_path,
    target_path,
    symbols="characters",
    max_source_length=None,
    max_target_length=None,
    on_long="error",
    target_symbols=None,
):
    """Pairs from two line-aligned files: line i of `source_path` with line i of `target_path`.
    Arguments as for `read_pairs`; `LineCountError` if the files have different numbers of lines."""
    limits = _Limits(symbols, target_symbols, max_source_length, max_target_length, on_long)
    source_lines = _read_lines(source_path)
    target_lines = _read_lines(target_path)
    if len(source_lines) != len(target_lines):
        raise LineCountError(
            source_path,
            None,
            f"has {len(source_lines)} lines but the target file {target_path} has {len(target_lines)}; "
            "the two files must be line-aligned (one pair a line)",
        )
    sources, targets, lines, truncated = [], [], [], 0
    for (number, source), (_, target) in zip(source_lines, target_lines):
        source, source_cut = limits.check(source, "source", source_path, number)
        target, target_cut = limits.check(target, "target", target_path, number)
        sources.append(source)
        targets.append(target)
        lines.append(number)
        truncated += source_cut or target_cut
    return TextPairs(tuple(sources), tuple(targets), tuple(lines), f"{source_path} + {target_path}", truncated)


def split_key(source, symbols="characters", lowercase=False):
    """The text the split hashes: the source as the model sees it (lowercased with `lowercase`; in
    "whitespace" mode its symbols joined by one space), so sources the model cannot tell apart
    always fall on the same side."""
    if lowercase:
        source = source.lower()
    if symbols == "whitespace":
        source = " ".join(split_symbols(source, symbols))
    return source


def split_of(source, fractions=DEFAULT_FRACTIONS, symbols="characters", lowercase=False):
    """`"train"`, `"validation"` or `"test"` for one source text, the same on every run and machine.

    The first 8 bytes of the SHA-1 of the UTF-8 `split_key(source, ...)`, read as a big-endian
    unsigned int and divided by 2**64, give a number u in [0, 1): train if u < fractions[0],
    validation if u < fractions[0] + fractions[1], test otherwise.

    Args:
        source: the source text.
        fractions: (train, validation, test), each in [0, 1], summing to 1.
        symbols, lowercase: as for `split_key`.
    """
    train, validation, _ = _check_fractions(fractions)
    key = split_key(source, symbols, lowercase).encode("utf-8")
    position = int.from_bytes(hashlib.sha1(key).digest()[:8], "big") / 2**64
    if position < train:
        return "train"
    if position < train + validation:
        return "validation"
    return "test"


def split_pairs(pairs, fractions=DEFAULT_FRACTIONS, symbols="characters", lowercase=False):
    """Split `pairs` (a `TextPairs`) by `split_of` each source: every pair with the same source lands
    in the same part, so no test source is seen in training. Order within a part is file order.

    Returns:
        A `PairSplits`.
    """
    _check_fractions(fractions)
    parts = {name: [] for name in SPLITS}
    assigned = {}
    for index, source in enumerate(pairs.sources):
        if source not in assigned:
            assigned[source] = split_of(source, fractions, symbols, lowercase)
        parts[assigned[source]].append(index)
    return PairSplits(**{name: pairs.subset(indices) for name, indices in parts.items()})


def build_tokenizers(pairs, symbols="characters", lowercase=False, target_symbols=None):
    """Source and target `Tokenizer`s whose vocabularies are the symbols of `pairs` (`lowercase`
    applies to the source side only: targets are produced, and keep their case; `target_symbols`
    defaults to `symbols`)."""
    target_symbols = symbols if target_symbols is None else target_symbols
    _check_symbols(symbols)
    _check_symbols(target_symbols, "target_symbols")
    from keras_transformer.text import Tokenizer  # TensorFlow: imported when tokenizers are made

    source_tokenizer = Tokenizer.from_corpus(pairs.sources, split=symbols, lowercase=lowercase)
    target_tokenizer = Tokenizer.from_corpus(pairs.targets, split=target_symbols)
    return source_tokenizer, target_tokenizer


def symbol_count(text, symbols="characters"):
    """How many symbols `text` has when split as `symbols` ("characters" or "whitespace")."""
    return len(split_symbols(text, symbols))


def split_symbols(text, symbols="characters"):
    """`text`'s symbols as `Tokenizer(split=symbols)` splits valid UTF-8: its code points (a `str`),
    or its runs of non-whitespace (a list; ASCII whitespace separates, as in `tf.strings.split`)."""
    _check_symbols(symbols)
    if symbols == "characters":
        return text
    return [piece for piece in _WHITESPACE.split(text) if piece]


def _read_lines(path):
    """`[(line number, text)]` of a UTF-8 file: line ends and a leading BOM removed, trailing blank
    lines dropped; `DataFileError` for a missing or empty file, a bad byte or an inner blank line."""
    if not os.path.isfile(path):
        what = "is a directory, not a file" if os.path.isdir(path) else "no such file"
        raise MissingFileError(path, None, what)
    with open(path, "rb") as handle:
        raw_lines = handle.read().split(b"\n")
    if raw_lines and raw_lines[0].startswith(_UTF8_BOM):
        raw_lines[0] = raw_lines[0][len(_UTF8_BOM) :]
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise EncodingError(
                path, number, f"not valid UTF-8 (byte {raw[error.start]:#04x} at column {error.start + 1})"
            ) from None
        lines.append((number, text))
    while lines and not lines[-1][1].strip():
        lines.pop()
    if not lines:
        raise EmptyFileError(path, None, "the file holds no line of data (it is empty or blank)")
    for number, text in lines:
        if not text.strip():
            raise ColumnError(path, number, "blank line (every line must hold a pair; remove it)")
    return lines


class _Limits:
    """The length policy of one read: checks a field, returns it (maybe truncated) and whether it was cut."""

    def __init__(self, symbols, target_symbols, max_source_length, max_target_length, on_long):
        _check_symbols(symbols)
        target_symbols = symbols if target_symbols is None else target_symbols
        _check_symbols(target_symbols, "target_symbols")
        _validation.one_of("on_long", on_long, ON_LONG)
        self.symbols = {"source": symbols, "target": target_symbols}
        self.limits = {
            "source": _validation.positive_int("max_source_length", max_source_length, allow_none=True),
            "target": _validation.positive_int("max_target_length", max_target_length, allow_none=True),
        }
        self.on_long = on_long

    def check(self, text, side, path, line):
        symbols = self.symbols[side]
        pieces = split_symbols(text, symbols)
        if not pieces:
            raise ColumnError(path, line, f"empty {side} (no {symbols} symbol)")
        limit = self.limits[side]
        if limit is None or len(pieces) <= limit:
            return text, False
        if self.on_long == "error":
            raise LineTooLongError(
                path,
                line,
                f"the {side} has {len(pieces)} symbols ({symbols}), over the limit of {limit} "
                "(shorten or remove the line, raise the limit, or truncate long lines)",
            )
        kept = pieces[:limit]
        return (kept if symbols == "characters" else " ".join(kept)), True


def _check_symbols(symbols, name="symbols"):
    _validation.one_of(name, symbols, SYMBOLS)


def _check_fractions(fractions):
    try:
        values = tuple(fractions)
    except TypeError:
        values = ()
    ok = len(values) == 3 and all(
        isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1 for value in values
    )
    if not ok or abs(sum(values) - 1) > 1e-6 or values[0] <= 0:
        raise InvalidArgumentError(
            "`fractions` must be (train, validation, test), each in [0, 1], train > 0, summing to 1. "
            f"Received: fractions={fractions!r}"
        )
    return values
