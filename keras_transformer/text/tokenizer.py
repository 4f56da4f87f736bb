"""`Tokenizer`: text <-> token ids with core TensorFlow ops only, so it runs in `tf.data` and inside
exported SavedModels (no tensorflow-text, no Python callbacks)."""

import collections
import json

import tensorflow as tf

from keras_transformer import _validation
from keras_transformer.text import vocabulary as vocabulary_file

_SPLITS = vocabulary_file.SPLITS
_UNKNOWN_TEXT = vocabulary_file.UNKNOWN_TEXT
_CORPUS_CHUNK = 8192
# RE2 (`tf.strings.regex_replace`): one run of whitespace; a space at either end once runs are one space.
_WHITESPACE_RUN = "[" + "".join(f"\\x{{{code_point:x}}}" for code_point in vocabulary_file.WHITESPACE_CODE_POINTS) + "]+"
_END_SPACE = "^ | $"


class Tokenizer(vocabulary_file.VocabularyFields, tf.Module):
    """Maps text to int32 token ids and back, with a fixed vocabulary and four reserved ids.

    Ids: 0 `"<pad>"` (padding), 1 `"<s>"` (start), 2 `"</s>"` (end), 3 `"<unk>"` (unknown); the
    vocabulary's symbols take ids 4, 5, ... in the order given. Whitespace is normalized first: a text's
    leading and trailing whitespace is dropped and each inner run of whitespace (any code point
    `str.isspace` accepts: tabs, newlines, U+3000...) becomes one space, so `"  cat "` and `"cat"` get
    the same ids. Text is then split into symbols in one of two ways:

    - `"characters"`: Unicode code points (`tf.strings.unicode_split`). Nothing is normalized: a
      letter and a combining mark after it are two symbols, and a right-to-left string keeps its
      logical (stored) order. Invalid UTF-8 bytes become U+FFFD, never an error.
    - `"whitespace"`: runs of ASCII whitespace separate symbols (`tf.strings.split`), as in ARPAbet
      phoneme strings like `"HH AH0 L OW1"`. Invalid UTF-8 bytes are replaced by U+FFFD first.

    Symbols missing from the vocabulary map to the unknown id. Lookups go through a
    `tf.lookup.StaticHashTable` that this module tracks, so a `tf.Module` or Keras model holding the
    tokenizer saves it with `tf.saved_model.save` and the SavedModel needs only TensorFlow to run.

    Args:
        vocabulary: the symbols, a list of distinct non-empty `str` (none of the reserved symbols; in
            "characters" mode each one code point, in "whitespace" mode free of whitespace).
        split: `"characters"` or `"whitespace"`.
        lowercase: lowercase the text (Unicode-aware, `tf.strings.lower(..., encoding="utf-8")`) before
            splitting.
        name: the `tf.Module` name.

    Example:
    >>> tokenizer = Tokenizer.from_corpus(["hello", "world"])
    >>> tokenizer.vocabulary
    ['d', 'e', 'h', 'l', 'o', 'r', 'w']
    >>> ids = tokenizer.tokenize(["hold", "hex"])
    >>> ids.to_list()
    [[6, 8, 7, 4], [6, 5, 3]]
    >>> tokenizer.detokenize(ids).numpy().tolist() == ["hold".encode(), "he\\ufffd".encode()]
    True
    """

    def __init__(self, vocabulary, split="characters", lowercase=False, name=None):
        super().__init__(name=name)
        vocabulary = self._set_vocabulary(vocabulary, split, lowercase)
        first_id = len(self.reserved_symbols)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(vocabulary, tf.string),
                tf.range(first_id, first_id + len(vocabulary), dtype=tf.int32),
            ),
            default_value=self.unknown_id,
        )
        # Id -> text for `detokenize`: pad, start and end write nothing, unknown writes its marker.
        self._symbols = tf.constant(["", "", "", _UNKNOWN_TEXT[split], *vocabulary], tf.string)

    @classmethod
    def from_corpus(cls, texts, split="characters", min_count=1, max_size=None, lowercase=False, name=None):
        """Build a tokenizer whose vocabulary is the symbols of `texts`.

        The symbols are found with the same TensorFlow ops `tokenize` uses, so the two always agree.
        Symbols seen fewer than `min_count` times are left out; with `max_size`, only the most
        frequent `max_size` are kept (ties go to the smaller symbol). The result is sorted by code
        point, so the same corpus gives the same ids whatever its order.

        Args:
            texts: an iterable of `str` (or UTF-8 `bytes`).
            split, lowercase, name: as for the constructor.
            min_count: a positive int.
            max_size: None or a positive int: the most symbols to keep (reserved ids not counted).

        Returns:
            A `Tokenizer`.
        """
        _validation.one_of("split", split, _SPLITS)
        _validation.positive_int("min_count", min_count)
        _validation.positive_int("max_size", max_size, allow_none=True)
        if isinstance(texts, (str, bytes)):
            raise TypeError(f"`texts` must be an iterable of strings, not one string. Received: texts={texts!r}")
        counts = collections.Counter()
        chunk = []
        for text in texts:
            if not isinstance(text, (str, bytes)):
                raise TypeError(f"`texts` must hold str or bytes. Received an item of type {type(text).__name__}")
            chunk.append(text)
            if len(chunk) == _CORPUS_CHUNK:
                counts.update(_count_symbols(chunk, split, lowercase))
                chunk = []
        if chunk:
            counts.update(_count_symbols(chunk, split, lowercase))
        for symbol in cls.reserved_symbols:
            counts.pop(symbol, None)
        kept = [(symbol, count) for symbol, count in counts.items() if count >= min_count]
        if max_size is not None:
            kept = sorted(kept, key=lambda item: (-item[1], item[0]))[:max_size]
        vocabulary = sorted(symbol for symbol, _ in kept)
        if not vocabulary:
            raise ValueError(
                f"No symbol in `texts` occurs at least min_count={min_count} times: the vocabulary would be empty."
            )
        return cls(vocabulary, split=split, lowercase=lowercase, name=name)

    def get_config(self):
        return {"vocabulary": self.vocabulary, "split": self._split_mode, "lowercase": self._lowercase}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save(self, path):
        """Write the vocabulary and options to a UTF-8 JSON file at `path`."""
        document = vocabulary_file.vocabulary_document(self._vocabulary, self._split_mode, self._lowercase)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=1)
            handle.write("\n")

    @classmethod
    def load(cls, path):
        """Read a tokenizer written by `save`."""
        return cls(**vocabulary_file.read_vocabulary_file(path))

    def tokenize(self, texts, max_length=None):
        """Text -> token ids, without start and end ids.

        Length policy: with `max_length`, each row is TRUNCATED to its first `max_length` ids (no
        error, so the same code runs in a graph on any input); compare lengths before and after if
        you need to know. Start/end ids that a model adds are not counted.

        Args:
            texts: a string tensor `(B,)` or scalar, or a Python list of `str`/`bytes` or one `str`.
            max_length: None (keep everything) or a positive int.

        Returns:
            For `(B,)` input, an int32 `tf.RaggedTensor` `(B, None)`; for a scalar, an int32
            `tf.Tensor` `(length,)`. An empty or whitespace-only text gives an empty row; in
            "characters" mode the single spaces between words are symbols.
        """
        _validation.positive_int("max_length", max_length, allow_none=True)
        texts = _as_string_tensor(texts, "texts")
        if texts.shape.rank not in (0, 1):
            raise ValueError(f"`texts` must be a scalar or have shape (B,). Received: texts.shape={texts.shape}")
        pieces = self._split_text(texts)
        ids = (
            tf.ragged.map_flat_values(self._table.lookup, pieces)
            if texts.shape.rank == 1
            else self._table.lookup(pieces)
        )
        if max_length is not None:
            ids = ids[:, :max_length] if texts.shape.rank == 1 else ids[:max_length]
        return ids

    def detokenize(self, ids):
        """Token ids -> text.

        Pad and start ids are dropped; each row ends before its first end id; the unknown id and any
        id outside `[0, vocabulary_size)` become `unknown_text`. Symbols are joined with `""`
        ("characters") or `" "` ("whitespace").

        Args:
            ids: an int tensor `(B, T)` (dense, 0-padded, may hold start/end ids) or a
                `tf.RaggedTensor` `(B, None)`, a single sequence `(T,)`, or nested Python lists.

        Returns:
            A `tf.string` tensor `(B,)`, or a scalar for a single sequence.
        """
        if isinstance(ids, (list, tuple)):
            ids = (
                tf.ragged.constant(ids, dtype=tf.int64)
                if ids and isinstance(ids[0], (list, tuple))
                else tf.constant(ids, tf.int64)
            )
        if isinstance(ids, tf.RaggedTensor):
            if ids.shape.rank != 2:
                raise ValueError(f"Ragged `ids` must have shape (B, None). Received: ids.shape={ids.shape}")
            ids = ids.to_tensor(default_value=tf.cast(self.pad_id, ids.dtype))
        ids = tf.convert_to_tensor(ids)
        if not ids.dtype.is_integer:
            raise TypeError(f"`ids` must hold integer token ids. Received: ids.dtype={ids.dtype.name}")
        if ids.shape.rank not in (1, 2):
            raise ValueError(f"`ids` must have shape (B, T) or (T,). Received: ids.shape={ids.shape}")
        single = ids.shape.rank == 1
        if single:
            ids = ids[None]  # (T,) -> (1, T)
        ids = tf.cast(ids, tf.int32)
        out_of_range = (ids < 0) | (ids >= self.vocabulary_size)
        ids = tf.where(out_of_range, self.unknown_id, ids)
        # (B, T): True from each row's first end id onwards.
        after_end = tf.cumsum(tf.cast(ids == self.end_id, tf.int32), axis=1) > 0
        keep = ~after_end & (ids != self.pad_id) & (ids != self.start_id)
        pieces = tf.ragged.boolean_mask(tf.gather(self._symbols, ids), keep)  # (B, None) strings
        separator = "" if self._split_mode == "characters" else " "
        texts = tf.strings.reduce_join(pieces, axis=-1, separator=separator)  # (B,)
        return texts[0] if single else texts

    def _split_text(self, texts):
        return _split(texts, self._split_mode, self._lowercase)


def _split(texts, split, lowercase):
    """A string tensor -> its symbols (ragged for rank 1), the way `Tokenizer` splits."""
    # Invalid UTF-8 bytes -> U+FFFD first, so lowercasing and splitting never fail on them.
    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
    texts = tf.strings.regex_replace(tf.strings.regex_replace(texts, _WHITESPACE_RUN, " "), _END_SPACE, "")
    if lowercase:
        texts = tf.strings.lower(texts, encoding="utf-8")
    if split == "characters":
        return tf.strings.unicode_split(texts, "UTF-8")
    return tf.strings.split(texts)


def _count_symbols(texts, split, lowercase):
    symbols = _split(tf.constant(texts, tf.string), split, lowercase).flat_values.numpy()
    return collections.Counter(symbol.decode("utf-8") for symbol in symbols)


def _as_string_tensor(value, name):
    if isinstance(value, (list, tuple)) and not value:
        return tf.zeros([0], tf.string)
    if isinstance(value, (str, bytes)) or (
        isinstance(value, (list, tuple)) and all(isinstance(v, (str, bytes)) for v in value)
    ):
        return tf.constant(value, tf.string)
    if isinstance(value, tf.RaggedTensor):
        raise TypeError(f"`{name}` must be a dense string tensor. Received a RaggedTensor of shape {value.shape}")
    value = tf.convert_to_tensor(value)
    if value.dtype != tf.string:
        raise TypeError(f"`{name}` must hold strings. Received: {name}.dtype={value.dtype.name}")
    return value
