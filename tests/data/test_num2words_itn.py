"""Tests for the offline `num2words_itn` TFDS builder, built from a small number range."""

import doctest
import re
import zlib

import pytest
import tensorflow_datasets as tfds

import keras_transformer.data
from keras_transformer.data import num2words_itn
from keras_transformer.data.num2words_itn import Num2wordsItnConfig

KANJI_DIGITS = {"零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def japanese_to_int(text):
    """An independent reader of Japanese numerals below 10,000 (enough for these tests)."""
    total, digit = 0, None
    for character in text:
        if character in KANJI_DIGITS:
            digit = KANJI_DIGITS[character]
        else:
            total += (1 if digit is None else digit) * {"十": 10, "百": 100, "千": 1000}[character]
            digit = None
    return total + (digit or 0)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    config = Num2wordsItnConfig(name="test_range", max_number=150, min_year=1995, max_year=2024)
    builder = keras_transformer.data.get_builder(
        "num2words_itn", data_dir=tmp_path_factory.mktemp("tfds"), config=config
    )
    kinds = builder.info.features["kind"].names
    variants = builder.info.features["variant"].names
    splits = {}
    for split in ("train", "validation", "test"):
        splits[split] = [
            {
                "text": e["text"].decode(),
                "digits": e["digits"].decode(),
                "language": e["language"].decode(),
                "kind": kinds[e["kind"]],
                "number": int(e["number"]),
                "variant": variants[e["variant"]],
            }
            for e in tfds.as_numpy(builder.as_dataset(split=split))
        ]
    return builder, splits


def test_docstring_examples_run():
    result = doctest.testmod(num2words_itn, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_every_number_language_and_kind_once(built):
    _, splits = built
    examples = [e for split in splits.values() for e in split if e["variant"] == "num2words"]
    keys = [(e["language"], e["kind"], e["number"]) for e in examples]
    assert len(keys) == len(set(keys))
    expected = {(lang, kind, n) for lang in ("en", "ja") for kind in ("cardinal", "ordinal") for n in range(151)}
    expected |= {(lang, "year", y) for lang in ("en", "ja") for y in range(1995, 2025)}
    assert set(keys) == expected


def test_split_by_number(built):
    _, splits = built
    numbers = {split: {e["number"] for e in examples} for split, examples in splits.items()}
    assert all(numbers.values())
    assert not numbers["train"] & numbers["validation"]
    assert not numbers["train"] & numbers["test"]
    assert not numbers["validation"] & numbers["test"]
    for split, values in numbers.items():
        for number in values:
            bucket = zlib.crc32(str(number).encode()) % 100
            assert split == ("train" if bucket < 90 else "validation" if bucket < 95 else "test")


def test_targets_match_the_number(built):
    _, splits = built
    for example in (e for split in splits.values() for e in split):
        number, digits, text = example["number"], example["digits"], example["text"]
        if example["language"] == "en":
            if example["kind"] == "ordinal":
                assert re.fullmatch(rf"{number}(st|nd|rd|th)", digits), example
            else:
                assert digits == str(number), example
            assert not re.search(r"\d", text), example
        elif example["kind"] == "cardinal":
            assert digits == str(number) and japanese_to_int(text) == number, example
        elif example["kind"] == "ordinal":
            assert digits == f"{number}番目" and text.endswith("番目"), example
            assert japanese_to_int(text[: -len("番目")]) == number, example
        else:
            assert digits == f"{number}年" and text.endswith("年"), example


def test_known_pairs(built):
    _, splits = built
    pairs = {
        (e["language"], e["kind"], e["number"]): (e["text"], e["digits"])
        for s in splits.values()
        for e in s
        if e["variant"] == "num2words"
    }
    assert pairs["en", "cardinal", 105] == ("one hundred and five", "105")
    assert pairs["en", "ordinal", 112] == ("one hundred and twelfth", "112th")
    assert pairs["en", "ordinal", 23] == ("twenty-third", "23rd")
    assert pairs["en", "year", 1999] == ("nineteen ninety-nine", "1999")
    assert pairs["ja", "cardinal", 21] == ("二十一", "21")
    assert pairs["ja", "year", 2019][1] == "2019年"


def words_of(text):
    """An independent reading of an English number text: its words, lowercased, with "and" dropped,
    hyphens and commas as spaces, and a leading "a" read as "one"."""
    words = re.sub(r"[-,]", " ", text.lower()).split()
    words = [word for word in words if word != "and"]
    return ["one"] + words[1:] if words[:1] == ["a"] else words


def test_spelling_variants_say_the_same_number(built):
    _, splits = built
    examples = [e for split in splits.values() for e in split]
    canonical = {(e["kind"], e["number"]): e["text"] for e in examples if e["language"] == "en" and e["variant"] == "num2words"}
    variants = [e for e in examples if e["variant"] != "num2words"]
    assert {e["language"] for e in variants} == {"en"}, "Japanese has only num2words' spelling"
    # num2words writes no comma below 1,000 (test_no_comma_variant_above_a_thousand has one).
    assert {e["variant"] for e in variants} == set(num2words_itn.VARIANTS[1:]) - {"no_comma"}
    for example in variants:
        text = canonical[example["kind"], example["number"]]
        assert example["text"] != text, example
        assert words_of(example["text"]) == words_of(text), example
    # One variant of each kind, written out by hand.
    spelled = {(e["variant"], e["kind"], e["number"]): e["text"] for e in variants}
    assert spelled["no_hyphen", "cardinal", 121] == "one hundred and twenty one"
    assert spelled["no_and", "cardinal", 121] == "one hundred twenty-one"
    assert spelled["a_hundred", "ordinal", 105] == "a hundred and fifth"
    assert spelled["capitalized", "year", 1999] in ("NINETEEN NINETY-NINE", "Nineteen Ninety-Nine")
    assert spelled["typed", "cardinal", 121].lower() == "a hundred twenty one"
    # Every variant of a number lands in that number's split.
    for split, examples in splits.items():
        assert all(num2words_itn.split_of(e["number"]) == split for e in examples)


def test_no_comma_variant_above_a_thousand():
    text = "forty-two thousand, one hundred and seven"
    assert num2words_itn.spelling_variant(text, "no_comma") == "forty-two thousand one hundred and seven"
    assert num2words_itn.spelling_variant(text, "typed", 42107).lower() == "forty two thousand one hundred seven"
    with pytest.raises(ValueError, match="variant='plural'"):
        num2words_itn.spelling_variant(text, "plural")


def test_config_validation():
    with pytest.raises(ValueError, match="max_number=-1"):
        Num2wordsItnConfig(name="bad", max_number=-1)
    with pytest.raises(ValueError, match="min_year=2000, max_year=1999"):
        Num2wordsItnConfig(name="bad", min_year=2000, max_year=1999)
    with pytest.raises(ValueError, match="languages"):
        Num2wordsItnConfig(name="bad", languages=("xx",))
    with pytest.raises(ValueError, match="variants"):
        Num2wordsItnConfig(name="bad", variants=("num2words",))


def test_named_configs():
    configs = {config.name: config for config in num2words_itn.Num2wordsItn.BUILDER_CONFIGS}
    assert configs["small"].max_number < configs["default"].max_number
    assert num2words_itn.Num2wordsItn.DEFAULT_CONFIG_NAME == "default"
