"""`spell` of `keras_transformer.g2p.numbers`: a table of tokens with their readings and rules, and the
properties every reading keeps (words of a-z and apostrophes, a known rule, no error for any str)."""

import doctest
import random
import re

import pytest

from keras_transformer.errors import InvalidTypeError
from keras_transformer.g2p import numbers
from keras_transformer.g2p.numbers import EXPANSIONS, spell
from keras_transformer.g2p.text import tokenize

CASES = [
    # cardinals
    ("0", "zero", "cardinal"),
    ("7", "seven", "cardinal"),
    ("42", "forty two", "cardinal"),
    ("100", "one hundred", "cardinal"),
    ("123", "one hundred twenty three", "cardinal"),
    ("1000", "one thousand", "cardinal"),
    ("1,234,567", "one million two hundred thirty four thousand five hundred sixty seven", "cardinal"),
    ("1234567", "one million two hundred thirty four thousand five hundred sixty seven", "cardinal"),
    ("1,999", "one thousand nine hundred ninety nine", "cardinal"),
    ("1066", "one thousand sixty six", "cardinal"),
    ("2100", "two thousand one hundred", "cardinal"),
    ("007", "zero zero seven", "cardinal"),
    ("100000000000005", "one hundred trillion five", "cardinal"),
    ("1" + "0" * 15, " ".join(["one"] + ["zero"] * 15), "cardinal"),  # past 15 digits: digit by digit
    ("１２３", "one hundred twenty three", "cardinal"),
    ("٣٤", "thirty four", "cardinal"),
    ("-5", "minus five", "cardinal"),
    ("−1999", "minus one thousand nine hundred ninety nine", "cardinal"),
    # ordinals
    ("1st", "first", "ordinal"),
    ("2nd", "second", "ordinal"),
    ("3rd", "third", "ordinal"),
    ("4th", "fourth", "ordinal"),
    ("11th", "eleventh", "ordinal"),
    ("12th", "twelfth", "ordinal"),
    ("13th", "thirteenth", "ordinal"),
    ("21st", "twenty first", "ordinal"),
    ("22nd", "twenty second", "ordinal"),
    ("101st", "one hundred first", "ordinal"),
    ("1000th", "one thousandth", "ordinal"),
    ("1,000th", "one thousandth", "ordinal"),
    ("1th", "first", "ordinal"),
    ("22ND", "twenty second", "ordinal"),
    # years and decades
    ("1999", "nineteen ninety nine", "year"),
    ("2023", "twenty twenty three", "year"),
    ("2000", "two thousand", "year"),
    ("2005", "two thousand five", "year"),
    ("1905", "nineteen oh five", "year"),
    ("1900", "nineteen hundred", "year"),
    ("1100", "eleven hundred", "year"),
    ("2099", "twenty ninety nine", "year"),
    ("1234", "twelve thirty four", "year"),
    ("1990s", "nineteen nineties", "year"),
    ("1990's", "nineteen nineties", "year"),
    ("2000s", "two thousands", "year"),
    ("'90s", "nineties", "year"),
    ("’60s", "sixties", "year"),
    ("80s", "eighties", "cardinal"),
    ("6s", "sixes", "cardinal"),
    # decimals
    ("3.14", "three point one four", "decimal"),
    ("0.5", "zero point five", "decimal"),
    (".5", "point five", "decimal"),
    ("−3.2", "minus three point two", "decimal"),
    ("-.5", "minus point five", "decimal"),
    ("1,000.25", "one thousand point two five", "decimal"),
    # percentages
    ("50%", "fifty percent", "percent"),
    ("3.5%", "three point five percent", "percent"),
    ("-2%", "minus two percent", "percent"),
    ("100％", "one hundred percent", "percent"),
    # currency
    ("$5", "five dollars", "currency"),
    ("$1", "one dollar", "currency"),
    ("$3.50", "three dollars fifty cents", "currency"),
    ("$0.99", "ninety nine cents", "currency"),
    ("$1.01", "one dollar one cent", "currency"),
    ("$2.5", "two dollars fifty cents", "currency"),
    ("$5.00", "five dollars", "currency"),
    ("$.99", "ninety nine cents", "currency"),
    ("€10", "ten euros", "currency"),
    ("£2", "two pounds", "currency"),
    ("£1.20", "one pound twenty pence", "currency"),
    ("¥100", "one hundred yen", "currency"),
    ("¥1.5", "one point five yen", "currency"),
    ("$1,000,000", "one million dollars", "currency"),
    ("$5M", "five million dollars", "currency"),
    ("$2bn", "two billion dollars", "currency"),
    ("$1.5k", "one point five thousand dollars", "currency"),
    ("5€", "five euros", "currency"),
    ("50¢", "fifty cents", "currency"),
    ("-$5", "minus five dollars", "currency"),
    ("₿5", "five bitcoin", "currency"),
    # times
    ("10:30", "ten thirty", "time"),
    ("9:05", "nine oh five", "time"),
    ("12:00", "twelve o'clock", "time"),
    ("7:00pm", "seven p m", "time"),
    ("7pm", "seven p m", "time"),
    ("9:05am", "nine oh five a m", "time"),
    ("11:45PM", "eleven forty five p m", "time"),
    ("9:05a.m.", "nine oh five a m", "time"),
    ("13:45", "thirteen forty five", "time"),
    # letters and digits
    ("MP3", "m p three", "letters and digits"),
    ("COVID-19", "covid nineteen", "letters and digits"),
    ("4x4", "four by four", "letters and digits"),
    ("B2B", "b two b", "letters and digits"),
    ("3D", "three d", "letters and digits"),
    ("mp3s", "m p threes", "letters and digits"),
    ("F-16", "f sixteen", "letters and digits"),
    ("A380", "a three hundred eighty", "letters and digits"),
    ("iPhone15", "iphone fifteen", "letters and digits"),
    ("19-year-old", "nineteen year old", "letters and digits"),
    ("22nd-century", "twenty second century", "letters and digits"),
    ("1.2.3", "one point two point three", "letters and digits"),
    ("1990-1995", "nineteen ninety nineteen ninety five", "letters and digits"),
    ("25:00", "twenty five zero zero", "letters and digits"),
    ("1th-of-May", "first of may", "letters and digits"),
    ("Ж3", "three", "letters and digits"),
    ("1" + "0" * 15 + "th", " ".join(["one"] + ["zero"] * 15 + ["t", "h"]), "letters and digits"),
    # symbols
    ("&", "and", "symbol"),
    ("@", "at", "symbol"),
    ("+", "plus", "symbol"),
    ("=", "equals", "symbol"),
    ("#", "number", "symbol"),
    ("°", "degrees", "symbol"),
    ("%", "percent", "symbol"),
    ("$", "dollars", "symbol"),
    ("€", "euros", "symbol"),
    ("−", "minus", "symbol"),
    ("×", "times", "symbol"),
]


@pytest.mark.parametrize("token, words, expansion", CASES, ids=[token[:20] for token, _, _ in CASES])
def test_spell(token, words, expansion):
    assert spell(token) == (words.split(), expansion)


NO_READING = ["", ".", "…", "-", ",", "!", "😀", "\u200d", "hello", "U.S.", "\x00", "\ud800", " ", "a.m."]


@pytest.mark.parametrize("token", NO_READING, ids=[ascii(token) for token in NO_READING])
def test_tokens_without_a_reading(token):
    assert spell(token) is None


def test_table_is_large_and_covers_every_expansion():
    assert len(CASES) >= 60
    assert {expansion for _, _, expansion in CASES} == set(EXPANSIONS)


_WORD = re.compile(r"[a-z']+")


def _check_reading(token):
    reading = spell(token)
    if reading is not None:
        words, expansion = reading
        assert words and all(_WORD.fullmatch(word) for word in words), (token, words)
        assert expansion in EXPANSIONS
    return reading


def test_every_number_token_of_random_texts_reads():
    generator = random.Random(0)
    alphabet = "0123456789aAxXsS'’-−.,:$€£¥¢₿%％ \t\u00a0東Ж\u0301😀\x00\ud800"
    for _ in range(1000):
        source = "".join(generator.choice(alphabet) for _ in range(generator.randrange(1, 25)))
        _check_reading(source)
        for token in tokenize(source):
            reading = _check_reading(token.text)
            if token.kind == "number":
                assert reading is not None, token


def test_junk_and_huge_tokens():
    generator = random.Random(1)
    for _ in range(100):
        junk = bytes(generator.randrange(256) for _ in range(100))
        _check_reading(junk.decode("utf-8", errors="surrogateescape"))
        _check_reading(junk.decode("utf-8", errors="replace"))
    for token in ["9" * 100_000, "1-" * 20_000, "a1" * 20_000, "$" + "9" * 5_000 + ".99", "1," * 10_000 + "000"]:
        assert _check_reading(token) is not None
    assert spell("9" * 1_000) == (["nine"] * 1_000, "cardinal")


@pytest.mark.parametrize("value", [5, None, b"5", 3.5])
def test_spell_rejects_non_str(value):
    message = f"`token` must be a str. Received: token of type {type(value).__name__}"
    with pytest.raises(InvalidTypeError, match=message):
        spell(value)


def test_docstring_examples_run():
    result = doctest.testmod(numbers, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
