"""`PythonTokenizer`: `Tokenizer`'s ids in plain Python, from the same vocabulary file, without TensorFlow.

It is the tokenizer of the LiteRT runtime (`zoo.load(name, runtime="litert")`), which must give the
ids the TensorFlow `Tokenizer` gives for every text; tests compare the two on every zoo model's test
inputs and on adversarial strings.
"""

import bisect
import functools
import json
import pathlib
import re

from keras_transformer import _validation
from keras_transformer.text import vocabulary as vocabulary_file

# `tf.strings.lower(encoding="utf-8")` read off TensorFlow one code point at a time (written by
# benchmarks/tf_lowercase.py): Python's `str.lower` has newer Unicode data than TensorFlow's ICU.
_LOWERCASE_TABLE = pathlib.Path(__file__).with_name("tf_lowercase.json")
_CAPITAL_SIGMA = "\u03a3"
_WHITESPACE_RUNS = re.compile("[" + "".join(map(chr, vocabulary_file.WHITESPACE_CODE_POINTS)) + "]+")
_ASCII_WHITESPACE_RUNS = re.compile("[" + re.escape("".join(sorted(vocabulary_file.ASCII_WHITESPACE))) + "]+")


class PythonTokenizer(vocabulary_file.VocabularyFields):
    """Maps text to token ids and back exactly as `keras_transformer.text.Tokenizer` does, in Python.

    Same vocabulary file (`Tokenizer.save` writes it), same reserved ids (0 pad, 1 start, 2 end,
    3 unknown), same rules: invalid UTF-8 bytes become U+FFFD; whitespace is stripped from the ends and
    each inner run becomes one space; "characters" splits into code points,
    "whitespace" on runs of ASCII whitespace; `lowercase` lowercases as `tf.strings.lower(...,
    encoding="utf-8")` does (see `lowercase`); `tokenize` truncates to `max_length`; `detokenize`
    stops at the first end id, drops pad and start ids and writes `unknown_text` for the unknown id
    and for ids out of range.

    Args:
        vocabulary: the symbols with ids 4, 5, ... (as for `Tokenizer`).
        split: "characters" or "whitespace".
        lowercase: lowercase texts before splitting them.

    Example:
    >>> tokenizer = PythonTokenizer(["d", "e", "h", "l", "o", "r", "w"])
    >>> tokenizer.tokenize(["hold", "hex"])
    [[6, 8, 7, 4], [6, 5, 3]]
    >>> tokenizer.tokenize("world", max_length=2)
    [10, 8]
    >>> tokenizer.detokenize([[6, 8, 7, 4, 2, 9], [6, 5, 3]])
    ['hold', 'he\\ufffd']
    >>> PythonTokenizer(["ας"], split="whitespace", lowercase=True).tokenize(["ΑΣ"])
    [[4]]
    """

    def __init__(self, vocabulary, split="characters", lowercase=False):
        vocabulary = self._set_vocabulary(vocabulary, split, lowercase)
        first_id = len(self.reserved_symbols)
        self._ids = {symbol: first_id + index for index, symbol in enumerate(vocabulary)}
        # Id -> text for `detokenize`: pad, start and end write nothing, unknown writes its marker.
        self._symbols = ["", "", "", self.unknown_text, *vocabulary]

    def __repr__(self):
        return f"PythonTokenizer(split={self._split_mode!r}, lowercase={self._lowercase}, vocabulary_size={self.vocabulary_size})"

    @classmethod
    def load(cls, path):
        """Read a vocabulary file written by `Tokenizer.save`."""
        return cls(**vocabulary_file.read_vocabulary_file(path))

    def symbols(self, text):
        """The symbols of one text (`str`, or `bytes` read as UTF-8 with U+FFFD for invalid bytes)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        elif not isinstance(text, str):
            raise TypeError(f"A text must be str or bytes. Received: {type(text).__name__}")
        elif not text.isascii():
            # Lone surrogates (a str decoded with "surrogateescape") become U+FFFD as their bytes would.
            text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        text = _WHITESPACE_RUNS.sub(" ", text).strip(" ")
        if self._lowercase:
            text = lowercase(text)
        if self._split_mode == "characters":
            return list(text)
        return [symbol for symbol in _ASCII_WHITESPACE_RUNS.split(text) if symbol]

    def tokenize(self, texts, max_length=None):
        """Text -> token ids, without start and end ids, each row truncated to `max_length`.

        Args:
            texts: a list of `str`/`bytes`, or one `str`/`bytes`.
            max_length: None (keep everything) or a positive int.

        Returns:
            A list of lists of int (one a text), or a list of int for one text.
        """
        _validation.positive_int("max_length", max_length, allow_none=True)
        if isinstance(texts, (str, bytes)):
            return self._ids_of(texts, max_length)
        return [self._ids_of(text, max_length) for text in texts]

    def _ids_of(self, text, max_length):
        ids = [self._ids.get(symbol, self.unknown_id) for symbol in self.symbols(text)]
        return ids if max_length is None else ids[:max_length]

    def detokenize(self, ids):
        """Token ids -> text, as `Tokenizer.detokenize`.

        Args:
            ids: rows of int ids `(B, T)` (lists, or a NumPy array; rows may differ in length and
                hold padding, start and end ids), or one row `(T,)`.

        Returns:
            A list of str, or one str for one row.
        """
        rows, single = _validation.id_rows(ids)
        texts = [self._text_of(row) for row in rows]
        return texts[0] if single else texts

    def _text_of(self, row):
        pieces = []
        for token in row:
            token = _validation.token_id(token)
            if token == self.end_id:
                break
            if token < 0 or token >= len(self._symbols):
                token = self.unknown_id
            if token not in (self.pad_id, self.start_id):
                pieces.append(self._symbols[token])
        return ("" if self._split_mode == "characters" else " ").join(pieces)


def lowercase(text):
    """`text` lowercased exactly as `tf.strings.lower(text, encoding="utf-8")` does.

    That is ICU's full lowercase mapping of TensorFlow's Unicode version (İ -> "i̇", two code points),
    with the final-sigma rule (Σ -> ς at the end of a word), and, like TensorFlow, nothing after a NUL
    character (TensorFlow's lowercasing stops at the first one).

    Example:
    >>> lowercase("ΟΔΟΣ İstanbul ẞ")
    'οδος i̇stanbul ß'
    """
    text = text.split("\0", 1)[0]
    if text.isascii():
        return text.lower()
    table = _lowercase_table()
    characters = []
    for index, character in enumerate(text):
        if character == _CAPITAL_SIGMA:
            characters.append("\u03c2" if _is_final_sigma(text, index, table) else "\u03c3")
        else:
            characters.append(table["lower"].get(character, character))
    return "".join(characters)


def _is_final_sigma(text, index, table):
    """Unicode's Final_Sigma condition for the Σ at `text[index]`: a cased letter before it and none
    after it, case-ignorable characters skipped (Unicode section 3.13)."""

    def nearest_not_ignorable(indices):
        for other in indices:
            if not _in_runs(text[other], table["case_ignorable"]):
                return text[other]
        return None

    before = nearest_not_ignorable(range(index - 1, -1, -1))
    if before is None or not _in_runs(before, table["cased"]):
        return False
    after = nearest_not_ignorable(range(index + 1, len(text)))
    return after is None or not _in_runs(after, table["cased"])


def _in_runs(character, runs):
    firsts, lasts = runs
    position = bisect.bisect_right(firsts, ord(character)) - 1
    return position >= 0 and ord(character) <= lasts[position]


@functools.cache
def _lowercase_table():
    values = json.loads(_LOWERCASE_TABLE.read_text(encoding="utf-8"))
    return {
        "lower": {chr(code_point): lowered for code_point, lowered in values["lower"]},
        # [[first, last], ...] -> ([firsts], [lasts]) for bisection.
        "cased": tuple(map(list, zip(*values["cased"]))),
        "case_ignorable": tuple(map(list, zip(*values["case_ignorable"]))),
    }


__all__ = ["PythonTokenizer", "lowercase"]
