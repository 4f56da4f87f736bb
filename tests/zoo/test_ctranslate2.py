"""The zoo's CTranslate2 runtime: `zoo.load(name, runtime="ctranslate2")` converts a folder's weights
without TensorFlow, once, into the cache, and decodes greedily what `zoo.load(name).predict` gives."""

import doctest
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

pytest.importorskip(
    "ctranslate2", reason='the CTranslate2 runtime needs ctranslate2 (pip install "ctranslate2>=4.5,<5", a core dependency)'
)

from keras_transformer import DecodingSettings, TextPipeline, TransformerConfig, build_transformer, zoo  # noqa: E402
from keras_transformer.layers import sinusoidal_table  # noqa: E402
from keras_transformer.text import Tokenizer  # noqa: E402
from keras_transformer.zoo import ctranslate2 as runtime  # noqa: E402
from keras_transformer.zoo import ctranslate2_convert as convert  # noqa: E402
from keras_transformer.zoo.prepared import CACHE_VARIABLE  # noqa: E402
from tests.zoo_inputs import test_split_pairs  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
COUNT = 1000
# Empty and blank (answered "" unrun), unknown symbols, upper case, too long.
EDGE_TEXTS = ["", "  ", "éclair", "ABC-DEF", "o'neil", "a" * 80, "x"]
TINY_TEXTS = ["abc", "", "jihgfedcba", "zzz", "ABC", "a" * 40, "cab", "b"]


pytestmark = pytest.mark.usefixtures("own_cache")


@pytest.fixture(scope="module")
def g2p():
    return zoo.load("g2p_en")


def test_g2p_en_gives_the_tensorflow_pipelines_outputs(g2p):
    texts = [word for word, _ in test_split_pairs(g2p.info, COUNT)] + EDGE_TEXTS
    assert len(texts) == COUNT + len(EDGE_TEXTS)
    with pytest.warns(UserWarning, match="truncated"):
        expected = g2p.predict(texts)
    lines = []
    model = zoo.load("g2p_en", runtime="ctranslate2", report=lines.append)
    assert isinstance(model.runtime, runtime.CTranslate2Pipeline) and model.settings == g2p.settings
    assert lines[0].startswith("converting g2p_en for CTranslate2 into ") and lines[0].endswith("(none there yet)")
    assert lines[-1].startswith("running g2p_en with CTranslate2")
    calls = []
    got = model.predict(texts, batch_size=300, progress=lambda done, total: calls.append((done, total)))
    different = [(text, g, e) for text, g, e in zip(texts, got, expected) if g != e]
    assert not different, f"{len(different)} of {len(texts)} differ, e.g. {different[:3]}"
    assert calls[-1] == (len(texts), len(texts)) and len(calls) == 4
    assert (model.encode_texts(EDGE_TEXTS) == g2p.encode_texts(EDGE_TEXTS)).all()
    # A shorter output limit counts the end id as ours does.
    assert model.predict(EDGE_TEXTS[:5], max_output_length=3) == g2p.predict(EDGE_TEXTS[:5], max_output_length=3)
    assert model.predict([]) == []


def assert_same_log_probabilities(keras_model, pipeline, texts, targets):
    """CTranslate2's `score_batch` of `targets` (ids, without start and end) for `texts`: each id's log
    probability (the end id's included) as the Keras model gives it, to 1e-4."""
    source = pipeline.source_tokenizer.tokenize(texts, max_length=pipeline.max_length)
    start, end = pipeline.target_tokenizer.start_id, pipeline.target_tokenizer.end_id
    scores = pipeline.translator.score_batch(
        [list(map(str, row)) for row in source], [list(map(str, row)) for row in targets]
    )
    for row, ids, score in zip(source, targets, scores):
        logits = keras_model({"encoder_tokens": np.array([row]), "decoder_tokens": np.array([[start, *ids]])})[0]
        log_probs = np.asarray(keras.ops.log_softmax(logits, axis=-1))  # (T, V)
        assert score.tokens == [str(i) for i in [*ids, end]]
        np.testing.assert_allclose(score.log_probs, log_probs[np.arange(len(ids) + 1), [*ids, end]], atol=1e-4)


def test_log_probabilities_are_the_keras_models(g2p):
    words = ["transformer", "colonel", "a", "xylophone", "queue"]
    pipeline = zoo.load("g2p_en", runtime="ctranslate2").runtime
    targets = pipeline.target_tokenizer.tokenize(g2p.predict(words))
    assert_same_log_probabilities(g2p.model, pipeline, words, targets)


def tiny_folder(path, seed, target_symbols, **fields):
    """An untrained tiny model with `fields` of its `TransformerConfig` changed, saved as a zoo folder;
    10 source symbols, `target_symbols` target ones."""
    keras.utils.set_random_seed(seed)
    source = Tokenizer.from_corpus(["abcdefghij"], split="characters", lowercase=True)
    target = Tokenizer.from_corpus([" ".join("ABCDEFGHIJ"[:target_symbols])], split="whitespace")
    sizes = {"source_vocab_size": source.vocabulary_size, "target_vocab_size": target.vocabulary_size}
    config = TransformerConfig.from_name("tiny", **sizes, max_length=12, **fields)
    model = build_transformer(config)
    for weight in model.weights:  # biases and norms away from 0 and 1, so that a misplaced one shows
        weight.assign(weight + keras.random.normal(weight.shape, stddev=0.3))
    pipeline = TextPipeline(model, source, target, DecodingSettings(max_output_length=9))
    zoo.save(path, pipeline, zoo.ZooInfo(task="tiny"), "# card\n")
    return path


@pytest.mark.parametrize(
    "fields",
    [
        # Equal vocabulary sizes: only the order of the weights file tells the two embeddings apart.
        {"target_symbols": 10, "activation": "gelu", "output_bias": True, "layer_norm_epsilon": 1e-3},
        {
            "target_symbols": 7,
            "normalize_first": True,
            "tie_output": False,
            "positional_layout": "tensor2tensor",
            "scale_embeddings": False,
        },
        {"target_symbols": 10, "share_embeddings": True, "num_heads": 4, "d_ff": 48},
    ],
    ids=["gelu-bias-equal-sizes", "pre-norm-untied-t2t", "shared"],
)
def test_every_config_option_converts(fields, tmp_path):
    folder = tiny_folder(tmp_path / "tiny", seed=len(fields), **fields)
    keras_model = zoo.load(str(folder))
    model = zoo.load(str(folder), runtime="ctranslate2")
    assert model.predict(TINY_TEXTS, batch_size=3) == keras_model.predict(TINY_TEXTS)
    # Untrained models repeat a few outputs: the log probabilities are what tells a misplaced weight.
    targets = [[4, 5, 6, 7], [9, 8, 7, 6, 5, 4, 5], [], [6]]
    assert_same_log_probabilities(keras_model.model, model.runtime, ["abc", "jihgfedcba", "zzz", "cab"], targets)


def test_positional_table_is_the_layers(g2p):
    for layout in ("interleaved", "tensor2tensor"):
        np.testing.assert_allclose(
            convert.positional_table(64, 256, layout), sinusoidal_table(64, 256, layout), atol=1e-7
        )


def test_loading_imports_no_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from keras_transformer import zoo\n"
        "model = zoo.load('g2p_en', runtime='ctranslate2', report=print)\n"
        "print(model.predict(['transformer', '']))\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, sorted(sys.modules)\n"
    )
    env = {**os.environ, CACHE_VARIABLE: str(tmp_path)}  # a cold cache: the conversion runs here too
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "converting g2p_en for CTranslate2" in result.stdout
    assert result.stdout.endswith("['T R AE0 N S F AO1 R M ER0', '']\n")


def test_the_cache_is_reused_and_a_damaged_one_converted_again(g2p, monkeypatch):
    runtime.load("g2p_en")  # converted here or by an earlier test
    folder = convert.converted_dir(g2p.path)
    assert folder.parent.parent == pathlib.Path(os.environ[CACHE_VARIABLE])
    assert folder.name.startswith("g2p_en-") and not [
        path for path in folder.parent.iterdir() if path.name.startswith(".")
    ]
    with monkeypatch.context() as patch:
        patch.setattr(convert, "convert", lambda *args: pytest.fail("converted again"))
        lines = []
        runtime.load("g2p_en", report=lines.append)
        assert lines == []

    damages = {
        "model.bin": lambda path: path.write_bytes(path.read_bytes()[:-8]),
        "manifest.sha256": lambda path: path.unlink(),
        "stray": lambda path: path.write_text("x"),
    }
    for name, damage in damages.items():
        damage(folder / name)
        lines = []
        pipeline = runtime.load("g2p_en", report=lines.append)
        assert len(lines) == 1 and "converting g2p_en" in lines[0], (name, lines)
        assert pipeline.predict(["transformer"]) == ["T R AE0 N S F AO1 R M ER0"]
    # A conversion by an older converter is replaced as well.
    monkeypatch.setattr(convert, "CONVERTER_VERSION", convert.CONVERTER_VERSION + 1)
    lines = []
    runtime.load("g2p_en", report=lines.append)
    assert "another converter version" in lines[0]
    assert json.loads((folder / convert.PROVENANCE).read_text())["converter_version"] == convert.CONVERTER_VERSION


def test_settings_other_than_greedy_are_refused(g2p):
    with pytest.raises(zoo.RuntimeUnavailable, match="strategy='beam'") as caught:
        zoo.load("g2p_en", runtime="ctranslate2", decoding={"strategy": "beam"})
    assert "greedy search only" in caught.value.reason
    model = zoo.load("g2p_en", runtime="ctranslate2", decoding={"max_output_length": 4})
    assert model.settings == g2p.settings.replace(max_output_length=4)
    assert model.predict(["transformer"]) == g2p.predict(["transformer"], max_output_length=4)
    with pytest.raises(runtime.UnsupportedSettings, match="strategy='sample'"):
        model.predict(["abc"], strategy="sample")
    with pytest.raises(ValueError, match="max_length_factor"):
        model.predict(["abc"], max_length_factor=1.5)
    with pytest.raises(ValueError, match="max_output_length must be an int in"):
        model.predict(["abc"], max_output_length=65)
    with pytest.raises(TypeError, match="Unknown decoding settings"):
        model.predict(["abc"], beams=5)
    with pytest.raises(TypeError, match="not one string"):
        model.predict("abc")
    with pytest.raises(ValueError, match="compute_type"):
        runtime.load("g2p_en", compute_type="float64")
    with pytest.raises(zoo.ZooError, match="runtime='ctranslate2' runs seq2seq models"):
        zoo.load("minilm_l6", runtime="ctranslate2")


def test_without_ctranslate2_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ctranslate2", None)
    with pytest.raises(zoo.RuntimeUnavailable, match=r'pip install "ctranslate2>=4\.5,<5", a dependency of keras-transformer'):
        zoo.load("g2p_en", runtime="ctranslate2")


def test_int8_is_an_explicit_option(g2p):
    pipeline = runtime.load("g2p_en", compute_type="int8")
    assert pipeline.compute_type == "int8" and "int8" in repr(pipeline)
    assert pipeline.predict(["transformer", ""]) == ["T R AE0 N S F AO1 R M ER0", ""]


def test_docstring_examples_run():
    result = doctest.testmod(runtime, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0 and result.failed == 0
