"""The shipped `g2p_en` model: loads offline, verifies, and pronounces held-out words like its card says."""

import os
import subprocess
import sys

import pytest

from keras_transformer import evaluation, zoo


@pytest.fixture(scope="module")
def g2p():
    if "g2p_en" not in zoo.list_models():
        pytest.fail("saved_models/g2p_en is missing: the README's main job needs it")
    return zoo.load("g2p_en")


@pytest.fixture(scope="module")
def test_words(tmp_path_factory):
    from keras_transformer.data import load_split

    dataset = load_split("cmudict_g2p", "test[:60]", data_dir=str(tmp_path_factory.mktemp("tfds")))
    words, references = [], []
    for example in dataset.as_numpy_iterator():
        words.append(example["word"].decode())
        references.append([p.decode() for p in example["pronunciations"]])
    return words, references


def test_held_out_words_are_mostly_right(g2p, test_words):
    words, references = test_words
    predictions = g2p.predict(words, strategy="greedy")
    # The card reports the whole test split; 60 words is a small sample, so the bounds are loose but
    # far from what an untrained model gets (a word error rate near 100%).
    assert evaluation.phoneme_error_rate(predictions, references) < 0.3
    assert evaluation.word_error_rate(predictions, references) < 0.8


def test_readme_main_job(g2p):
    result = subprocess.run(
        [sys.executable, "-m", "keras_transformer.cli", "predict", "g2p_en", "transformer", "attention"],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != zoo.ZOO_VARIABLE},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["transformer", "attention"]
    for line in lines:
        phonemes = line.split("\t")[1].split()
        assert phonemes and all(p in g2p.target_tokenizer.vocabulary for p in phonemes)
