"""Scores are the same in every runtime (issue 25): TensorFlow (`zoo.load(name)`), its SavedModel's
`serving_default` run by `tf.saved_model.load`, the LiteRT generator, CTranslate2 and the CLI give the
same outputs, the same log probability for each (to 1e-4) and the same log probability for each of its
ids; a blank text gets "" scored 0 in all of them, without the model being run."""

import functools
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer import zoo
from keras_transformer.decoding import generate, length_penalty
from keras_transformer.decoding.prediction import BLANK_PREDICTION, from_buffers, is_blank
from keras_transformer.export import export
from tests.zoo_inputs import test_split_pairs

pytest.importorskip("ctranslate2")
pytest.importorskip("ai_edge_litert")

TOLERANCE = 1e-4
COUNT = 1000
BATCH = 100
# Python's whitespace (`str.isspace`), alone or mixed: tab, newline, no-break, ideographic and em spaces.
BLANKS = ["", " ", "\t\n", "\u3000", "\xa0 \u2003\r"]
NUMBERS = ["twenty one", "one hundred and five", "three thousand", "seven", "ninety nine"]


pytestmark = pytest.mark.usefixtures("own_cache")


def saved_model_predictions(model, texts, directory):
    """`Prediction`s of `texts` from `model`'s SavedModel, exported to `directory` and loaded back by
    TensorFlow alone (`tf.saved_model.load`), `serving_default` in batches of `BATCH`."""
    export(model, "saved_model", str(directory))
    serve = tf.saved_model.load(str(directory)).signatures["serving_default"]
    predictions = []
    for start in range(0, len(texts), BATCH):
        result = {key: value.numpy() for key, value in serve(texts=tf.constant(texts[start : start + BATCH])).items()}
        outputs = [text.decode("utf-8") for text in result["outputs"]]
        predictions += from_buffers(outputs, result["scores"], result["tokens"], result["token_scores"])
    return predictions


def differences(expected, got, label):
    """The largest score and token-score differences between two lists of `Prediction`s, after
    checking that their texts and their numbers of token scores are equal."""
    assert len(got) == len(expected), label
    texts = [(index, e.text, g.text) for index, (e, g) in enumerate(zip(expected, got)) if e.text != g.text]
    assert not texts, f"{label}: {len(texts)} outputs differ (index, TensorFlow, {label}), e.g. {texts[:3]}"
    lengths = [index for index, (e, g) in enumerate(zip(expected, got)) if len(e.token_scores) != len(g.token_scores)]
    assert not lengths, f"{label}: token_scores of another length at {lengths[:5]}"
    score = max((abs(e.score - g.score) for e, g in zip(expected, got)), default=0.0)
    token = max(
        (
            float(np.max(np.abs(np.subtract(e.token_scores, g.token_scores))))
            for e, g in zip(expected, got)
            if e.token_scores
        ),
        default=0.0,
    )
    return score, token


def mixed(texts):
    """`texts` with a blank text after each (and the rest of `BLANKS` at the end)."""
    out = []
    for index, text in enumerate(texts):
        out += [text, BLANKS[index % len(BLANKS)]]
    return out + BLANKS


def test_blank_texts_get_nothing_scored_zero_in_every_runtime(tmp_path):
    model = zoo.load("itn_numbers")
    texts = mixed(NUMBERS)
    real = [text for text in texts if not is_blank(text)]
    expected = model.predict(real, return_scores=True)
    assert all(prediction.text and prediction.score < 0 for prediction in expected)

    def answers(predictions):
        """The real texts' predictions, after checking that every blank one got `BLANK_PREDICTION`."""
        for text, prediction in zip(texts, predictions):
            if is_blank(text):
                assert prediction == BLANK_PREDICTION and prediction.score == 0.0, (text, prediction)
        return [prediction for text, prediction in zip(texts, predictions) if not is_blank(text)]

    runtimes = {
        "tensorflow": model,
        "litert": zoo.load("itn_numbers", runtime="litert"),
        "ctranslate2": zoo.load("itn_numbers", runtime="ctranslate2"),
    }
    outputs = iter(prediction.text for prediction in expected)
    wanted = ["" if is_blank(text) else next(outputs) for text in texts]
    for label, runtime in runtimes.items():
        assert runtime.predict(texts, batch_size=3) == wanted, label
        differences(expected, answers(runtime.predict(texts, batch_size=3, return_scores=True)), label)

    # The SavedModel answers blank texts in the graph: "", no ids, scores of 0.
    served = saved_model_predictions(model, texts, tmp_path / "saved_model")
    differences(expected, answers(served), "saved_model")

    # The CLI (`--runtime auto` takes the LiteRT generator), one JSON line a text.
    code = "import sys\nfrom keras_transformer.cli import main\nsys.exit(main(sys.argv[1:]))"
    argv = ["predict", "itn_numbers", "--json", "--scores", "--quiet", *texts]
    result = subprocess.run(
        [sys.executable, "-c", code, *argv], check=False, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["input"] for line in lines] == texts
    for text, line in zip(texts, lines):
        if is_blank(text):
            assert line == {"input": text, "output": "", "score": 0.0, "token_scores": []}
    got = [line for text, line in zip(texts, lines) if not is_blank(text)]
    assert [line["output"] for line in got] == [prediction.text for prediction in expected]
    for line, prediction in zip(got, expected):
        assert line["score"] == pytest.approx(prediction.score, abs=TOLERANCE)
        assert line["token_scores"] == pytest.approx(prediction.token_scores, abs=TOLERANCE)


def test_blank_texts_are_not_decoded():
    """Texts that are all blank reach no model: each runtime's decoding is replaced by a failure."""

    def fail(*args, **kwargs):
        raise AssertionError("the model ran on blank texts")

    blanks, calls = BLANKS * 3, []
    tensorflow = zoo.load("itn_numbers").runtime
    tensorflow.texts_function = lambda settings=None: fail
    litert = zoo.load("itn_numbers", runtime="litert").runtime
    litert._generate = fail
    ctranslate2 = zoo.load("itn_numbers", runtime="ctranslate2").runtime
    ctranslate2.translator = type("Unusable", (), {"translate_batch": fail})()
    for runtime in (tensorflow, litert, ctranslate2):
        progress = functools.partial(
            lambda name, done, total: calls.append((name, done, total)), type(runtime).__name__
        )
        assert runtime.predict(blanks, batch_size=4, progress=progress) == [""] * len(blanks)
        assert runtime.predict(blanks, return_scores=True) == [BLANK_PREDICTION] * len(blanks)
        assert runtime.predict([], return_scores=True) == []
    # Progress: once, with every text done.
    assert calls == [
        (name, len(blanks), len(blanks)) for name in ("TextPipeline", "LiteRTPipeline", "CTranslate2Pipeline")
    ]


def score_agreement(name, tmp_path):
    """TensorFlow's `Prediction`s of zoo model `name` on its first `COUNT` test inputs against LiteRT's,
    CTranslate2's and the SavedModel's: the same texts and token counts, scores to `TOLERANCE`. Prints
    the largest differences."""
    model = zoo.load(name)
    texts = [source for source, _ in test_split_pairs(model.info, COUNT)]
    assert len(texts) == COUNT
    expected = model.predict(texts, batch_size=BATCH, return_scores=True)
    others = {
        "litert": zoo.load(name, runtime="litert").predict(texts, batch_size=BATCH, return_scores=True),
        "ctranslate2": zoo.load(name, runtime="ctranslate2").predict(texts, return_scores=True),
        "saved_model": saved_model_predictions(model, texts, tmp_path / "saved_model"),
    }
    for label, got in others.items():
        score, token = differences(expected, got, f"{name} {label}")
        print(f"{name} {label}: largest score difference {score:.2e}, token score difference {token:.2e}")
        assert score <= TOLERANCE and token <= TOLERANCE, (label, score, token)
    # Greedy search: a score is the sum of its token scores, the end id's included.
    for prediction in expected:
        assert prediction.score == pytest.approx(sum(prediction.token_scores), abs=1e-5)


def test_scores_agree_across_runtimes(tmp_path):
    # g2p_en: the largest vocabulary of the three, and a float16 generator.
    score_agreement("g2p_en", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["itn_numbers", "dates_iso"])
def test_scores_agree_across_runtimes_of_every_model(name, tmp_path):
    score_agreement(name, tmp_path)


def test_beam_scores_are_generates():
    """`predict(..., strategy="beam", return_scores=True)` gives `generate`'s beam score: the token
    scores' sum divided by GNMT's length penalty."""
    model = zoo.load("g2p_en")
    words = [word for word, _ in test_split_pairs(model.info, 40)]
    settings = model.settings.replace(strategy="beam", beam_size=4, length_penalty=0.6)
    predictions = model.predict(words, return_scores=True, strategy="beam", beam_size=4, length_penalty=0.6)
    target = model.target_tokenizer
    result = generate(model.model, model.encode_texts(words), settings, start_id=target.start_id, end_id=target.end_id)
    np.testing.assert_allclose([p.score for p in predictions], np.asarray(result["scores"]), atol=TOLERANCE)
    assert [p.text for p in predictions] == model.runtime.target_tokenizer.detokenize(result["tokens"]).numpy().astype(
        str
    ).tolist()
    for prediction, scores in zip(predictions, np.asarray(result["token_scores"])):
        np.testing.assert_allclose(prediction.token_scores, scores[: len(prediction.token_scores)], atol=TOLERANCE)
        penalty = float(length_penalty(len(prediction.token_scores), 0.6))
        assert prediction.score == pytest.approx(sum(prediction.token_scores) / penalty, abs=TOLERANCE)
    assert any(len(p.token_scores) != len(predictions[0].token_scores) for p in predictions)  # lengths differ


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pt_en", "en_pt"])
def test_translation_scores_agree_between_litert_and_tensorflow(name):
    """A translation model's prepared LiteRT generator (shortlist, SSRU decoder, length factor) scores
    as TensorFlow on `COUNT` test verses; its `serving_default` answers blank texts "" too, though its
    tokenizer gives them an end id."""
    from keras_transformer.data import bible
    from keras_transformer.zoo import prepared

    prepared.prepare(zoo.model_dir(name))
    model = zoo.load(name)
    litert = zoo.load(name, runtime="litert")
    assert type(litert.runtime).__name__ == "LiteRTPipeline"
    pairs = bible.verse_pairs(split="test")[:COUNT]
    texts = mixed([portuguese if name == "pt_en" else english for portuguese, english in pairs])
    expected = model.predict(texts, return_scores=True)
    got = litert.predict(texts, return_scores=True)
    score, token = differences(expected, got, f"{name} litert")
    print(f"{name} litert: largest score difference {score:.2e}, token score difference {token:.2e}")
    # Each token's log probability agrees to 1e-4; a verse's score sums up to 256 of them (float32 sums
    # in two engines: 1.7e-4 measured on pt_en's longest), so it agrees to 1e-4 a token.
    assert token <= TOLERANCE
    for e, g in zip(expected, got):
        assert abs(e.score - g.score) <= TOLERANCE * max(1, len(e.token_scores)), (e, g)
    served = {key: value.numpy() for key, value in model.runtime.texts_function()(tf.constant(BLANKS)).items()}
    assert served["outputs"].tolist() == [b""] * len(BLANKS)
    assert not served["scores"].any() and not served["tokens"].any() and not served["token_scores"].any()
