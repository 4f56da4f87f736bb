"""Bad input, answered clearly: each case gets an error naming what was wrong, or a documented result.
Never a crash, a hang or a NaN."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transformer import DecodingSettings, TransformerConfig, build_transformer, layers, zoo
from keras_transformer.decoding import generate
from keras_transformer.text import Tokenizer
from tests.conftest import save_tiny_zoo_model

TINY = dict(d_model=16, num_heads=2, d_ff=32, max_length=10)


def tiny_model(**overrides):
    return build_transformer(TransformerConfig.from_name("tiny", **{**TINY, **overrides}))


def ids(*rows):
    return np.array(rows, "int32")


# --- configs ---------------------------------------------------------------------------------------

CONFIG_CASES = [
    ({"d_model": 250, "num_heads": 8}, ValueError, r"d_model=250, num_heads=8"),
    ({"d_ff": -1}, ValueError, r"d_ff=-1"),
    ({"num_decoder_layers": 0}, ValueError, r"num_decoder_layers=0"),
    ({"dropout": 1.0}, ValueError, r"dropout=1.0"),
    ({"dropout": float("nan")}, ValueError, r"dropout=nan"),
    ({"activation": "swish"}, ValueError, r"activation='swish'"),
    ({"max_length": True}, ValueError, r"max_length=True"),
    ({"source_vocab_size": 7, "share_embeddings": True}, ValueError, r"source_vocab_size=7"),
]


@pytest.mark.parametrize("overrides, error, message", CONFIG_CASES)
def test_config(overrides, error, message):
    with pytest.raises(error, match=message):
        TransformerConfig.from_name("tiny", **overrides)


# --- layer calls -----------------------------------------------------------------------------------


def test_attention_query_of_wrong_rank():
    with pytest.raises(ValueError, match=r"query.shape=\(2, 8\)"):
        layers.MultiHeadAttention(2, 8)(np.zeros((2, 8), "float32"), np.zeros((2, 3, 8), "float32"))


def test_attention_mismatched_batch():
    with pytest.raises(ValueError, match="same batch size"):
        layers.MultiHeadAttention(2, 8)(np.zeros((2, 3, 8), "float32"), np.zeros((4, 3, 8), "float32"))


def test_attention_key_value_length_mismatch():
    x = np.zeros((2, 3, 8), "float32")
    with pytest.raises(ValueError, match="same length S"):
        layers.MultiHeadAttention(2, 8)(x, x, key=np.zeros((2, 5, 8), "float32"))


def test_attention_mask_of_wrong_shape():
    x = np.zeros((2, 3, 8), "float32")
    with pytest.raises(ValueError, match=r"attention_mask.shape=\(2, 3, 7\)"):
        layers.MultiHeadAttention(2, 8)(x, x, attention_mask=np.ones((2, 3, 7), bool))


def test_scaled_dot_product_attention_mask_of_wrong_shape():
    q = np.zeros((1, 3, 4), "float32")
    with pytest.raises(ValueError, match=r"mask.shape=\(1, 2, 3\)"):
        layers.scaled_dot_product_attention(q, q, q, np.ones((1, 2, 3), bool))


def test_embedding_float_ids():
    with pytest.raises(TypeError, match="dtype=float32"):
        layers.TokenEmbedding(10, 4)(np.ones((1, 2), "float32"))


def test_encoder_block_width_mismatch():
    with pytest.raises(ValueError, match=r"d_model=16"):
        layers.TransformerEncoderBlock(16, 2, 32)(np.zeros((1, 3, 8), "float32"))


def test_fully_masked_rows_give_zeros_not_nan():
    x = np.random.rand(1, 3, 8).astype("float32")
    out = layers.MultiHeadAttention(2, 8)(x, x, attention_mask=np.zeros((1, 3, 3), bool))
    assert np.all(np.isfinite(np.asarray(out)))


# --- token ids -------------------------------------------------------------------------------------


def test_model_id_equal_to_vocabulary_size():
    with pytest.raises(ValueError, match=r"vocabulary_size=100.*\[100\]"):
        tiny_model()({"encoder_tokens": ids([5, 100]), "decoder_tokens": ids([1, 5])})


def test_model_negative_id():
    with pytest.raises(ValueError, match=r"\[-3\]"):
        tiny_model()({"encoder_tokens": ids([5, 6]), "decoder_tokens": ids([1, -3])})


def test_model_id_out_of_range_in_a_graph():
    with pytest.raises(tf.errors.InvalidArgumentError, match="vocabulary_size=100"):
        tiny_model().predict({"encoder_tokens": ids([5, 6]), "decoder_tokens": ids([1, 500])}, verbose=0)


def test_ids_under_xla_follow_the_documented_policy():
    """Policy (README, TokenEmbedding): ids are validated eagerly and in graphs; XLA drops asserts,
    and its gather clamps an out-of-range id to the last row. So under jit_compile an id >= V acts
    as V - 1: validate ids in the data pipeline (the tokenizers only emit valid ids)."""
    model = tiny_model()
    compiled = tf.function(lambda x: model(x), jit_compile=True)
    clamped = compiled({"encoder_tokens": ids([5, 6]), "decoder_tokens": ids([1, 700])})
    last = compiled({"encoder_tokens": ids([5, 6]), "decoder_tokens": ids([1, 99])})
    np.testing.assert_allclose(np.asarray(clamped), np.asarray(last), rtol=1e-5, atol=1e-5)


def test_sequence_longer_than_max_length():
    with pytest.raises(ValueError, match=r"max_length=10.*length=11"):
        tiny_model()({"encoder_tokens": np.ones((1, 11), "int32"), "decoder_tokens": ids([1])})


def test_sequence_at_exactly_max_length_works():
    logits = tiny_model()({"encoder_tokens": np.ones((1, 10), "int32"), "decoder_tokens": np.ones((1, 10), "int32")})
    assert np.all(np.isfinite(np.asarray(logits)))


def test_model_float_ids():
    with pytest.raises(TypeError, match="encoder_tokens.dtype=float64"):
        tiny_model()({"encoder_tokens": np.full((1, 2), 1.5), "decoder_tokens": ids([1])})


def test_all_padding_source_gives_finite_logits():
    logits = tiny_model()({"encoder_tokens": np.zeros((2, 4), "int32"), "decoder_tokens": ids([1, 5], [1, 6])})
    assert np.all(np.isfinite(np.asarray(logits)))


# --- generation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_output_length": 0}, "max_output_length=0"),
        ({"max_output_length": -4}, "max_output_length=-4"),
        ({"strategy": "beam", "beam_size": 0}, "beam_size=0"),
        ({"strategy": "sample", "top_p": 0}, "top_p=0"),
        ({"strategy": "sample", "top_p": 1.01}, "top_p=1.01"),
        ({"strategy": "sample", "top_k": -1}, "top_k=-1"),
    ],
)
def test_generate_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate(tiny_model(), ids([5, 6]), **{"max_output_length": 4, **kwargs})


def test_generate_batch_of_zero_is_empty():
    out = generate(tiny_model(), np.zeros((0, 3), "int32"), max_output_length=4)
    assert out["tokens"].shape == (0, 4)


# --- text through a zoo model --------------------------------------------------------------------


@pytest.fixture(scope="module")
def entry(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zoo")
    save_tiny_zoo_model(folder / "bad_input", ["abcdefghij klmnop"], ["A B C"], settings=DecodingSettings(max_output_length=6))
    os.environ[zoo.ZOO_VARIABLE] = str(folder)
    try:
        yield zoo.load("bad_input")
    finally:
        os.environ.pop(zoo.ZOO_VARIABLE, None)


TEXTS = {
    "empty": "",
    "whitespace only": "   \t ",
    "10,000 characters": "a" * 10_000,
    "emoji": "👩‍👩‍👧 🎉",
    "combining marks": "e\u0301a\u0300",
    "right-to-left": "שלום עולם",
    "unknown characters": "日本語",
    "invalid UTF-8 decoded with replacement": b"\xff\xfeab\xc3".decode("utf-8", "replace"),
}


@pytest.mark.parametrize("label", list(TEXTS))
def test_zoo_predict_odd_text_gives_a_string(entry, label):
    """Documented result: any text gives an output string (unknown symbols -> the unknown id, long
    texts truncated to max_length symbols); nothing raises."""
    (output,) = entry.predict([TEXTS[label]])
    assert isinstance(output, str)


def test_tokenizer_invalid_utf8_bytes_do_not_crash(entry):
    row = entry.source_tokenizer.tokenize(tf.constant([b"\xff\xfeab"]))
    assert row.shape[0] == 1


# --- CLI -------------------------------------------------------------------------------------------


def cli(*args, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "keras_transformer.cli", *args], input=stdin, capture_output=True, text=True, timeout=300
    )


def test_cli_unknown_model(entry):
    result = cli("predict", "no_such_model", "x")
    assert result.returncode == 2 and "Unknown zoo model" in result.stderr and "Traceback" not in result.stderr


def test_cli_empty_stdin(entry):
    result = cli("predict", "no_such_model", stdin="")
    assert result.returncode == 2 and "empty" in result.stderr and "Traceback" not in result.stderr


def test_cli_unknown_recipe():
    result = cli("train", "no_such_recipe")
    assert result.returncode == 2 and "no training task 'no_such_recipe'" in result.stderr


def test_cli_missing_file(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / zoo.MANIFEST).write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "keras_transformer.cli", "predict", "broken", "x"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, zoo.ZOO_VARIABLE: str(tmp_path)},
    )
    assert result.returncode == 2 and "does not list config.json" in result.stderr


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ("cat", r"not one string. Wrap it: predict\(\[text\]\)"),
        (None, r"`texts` must be a list of strings. Received: texts=None \(type NoneType\)"),
        (7, r"Received: texts=7 \(type int\)"),
        (["a", None], r"Received: texts\[1\]=None \(type NoneType\)"),
        (b"cat", r"not bytes. Received: texts=b'cat'; decode it first"),
        ([["a"]], r"texts\[0\]=\['a'\] \(type list\): a nested list\?"),
        ({"a", "b"}, r"Received: a set"),
    ],
)
def test_predict_refuses_what_is_not_a_list_of_texts(entry, texts, message):
    with pytest.raises(TypeError, match=message):
        entry.predict(texts)


def test_messages_name_the_method_called():
    from keras_transformer import _validation

    with pytest.raises(TypeError, match=r"Wrap it: embed\(\[text\]\)"):
        _validation.texts("texts", "hello", "embed")
    with pytest.raises(TypeError, match=r"e.g. search\(\[\"text\"\]\)"):
        _validation.texts("queries", None, "search")
