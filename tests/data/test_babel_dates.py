"""Tests for the offline `babel_dates` TFDS builder, built from a short date range."""

import datetime
import doctest
import re
import zlib

import pytest
import tensorflow_datasets as tfds

import keras_transformer.data
from keras_transformer.data import babel_dates
from keras_transformer.data.babel_dates import BabelDatesConfig

FIRST, LAST = datetime.date(2023, 12, 20), datetime.date(2024, 3, 10)  # crosses a year and a leap day


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    config = BabelDatesConfig(name="test_range", first_date=FIRST.isoformat(), last_date=LAST.isoformat())
    builder = keras_transformer.data.get_builder("babel_dates", data_dir=tmp_path_factory.mktemp("tfds"), config=config)
    formats = builder.info.features["format"].names
    splits = {}
    for split in ("train", "validation", "test"):
        splits[split] = [
            {
                "text": e["text"].decode(),
                "iso": e["iso"].decode(),
                "locale": e["locale"].decode(),
                "format": formats[e["format"]],
            }
            for e in tfds.as_numpy(builder.as_dataset(split=split))
        ]
    return builder, splits


def test_docstring_examples_run():
    result = doctest.testmod(babel_dates, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_every_date_locale_and_format_once(built):
    _, splits = built
    keys = [(e["iso"], e["locale"], e["format"]) for split in splits.values() for e in split]
    assert len(keys) == len(set(keys))
    days = [(FIRST + datetime.timedelta(days=n)).isoformat() for n in range((LAST - FIRST).days + 1)]
    assert "2024-02-29" in days
    expected = {(d, loc, f) for d in days for loc in ("en", "ja", "fr", "de", "es") for f in babel_dates.FORMATS}
    assert set(keys) == expected


def test_split_by_date(built):
    _, splits = built
    dates = {split: {e["iso"] for e in examples} for split, examples in splits.items()}
    assert all(dates.values())
    assert not dates["train"] & dates["validation"]
    assert not dates["train"] & dates["test"]
    assert not dates["validation"] & dates["test"]
    for split, values in dates.items():
        for iso in values:
            bucket = zlib.crc32(iso.encode()) % 100
            assert split == ("train" if bucket < 90 else "validation" if bucket < 95 else "test")


def test_texts_agree_with_their_dates(built):
    _, splits = built
    for example in (e for split in splits.values() for e in split):
        date = datetime.date.fromisoformat(example["iso"])
        text, locale, form = example["text"], example["locale"], example["format"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", example["iso"])
        assert str(date.day) in text  # every format writes the day
        if locale == "de" and form == "medium":
            assert text == date.strftime("%d.%m.%Y")
        if locale == "ja" and form == "long":
            assert text == f"{date.year}年{date.month}月{date.day}日"
        if locale == "en" and form == "short":
            assert text == f"{date.month}/{date.day}/{date.year % 100:02d}"
        if form in ("full", "long"):
            assert str(date.year) in text


def test_known_pairs(built):
    _, splits = built
    pairs = {(e["iso"], e["locale"], e["format"]): e["text"] for s in splits.values() for e in s}
    assert pairs["2024-01-05", "en", "full"] == "Friday, January 5, 2024"
    assert pairs["2024-01-05", "fr", "long"] == "5 janvier 2024"
    assert pairs["2024-02-29", "es", "long"] == "29 de febrero de 2024"


def test_config_validation():
    with pytest.raises(ValueError, match="ISO dates"):
        BabelDatesConfig(name="bad", first_date="05/01/2024")
    with pytest.raises(ValueError, match="first_date <= last_date"):
        BabelDatesConfig(name="bad", first_date="2024-01-02", last_date="2024-01-01")
    with pytest.raises(ValueError, match="formats"):
        BabelDatesConfig(name="bad", formats=("tiny",))
