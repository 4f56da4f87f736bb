"""The vocabulary file every `keras_transformer.text` tokenizer of this format reads: reserved ids, split
modes, checks and the JSON document. Imports no TensorFlow (`PythonTokenizer` runs without it)."""

import json

from keras_transformer import _validation

FORMAT = "keras_transformer.Tokenizer"
FORMAT_VERSION = 1
# Ids 0-3, in this order; the vocabulary's symbols take ids 4, 5, ...
RESERVED_SYMBOLS = ("<pad>", "<s>", "</s>", "<unk>")
PAD_ID, START_ID, END_ID, UNKNOWN_ID = range(len(RESERVED_SYMBOLS))
SPLITS = ("characters", "whitespace")
# Written by `detokenize` for the unknown id: the Unicode replacement character in "characters" mode,
# the reserved symbol in "whitespace" mode (where a word-sized marker reads better than one glyph).
UNKNOWN_TEXT = {"characters": "\ufffd", "whitespace": "<unk>"}
# What `tf.strings.split` without a separator splits on (ASCII only: U+3000 and friends stay inside symbols).
ASCII_WHITESPACE = frozenset(" \t\n\v\f\r")
# Every code point Python's `str.isspace` accepts (what `str.split()` splits on). Both tokenizers strip
# them from the ends of a text and write each inner run of them as one " " before anything else, so
# "  cat ", "cat" and "cat\n" are one input in every runtime.
WHITESPACE_CODE_POINTS = (
    *range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
    0x202F, 0x205F, 0x3000,
)


def check_vocabulary(vocabulary, split):
    """`ValueError` naming the first symbol a tokenizer with `split` cannot hold."""
    if not vocabulary:
        raise ValueError("`vocabulary` must hold at least one symbol. Received: vocabulary=[]")
    seen = set()
    for index, symbol in enumerate(vocabulary):
        if not isinstance(symbol, str) or not symbol:
            raise ValueError(f"`vocabulary` must hold non-empty str. Received: {symbol!r} at index {index}")
        if symbol in RESERVED_SYMBOLS:
            raise ValueError(f"`vocabulary` must not hold the reserved symbol {symbol!r} (at index {index}).")
        if symbol in seen:
            raise ValueError(f"`vocabulary` must not repeat a symbol. Received: {symbol!r} again at index {index}")
        seen.add(symbol)
        if split == "characters" and len(symbol) != 1:
            raise ValueError(f'split="characters" needs one code point a symbol. Received: {symbol!r} at index {index}')
        if split == "whitespace" and any(character in ASCII_WHITESPACE for character in symbol):
            raise ValueError(
                f'split="whitespace" needs symbols without whitespace. Received: {symbol!r} at index {index}'
            )


def vocabulary_document(vocabulary, split, lowercase):
    """The JSON document a vocabulary file holds."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "reserved": list(RESERVED_SYMBOLS),
        "vocabulary": list(vocabulary),
        "split": split,
        "lowercase": lowercase,
    }


def read_vocabulary_file(path):
    """`{"vocabulary", "split", "lowercase"}` from a vocabulary file (`Tokenizer.save` writes them);
    `ValueError` for a file of another format, version or reserved symbols."""
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path} is not a Tokenizer file (no format {FORMAT!r}).")
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has Tokenizer format version {document.get('version')!r}; this code reads version "
            f"{FORMAT_VERSION}."
        )
    if document.get("reserved") != list(RESERVED_SYMBOLS):
        raise ValueError(f"{path} reserves {document.get('reserved')!r}, expected {list(RESERVED_SYMBOLS)}.")
    return {
        "vocabulary": document["vocabulary"],
        "split": document["split"],
        "lowercase": document.get("lowercase", False),
    }


class VocabularyFields:
    """What both tokenizers (`Tokenizer` in TensorFlow ops, `PythonTokenizer` in Python) hold alike:
    the reserved ids, and the vocabulary, split mode and lowercasing, checked once by
    `_set_vocabulary` and read through properties."""

    pad_id = PAD_ID
    start_id = START_ID
    end_id = END_ID
    unknown_id = UNKNOWN_ID
    reserved_symbols = RESERVED_SYMBOLS

    def _set_vocabulary(self, vocabulary, split, lowercase):
        """Check and keep the fields; returns the vocabulary as a list."""
        _validation.one_of("split", split, SPLITS)
        _validation.boolean("lowercase", lowercase)
        if isinstance(vocabulary, (str, bytes)):
            raise TypeError(f"`vocabulary` must be a list of str, not one string. Received: vocabulary={vocabulary!r}")
        vocabulary = list(vocabulary)
        check_vocabulary(vocabulary, split)
        self._vocabulary = vocabulary
        self._split_mode = split
        self._lowercase = lowercase
        return vocabulary

    @property
    def vocabulary(self):
        """The symbols with ids 4, 5, ... (a copy; the reserved symbols are not included)."""
        return list(self._vocabulary)

    @property
    def vocabulary_size(self):
        """V: the reserved ids plus the symbols; every id is in `[0, vocabulary_size)`."""
        return len(RESERVED_SYMBOLS) + len(self._vocabulary)

    @property
    def split(self):
        return self._split_mode

    @property
    def lowercase(self):
        return self._lowercase

    @property
    def unknown_text(self):
        """What `detokenize` writes for the unknown id: U+FFFD ("characters") or `"<unk>"` ("whitespace")."""
        return UNKNOWN_TEXT[self._split_mode]
