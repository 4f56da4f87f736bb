"""The zoo's LiteRT runtime: `zoo.load(name, runtime="litert")` runs a folder's `generator.tflite`
without TensorFlow and keeps `TextPipeline.predict`'s contract; the CLI picks it when it can (the
runtime choice itself: tests/zoo/test_model.py)."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import pytest
import tensorflow as tf

from keras_transformer import DecodingSettings, TextPipeline, TransformerConfig, build_transformer, zoo
from keras_transformer.decoding.dispatch import decode
from keras_transformer.export import tflite
from keras_transformer.layers import graph_checks_disabled
from keras_transformer.text import Tokenizer
from keras_transformer.zoo import litert

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEXTS = ["abc", "", "jihgfedcba", "zzz", "ABC", "a" * 40, "cab", "b"]  # unknown symbols, empty, upper case, too long


def tiny_pipeline(strategy):
    keras.utils.set_random_seed(1)  # an untrained model whose outputs differ in length and symbols
    source = Tokenizer.from_corpus(["abcdefghij"], split="characters", lowercase=True)
    target = Tokenizer.from_corpus(["A B C D E"], split="whitespace")
    config = TransformerConfig.from_name(
        "tiny", source_vocab_size=source.vocabulary_size, target_vocab_size=target.vocabulary_size, max_length=12
    )
    settings = DecodingSettings(strategy=strategy, beam_size=3, max_output_length=8)
    return TextPipeline(build_transformer(config), source, target, settings)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Zoo folders of one small untrained model each, greedy and beam search, with generators."""
    root = tmp_path_factory.mktemp("zoo")
    for strategy in ("greedy", "beam"):
        zoo.save(
            root / strategy, tiny_pipeline(strategy), zoo.ZooInfo(task=f"tiny {strategy}"), "# card\n", generator=True
        )
    return root


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_predict_equals_the_tensorflow_pipeline(folders, strategy):
    keras_pipeline = zoo.load(str(folders / strategy))
    pipeline = zoo.load(str(folders / strategy), runtime="litert")
    assert isinstance(pipeline.runtime, litert.LiteRTPipeline)
    assert pipeline.runtime.settings == keras_pipeline.settings.to_dict() and pipeline.settings == keras_pipeline.settings
    assert pipeline.card == "# card\n" and pipeline.name == strategy and pipeline.info.task == f"tiny {strategy}"
    calls = []
    got = pipeline.predict(TEXTS, batch_size=3, progress=lambda done, total: calls.append((done, total)))
    assert got == keras_pipeline.predict(TEXTS, batch_size=3)
    assert calls == [(4, 8), (7, 8), (8, 8)]  # the empty text is done from the start
    assert pipeline.predict([]) == []
    # Each text alone gives what it gives in a batch (per-batch padding changes nothing).
    assert [pipeline.predict([text])[0] for text in TEXTS] == got
    assert (pipeline.encode_texts(TEXTS) == keras_pipeline.encode_texts(TEXTS)).all()
    assert got == pipeline.runtime.predict(TEXTS)


def test_settings_other_than_the_generators_are_refused(folders):
    pipeline = zoo.load(str(folders / "beam"), runtime="litert")
    assert pipeline.runtime.unsupported_settings(strategy="beam", beam_size=3, max_output_length=None) is None
    assert pipeline.predict(["abc"], strategy="beam") == zoo.load(str(folders / "beam")).predict(["abc"])
    reason = pipeline.runtime.unsupported_settings(strategy="greedy", beam_size=None)
    assert "strategy='beam', not strategy='greedy'" in reason
    with pytest.raises(ValueError, match="beam_size=3, not beam_size=5"):
        pipeline.predict(["abc"], beam_size=5)
    with pytest.raises(TypeError, match="Unknown decoding settings") as refused:
        pipeline.predict(["abc"], beams=5)
    # The Keras runtime refuses an unknown setting with the same error (one type for both runtimes).
    with pytest.raises(type(refused.value), match="Unknown decoding settings"):
        zoo.load(str(folders / "beam")).predict(["abc"], beams=5)
    with pytest.raises(TypeError, match="not one string"):
        pipeline.predict("abc")
    with pytest.raises(ValueError, match="batch_size=0"):
        pipeline.predict(["abc"], batch_size=0)


def test_a_folder_without_generator_or_with_a_changed_one(folders, tmp_path):
    pipeline = tiny_pipeline("greedy")
    zoo.save(tmp_path / "plain", pipeline, zoo.ZooInfo(task="tiny"), "# card\n")
    assert not litert.has_generator(str(tmp_path / "plain"))
    with pytest.raises(zoo.ZooError, match="has no generator.tflite"):
        zoo.load(str(tmp_path / "plain"), runtime="litert")
    with pytest.raises(ValueError, match="runtime"):
        zoo.load(str(tmp_path / "plain"), runtime="onnx")

    zoo.save(tmp_path / "tiny", pipeline, zoo.ZooInfo(task="tiny"), "# card\n", generator=True)
    assert litert.has_generator(str(tmp_path / "tiny"))
    generator = tmp_path / "tiny" / "generator.tflite"
    data = bytearray(generator.read_bytes())
    data[len(data) // 2] ^= 0x01
    generator.write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError, match="generator.tflite fails its checksum"):
        zoo.load(str(tmp_path / "tiny"), runtime="litert")
    # Saving again without a generator removes the stale one; new settings in zoo.json do too.
    zoo.save(tmp_path / "tiny", pipeline, zoo.ZooInfo(task="tiny"), "# card\n")
    assert not generator.exists() and not litert.has_generator(str(tmp_path / "tiny"))
    zoo.save(tmp_path / "tiny", pipeline, zoo.ZooInfo(task="tiny"), "# card\n", generator=True)
    zoo.write_settings(tmp_path / "tiny", zoo.ZooInfo(task="tiny"), pipeline.settings)  # the same: kept
    assert generator.exists()
    zoo.write_settings(tmp_path / "tiny", zoo.ZooInfo(task="tiny"), pipeline.settings.replace(strategy="beam"))
    assert not generator.exists()
    with pytest.raises(ValueError, match="the folder's decoding settings"):
        zoo.write_generator(tmp_path / "tiny", pipeline)


def test_a_generator_without_scores_decodes_and_says_how_to_write_it_again(tmp_path):
    """A generator.tflite written before generators gave scores (outputs "tokens" and "lengths" only)
    still decodes; asked for scores, it is refused with the way to write it again."""
    pipeline = tiny_pipeline("greedy")
    folder = zoo.save(tmp_path / "old", pipeline, zoo.ZooInfo(task="tiny"), "# card\n")
    target = pipeline.target_tokenizer

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="encoder_tokens")])
    def old_generator(encoder_tokens):
        with graph_checks_disabled():
            tokens = decode(pipeline.decoder, encoder_tokens, pipeline.settings, target.start_id, target.end_id)["tokens"]
        return {"tokens": tokens, "lengths": tf.reduce_sum(tf.cast(tokens > target.end_id, tf.int32), axis=1)}

    tflite.write(folder / litert.GENERATOR, tflite.convert(old_generator))
    zoo.write_manifest(folder)
    model = zoo.load(str(folder), runtime="litert")
    assert model.predict(TEXTS) == pipeline.predict(TEXTS)
    with pytest.raises(zoo.ZooError, match=r"before generators gave scores .*zoo\.write_generator\(folder"):
        model.predict(TEXTS, return_scores=True)
    zoo.write_generator(folder, zoo.load(str(folder)).runtime)
    zoo.write_manifest(folder)
    scored = zoo.load(str(folder), runtime="litert").predict(TEXTS, return_scores=True)
    assert [prediction.text for prediction in scored] == pipeline.predict(TEXTS)


def run_without_tensorflow(code, zoo_dir=None):
    """Run `code` in a fresh interpreter; it must not import TensorFlow."""
    env = dict(os.environ)
    if zoo_dir is not None:
        env[zoo.ZOO_VARIABLE] = str(zoo_dir)
    code += "\nassert 'tensorflow' not in sys.modules, sorted(m for m in sys.modules if 'tensorflow' in m)[:5]\n"
    result = subprocess.run(
        [sys.executable, "-c", "import sys\n" + code],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("name", [name for name in zoo.list_models(kind=zoo.SEQ2SEQ) if litert.has_generator(name)])
def test_zoo_models_run_without_tensorflow(name):
    out = run_without_tensorflow(
        "from keras_transformer import zoo\n"
        f"print(zoo.load({name!r}, runtime='litert').predict(['transformer', 'twenty one', '5 June 2024', '']))\n"
    )
    assert eval(out) == zoo.load(name).predict(["transformer", "twenty one", "5 June 2024", ""])


def test_cli_predict_uses_the_generator_and_falls_back(folders, capfd, monkeypatch):
    cli = "from keras_transformer.cli import main\nsys.exit(main({}))"
    # The beam folder: its generator, no TensorFlow; the same lines as the TensorFlow runtime.
    lines = run_without_tensorflow(cli.format(["predict", "beam", "abc", "cab", ""]), zoo_dir=folders)
    expected = zoo.load(str(folders / "beam")).predict(["abc", "cab", ""])
    assert lines.splitlines() == [f"{t}\t{o}" for t, o in zip(["abc", "cab", ""], expected)]
    # Another strategy: TensorFlow, with a line only under --verbose; an error with --runtime litert.
    from keras_transformer import cli as cli_module

    monkeypatch.setenv(zoo.ZOO_VARIABLE, str(folders))
    capfd.readouterr()
    assert cli_module.main(["predict", "--strategy", "greedy", "beam", "abc"]) == 0
    captured = capfd.readouterr()
    assert captured.out == f"abc\t{zoo.load(str(folders / 'beam')).predict(['abc'], strategy='greedy')[0]}\n"
    assert "generator" not in captured.err
    assert cli_module.main(["--verbose", "predict", "--strategy", "greedy", "beam", "abc"]) == 0
    assert (
        "decodes with strategy='beam', not strategy='greedy': running the TensorFlow pipeline" in capfd.readouterr().err
    )
    assert cli_module.main(["predict", "--runtime", "litert", "--strategy", "greedy", "beam", "abc"]) == 2
    assert "not strategy='greedy'" in capfd.readouterr().err


def test_settings_dict_matches_zoo_json(folders):
    values = json.loads((folders / "greedy" / "zoo.json").read_text())
    assert zoo.load(str(folders / "greedy"), runtime="litert").runtime.settings == values["decoding"]
