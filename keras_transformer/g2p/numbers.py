"""English readings of the number and symbol tokens of `keras_transformer.g2p.text.tokenize`, for the G2P
tool to pronounce: "$3.50" -> three dollars fifty cents, "1999" -> nineteen ninety nine.

Rules of `spell` (American readings: no "and", no hyphens; the token is NFKC-normalized first, so
fullwidth and other Unicode decimal digits read as ASCII ones):

- cardinal: "42" -> forty two, "1,234,567" (commas every three digits) -> one million two hundred
  thirty four thousand five hundred sixty seven. Digit by digit: two digits or more with a leading
  zero ("007" -> zero zero seven) and more than 15 digits. A leading - or − reads "minus".
- year: an unsigned four-digit number from 1100 to 2099 written without a comma: "1999" -> nineteen
  ninety nine, "1905" -> nineteen oh five, "1900" -> nineteen hundred, "2005" -> two thousand five,
  "2023" -> twenty twenty three ("1,999" is a cardinal). Context is not looked at: "1234" -> twelve
  thirty four. Plurals: "1990s" -> nineteen nineties, "'90s" -> nineties ("80s" -> eighties and
  "7s" -> sevens are cardinals).
- ordinal: digits then st, nd, rd or th, whichever ("1th" -> first: the suffix marks an ordinal).
- decimal: "3.14" -> three point one four, ".5" -> point five.
- percent: "50%" -> fifty percent.
- currency: a currency symbol before or after an amount, maybe with a scale (k, m, mn, b, bn, t):
  "$3.50" -> three dollars fifty cents, "$0.99" -> ninety nine cents, "£1.20" -> one pound twenty
  pence, "$5M" -> five million dollars. One or two decimals are cents; more read "point". Symbols
  without a name here read their Unicode name ("₿5" -> five bitcoin).
- time: "10:30" -> ten thirty, "9:05" -> nine oh five, "12:00" -> twelve o'clock, "7:00pm" and
  "7pm" -> seven p m (hours up to 24, or 12 with am/pm; minutes up to 59).
- letters and digits: anything else with a digit, read piece by piece after splitting at hyphens:
  each piece that is a number by the rules above reads as one; a run of at most three letters that
  is in capitals or has no vowel (a e i o u y) is spelled letter by letter, any other run is one word
  ("MP3" -> m p three, "COVID-19" -> covid nineteen, "B2B" -> b two b); an "x" between digits reads
  "by" ("4x4"), an "s" after digits makes them plural ("mp3s" -> m p threes), a period between
  digits reads "point" ("1.2.3"). Letters outside a-z (after folding accents) are dropped.
- symbol: a token that is one of & @ + = # ° % × ÷ − ± < > § № or a currency symbol alone ("$" ->
  dollars); "#" reads "number".

Every other token (a word, ".", "…", "-", an emoji) has no reading: `spell` returns None.
"""

import re
import unicodedata

from num2words import num2words

from keras_transformer.errors import InvalidTypeError
from keras_transformer.g2p.text import (
    APOSTROPHES,
    HYPHENS,
    MINUS_SIGNS,
    PERCENT_SIGNS,
    fold,
)

EXPANSIONS = ("cardinal", "ordinal", "year", "decimal", "percent", "currency", "time", "letters and digits", "symbol")

SYMBOLS = {
    "&": "and",
    "@": "at",
    "+": "plus",
    "=": "equals",
    "#": "number",
    "°": "degrees",
    "%": "percent",
    "×": "times",
    "÷": "divided by",
    "−": "minus",
    "±": "plus or minus",
    "<": "less than",
    ">": "greater than",
    "§": "section",
    "№": "number",
}
# Symbol -> (unit, units, subunit, subunits); None: the currency has no subunit written after a point.
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", None, None),
    "¢": ("cent", "cents", None, None),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "₩": ("won", "won", None, None),
    "₽": ("ruble", "rubles", "kopek", "kopeks"),
}
SCALES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion", "t": "trillion"}
# num2words reads these exactly; longer digit strings are read digit by digit.
MAX_DIGITS = 15

_NORMALIZED_CHARACTERS = str.maketrans(
    APOSTROPHES + HYPHENS + MINUS_SIGNS + PERCENT_SIGNS,
    "'" * len(APOSTROPHES) + "-" * len(HYPHENS + MINUS_SIGNS) + "%" * len(PERCENT_SIGNS),
)
_INTEGER = r"(?P<integer>\d{1,3}(?:,\d{3})+|\d+)"
_AMOUNT = rf"(?:{_INTEGER}(?:\.(?P<fraction>\d+))?|\.(?P<only_fraction>\d+))"
_AMOUNT_PATTERN = re.compile(_AMOUNT, re.ASCII)
_SCALED_AMOUNT = re.compile(
    rf"{_AMOUNT}(?P<scale>{'|'.join(sorted(SCALES, key=len, reverse=True))})?", re.ASCII | re.IGNORECASE
)
_PERCENT = re.compile(rf"{_AMOUNT}%", re.ASCII)
_TIME = re.compile(r"(?P<hour>\d{1,2})(?::(?P<minute>\d\d))?(?:(?P<meridiem>[ap])\.?m\.?)?", re.ASCII | re.IGNORECASE)
_ORDINAL = re.compile(rf"{_INTEGER}(?:st|nd|rd|th)", re.ASCII | re.IGNORECASE)
_PLURAL = re.compile(rf"(?P<apostrophe>')?{_INTEGER}'?s", re.ASCII | re.IGNORECASE)
_PIECES = re.compile(r"(?P<digits>\d+)|(?P<letters>[^\W\d_]+)|.", re.DOTALL)
_VOWELS = frozenset("aeiouy")
_DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def spell(token):
    """The English reading of a number or symbol token (the rules are in the module docstring).

    Args:
        token: a str, usually a "number" or "punctuation" token of `tokenize`; any str is read or
            turned down, never an error.

    Returns:
        `(words, expansion)`: the reading as a list of lowercase words of letters a-z and apostrophes,
        and the rule that read it, one of `EXPANSIONS`; None where the token has no reading.

    Example:
    >>> spell("$3.50")
    (['three', 'dollars', 'fifty', 'cents'], 'currency')
    >>> spell("1905")
    (['nineteen', 'oh', 'five'], 'year')
    >>> spell("COVID-19")
    (['covid', 'nineteen'], 'letters and digits')
    >>> spell("…") is None
    True
    """
    if not isinstance(token, str):
        raise InvalidTypeError(f"`token` must be a str. Received: token of type {type(token).__name__}")
    text = _normalize(token)
    if not any(character.isdecimal() for character in text):
        return _read_symbol(token) or _read_symbol(text)
    return _read_number(text, allow_year=True) or _read_pieces(text)


def _normalize(token):
    """NFKC (fullwidth digits and signs), ASCII digits, one apostrophe, one hyphen, one percent sign."""
    text = unicodedata.normalize("NFKC", token.replace("\u2212", "-"))
    text = "".join(str(unicodedata.decimal(character)) if character.isdecimal() else character for character in text)
    return text.translate(_NORMALIZED_CHARACTERS)


def _read_symbol(token):
    if token in SYMBOLS:
        return SYMBOLS[token].split(), "symbol"
    if len(token) == 1 and unicodedata.category(token) == "Sc":
        return _currency_units(token)[1], "symbol"
    return None


def _read_number(text, allow_year):
    """The reading of `text` (ASCII digits) as one number by the rules above, or None."""
    if text.startswith("-") and len(text) > 1 and text[1] != "-":
        reading = _read_number(text[1:], allow_year=False)
        return (["minus", *reading[0]], reading[1]) if reading else None
    if unicodedata.category(text[0]) == "Sc" or unicodedata.category(text[-1]) == "Sc":
        return _read_currency(text)
    match = _PERCENT.fullmatch(text)
    if match:
        return [*_amount(match), "percent"], "percent"
    match = _TIME.fullmatch(text)
    reading = _read_time(match) if match else None
    if reading:
        return reading
    match = _ORDINAL.fullmatch(text)
    if match:
        number = _integer(match)
        return None if number is None else (_words(num2words(number, lang="en", to="ordinal")), "ordinal")
    match = _PLURAL.fullmatch(text)
    if match:
        words, expansion = _read_integer(match.group("integer"), allow_year and not match.group("apostrophe"))
        return [*words[:-1], _plural(words[-1])], "year" if match.group("apostrophe") else expansion
    match = _AMOUNT_PATTERN.fullmatch(text)
    if match:
        if match.group("integer") is not None and match.group("fraction") is None:
            return _read_integer(match.group("integer"), allow_year)
        return _amount(match), "decimal"
    return None


def _read_integer(digits, allow_year):
    """`digits` (maybe with thousands commas) as a cardinal, or a year where `allow_year` and the rule say so."""
    if allow_year and len(digits) == 4 and digits[0] != "0" and 1100 <= int(digits) <= 2099:
        return _words(num2words(int(digits), lang="en", to="year")), "year"
    return _cardinal(digits), "cardinal"


def _cardinal(digits):
    """The words of `digits` (maybe with thousands commas), digit by digit for leading zeros and long ones."""
    digits = digits.replace(",", "")
    if (len(digits) > 1 and digits[0] == "0") or len(digits) > MAX_DIGITS:
        return _digit_by_digit(digits)
    return _words(num2words(int(digits), lang="en"))


def _digit_by_digit(digits):
    return [_DIGIT_NAMES[int(digit)] for digit in digits]


def _amount(match):
    """The words of an `_AMOUNT` match: "3.14" -> three point one four, ".5" -> point five."""
    fraction = match.group("fraction") or match.group("only_fraction")
    words = _cardinal(match.group("integer")) if match.group("integer") is not None else []
    return [*words, "point", *_digit_by_digit(fraction)] if fraction is not None else words


def _integer(match):
    """The integer of a match's "integer" group, or None past `MAX_DIGITS` digits (`int` refuses 4,300)."""
    digits = match.group("integer").replace(",", "")
    return int(digits) if len(digits) <= MAX_DIGITS else None


def _read_currency(text):
    symbol, amount = (text[0], text[1:]) if unicodedata.category(text[0]) == "Sc" else (text[-1], text[:-1])
    match = _SCALED_AMOUNT.fullmatch(amount)
    if match is None:
        return None
    unit, units, subunit, subunits = _currency_units(symbol)
    fraction = match.group("fraction") or match.group("only_fraction")
    if match.group("scale"):
        return [*_amount(match), SCALES[match.group("scale").lower()], *units], "currency"
    if fraction is None:
        number = _integer(match)
        return [*_cardinal(match.group("integer")), *(unit if number == 1 else units)], "currency"
    if subunit is None or len(fraction) > 2:
        return [*_amount(match), *units], "currency"
    whole = match.group("integer") or "0"
    cents = int(fraction.ljust(2, "0"))
    words = []
    if whole.strip("0,") or not cents:
        words += [*_cardinal(whole), *(unit if whole == "1" else units)]
    if cents:
        words += [*_cardinal(str(cents)), *(subunit if cents == 1 else subunits)]
    return words, "currency"


def _currency_units(symbol):
    """(unit, units, subunit, subunits) as word lists; a symbol not in `CURRENCIES` reads its Unicode name."""
    if symbol in CURRENCIES:
        return tuple(None if name is None else name.split() for name in CURRENCIES[symbol])
    name = [word for word in unicodedata.name(symbol, "").lower().split() if word.isalpha() and word.isascii()]
    name = [word for word in name if word != "sign"] or ["currency"]
    return name, name, None, None


def _read_time(match):
    hour, minute, meridiem = int(match.group("hour")), match.group("minute"), match.group("meridiem")
    if minute is None and not meridiem:  # digits alone are a number, not a time
        return None
    if hour > (12 if meridiem else 24) or (minute is not None and int(minute) > 59):
        return None
    words = _cardinal(str(hour))
    if minute == "00" and not meridiem:
        words.append("o'clock")
    elif minute is not None and minute != "00":
        words += ["oh", _DIGIT_NAMES[int(minute[1])]] if minute[0] == "0" else _cardinal(minute)
    if meridiem:
        words += [meridiem.lower(), "m"]
    return words, "time"


def _read_pieces(text):
    """The "letters and digits" reading: pieces between hyphens, each a number or runs of letters and digits."""
    words = []
    for part in text.split("-"):
        reading = _read_number(part, allow_year=True) if part and part[0].isdecimal() else None
        words += reading[0] if reading else _read_runs(part)
    return (words, "letters and digits") if words else None


def _read_runs(part):
    words = []
    previous = None  # the kind of the previous piece: "digits", "letters" or None
    for match in _PIECES.finditer(part):
        piece, kind = match.group(), match.lastgroup
        following = part[match.end() : match.end() + 1]
        if kind == "digits":
            words += _cardinal(piece)
        elif kind == "letters" and previous == "digits" and piece.lower() == "s":
            words[-1] = _plural(words[-1])
        elif kind == "letters" and previous == "digits" and piece.lower() == "x" and following.isdecimal():
            words.append("by")
        elif kind == "letters":
            words += _letter_words(piece)
        elif piece == "." and previous == "digits" and following.isdecimal():
            words.append("point")
        else:
            reading = _read_symbol(piece)
            words += reading[0] if reading else []
        previous = kind
    return words


def _letter_words(letters):
    """A run of letters as one word, or letter by letter where it is short and has no vowel or is in capitals."""
    folded = "".join(character for character in fold(letters) if "a" <= character <= "z")
    if len(folded) <= 3 and (letters.isupper() or not _VOWELS.intersection(folded)):
        return list(folded)
    return [folded] if folded else []


def _plural(word):
    if word.endswith("y"):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("x", "s")) else "s")


def _words(reading):
    """num2words' English as American words: "one hundred and twenty-three" -> one hundred twenty three."""
    return [word for word in reading.replace("-", " ").replace(",", " ").split() if word != "and"]
