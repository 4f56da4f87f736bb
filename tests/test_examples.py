import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reverse_example_learns_a_short_version_of_the_task():
    figures = load_example("train_reverse").main(
        ["--examples", "4000", "--epochs", "6", "--max-length", "6", "--vocabulary-size", "12"]
    )
    assert figures["validation_token_accuracy"] >= 0.85


@pytest.mark.slow
def test_reverse_example_reaches_99_percent_token_accuracy():
    figures = load_example("train_reverse").main([])
    assert figures["validation_token_accuracy"] >= 0.99
    assert figures["greedy_exact_match"] >= 0.95
