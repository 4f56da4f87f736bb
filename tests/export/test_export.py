import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transformer import TransformerConfig, build_transformer
from keras_transformer.decoding import generate
from keras_transformer.export import export
from keras_transformer.text import Tokenizer

TEXTS = ["hello", "attention is all", "", "transformer", "x" * 40, "ab"]
MAX_OUTPUT = 10


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    keras.utils.set_random_seed(5)
    source = Tokenizer.from_corpus(["hello world attention is all you need transformer"], split="characters")
    target = Tokenizer.from_corpus(["HH AH0 L OW1 W ER1 D T R AE2 N S F AO1 M"], split="whitespace")
    config = TransformerConfig.from_name(
        "tiny",
        source_vocab_size=source.vocabulary_size,
        target_vocab_size=target.vocabulary_size,
        d_model=32,
        num_heads=4,
        num_encoder_layers=2,
        num_decoder_layers=2,
        max_length=16,
    )
    model = build_transformer(config)
    directory = tmp_path_factory.mktemp("export")
    written = {}
    for format in ("saved_model", "tflite", "tflite_int8"):
        written[format] = export(model, format, str(directory / format), source_tokenizer=source, target_tokenizer=target, max_output_length=MAX_OUTPUT)
    return {"model": model, "source": source, "target": target, "written": written, "directory": directory}


def keras_greedy_texts(exported, texts):
    source, target = exported["source"], exported["target"]
    ids = source.tokenize(tf.constant(texts), max_length=16).to_tensor()
    ids = tf.pad(ids, [[0, 0], [0, max(0, 1 - ids.shape[1])]])
    tokens = generate(exported["model"], ids, max_output_length=MAX_OUTPUT)["tokens"]
    return [t.decode() for t in target.detokenize(tokens).numpy()], np.asarray(tokens), np.asarray(ids)


def run_without_this_package(script, directory):
    """Run `script` in a fresh interpreter that imports tensorflow only, and return its JSON output."""
    guard = (
        "import sys, json\n"
        "import tensorflow as tf\n"
        f"DIR = {str(directory)!r}\n"
        + script
        + "\nassert not any(m.startswith(('keras_transformer', 'tensorflow_text')) for m in sys.modules), 'imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", guard], capture_output=True, text=True, timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_saved_model_strings_in_strings_out_matches_keras_greedy(exported):
    expected, _, _ = keras_greedy_texts(exported, TEXTS)
    got = run_without_this_package(
        "m = tf.saved_model.load(DIR + '/saved_model')\n"
        f"out = m.signatures['serving_default'](texts=tf.constant({TEXTS!r}))['outputs']\n"
        "print(json.dumps([t.decode() for t in out.numpy()]))",
        exported["directory"],
    )
    assert got == expected
    assert len(got) == len(TEXTS)


def test_saved_model_id_signatures_and_edge_cases(exported):
    _, tokens, ids = keras_greedy_texts(exported, TEXTS)
    np.save(exported["directory"] / "ids.npy", ids)
    got = run_without_this_package(
        "import numpy as np\n"
        "m = tf.saved_model.load(DIR + '/saved_model')\n"
        "ids = tf.constant(np.load(DIR + '/ids.npy'))\n"
        "gen = m.signatures['generate_ids'](encoder_tokens=ids)\n"
        "logits = m.signatures['logits'](encoder_tokens=ids, decoder_tokens=ids[:, :3])['logits']\n"
        "empty = m.signatures['serving_default'](texts=tf.constant([], tf.string))['outputs']\n"
        "errors = []\n"
        "for call in (lambda: m.signatures['generate_ids'](encoder_tokens=tf.constant([[1.0]])),\n"
        "             lambda: m.signatures['generate_ids'](encoder_tokens=tf.constant([1, 2])),\n"
        "             lambda: m.signatures['generate_ids'](encoder_tokens=tf.constant([[999]])),\n"
        "             lambda: m.signatures['generate_ids'](encoder_tokens=tf.ones((1, 17), tf.int32))):\n"
        "    try:\n"
        "        call(); errors.append(None)\n"
        "    except Exception as e:\n"
        "        errors.append(type(e).__name__ + ': ' + str(e)[:300])\n"
        "print(json.dumps({'tokens': gen['tokens'].numpy().tolist(), 'logits_shape': list(logits.shape), 'keys': sorted(gen),\n"
        "                  'empty': list(empty.shape), 'errors': errors}))",
        exported["directory"],
    )
    assert got["tokens"] == tokens.tolist()
    assert got["keys"] == ["scores", "token_scores", "tokens"]
    assert got["logits_shape"] == [len(TEXTS), 3, exported["target"].vocabulary_size]
    assert got["empty"] == [0]
    dtype_error, rank_error, range_error, length_error = got["errors"]
    assert dtype_error and "int32" in dtype_error
    assert rank_error and ("shape" in rank_error or "rank" in rank_error.lower())
    assert range_error and "vocabulary size" in range_error
    assert length_error and "max_length=16" in length_error


def tflite_run(path, **inputs):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    return interpreter.get_signature_runner()(**inputs)


def test_tflite_forward_matches_keras_logits(exported):
    _, _, ids = keras_greedy_texts(exported, TEXTS)
    decoder_tokens = np.array([[1, 5, 6, 7]] * len(TEXTS), "int32")
    expected = np.asarray(exported["model"]({"encoder_tokens": ids, "decoder_tokens": decoder_tokens}))
    out = tflite_run(exported["written"]["tflite"]["forward"], encoder_tokens=ids, decoder_tokens=decoder_tokens)
    np.testing.assert_allclose(out["logits"], expected, rtol=1e-4, atol=1e-4)


def test_tflite_generator_matches_keras_greedy_for_every_length(exported):
    _, tokens, ids = keras_greedy_texts(exported, TEXTS)
    out = tflite_run(exported["written"]["tflite"]["generator"], encoder_tokens=ids)
    np.testing.assert_array_equal(out["tokens"], tokens)
    expected = generate(exported["model"], ids, max_output_length=MAX_OUTPUT)
    np.testing.assert_allclose(out["scores"], expected["scores"], atol=1e-5)
    np.testing.assert_allclose(out["token_scores"], expected["token_scores"], atol=1e-5)
    assert not out["scores"][TEXTS.index("")] and not out["token_scores"][TEXTS.index("")].any()
    # Dynamic source length: one row at a time, each trimmed to its own length.
    for row, expected in zip(ids, tokens):
        length = max(1, int((row != 0).sum()))
        single = tflite_run(exported["written"]["tflite"]["generator"], encoder_tokens=row[None, :length])
        np.testing.assert_array_equal(single["tokens"][0], expected)
    end = exported["target"].end_id
    for row, length in zip(out["tokens"], out["lengths"]):
        stop = np.flatnonzero((row == end) | (row == 0))
        assert length == (stop[0] if len(stop) else MAX_OUTPUT)


def test_int8_files_are_smaller_and_run(exported):
    _, tokens, ids = keras_greedy_texts(exported, TEXTS)
    for kind in ("forward", "generator"):
        assert os.path.getsize(exported["written"]["tflite_int8"][kind]) < os.path.getsize(exported["written"]["tflite"][kind])
    out = tflite_run(exported["written"]["tflite_int8"]["generator"], encoder_tokens=ids)
    assert out["tokens"].shape == tokens.shape


def test_export_refuses_bad_arguments(exported, tmp_path):
    with pytest.raises(ValueError, match="format='onnx'"):
        export(exported["model"], "onnx", str(tmp_path))
    with pytest.raises(ValueError, match="needs `source_tokenizer`"):
        export(exported["model"], "saved_model", str(tmp_path / "sm"))
    with pytest.raises(ValueError, match="max_output_length=99"):
        export(exported["model"], "saved_model", str(tmp_path / "sm"), exported["source"], exported["target"], 99)
