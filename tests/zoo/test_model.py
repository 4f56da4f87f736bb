"""`zoo.load` gives a `ZooModel`, and picks its runtime: `runtime="auto"` runs the folder's TFLite
generator when it has one and can decode as asked, TensorFlow otherwise (and says why when asked);
`runtime="litert"` says clearly when it cannot run."""

import os
import pathlib
import subprocess
import sys
import types

import keras
import pytest

from keras_transformer import DecodingSettings, TextPipeline, TransformerConfig, build_transformer, zoo
from keras_transformer.export import export
from keras_transformer.text import Tokenizer
from keras_transformer.zoo import litert

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEXTS = ["abc", "", "jihgfedcba", "cab"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """One small untrained greedy model saved twice: with its generator ("lite") and without ("plain")."""
    keras.utils.set_random_seed(2)
    source = Tokenizer.from_corpus(["abcdefghij"], split="characters")
    target = Tokenizer.from_corpus(["A B C D E"], split="whitespace")
    config = TransformerConfig.from_name(
        "tiny", source_vocab_size=source.vocabulary_size, target_vocab_size=target.vocabulary_size, max_length=12
    )
    settings = DecodingSettings(beam_size=3, max_output_length=8)
    pipeline = TextPipeline(build_transformer(config), source, target, settings)
    root = tmp_path_factory.mktemp("zoo")
    history = {"loss": [2.0, 1.0], "val_loss": [2.5, 1.5]}
    zoo.save(root / "lite", pipeline, zoo.ZooInfo(task="tiny lite"), "# lite\n", history=history, generator=True)
    zoo.save(root / "plain", pipeline, zoo.ZooInfo(task="tiny plain"), "# plain\n")
    return root


def load(folders, name, **options):
    lines = []
    model = zoo.load(str(folders / name), report=lines.append, **options)
    return model, lines


def test_the_default_runtime_is_tensorflow_and_says_nothing(folders):
    model, lines = load(folders, "lite")
    assert isinstance(model, zoo.ZooModel) and isinstance(model.runtime, TextPipeline) and lines == []
    assert (model.info.task, model.card, model.path) == ("tiny lite", "# lite\n", folders / "lite")
    assert model.history == {"loss": [2.0, 1.0], "val_loss": [2.5, 1.5]}
    assert model.predict(TEXTS) == model.runtime.predict(TEXTS)
    assert repr(model).startswith("ZooModel(name='lite', runtime=TextPipeline(")


def test_auto_runs_the_generator_when_it_can(folders):
    expected = zoo.load(str(folders / "lite")).predict(TEXTS)
    model, lines = load(folders, "lite", runtime="auto")
    assert isinstance(model.runtime, litert.LiteRTPipeline)
    assert lines == [f"running {folders / 'lite'}'s generator.tflite with ai-edge-litert"]
    assert model.predict(TEXTS) == model.runtime.predict(TEXTS) == expected
    assert (model.info.task, model.card, model.history["loss"]) == ("tiny lite", "# lite\n", [2.0, 1.0])
    assert model.settings == zoo.load(str(folders / "lite")).settings
    # Overrides equal to the folder's own settings keep the generator.
    same, _ = load(folders, "lite", runtime="auto", decoding={"strategy": "greedy", "beam_size": None})
    assert isinstance(same.runtime, litert.LiteRTPipeline)
    with pytest.raises(AttributeError, match="LiteRTPipeline, has no `model`"):
        model.model
    with pytest.raises(TypeError, match="TensorFlow runtime of lite"):
        export(model, "tflite", str(folders / "never"))


def test_auto_falls_back_to_tensorflow_for_settings_the_generator_cannot_decode(folders):
    model, lines = load(folders, "lite", runtime="auto", decoding={"strategy": "beam"})
    assert isinstance(model.runtime, TextPipeline)
    assert lines == [
        "lite's generator.tflite decodes with strategy='greedy', not strategy='beam': running the TensorFlow pipeline"
    ]
    # The overrides are the model's settings now, so a plain predict decodes with them.
    assert model.settings.strategy == "beam" and model.settings.beam_size == 3
    assert model.predict(TEXTS) == zoo.load(str(folders / "lite")).predict(TEXTS, strategy="beam")


def test_auto_runs_tensorflow_without_a_generator_or_without_ai_edge_litert(folders, monkeypatch):
    model, lines = load(folders, "plain", runtime="auto")
    assert isinstance(model.runtime, TextPipeline) and model.history is None
    assert lines == [f"{folders / 'plain'} has no generator.tflite: running the TensorFlow pipeline"]

    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # the import fails
    model, lines = load(folders, "lite", runtime="auto")
    assert isinstance(model.runtime, TextPipeline)
    assert len(lines) == 1 and lines[0].startswith("runtime='litert' needs ai-edge-litert")
    assert lines[0].endswith(": running the TensorFlow pipeline")
    with pytest.raises(zoo.RuntimeUnavailable, match="needs ai-edge-litert") as caught:
        zoo.load(str(folders / "lite"), runtime="litert")
    assert caught.value.reason.startswith("runtime='litert' needs ai-edge-litert")


def test_litert_says_clearly_when_it_cannot_run(folders):
    with pytest.raises(zoo.ZooError, match="plain has no generator.tflite"):
        zoo.load(str(folders / "plain"), runtime="litert")
    with pytest.raises(zoo.RuntimeUnavailable) as caught:
        zoo.load(str(folders / "lite"), runtime="litert", decoding={"beam_size": 5, "strategy": "beam"})
    assert isinstance(caught.value, zoo.ZooError)
    reason = "lite's generator.tflite decodes with beam_size=3, strategy='greedy', not beam_size=5, strategy='beam'"
    assert caught.value.reason == reason
    lite = str(folders / "lite")
    assert str(caught.value) == f"{reason}; zoo.load({lite!r}, runtime='tensorflow') decodes with any settings"
    # A generator decodes with its folder's settings only, whoever asks.
    model = zoo.load(str(folders / "lite"), runtime="litert")
    with pytest.raises(ValueError, match="strategy='greedy', not strategy='beam'"):
        model.predict(TEXTS, strategy="beam")
    with pytest.raises(ValueError, match="runtime"):
        zoo.load(str(folders / "lite"), runtime="onnx")
    with pytest.raises(TypeError, match="`decoding` must be a dict"):
        zoo.load(str(folders / "lite"), decoding="beam")
    with pytest.raises(ValueError, match="beams"):
        zoo.load(str(folders / "lite"), decoding={"beams": 2})


def test_a_sentence_encoders_methods_are_not_a_seq2seq_models():
    model = zoo.ZooModel(object(), types.SimpleNamespace(kind=zoo.SENTENCE_ENCODER), "# card\n", "somewhere/encoder")
    with pytest.raises(TypeError, match="encoder is a sentence_encoder model: use `embed`, not `predict`"):
        model.predict(["a"])
    with pytest.raises(AttributeError, match="no decoding settings"):
        model.settings


def test_auto_imports_no_tensorflow_when_the_generator_serves(folders):
    code = (
        "import sys\n"
        "from keras_transformer import zoo\n"
        f"model = zoo.load({str(folders / 'lite')!r}, runtime='auto')\n"
        "print(model.predict(['abc', '']), model.info.task, model.history['loss'])\n"
        "assert 'tensorflow' not in sys.modules, sorted(m for m in sys.modules if 'tensorflow' in m)[:5]\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300
    )
    assert result.returncode == 0, result.stderr
    expected = zoo.load(str(folders / "lite")).predict(["abc", ""])
    assert result.stdout == f"{expected} tiny lite [2.0, 1.0]\n"
