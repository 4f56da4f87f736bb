"""`predict(..., flag=True)`: the output checks (dates that exist, numbers as the ITN task writes
them), the unknown-character and blank rules, the error of a folder without a calibration, the
out-of-domain generator, and each calibrated zoo model flagging out-of-domain inputs but few right
answers."""

import json
import math
import re

import keras
import numpy as np
import pytest

from keras_transformer import (
    DecodingSettings,
    TextPipeline,
    TransformerConfig,
    build_transformer,
    zoo,
)
from keras_transformer.decoding.prediction import Prediction
from keras_transformer.text import Tokenizer
from keras_transformer.zoo import confidence, out_of_domain
from keras_transformer.zoo.calibrate import choose_threshold
from keras_transformer.zoo.tasks import get_task
from tests.zoo_inputs import test_split_pairs

CALIBRATED = ("dates_iso", "itn_numbers", "g2p_en")


@pytest.mark.parametrize(
    "text, valid",
    [
        ("2024-01-05", True),
        ("1999-12-31", True),
        ("2024-02-29", True),  # leap year
        ("2000-02-29", True),  # divisible by 400: leap
        ("1900-02-29", False),  # divisible by 100 only: not leap
        ("2023-02-29", False),
        ("2024-02-30", False),
        ("2024-04-31", False),
        ("2000-08-00", False),
        ("2000-00-08", False),
        ("2000-13-01", False),
        ("0000-01-01", False),
        ("999-01-01", False),
        ("20240-01-01", False),
        ("2024-1-05", False),
        ("2024/01/05", False),
        (" 2024-01-05", False),
        ("", False),
    ],
)
def test_iso_date_check(text, valid):
    assert confidence.valid_iso_date(text) is valid


@pytest.mark.parametrize(
    "text, valid",
    [
        ("0", True),
        ("2024", True),
        ("99999", True),
        ("1st", True),
        ("2nd", True),
        ("3rd", True),
        ("11th", True),
        ("12th", True),
        ("13th", True),
        ("111th", True),
        ("21番目", True),
        ("1999年", True),
        ("21th", False),
        ("11st", False),
        ("1nd", False),
        ("007", False),
        ("12 3", False),
        ("twelve", False),
        ("1,000", False),
        ("-5", False),
        ("", False),
        ("番目", False),
    ],
)
def test_number_check(text, valid):
    assert confidence.valid_number(text) is valid


class _Runtime:
    """Stands for a runtime: `encode_texts` gives ids, 3 (unknown) for each "?"."""

    def encode_texts(self, texts):
        rows = [[3 if character == "?" else 4 for character in text] + [2] for text in texts]
        width = max(map(len, rows))
        return np.array([row + [0] * (width - len(row)) for row in rows], np.int32)


def test_flag_reasons_and_blank_inputs():
    checker = confidence.Confidence("lowest_token_log_prob", -0.5, unknown_id=3, check="iso_date")
    sure, unsure = (-0.1,) * 11, (-0.1, -0.9, -0.1)
    texts = ["ab?c", "abc", "abc", "abc", "", "  \t"]
    predictions = [
        Prediction("2024-01-05", -1.1, sure),  # sure, valid, but its source holds an unknown character
        Prediction("2024-02-30", -1.1, sure),
        Prediction("2024-01-05", -1.1, unsure),
        Prediction("2024-01-05", -1.1, sure),
        Prediction("", 0.0, ()),
        Prediction("", 0.0, ()),
    ]
    flagged = checker.flag(texts, predictions, _Runtime())
    assert [(p.flagged, p.reason) for p in flagged] == [
        (True, confidence.UNKNOWN_CHARACTERS),
        (True, "not a valid date"),
        (True, confidence.LOW_CONFIDENCE),
        (False, None),
        (False, None),
        (False, None),
    ]
    assert [p.text for p in flagged] == [p.text for p in predictions]
    # Blank inputs stay unflagged even for a checker that flags everything else.
    everything = confidence.Confidence("sequence_score", math.inf, check="number")
    assert [p.flagged for p in everything.flag(["", "x"], [Prediction("", 0.0, ()), Prediction("", -1.0, (-1.0,))], _Runtime())] == [False, True]


def test_confidence_json_round_trip(tmp_path):
    checker = confidence.Confidence("mean_token_log_prob", -0.25, 3, "number", {"test": {"examples": 5}})
    confidence.write(tmp_path, checker)
    assert confidence.read(tmp_path) == checker and confidence.read(tmp_path).calibration == checker.calibration
    never = confidence.Confidence("sequence_score", -math.inf)
    confidence.write(tmp_path, never)
    assert json.loads((tmp_path / confidence.FILE).read_text())["threshold"] is None
    assert confidence.read(tmp_path).threshold == -math.inf
    with pytest.raises(ValueError, match="signal"):
        confidence.Confidence("loudness", -1.0)


def test_choose_threshold_counts_other_flags():
    values = np.array([-5.0, -3.0, -2.0, -1.0, -0.5, -0.4, -0.3, -0.2, -0.1, -0.05])
    correct = np.ones(10, bool)
    assert choose_threshold(values, correct, np.zeros(10, bool), 0.2) == -2.0  # flags -5 and -3
    already = np.zeros(10, bool)
    already[9] = True  # one correct output flagged by a check already: one left to the threshold
    assert choose_threshold(values, correct, already, 0.2) == -3.0
    already[8] = True
    assert choose_threshold(values, correct, already, 0.2) == -5.0  # flags none more
    already[7] = True
    assert choose_threshold(values, correct, already, 0.2) == -math.inf


def test_flag_without_calibration_says_how_to_make_one(tmp_path):
    keras.utils.set_random_seed(0)
    source = Tokenizer.from_corpus(["abc"], split="characters")
    config = TransformerConfig.from_name("tiny", source_vocab_size=source.vocabulary_size,
                                         target_vocab_size=source.vocabulary_size, max_length=8)  # fmt: skip
    pipeline = TextPipeline(build_transformer(config), source, source, DecodingSettings(max_output_length=4))
    zoo.save(tmp_path / "plain", pipeline, zoo.ZooInfo(task="tiny"), "# plain\n")
    model = zoo.load(str(tmp_path / "plain"))
    with pytest.raises(zoo.ZooError, match=r"confidence\.json.*python -m keras_transformer\.zoo\.calibrate"):
        model.predict(["abc"], flag=True)


def test_out_of_domain_inputs_are_reproducible_and_many():
    first = out_of_domain.generate(count=1000, split="validation", seed=0)
    assert first == out_of_domain.generate(count=1000, split="validation", seed=0)
    test = out_of_domain.generate(["sentences", "words"], count=1000, split="test", seed=0)
    for kind in out_of_domain.KINDS:
        assert len(first[kind]) == len(set(first[kind])) == 1000 or kind == "random_letters", kind
    assert not set(first["sentences"]) & set(test["sentences"]) and not set(first["words"]) & set(test["words"])
    for text in first["sentences"] + first["words"]:
        assert not re.search(r"\d", text), text
        assert not {word.lower() for word in re.findall(r"[A-Za-z]+", text)} & out_of_domain.EXCLUDED_WORDS, text
    assert all(not any("a" <= c <= "z" or c.isdigit() for c in text) for text in first["other_scripts"])
    assert all(re.fullmatch(r"[a-z]+( [a-z]+)*", text) for text in first["random_letters"])


@pytest.mark.parametrize("name", CALIBRATED)
def test_calibrated_model_flags_out_of_domain_not_right_answers(name):
    model = zoo.load(name, runtime="litert")  # flags as TensorFlow does (tests/zoo/test_scores_parity.py), untraced
    task = get_task(name)
    kinds = task.out_of_domain
    generated = out_of_domain.generate(kinds, count=200 // len(kinds), split="test", seed=0)
    texts = [text for kind in kinds for text in generated[kind]]
    flagged = model.predict(texts, flag=True)
    assert np.mean([p.flagged for p in flagged]) >= 0.9

    pairs = test_split_pairs(model.info, 3000, split="validation", field=model.info.references_field)
    rng = np.random.default_rng(0)
    pairs = [pairs[i] for i in rng.choice(len(pairs), size=320, replace=False)]
    outputs = model.predict([source for source, _ in pairs], flag=True)
    right = [p for p, (_, references) in zip(outputs, pairs) if p.text in ([references] if isinstance(references, str) else references)]
    assert len(right) >= 200, len(right)
    assert np.mean([p.flagged for p in right[:200]]) < 0.05
    assert model.predict(["", " "], flag=True) == [Prediction("", 0.0, (), False, None)] * 2
