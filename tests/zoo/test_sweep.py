"""`zoo.sweep`: the decoding grid, the sweep over a pipeline, and the choice (cheapest within 0.2 points)."""

import doctest

import pytest

from keras_transformer.zoo import sweep


def test_docstring_examples_run():
    result = doctest.testmod(sweep, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_the_default_grid_is_greedy_then_beam_by_size_then_length_penalty():
    grid = sweep.decoding_grid()
    assert grid[0] == {"strategy": "greedy"} and len(grid) == 1 + 3 * 3
    assert [(s["beam_size"], s["length_penalty"]) for s in grid[1:]] == [
        (2, 0.0), (2, 0.6), (2, 1.0), (4, 0.0), (4, 0.6), (4, 1.0), (8, 0.0), (8, 0.6), (8, 1.0),
    ]  # fmt: skip
    # Duplicates go, the order is by cost whatever the order given.
    assert sweep.decoding_grid((4, 4, 2), (1, 0))[1:3] == [
        {"strategy": "beam", "beam_size": 2, "length_penalty": 0.0},
        {"strategy": "beam", "beam_size": 2, "length_penalty": 1.0},
    ]


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"beam_sizes": (2, 0)}, r"`beam_sizes` must be a positive int. Received: beam_sizes=0"),
        ({"beam_sizes": ()}, r"`beam_sizes` must hold at least one value"),
        ({"beam_sizes": 4}, r"`beam_sizes` must be a list of numbers. Received: beam_sizes=4"),
        ({"length_penalties": (0.6, -1.0)}, r"`length_penalties` must be a number >= 0. Received: length_penalties=-1"),
        ({"length_penalties": "0.6"}, r"`length_penalties` must be a list"),
    ],
)
def test_a_bad_grid_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        sweep.decoding_grid(**arguments)


def results(*exact_matches):
    """Scored settings, cheapest first: greedy, then beams 2, 4, 8..."""
    beams = [{"strategy": "beam", "beam_size": 2**i} for i in range(1, len(exact_matches))]
    settings = [{"strategy": "greedy"}, *beams]
    return [{**setting, "exact_match": value} for setting, value in zip(settings, exact_matches)]


@pytest.mark.parametrize(
    "exact_matches, chosen",
    [
        ((0.8, 0.8, 0.8), 0),  # a tie goes to greedy
        ((0.8, 0.8015, 0.7), 0),  # 0.15 points better: not worth beam search
        ((0.8, 0.802, 0.7), 1),  # exactly 0.2 points (4 examples in 2,000): beam 2
        ((0.8, 0.8015, 0.803), 1),  # beam 4 is best, but beam 2 is within 0.2 points of it
        ((0.8, 0.79, 0.81), 2),  # beam 4 is 1 point above everything cheaper
        ((0.7995, 0.8), 0),
    ],
)
def test_the_cheapest_setting_within_the_margin_of_the_best_is_chosen(exact_matches, chosen):
    scored = results(*exact_matches)
    assert sweep.choose_decoding(scored) is scored[chosen]


def test_choose_decoding_with_no_margin_takes_the_first_best():
    assert sweep.choose_decoding(results(0.8, 0.8005, 0.8005), margin=0)["beam_size"] == 2
    with pytest.raises(ValueError, match="`margin` must be a number >= 0. Received: margin=-0.1"):
        sweep.choose_decoding(results(0.8), margin=-0.1)
    with pytest.raises(ValueError, match="Received: results=\\[\\]"):
        sweep.choose_decoding([])


class RecordingPipeline:
    """Stands in for a `TextPipeline`: answers from a table by the strategy and beam size it is asked for."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def predict(self, texts, batch_size=64, **overrides):
        self.calls.append((list(texts), batch_size, overrides))
        return [self.answers[overrides.get("beam_size", 1)].get(text, "?") for text in texts]


def test_sweep_decodes_every_setting_and_scores_it_by_exact_match():
    pipeline = RecordingPipeline({1: {"a": "A", "b": "x"}, 2: {"a": "A", "b": "B"}})
    grid = sweep.decoding_grid(beam_sizes=(2,), length_penalties=(0.0, 0.6))
    scored = sweep.sweep_decoding(pipeline, ["a", "b"], [["A"], ["B", "b"]], grid, batch_size=8)
    assert [call[2] for call in pipeline.calls] == grid and {call[1] for call in pipeline.calls} == {8}
    assert [r["exact_match"] for r in scored] == [0.5, 1.0, 1.0]
    assert all(r["seconds"] >= 0 for r in scored) and scored[1]["length_penalty"] == 0.0
    assert sweep.choose_decoding(scored) is scored[1]
    with pytest.raises(ValueError, match="`sources` must not be empty"):
        sweep.sweep_decoding(pipeline, [], [], grid)
    with pytest.raises(ValueError, match="`grid` must hold at least one"):
        sweep.sweep_decoding(pipeline, ["a"], ["A"], [])
