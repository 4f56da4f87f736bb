"""`num2words_itn`: inverse text normalization of numbers (number words -> digits), generated offline
with the `num2words` pip package, in English and Japanese.

Kinds and targets (the `digits` feature):

    kind       en example                                  ja example
    cardinal   "two thousand and twenty-four" -> "2024"    "二千二十四" -> "2024"
    ordinal    "twenty-first" -> "21st"                    "二十一番目" -> "21番目"
    year       "nineteen ninety-nine" -> "1999"            "平成十一年" -> "1999年"

Cardinals and ordinals cover every number in `[0, max_number]`; years every year in
`[min_year, max_year]` (Japanese years are written with era names by num2words, so they start at 645,
the first era). Splits are made BY NUMBER: `zlib.crc32(str(number)) % 100` below 90 is train, below 95
validation, else test, so every wording of a number (language, kind) falls in one split; the model is
scored on numbers it never saw.

English examples also come in the spellings people type (the `variant` feature; Japanese has only
`num2words`):

    variant      "one thousand, one hundred and twenty-one" becomes
    num2words    (as num2words writes it)
    no_hyphen    "one thousand, one hundred and twenty one"
    no_and       "one thousand, one hundred twenty-one"
    no_comma     "one thousand one hundred and twenty-one"
    a_hundred    "a thousand, one hundred and twenty-one"   (only where the text starts "one hundred/thousand")
    capitalized  "One Thousand, One Hundred And Twenty-One" or "ONE THOUSAND, ..." (by the number's crc32)
    typed        "A thousand one hundred twenty one": all of the above at once

A variant is only yielded where it changes the text, and it belongs to its number's split.

Configs: `default` (numbers 0..99,999, years 1000..2099) and `small` (numbers 0..999, years 1990..2029,
for tests and quick runs). Pass a `Num2wordsItnConfig` for other ranges.
"""

import dataclasses
import re
import zlib

import numpy as np
import tensorflow_datasets as tfds

from keras_transformer.data.labels import NUM2WORDS_KINDS as KINDS  # noqa: E402
from keras_transformer.data.labels import NUM2WORDS_LANGUAGES as LANGUAGES  # noqa: E402
from keras_transformer.data.labels import NUM2WORDS_VARIANTS as VARIANTS  # noqa: E402
from keras_transformer.data.labels import english_ordinal_suffix  # noqa: E402
_FIRST_JAPANESE_ERA_YEAR = 645  # num2words refuses earlier years in Japanese
_SPLIT_PERCENT = (("train", 90), ("validation", 95), ("test", 100))


def split_of(number):
    """The split ("train", "validation" or "test") of every example about `number`.

    Example:
    >>> split_of(2024) == split_of(2024), split_of(7)
    (True, 'train')
    """
    bucket = zlib.crc32(str(number).encode("ascii")) % 100
    for split, limit in _SPLIT_PERCENT:
        if bucket < limit:
            return split
    raise AssertionError("unreachable: the last limit is 100")


def digits_for(number, language, kind):
    """The target text for `number` said as `kind` in `language`."""
    if kind == "cardinal":
        return str(number)
    if kind == "ordinal":
        return f"{number}{english_ordinal_suffix(number)}" if language == "en" else f"{number}番目"
    return str(number) if language == "en" else f"{number}年"


@dataclasses.dataclass
class Num2wordsItnConfig(tfds.core.BuilderConfig):
    """Number ranges of a `num2words_itn` build.

    Args:
        max_number: cardinals and ordinals cover `[0, max_number]`.
        min_year, max_year: the years covered (Japanese from 645 at the earliest).
        languages: a subset of `("en", "ja")`.
        variants: the English spellings besides num2words' own (a subset of `VARIANTS[1:]`).
    """

    max_number: int = 99_999
    min_year: int = 1000
    max_year: int = 2099
    languages: tuple = LANGUAGES
    variants: tuple = VARIANTS[1:]

    def __post_init__(self):
        if isinstance(self.max_number, bool) or not isinstance(self.max_number, int) or self.max_number < 0:
            raise ValueError(f"`max_number` must be an int >= 0. Received: max_number={self.max_number!r}")
        if not 0 <= self.min_year <= self.max_year:
            raise ValueError(
                f"Need 0 <= min_year <= max_year. Received: min_year={self.min_year}, max_year={self.max_year}"
            )
        unknown = set(self.languages) - set(LANGUAGES)
        if unknown or not self.languages:
            raise ValueError(f"`languages` must be a non-empty subset of {LANGUAGES}. Received: {self.languages!r}")
        if set(self.variants) - set(VARIANTS[1:]):
            raise ValueError(f"`variants` must be a subset of {VARIANTS[1:]}. Received: {self.variants!r}")


def spelling_variant(text, variant, number=0):
    """`text` (English, as num2words writes it) spelled as `variant` (one of `VARIANTS`); `number`
    picks the capitalization of "capitalized" and "typed".

    Example:
    >>> text = "one thousand, one hundred and twenty-first"
    >>> [spelling_variant(text, v, 1121) for v in ("no_hyphen", "no_and", "no_comma", "a_hundred")]
    ['one thousand, one hundred and twenty first', 'one thousand, one hundred twenty-first', 'one thousand one hundred and twenty-first', 'a thousand, one hundred and twenty-first']
    >>> spelling_variant(text, "typed", 1121)
    'A thousand one hundred twenty first'
    """
    if variant == "num2words":
        return text
    if variant == "no_hyphen":
        return text.replace("-", " ")
    if variant == "no_and":
        return text.replace(" and ", " ")
    if variant == "no_comma":
        return text.replace(",", "")
    if variant == "a_hundred":
        return re.sub(r"^one (hundred|thousand)", r"a \1", text)
    case = zlib.crc32(str(number).encode("ascii")) % 3
    if variant == "capitalized":
        return text.upper() if case == 0 else text.title()
    if variant == "typed":
        for step in ("no_hyphen", "no_and", "no_comma", "a_hundred"):
            text = spelling_variant(text, step)
        return (text.upper(), text.title(), text[:1].upper() + text[1:])[case]
    raise ValueError(f"`variant` must be one of {VARIANTS}. Received: variant={variant!r}")


def generate_examples(config, split=None):
    """Yield `(key, example)` for every (number, language, kind) the config covers, or only those of `split`."""
    from num2words import num2words  # the data extra; imported here so the package imports without it

    def wanted(number):
        return split is None or split_of(number) == split

    for language in config.languages:
        for kind in ("cardinal", "ordinal"):
            for number in filter(wanted, range(config.max_number + 1)):
                yield from _examples(config, number, language, kind, num2words(number, lang=language, to=kind))
        first_year = config.min_year if language == "en" else max(config.min_year, _FIRST_JAPANESE_ERA_YEAR)
        for year in filter(wanted, range(first_year, config.max_year + 1)):
            yield from _examples(config, year, language, "year", num2words(year, lang=language, to="year"))


def _examples(config, number, language, kind, text):
    """The num2words example and, in English, each variant that changes the text."""
    example = {"digits": digits_for(number, language, kind), "language": language, "kind": kind, "number": number}
    yield f"{language}/{kind}/{number}", {**example, "text": text, "variant": "num2words"}
    if language != "en":
        return
    for variant in config.variants:
        spelled = spelling_variant(text, variant, number)
        if spelled != text:
            yield f"{language}/{kind}/{number}/{variant}", {**example, "text": spelled, "variant": variant}


class Num2wordsItn(tfds.core.GeneratorBasedBuilder):
    """Number words -> digits in English and Japanese, generated with `num2words`, no network.

    See the module docstring for the kinds, targets, configs and splits.
    """

    VERSION = tfds.core.Version("1.1.0")
    RELEASE_NOTES = {  # noqa: RUF012
        "1.0.0": "First release: cardinals, ordinals, years in en and ja; split by number.",
        "1.1.0": "English spelling variants (no hyphen, no 'and', no comma, 'a hundred', capitals, all at once).",
    }
    BUILDER_CONFIGS = [  # noqa: RUF012
        Num2wordsItnConfig(name="default", description="numbers 0..99,999; years 1000..2099"),
        Num2wordsItnConfig(
            name="small", description="numbers 0..999; years 1990..2029", max_number=999, min_year=1990, max_year=2029
        ),
    ]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description="Numbers written out in words (num2words) and the digits they stand for; split by number.",
            features=tfds.features.FeaturesDict(
                {
                    "text": tfds.features.Text(),
                    "digits": tfds.features.Text(),
                    "language": tfds.features.Text(),
                    "kind": tfds.features.ClassLabel(names=KINDS),
                    "number": tfds.features.Scalar(dtype=np.int64),
                    "variant": tfds.features.ClassLabel(names=VARIANTS),
                }
            ),
            supervised_keys=("text", "digits"),
            homepage="https://github.com/savoirfairelinux/num2words",
            license="Generated with num2words (LGPL-2.1); the generated pairs are number facts.",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # generated locally
        return {split: self._generate_examples(split) for split, _ in _SPLIT_PERCENT}

    def _generate_examples(self, split):
        yield from generate_examples(self.builder_config, split)
