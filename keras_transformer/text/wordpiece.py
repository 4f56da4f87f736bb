"""`WordPieceTokenizer`: BERT's tokenizer (normalize, split on whitespace and punctuation, greedy
longest-match-first WordPiece) with core TensorFlow ops only, so it runs inside exported SavedModels."""

import functools
import json
import pathlib
import re

import numpy as np
import tensorflow as tf

from keras_transformer import _validation

_CHARACTER_TABLE = pathlib.Path(__file__).with_name("bert_characters.json")
_HANGUL_SYLLABLES = range(0xAC00, 0xD7A4)
_SPACE = 32
# In a code point's pattern: -1 is nothing, -2 the code point itself.
_NOTHING, _ITSELF = -1, -2
# Literal special tokens in a text become these private-use code points before normalization (which
# removes every private-use code point of the text itself, so they cannot come from the input).
_MARKER_BASE = 0xE000


@functools.lru_cache(maxsize=1)
def _character_table():
    return json.loads(_CHARACTER_TABLE.read_text(encoding="utf-8"))


def _hangul_jamo(cp):
    index = cp - _HANGUL_SYLLABLES.start
    lead, vowel, trail = 0x1100 + index // 588, 0x1161 + (index % 588) // 28, 0x11A7 + index % 28
    return chr(lead) + chr(vowel) + (chr(trail) if trail != 0x11A7 else "")


def _mark_ranges(classes, ranges, value):
    for first, last in ranges:
        classes[first : last + 1] = value


@functools.lru_cache(maxsize=4)
def _normalization_runs(lowercase, strip_accents, split_chinese, markers):
    """What normalization does to every code point, as runs for `tf.searchsorted`.

    Returns `(starts, patterns)`: code point `cp` falls in run `i = searchsorted(starts, cp) - 1` and
    becomes `patterns[i]` (code points, `_ITSELF` for cp, `_NOTHING` as padding). Normalization is
    BERT's, one code point at a time, in the reference's order: remove control characters, whitespace
    to a space, spaces around Chinese characters, strip accents (NFD without nonspacing marks),
    lowercase, then spaces around punctuation so that splitting on spaces also splits punctuation off.
    """
    table = _character_table()
    size = 0x110000
    keep, remove, space, isolate, mapped = 0, 1, 2, 3, 4
    classes = np.zeros(size, np.int8)
    punctuation = np.zeros(size, bool)
    _mark_ranges(punctuation, table["punctuation"], True)
    classes[punctuation] = isolate
    chinese = np.zeros(size, bool)
    if split_chinese:
        _mark_ranges(chinese, table["chinese"], True)
        classes[chinese] = isolate

    replacements = {}
    if strip_accents:
        replacements.update((cp, value) for cp, value in table["strip_accents"])
        replacements.update((cp, _hangul_jamo(cp)) for cp in _HANGUL_SYLLABLES)
    lowered = dict(table["lowercase"]) if lowercase else {}
    candidates = set(replacements) | set(lowered)
    outputs = {}
    for cp in candidates:
        text = "".join(lowered.get(ord(c), c) for c in replacements.get(cp, chr(cp)))
        text = "".join(f" {c} " if punctuation[ord(c)] else c for c in text)
        if chinese[cp]:
            text = f" {text} "
        if text != chr(cp) and text != f" {chr(cp)} ":
            outputs[cp] = [ord(c) for c in text]
            classes[cp] = mapped
    # Cleaning comes first in the reference: it wins over everything above.
    _mark_ranges(classes, table["spaces"], space)
    _mark_ranges(classes, table["removed"], remove)
    for cp in markers:
        classes[cp] = isolate

    # A new run wherever the class changes, and at every mapped code point (each has its own pattern).
    is_mapped = classes == mapped
    starts = np.flatnonzero(np.concatenate([[True], (classes[1:] != classes[:-1]) | is_mapped[1:] | is_mapped[:-1]]))
    width = max([3, *(len(value) for value in outputs.values())])
    fixed = {
        keep: [_ITSELF],
        remove: [],
        space: [_SPACE],
        isolate: [_SPACE, _ITSELF, _SPACE],
    }
    patterns = np.full((len(starts), width), _NOTHING, np.int32)
    for row, start in enumerate(starts):
        pattern = outputs[start] if classes[start] == mapped else fixed[classes[start]]
        patterns[row, : len(pattern)] = pattern
    return starts.astype(np.int32), patterns


class WordPieceTokenizer(tf.Module):
    """BERT's WordPiece tokenizer made of core TensorFlow ops: texts -> `[CLS] pieces... [SEP]` ids.

    It reproduces the Hugging Face BERT tokenizer (the one sentence-transformers runs) step by step:

    1. Special tokens written literally in a text (`"[SEP]"`, `"[MASK]"`, ...) are kept whole, as
       the reference does (even `"[PAD]"`, which gives id 0: the model then treats it as padding,
       where the reference attends to it).
    2. Normalization, one code point at a time: control and format characters, private-use code
       points, U+0000 and U+FFFD are removed (invalid UTF-8 becomes U+FFFD, so it is removed too);
       whitespace becomes a space; Chinese ideographs get spaces around them; with `lowercase`, accents
       are stripped (canonical decomposition without nonspacing marks) and letters lowercased. What
       each code point becomes is read off the reference implementation (see `bert_characters.json`
       and `benchmarks/bert_characters.py`), so the two agree whatever Python's Unicode version.
    3. Words: the text splits on whitespace, and every punctuation character is a word of its own.
    4. WordPiece: each word becomes the longest vocabulary entry that starts it, then the longest
       `##`-prefixed entry that continues it, and so on (greedy longest-match-first). A word with a
       part that no entry matches, or longer than `max_word_characters`, is one `[UNK]`.
    5. `[CLS]` + the first `max_length - 2` pieces + `[SEP]`: longer texts are truncated (the
       reference truncates the same way when given the same `max_length`).

    Args:
        vocabulary: the tokens, a list of `str` whose index is the id (BERT's `vocab.txt`, line by
            line). The padding token must have id 0.
        max_length: the most ids a text gives, `[CLS]` and `[SEP]` included (all-MiniLM-L6-v2: 256;
            BERT's position table allows 512).
        lowercase: lowercase and strip accents (an "uncased" model) or leave the text as it is.
        split_chinese: spaces around Chinese ideographs, so each is a word.
        max_word_characters: longer words are `[UNK]` (100, the reference's).
        special_tokens: the tokens kept whole when written in a text; they must be in the vocabulary.
        name: the `tf.Module` name.

    Example:
    >>> vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "cafe", "!"]
    >>> tokenizer = WordPieceTokenizer(vocabulary, max_length=16)
    >>> tokenizer.tokenize(["Unaffable café!", "xyz"]).to_list()
    [[2, 5, 6, 7, 8, 9, 3], [2, 1, 3]]
    """

    def __init__(
        self,
        vocabulary,
        max_length=512,
        lowercase=True,
        split_chinese=True,
        max_word_characters=100,
        special_tokens=("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"),
        unknown_token="[UNK]",
        start_token="[CLS]",
        end_token="[SEP]",
        pad_token="[PAD]",
        name=None,
    ):
        super().__init__(name=name)
        if isinstance(vocabulary, (str, bytes)):
            raise TypeError(f"`vocabulary` must be a list of str, not one string. Received: vocabulary={vocabulary!r}")
        vocabulary = list(vocabulary)
        if not vocabulary or not all(isinstance(token, str) and token for token in vocabulary):
            raise ValueError("`vocabulary` must be a non-empty list of non-empty str.")
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("`vocabulary` has repeated tokens.")
        self.max_length = _validation.int_at_least("max_length", max_length, 2)
        self.lowercase = _validation.boolean("lowercase", lowercase)
        self.split_chinese = _validation.boolean("split_chinese", split_chinese)
        self.max_word_characters = _validation.positive_int("max_word_characters", max_word_characters)
        index = {token: i for i, token in enumerate(vocabulary)}
        for argument, token in (
            ("unknown_token", unknown_token),
            ("start_token", start_token),
            ("end_token", end_token),
            ("pad_token", pad_token),
            *(("special_tokens", token) for token in special_tokens),
        ):
            if token not in index:
                raise ValueError(f"`{argument}` must be in the vocabulary. Received: {argument}={token!r}")
        if index[pad_token] != 0:
            raise ValueError(f"The padding token must have id 0. Received: {pad_token!r} has id {index[pad_token]}")
        self._vocabulary = vocabulary
        self.special_tokens = tuple(special_tokens)
        self.unknown_id, self.start_id, self.end_id = index[unknown_token], index[start_token], index[end_token]
        self.pad_id = 0
        # The longest piece worth looking up, in characters (a "##" prefix not counted).
        self._longest_piece = max(len(token[2:]) if token.startswith("##") else len(token) for token in vocabulary)

        markers = tuple(_MARKER_BASE + i for i in range(len(self.special_tokens)))
        self._markers = [(re.escape(token), chr(marker)) for token, marker in zip(self.special_tokens, markers)]
        starts, patterns = _normalization_runs(self.lowercase, self.lowercase, self.split_chinese, markers)
        self._run_starts = tf.constant(starts)
        self._run_patterns = tf.constant(patterns)
        keys = vocabulary + [chr(marker) for marker in markers]
        values = list(range(len(vocabulary))) + [index[token] for token in self.special_tokens]
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(keys, tf.string), tf.constant(values, tf.int32)),
            default_value=-1,
        )

    @classmethod
    def from_vocabulary_file(cls, path, **kwargs):
        """A tokenizer over BERT's `vocab.txt` (one token a line, the line number is the id)."""
        with open(path, encoding="utf-8") as handle:
            vocabulary = handle.read().split("\n")
        if vocabulary and vocabulary[-1] == "":
            vocabulary.pop()  # the file's final newline
        return cls(vocabulary, **kwargs)

    @property
    def vocabulary(self):
        """The tokens, indexed by id (a copy)."""
        return list(self._vocabulary)

    @property
    def vocabulary_size(self):
        return len(self._vocabulary)

    def tokenize(self, texts):
        """`(B,)` texts (str, UTF-8 bytes or a string tensor) -> ragged `(B, None)` int32 ids:
        `[CLS]`, at most `max_length - 2` pieces, `[SEP]`. Runs eagerly or inside `tf.function`."""
        if isinstance(texts, (str, bytes)):
            raise TypeError(f"`texts` must be a batch (a list or a (B,) tensor), not one string. Received: {texts!r}")
        texts = tf.convert_to_tensor(texts, tf.string)
        if texts.shape.rank != 1:
            raise ValueError(f"`texts` must have shape (B,). Received: texts.shape={tuple(texts.shape)}")
        return self._tokenize(texts)

    def tokenize_padded(self, texts):
        """Like `tokenize`, padded with id 0 to the longest text of the batch: `(B, S)` int32."""
        return self.tokenize(texts).to_tensor(default_value=self.pad_id)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def _tokenize(self, texts):
        words = tf.strings.split(self._normalize(texts))  # (B, None) words
        pieces = self._word_pieces(words.flat_values)  # (N, None) ids, one row a word
        ids = tf.RaggedTensor.from_row_splits(pieces, words.row_splits).merge_dims(1, 2)  # (B, W, P) -> (B, T)
        ids = ids[:, : self.max_length - 2]
        batch = tf.shape(texts)[0]
        start = tf.fill([batch, 1], self.start_id)
        end = tf.fill([batch, 1], self.end_id)
        return tf.concat([start, ids, end], axis=1)

    def _normalize(self, texts):
        """`(B,)` texts -> `(B,)` normalized texts in which spaces separate every word and punctuation."""
        # Any private-use code point of the text goes (normalization would remove it anyway), then
        # literal special tokens become markers of that range.
        texts = tf.strings.regex_replace(texts, r"[\x{E000}-\x{F8FF}]", "")
        for pattern, marker in self._markers:
            texts = tf.strings.regex_replace(texts, pattern, marker)
        code_points = tf.strings.unicode_decode(texts, "UTF-8", errors="replace")  # (B, C)
        flat = code_points.flat_values  # (C_total,)
        runs = tf.searchsorted(self._run_starts, flat, side="right") - 1
        patterns = tf.gather(self._run_patterns, runs)  # (C_total, width)
        patterns = tf.where(patterns == _ITSELF, flat[:, None], patterns)
        produced = tf.ragged.boolean_mask(patterns, patterns != _NOTHING)  # (C_total, None)
        normalized = tf.RaggedTensor.from_row_splits(produced, code_points.row_splits).merge_dims(1, 2)
        return tf.strings.unicode_encode(normalized, "UTF-8")

    def _word_pieces(self, words):
        """`(N,)` words -> ragged `(N, None)` ids by greedy longest-match-first WordPiece."""
        lengths = tf.strings.length(words, unit="UTF8_CHAR")  # (N,) characters
        too_long = lengths > self.max_word_characters
        lengths = tf.where(too_long, 0, lengths)
        # Every (word, start) position and every piece length k that could match there.
        starts = tf.ragged.range(lengths)  # (N, L)
        position_word = starts.value_rowids()  # (P,)
        position_start = starts.flat_values
        word_length = tf.gather(lengths, position_word)
        piece_lengths = tf.ragged.range(1, tf.minimum(self._longest_piece, word_length - position_start) + 1)  # (P, K)
        candidate_position = piece_lengths.value_rowids()  # (Q,)
        candidate_length = piece_lengths.flat_values
        candidate_start = tf.gather(position_start, candidate_position)
        pieces = tf.strings.substr(
            tf.gather(words, tf.gather(position_word, candidate_position)),
            candidate_start,
            candidate_length,
            unit="UTF8_CHAR",
        )
        pieces = tf.where(candidate_start > 0, tf.strings.join(["##", pieces]), pieces)
        candidate_ids = self._table.lookup(pieces)  # (Q,), -1 where not in the vocabulary
        # The longest match at each position (0: none) and its id. Sentinel rows at the end serve
        # the gathers for words that have finished.
        matched_length = tf.where(candidate_ids >= 0, candidate_length, 0)
        num_positions = tf.shape(position_start)[0]
        best_length = tf.math.unsorted_segment_max(matched_length, candidate_position, num_positions)
        best_index = piece_lengths.row_starts() + tf.cast(tf.maximum(best_length, 1) - 1, tf.int64)
        best_id = tf.gather(candidate_ids, best_index)
        best_length = tf.concat([best_length, [0]], axis=0)
        best_id = tf.concat([best_id, [-1]], axis=0)

        # Walk each word from its start, one piece a step, all words at once.
        first_position = tf.cast(starts.row_starts(), tf.int32)  # (N,)
        num_words = tf.shape(words)[0]

        def step(position, alive, failed, taken):
            index = tf.where(alive, first_position + position, num_positions)  # finished words: the sentinel
            length = tf.gather(best_length, index)
            failed = failed | (alive & (length == 0))
            advancing = alive & (length > 0)
            taken = tf.concat([taken, tf.where(advancing, tf.gather(best_id, index), -1)[:, None]], axis=1)
            position = position + tf.where(advancing, length, 0)
            return position, advancing & (position < lengths), failed, taken

        _, _, failed, taken = tf.while_loop(
            lambda position, alive, failed, taken: tf.reduce_any(alive),
            step,
            (
                tf.zeros([num_words], tf.int32),
                lengths > 0,
                tf.zeros([num_words], tf.bool),
                tf.zeros([num_words, 0], tf.int32),
            ),
            shape_invariants=(
                tf.TensorShape([None]),
                tf.TensorShape([None]),
                tf.TensorShape([None]),
                tf.TensorShape([None, None]),
            ),
        )
        unknown = failed | too_long
        taken = tf.where(unknown[:, None], -1, taken)
        taken = tf.concat([tf.where(unknown, self.unknown_id, -1)[:, None], taken], axis=1)  # (N, 1 + steps)
        return tf.ragged.boolean_mask(taken, taken >= 0)
