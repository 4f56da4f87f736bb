import json
import subprocess
import sys

import numpy as np
import pytest

from keras_transformer import DecodingSettings, TextPipeline, TransformerConfig, build_transformer, zoo
from keras_transformer.decoding import generate
from keras_transformer.text import Tokenizer


@pytest.fixture()
def tiny_zoo(tmp_path, monkeypatch):
    """A zoo folder with one small untrained model, found through $KERAS_TRANSFORMER_ZOO."""
    source = Tokenizer.from_corpus(["abcdefghij"], split="characters")
    target = Tokenizer.from_corpus(["A B C D E"], split="whitespace")
    config = TransformerConfig.from_name(
        "tiny", source_vocab_size=source.vocabulary_size, target_vocab_size=target.vocabulary_size, max_length=12
    )
    model = build_transformer(config)
    pipeline = TextPipeline(model, source, target, DecodingSettings(max_output_length=8))
    zoo.save(tmp_path / "tiny_test", pipeline, zoo.ZooInfo(task="test task"), "# card\n")
    monkeypatch.setenv(zoo.ZOO_VARIABLE, str(tmp_path))
    return {"dir": tmp_path / "tiny_test", "model": model, "source": source, "target": target}


def test_list_and_load_predict_like_the_model(tiny_zoo):
    assert "tiny_test" in zoo.list_models()
    entry = zoo.load("tiny_test")
    texts = ["abc", "", "jihgfedcba", "zzz"]
    got = entry.predict(texts, batch_size=3)
    ids = tiny_zoo["source"].tokenize(texts).to_tensor().numpy()
    tokens = generate(tiny_zoo["model"], ids, max_output_length=8)["tokens"]
    expected = [t.decode() for t in tiny_zoo["target"].detokenize(tokens).numpy()]
    assert got == expected
    # A ZooModel: the folder's metadata beside its runtime, which knows nothing of the folder.
    assert isinstance(entry, zoo.ZooModel) and isinstance(entry.runtime, TextPipeline)
    assert entry.card == "# card\n" and entry.info.task == "test task"
    assert entry.path == tiny_zoo["dir"] and entry.name == "tiny_test" and entry.kind == zoo.SEQ2SEQ
    assert entry.settings == entry.runtime.settings == DecodingSettings(max_output_length=8)
    assert entry.model is entry.runtime.model and entry.config == entry.runtime.config
    assert entry.target_tokenizer is entry.runtime.target_tokenizer
    assert entry.predict(texts, batch_size=3, strategy="beam") == entry.runtime.predict(texts, strategy="beam")
    for field in ("info", "card", "path", "history"):
        assert not hasattr(entry.runtime, field)
    with pytest.raises(TypeError, match="info"):
        TextPipeline(tiny_zoo["model"], tiny_zoo["source"], tiny_zoo["target"], info=entry.info)
    with pytest.raises(TypeError, match="is a seq2seq model: use `predict`, not `embed`"):
        entry.embed(texts)
    with pytest.raises(AttributeError, match="TextPipeline, has no `tokenizer`"):
        entry.tokenizer


def test_one_flipped_byte_is_refused(tiny_zoo):
    weights = tiny_zoo["dir"] / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError, match="model.weights.h5 fails its checksum"):
        zoo.load("tiny_test")


def test_missing_file_and_unknown_name(tiny_zoo):
    (tiny_zoo["dir"] / "card.md").unlink()
    with pytest.raises(zoo.ZooError, match="card.md is missing"):
        zoo.load("tiny_test")
    with pytest.raises(zoo.ZooError, match="Unknown zoo model.*name='nope'"):
        zoo.load("nope")


def test_training_history_round_trips_and_is_checksummed(tiny_zoo, tmp_path):
    assert zoo.load("tiny_test").history is None  # saved without one
    history = {"loss": [2.5, 1.25, 0.75], "val_loss": [2.0, 1.5, 1.0], "masked_accuracy": [0.1, 0.5, 0.9]}
    folder = tiny_zoo["dir"]
    zoo.save(folder, zoo.load("tiny_test").runtime, zoo.ZooInfo(task="test task"), "# card\n", history=history)
    assert "history.csv" in (folder / "manifest.sha256").read_text()
    assert (folder / "history.csv").read_text().splitlines()[0] == "epoch,loss,val_loss,masked_accuracy"
    assert zoo.load("tiny_test").history == history
    # Once listed in the manifest, the history is checked like every other file.
    (folder / "history.csv").write_text("epoch,loss\n0,0.1\n")
    with pytest.raises(zoo.ZooError, match="history.csv fails its checksum"):
        zoo.load("tiny_test")
    (folder / "history.csv").unlink()
    with pytest.raises(zoo.ZooError, match="history.csv is missing"):
        zoo.load("tiny_test")
    with pytest.raises(ValueError, match="one value per epoch"):
        zoo.write_history(tmp_path / "bad.csv", {"loss": [1.0, 2.0], "val_loss": [1.0]})


def test_predict_refuses_bad_input(tiny_zoo):
    entry = zoo.load("tiny_test")
    with pytest.raises(TypeError, match="not one string"):
        entry.predict("abc")
    with pytest.raises(TypeError, match=r"Received: texts\[1\]=3 \(type int\)"):
        entry.predict(["a", 3])
    with pytest.raises(ValueError, match="batch_size=0"):
        entry.predict(["a"], batch_size=0)


def run_cli(*args, stdin=None, env_zoo=None):
    import os

    env = dict(os.environ)
    if env_zoo is not None:
        env[zoo.ZOO_VARIABLE] = str(env_zoo)
    return subprocess.run(
        [sys.executable, "-m", "keras_transformer.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_cli_list_predict_and_errors(tiny_zoo):
    root = tiny_zoo["dir"].parent
    listed = run_cli("zoo", "list", env_zoo=root)
    assert listed.returncode == 0 and "tiny_test\ttest task" in listed.stdout
    predicted = run_cli("predict", "tiny_test", "abc", "cab", env_zoo=root)
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["abc", "cab"]
    from_stdin = run_cli("predict", "tiny_test", "--quiet", stdin="abc\ncab\n", env_zoo=root)
    assert from_stdin.stdout == predicted.stdout
    unknown = run_cli("predict", "nope", "abc", env_zoo=root)
    assert unknown.returncode == 2 and "Unknown zoo model" in unknown.stderr
    empty = run_cli("predict", "tiny_test", stdin="", env_zoo=root)
    assert empty.returncode == 2 and "empty" in empty.stderr


def test_cli_plots_and_export(tiny_zoo, tmp_path):
    root = tiny_zoo["dir"].parent
    pe = run_cli("plot-pe", "--length", "16", "--d-model", "8", "--out", str(tmp_path / "pe.png"), env_zoo=root)
    assert pe.returncode == 0, pe.stderr
    assert (tmp_path / "pe.png").stat().st_size > 0
    attention = run_cli("plot-attention", "tiny_test", "abc", "--out", str(tmp_path / "a.png"), env_zoo=root)
    assert attention.returncode == 0, attention.stderr
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    bad_head = run_cli("plot-attention", "tiny_test", "abc", "--head", "9", "--out", str(tmp_path / "b.png"), env_zoo=root)
    assert bad_head.returncode == 2 and "head=9" in bad_head.stderr
    exported = run_cli("export", "tiny_test", "--format", "tflite", "--out", str(tmp_path / "tfl"), env_zoo=root)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["generator"].endswith("generator.tflite")
