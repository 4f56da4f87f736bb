"""The text front end of `keras_transformer.g2p`: `tokenize` splits English text into word, number and
punctuation tokens; `fold` turns a word into its lexicon key (lowercase, accents dropped).

Rules of `tokenize` (whitespace of any kind only separates; nothing else is dropped):

- A word is a run of letters (`str.isalpha`, any script; combining marks after a letter stay in it)
  joined by apostrophes (' ’ ‘ ʼ) or hyphens (- ‐ ‑) with a letter or digit on both sides: "don't",
  "rock'n'roll", "mother-in-law". An apostrophe or hyphen at either end is punctuation, so quotes
  come apart ('hello' -> ' hello '), with two exceptions: the elisions CMUdict lists with a leading
  apostrophe ('em 'til 'tis 'twas 'cause 'bout 'n) keep it, and so does a decade ('90s). A trailing
  apostrophe is always punctuation: "dogs'" sounds as "dogs" does, and a closing quote stays apart.
- Single letters joined by periods are one abbreviation word with its final period: "U.S.", "e.g.",
  "a.m." (a sentence that ends with one has no separate period). Any other period is punctuation:
  "Mr." -> Mr . ; "end.Next" -> end . Next.
- A number is a run of letters and digits that holds a digit ("42", "MP3", "22nd", "9:05am",
  "COVID-19") with its periods between digits ("3.14", "1.2.3"), commas followed by exactly three
  digits ("1,234,567"), colons between digits ("10:30"), plus what is written against it: a leading
  minus sign (- or −, unless a letter or digit comes right before it), a leading "." (".5"), one
  currency symbol (any Unicode "Sc" character) before or after ("$5", "5€", "-$3.50") and a percent
  sign after ("50%"). A hyphen between two digits is punctuation ("1990-1995", "555-1234"); a
  period after a number that no digit follows is punctuation ("I have 3." -> 3 .).
- Everything else is punctuation, one character a token: ". , ! ? ( … — & @ % °", emoji (a ZWJ
  sequence gives one token per code point), control characters, lone surrogates.

`tokenize` runs in linear time: one compiled regular expression finds the runs of letters, digits and
joiners, and a single pass over the tokens attaches signs, symbols and quotes.
"""

import functools
import re
import typing
import unicodedata

from keras_transformer.errors import InvalidTypeError

WORD = "word"
NUMBER = "number"
PUNCTUATION = "punctuation"

APOSTROPHES = "'\u2019\u2018\u02bc"  # ' ’ ‘ ʼ
HYPHENS = "-\u2010\u2011"  # hyphen-minus, hyphen, non-breaking hyphen
MINUS_SIGNS = "-\u2212"  # hyphen-minus, minus sign
PERCENT_SIGNS = "%\uff05\u066a"  # %, fullwidth %, Arabic percent sign
# Words CMUdict lists with a leading apostrophe: "'em" is AH0 M, "em" is EH1 M.
ELISIONS = frozenset({"em", "til", "tis", "twas", "cause", "bout", "n"})

_JOINERS = APOSTROPHES + HYPHENS + ".,:"
_JOINER = re.compile(f"([{re.escape(_JOINERS)}])")
_THREE_DIGITS = re.compile(r"\d{3}(?!\d)")
_SHORT_DECADE = re.compile(r"\d\d[sS]")
# What sends an ASCII text down the whole path: a digit, a currency or percent sign, a period between
# letters (U.S., e.g.), an apostrophe that starts a word ('em, '90s). `_SIMPLE_TOKEN` splits the rest.
_NOT_SIMPLE = re.compile(r"[0-9$%]|[A-Za-z]\.[A-Za-z]|(?<![A-Za-z])'[A-Za-z0-9]")
_SIMPLE_TOKEN = re.compile(r"[A-Za-z]+(?:['\-][A-Za-z]+)*|\S")
_FOLDED_CHARACTERS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-"})
# The planes that hold letters and marks: 0-3, and 14 (variation selectors); scanning all 17 is slower.
_SCANNED_CODE_POINTS = (range(0x40000), range(0xE0000, 0xE1000))


class Token(typing.NamedTuple):
    """A piece of a text, as `tokenize` found it (a named tuple: made by the tens of thousands a second).

    Args:
        text: the token as the input writes it (case, accents and apostrophes kept).
        kind: "word", "number" or "punctuation".
    """

    text: str
    kind: str


def tokenize(text):
    """Splits `text` into word, number and punctuation tokens (the rules are in the module docstring).

    Args:
        text: a str, any length and any characters.

    Returns:
        A list of `Token`; `[]` for an empty or whitespace-only text. The tokens' texts, joined, are
        `text` without its whitespace.

    Example:
    >>> [(token.text, token.kind) for token in tokenize("Don't pay $3.50 for 'em, e.g. 22nd!")]
    [("Don't", 'word'), ('pay', 'word'), ('$3.50', 'number'), ('for', 'word'), ("'em", 'word'),
     (',', 'punctuation'), ('e.g.', 'word'), ('22nd', 'number'), ('!', 'punctuation')]
    """
    if not isinstance(text, str):
        raise InvalidTypeError(f"`text` must be a str. Received: text of type {type(text).__name__}")
    if text.isascii() and _NOT_SIMPLE.search(text) is None:
        # Plain English prose (ASCII, no digits, no abbreviation, no leading elision): the rules below
        # reduce to words with inner apostrophes and hyphens, and one punctuation token a character.
        return [Token(match, WORD if match[0].isalpha() else PUNCTUATION) for match in _SIMPLE_TOKEN.findall(text)]
    return _tokens(text)


def _tokens(text):
    """`tokenize`'s whole path, for any text."""
    pieces = []  # [start, end, kind]
    for match in _pieces_pattern().finditer(text):
        if match.lastgroup == "run":
            run = match.group()
            if run.isalpha():  # most runs: one word, nothing to split
                pieces.append([match.start(), match.end(), WORD])
            else:
                pieces.extend(_split_run(run, match.start()))
        else:
            pieces.append([match.start(), match.end(), PUNCTUATION])
    return [Token(text[start:end], kind) for start, end, kind in _attach(text, pieces)]


def fold(word):
    """The lexicon key of `word`: case folded, compatibility-decomposed (NFKD) with its nonspacing and
    enclosing marks dropped, curly apostrophes as ' and Unicode hyphens as -.

    Args:
        word: a str.

    Returns:
        The folded str: "Café" -> "cafe", "Ǆ" -> "dz", "ﬁne" -> "fine", "Straße" -> "strasse",
        "don’t" -> "don't".

    Example:
    >>> fold("Café"), fold("DON’T"), fold("U.S.")
    ('cafe', "don't", 'u.s.')
    """
    if not isinstance(word, str):
        raise InvalidTypeError(f"`word` must be a str. Received: word of type {type(word).__name__}")
    if word.isascii():  # most words: nothing to decompose or translate
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    kept = "".join(character for character in decomposed if unicodedata.category(character) not in ("Mn", "Me"))
    return kept.translate(_FOLDED_CHARACTERS)


@functools.cache
def _pieces_pattern():
    """The pattern of one run (named "run") or one other non-space character; built on first use, as
    listing the letters of Unicode takes a moment."""
    letters, marks = [], []
    for code_points in _SCANNED_CODE_POINTS:
        for code_point in code_points:
            character = chr(code_point)
            if character.isalpha() and character not in APOSTROPHES:
                letters.append(code_point)
            elif unicodedata.category(character).startswith("M"):
                marks.append(code_point)
    first = _character_class(letters) + r"\d"
    inner = first + _character_class(marks)
    joiner = re.escape(_JOINERS)
    # Joiners never repeat and are not in `inner`, so the run cannot backtrack: linear time.
    return re.compile(f"(?P<run>[{first}][{inner}]*(?:[{joiner}][{inner}]+)*)|\\S")


def _character_class(code_points):
    """The body of a regex character class holding `code_points` (sorted ints), as ranges."""
    ranges = []
    for code_point in code_points:
        if ranges and ranges[-1][1] == code_point - 1:
            ranges[-1][1] = code_point
        else:
            ranges.append([code_point, code_point])
    return "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in ranges
    )


def _split_run(run, offset):
    """The tokens of one run of letters, digits and single joiners starting at `offset`: [start, end, kind]."""
    parts = _JOINER.split(run)  # segment, joiner, segment, ..., segment
    tokens = []
    start = position = offset
    for index in range(1, len(parts), 2):
        left, joiner, right = parts[index - 1], parts[index], parts[index + 1]
        position += len(left)
        if not _joins(left, joiner, right):
            tokens.append([start, position, _run_kind(run[start - offset : position - offset])])
            tokens.append([position, position + 1, PUNCTUATION])
            start = position + 1
        position += 1
    tokens.append([start, offset + len(run), _run_kind(run[start - offset :])])
    return tokens


def _joins(left, joiner, right):
    """Whether `joiner` ties the segments of letters and digits on either side of it into one token."""
    digits_around = left[-1].isdecimal() and right[0].isdecimal()
    if joiner in APOSTROPHES:
        return True
    if joiner in HYPHENS:
        return not digits_around
    if joiner == ".":
        return digits_around or (_is_single_letter(left) and _is_single_letter(right))
    if joiner == ",":
        return left[-1].isdecimal() and _THREE_DIGITS.match(right) is not None
    return digits_around  # ":"


def _is_single_letter(segment):
    """One letter, maybe with combining marks after it."""
    return segment[0].isalpha() and all(unicodedata.category(character).startswith("M") for character in segment[1:])


def _run_kind(text):
    return NUMBER if any(character.isdecimal() for character in text) else WORD


def _attach(text, pieces):
    """`pieces` with signs, currency and percent symbols attached to their numbers, the elisions' and
    decades' apostrophes to their words, and the final period to its abbreviation."""
    out = []

    def glued(kinds, characters=None, depth=1):
        """Whether the `depth`-th last piece of `out` ends where the next one starts and matches."""
        if len(out) < depth:
            return False
        start, end, kind = out[-depth]
        following = out[-depth + 1][0] if depth > 1 else current[0]
        return end == following and kind in kinds and (characters is None or text[start:end] in characters)

    def take_prefix(characters, alone=False):
        """Attach the previous piece (one of `characters`); with `alone`, only where no word or number
        is written right before that piece."""
        if glued((PUNCTUATION,), characters) and not (alone and glued((WORD, NUMBER), depth=2)):
            current[0] = out.pop()[0]
            return True
        return False

    for current in pieces:
        start, end, kind = current
        if kind == WORD and not (out and out[-1][1] == start and out[-1][2] == PUNCTUATION):
            out.append(current)  # most words: nothing glued before them
            continue
        if kind == NUMBER and text[start].isdecimal():
            if _SHORT_DECADE.fullmatch(text, start, end):
                take_prefix(APOSTROPHES, alone=True)
            take_prefix(".", alone=True)
            if glued((PUNCTUATION,)) and unicodedata.category(text[current[0] - 1]) == "Sc":
                take_prefix(None)
            take_prefix(MINUS_SIGNS, alone=True)
        elif kind == WORD and glued((PUNCTUATION,), APOSTROPHES) and fold(text[start:end]) in ELISIONS:
            take_prefix(APOSTROPHES, alone=True)
        elif kind == PUNCTUATION and out and out[-1][1] == start:
            previous_start, previous_end, previous_kind = out[-1]
            character, last = text[start], text[previous_end - 1]
            is_symbol = character in PERCENT_SIGNS or unicodedata.category(character) == "Sc"
            if previous_kind == NUMBER and is_symbol and last.isalnum():
                out[-1][1] = end
                continue
            is_abbreviation = "." in text[previous_start:previous_end] and last != "."
            if previous_kind == WORD and character == "." and is_abbreviation:
                out[-1][1] = end
                continue
        out.append(current)
    return out
