"""Tests for the offline `cmudict_g2p` TFDS builder, run through its real code path on a small fixture."""

import doctest
import pathlib
import re
import zlib

import pytest
import tensorflow_datasets as tfds

import keras_transformer.data
from keras_transformer.data import cmudict_g2p

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "cmudict_small.dict"


def fixture_entries():
    """An independent reading of the fixture: word -> distinct pronunciations in file order."""
    entries = {}
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"#.*", "", line).strip()
        if line:
            head, phonemes = line.split(" ", 1)
            word = re.sub(r"\(\d+\)$", "", head)
            pronunciation = " ".join(phonemes.split())
            if pronunciation not in entries.setdefault(word, []):
                entries[word].append(pronunciation)
    return entries


def expected_split(word):
    bucket = zlib.crc32(word.encode("utf-8")) % 100
    return "train" if bucket < 90 else "validation" if bucket < 95 else "test"


def read_split(builder, split):
    return [
        {
            "word": example["word"].decode(),
            "phonemes": example["phonemes"].decode(),
            "pronunciations": [p.decode() for p in example["pronunciations"]],
        }
        for example in tfds.as_numpy(builder.as_dataset(split=split))
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    previous = cmudict_g2p.set_source_path(FIXTURE)
    try:
        builder = keras_transformer.data.get_builder("cmudict_g2p", data_dir=tmp_path_factory.mktemp("tfds"))
    finally:
        cmudict_g2p.set_source_path(previous)
    return builder, {split: read_split(builder, split) for split in ("train", "validation", "test")}


def test_docstring_examples_run():
    result = doctest.testmod(cmudict_g2p, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_fixture_covers_every_split():
    # Guards the fixture itself: the tests below mean little unless each split gets words.
    splits = {expected_split(word) for word in fixture_entries()}
    assert splits == {"train", "validation", "test"}


def test_builds_offline_with_the_right_examples(built):
    _, splits = built
    entries = fixture_entries()
    for split, examples in splits.items():
        words = [word for word in entries if expected_split(word) == split]
        assert words, split
        if split == "train":
            got = sorted((e["word"], e["phonemes"]) for e in examples)
            assert got == sorted((word, p) for word in words for p in entries[word])
        else:
            assert sorted(e["word"] for e in examples) == sorted(words)  # one example per word
            for example in examples:
                assert example["pronunciations"] == entries[example["word"]]
                assert example["phonemes"] == entries[example["word"]][0]


def test_splits_are_disjoint_by_word(built):
    _, splits = built
    words = {split: {e["word"] for e in examples} for split, examples in splits.items()}
    assert not words["train"] & words["validation"]
    assert not words["train"] & words["test"]
    assert not words["validation"] & words["test"]
    assert set().union(*words.values()) == set(fixture_entries())


def test_alternates_grouped_comments_dropped_duplicates_merged(built):
    _, splits = built
    examples = [e for split in splits.values() for e in split]
    by_word = {}
    for example in examples:
        by_word.setdefault(example["word"], example["pronunciations"])
        assert by_word[example["word"]] == example["pronunciations"]
        assert "#" not in example["phonemes"] and "(" not in example["word"]
    assert by_word["the"] == ["DH AH0", "DH AH1", "DH IY0"]
    assert by_word["aalborg"] == ["AO1 L B AO0 R G"]  # "# place, danish" dropped
    assert by_word["mormonism"] == ["M AO1 R M AH0 N IH0 Z AH0 M"]  # listed twice in the file
    multi = [word for word, prons in fixture_entries().items() if len(prons) > 1]
    assert any(expected_split(word) != "train" for word in multi)  # grouping is checked off train too


def test_info_and_supervised_keys(built):
    builder, _ = built
    assert builder.name == "cmudict_g2p"
    assert builder.info.supervised_keys == ("word", "phonemes")
    assert builder.info.splits["validation"].num_examples == len(
        [w for w in fixture_entries() if expected_split(w) == "validation"]
    )
    word, phonemes = next(iter(tfds.as_numpy(builder.as_dataset(split="train", as_supervised=True))))
    assert isinstance(word, bytes) and isinstance(phonemes, bytes)


def test_load_split_uses_the_environment_data_dir(built, monkeypatch):
    builder, _ = built
    monkeypatch.setenv(keras_transformer.data.DATA_DIR_VARIABLE, str(pathlib.Path(builder.data_dir).parents[1]))
    assert str(keras_transformer.data.default_data_dir()) == str(pathlib.Path(builder.data_dir).parents[1])
    dataset = keras_transformer.data.load_split("cmudict_g2p", "test")  # already prepared there
    assert len(list(dataset)) == builder.info.splits["test"].num_examples
    monkeypatch.delenv(keras_transformer.data.DATA_DIR_VARIABLE)
    assert keras_transformer.data.default_data_dir().parts[-3:] == (
        ".cache",
        "keras_transformer",
        "tensorflow_datasets",
    )


def test_tfds_load_by_name(built):
    builder, _ = built
    data_dir = str(pathlib.Path(builder.data_dir).parents[1])
    dataset = tfds.load("cmudict_g2p", split="validation", data_dir=data_dir, download=False)
    assert len(list(dataset)) == builder.info.splits["validation"].num_examples


def test_parse_dictionary():
    lines = ["# header", "", "read  R EH1 D", "lead L EH1 D  # metal", "read(2) R IY1 D", "read(3) R EH1 D"]
    assert cmudict_g2p.parse_dictionary(lines) == {"read": ["R EH1 D", "R IY1 D"], "lead": ["L EH1 D"]}
    with pytest.raises(ValueError, match="line 2"):
        cmudict_g2p.parse_dictionary(["a AH0", "b"])


def test_source_path_setting():
    with pytest.raises(FileNotFoundError, match="path="):
        cmudict_g2p.set_source_path("/no/such/file.dict")
    assert cmudict_g2p.set_source_path(FIXTURE) is None
    assert cmudict_g2p.source_path() == FIXTURE
    assert cmudict_g2p.set_source_path(None) == FIXTURE
    assert cmudict_g2p.source_path() == cmudict_g2p.default_source_path()
    assert cmudict_g2p.default_source_path().name == "cmudict.dict"


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="name='nope'"):
        keras_transformer.data.get_builder("nope")


def test_generate_examples_walks_a_split_like_the_builder(built):
    # Code that reads a zoo model's test inputs without preparing the dataset (a fresh machine) walks
    # the builder module's `generate_examples(config, split)`; it must give the prepared split's examples.
    _, splits = built
    previous = cmudict_g2p.set_source_path(FIXTURE)
    try:
        for split, examples in splits.items():
            walked = [example for _, example in cmudict_g2p.generate_examples(None, split=split)]
            key = lambda e: (e["word"], e["phonemes"])  # noqa: E731
            assert sorted(walked, key=key) == sorted(examples, key=key), split
        everything = list(cmudict_g2p.generate_examples())
    finally:
        cmudict_g2p.set_source_path(previous)
    assert len(everything) == sum(len(examples) for examples in splits.values())


@pytest.mark.parametrize("name", sorted(keras_transformer.data.BUILDERS))
def test_every_builder_module_can_walk_a_split(name):
    module = __import__(keras_transformer.data.BUILDERS[name].__module__, fromlist=["generate_examples"])
    assert callable(module.generate_examples), f"{module.__name__} has no module-level generate_examples"
