"""Tests for `keras_transformer.evaluation.metrics` against values worked out by hand."""

import doctest
import random

import pytest

from keras_transformer.evaluation import metrics
from keras_transformer.evaluation import (
    character_error_rate,
    edit_distance,
    exact_match,
    phoneme_error_rate,
    phoneme_error_rate_no_stress,
    strip_stress,
    word_error_rate,
    word_error_rate_no_stress,
)


def brute_force_edit_distance(a, b):
    """Reference: the recursive definition, memoized; fine for short inputs."""
    memo = {}

    def distance(i, j):
        if (i, j) not in memo:
            if i == 0 or j == 0:
                memo[i, j] = i + j
            else:
                memo[i, j] = min(
                    distance(i - 1, j) + 1, distance(i, j - 1) + 1, distance(i - 1, j - 1) + (a[i - 1] != b[j - 1])
                )
        return memo[i, j]

    return distance(len(a), len(b))


def test_docstring_examples_run():
    result = doctest.testmod(metrics, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("abc", "abc", 0),
        ("kitten", "sitting", 3),  # k->s, e->i, +g
        ("flaw", "lawn", 2),  # -f, +n
        ("intention", "execution", 5),
        ("ab", "ba", 2),  # no transpositions in Levenshtein
        (["HH", "AH0", "L", "OW1"], ["HH", "L", "OW1"], 1),
        ((1, 2, 3), [1, 3, 2, 4], 2),
        ("日本語", "日本", 1),
    ],
)
def test_edit_distance_hand_values(a, b, expected):
    assert edit_distance(a, b) == expected
    assert edit_distance(b, a) == expected


def test_edit_distance_matches_brute_force():
    rng = random.Random(0)
    for _ in range(200):
        a = [rng.choice("abc") for _ in range(rng.randint(0, 7))]
        b = [rng.choice("abc") for _ in range(rng.randint(0, 7))]
        assert edit_distance(a, b) == brute_force_edit_distance(a, b)


def test_exact_match_and_word_error_rate():
    predictions = ["R EH1 D", "L EH1 D", "K AE1 T", "D AO1 G"]
    references = [["R IY1 D", "R EH1 D"], ["L IY1 D"], "K AE1 T", ("D AA1 G",)]
    # right: read (second alternative), cat; wrong: lead, dog.
    assert exact_match(predictions, references) == 0.5
    assert word_error_rate(predictions, references) == 0.5
    assert word_error_rate(["K AE1 T"], ["K AE1 T"]) == 0.0
    assert word_error_rate(["K AE1 T "], ["K AE1 T"]) == 1.0  # strings compare exactly


def test_phoneme_error_rate_hand_value():
    predictions = ["HH AH0 L OW1", "T AH0 M EY1 T OW0", "K AE1 T S"]
    references = [
        "HH EH0 L OW1",  # 1 substitution / 4
        ["T AH0 M AA1 T OW2", "T AH0 M EY1 T OW2"],  # closest is the second: 1 / 6
        ["K AE1", "K AE1 T"],  # distances 2 and 1: the second, 1 / 3
    ]
    assert phoneme_error_rate(predictions, references) == pytest.approx(3 / 13)


def test_phoneme_error_rate_tie_takes_the_first_reference():
    # Both references are 1 edit away; the first (length 2) counts, not the second (length 4).
    assert phoneme_error_rate(["A B C"], [["A B", "A B C D"]]) == pytest.approx(1 / 2)
    assert phoneme_error_rate(["A B C"], [["A B C D", "A B"]]) == pytest.approx(1 / 4)


def test_phoneme_error_rate_can_exceed_one():
    assert phoneme_error_rate(["A B C D"], ["A"]) == 3.0


def test_character_error_rate_hand_value():
    predictions = ["2024-1-05", "1999-12-31", "abc"]
    references = [["2024-01-05"], "1999-12-30", ["xyz", "abd"]]
    # 1 deletion / 10; 1 substitution / 10; closest "abd": 1 / 3.
    assert character_error_rate(predictions, references) == pytest.approx(3 / 23)
    assert character_error_rate(["a b"], ["ab"]) == pytest.approx(1 / 2)  # spaces are characters


def test_rates_are_consistent_with_edit_distance_on_random_data():
    rng = random.Random(1)
    symbols = ["AA", "B", "K", "T"]
    predictions, references = [], []
    for _ in range(50):
        predictions.append(" ".join(rng.choice(symbols) for _ in range(rng.randint(1, 5))))
        references.append([" ".join(rng.choice(symbols) for _ in range(rng.randint(1, 5))) for _ in range(2)])
    distance = length = 0
    for prediction, alternatives in zip(predictions, references):
        scored = [(brute_force_edit_distance(prediction.split(), r.split()), len(r.split())) for r in alternatives]
        best = min(scored, key=lambda pair: pair[0])
        distance, length = distance + best[0], length + best[1]
    assert phoneme_error_rate(predictions, references) == pytest.approx(distance / length)
    right = sum(p in refs for p, refs in zip(predictions, references))
    assert word_error_rate(predictions, references) == pytest.approx(1 - right / 50)


def test_strip_stress_takes_the_digit_off_each_phoneme():
    assert strip_stress("T R AE0 N S F AO1 R M ER0") == "T R AE N S F AO R M ER"
    assert strip_stress("  EH2   K  ") == "EH K"  # whitespace is split and joined with one space
    assert strip_stress("AH3 0 AH") == "AH3 0 AH"  # no stress digit, or a digit alone: left as is
    assert strip_stress("") == ""
    with pytest.raises(TypeError, match=r"Received: pronunciation=\['AH0'\]"):
        strip_stress(["AH0"])


def test_word_error_rate_no_stress_hand_value():
    predictions = ["R EH0 D", "L IY1 D", "K AE1 T", "D AO1 G"]
    references = [
        ["R IY1 D", "R EH1 D"],  # right without stress (second reference), wrong with it
        "L EH1 D",  # wrong either way: IY is not EH
        "K AE1 T",  # right either way
        ("D AO2 G",),  # right without stress only
    ]
    assert word_error_rate(predictions, references) == 0.75
    assert word_error_rate_no_stress(predictions, references) == 0.25


def test_phoneme_error_rate_no_stress_hand_value():
    predictions = ["HH AH1 L OW0", "T AH0 M EY2 T OW1", "K AE1 T S"]
    references = [
        "HH EH0 L OW1",  # with stress 2 substitutions / 4; without 1 (AH for EH) / 4
        ["T AH0 M AA1 T OW2", "T AH0 M EY1 T OW2"],  # with stress 2 / 6; without the second matches: 0 / 6
        ["K AE0", "K AE1 T"],  # with stress the second, 1 / 3; without: 1 / 3 (the second, the first is 2 away)
    ]
    assert phoneme_error_rate(predictions, references) == pytest.approx(5 / 13)
    assert phoneme_error_rate_no_stress(predictions, references) == pytest.approx(2 / 13)
    # The closest reference is chosen after the digits come off: without stress "K AE" is 0 edits away.
    assert phoneme_error_rate_no_stress(["K AE1"], [["K AE1 T", "K AE0"]]) == 0.0
    assert phoneme_error_rate(["K AE1"], [["K AE1 T", "K AE0"]]) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "function",
    [
        exact_match,
        word_error_rate,
        phoneme_error_rate,
        character_error_rate,
        word_error_rate_no_stress,
        phoneme_error_rate_no_stress,
    ],
    ids=lambda f: f.__name__,
)
def test_argument_errors(function):
    with pytest.raises(ValueError, match=r"len\(predictions\)=2, len\(references\)=1"):
        function(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="must not be empty"):
        function([], [])
    with pytest.raises(TypeError, match="not one string"):
        function("abc", "abc")
    with pytest.raises(TypeError, match="at index 1"):
        function(["a", 3], ["a", "b"])
    with pytest.raises(TypeError, match=r"Received: \[\] at index 0"):
        function(["a"], [[]])


def test_error_rate_with_empty_references_is_refused():
    with pytest.raises(ValueError, match="phoneme error rate is undefined"):
        phoneme_error_rate(["A"], [" "])
    with pytest.raises(ValueError, match="character error rate is undefined"):
        character_error_rate(["a"], [""])
