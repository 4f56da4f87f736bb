"""`babel_dates`: dates written the way a locale writes them -> ISO 8601 (`YYYY-MM-DD`), generated offline
with the `babel` pip package's CLDR data.

Every date in `[first_date, last_date]` is written with `babel.dates.format_date` in each locale
(`en`, `ja`, `fr`, `de`, `es`) and each CLDR format (`full`, `long`, `medium`, `short`), e.g.

    en full    "Friday, January 5, 2024"      -> "2024-01-05"
    de medium  "05.01.2024"                   -> "2024-01-05"
    ja long    "2024年1月5日"                 -> "2024-01-05"

Short formats may write the year with two digits ("1/5/24"); the default range spans exactly 100 years
(1950-2049) so that every two-digit year still stands for one date. Splits are made BY DATE:
`zlib.crc32(iso date) % 100` below 90 is train, below 95 validation, else test, so every wording of a
date falls in one split.

Configs: `default` (1950-01-01 .. 2049-12-31) and `small` (2020-01-01 .. 2021-12-31, for tests and quick
runs). Pass a `BabelDatesConfig` for other ranges or locales.
"""

import dataclasses
import datetime
import zlib

import tensorflow_datasets as tfds

LOCALES = ("en", "ja", "fr", "de", "es")
FORMATS = ("full", "long", "medium", "short")
_SPLIT_PERCENT = (("train", 90), ("validation", 95), ("test", 100))


def split_of(date):
    """The split ("train", "validation" or "test") of every example about `date` (a `datetime.date`).

    Example:
    >>> import datetime
    >>> split_of(datetime.date(2024, 1, 5)) == split_of(datetime.date(2024, 1, 5))
    True
    """
    bucket = zlib.crc32(date.isoformat().encode("ascii")) % 100
    for split, limit in _SPLIT_PERCENT:
        if bucket < limit:
            return split
    raise AssertionError("unreachable: the last limit is 100")


@dataclasses.dataclass
class BabelDatesConfig(tfds.core.BuilderConfig):
    """Date range and locales of a `babel_dates` build.

    Args:
        first_date, last_date: ISO strings; every date between them (inclusive) is written.
        locales: a subset of `("en", "ja", "fr", "de", "es")` (any CLDR locale babel knows works).
        formats: a subset of `("full", "long", "medium", "short")`.
    """

    first_date: str = "1950-01-01"
    last_date: str = "2049-12-31"
    locales: tuple = LOCALES
    formats: tuple = FORMATS

    def __post_init__(self):
        try:
            first, last = datetime.date.fromisoformat(self.first_date), datetime.date.fromisoformat(self.last_date)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"`first_date` and `last_date` must be ISO dates. Received: first_date={self.first_date!r}, "
                f"last_date={self.last_date!r}"
            ) from error
        if first > last:
            raise ValueError(f"Need first_date <= last_date. Received: {self.first_date} > {self.last_date}")
        if not self.locales:
            raise ValueError("`locales` must not be empty.")
        unknown = set(self.formats) - set(FORMATS)
        if unknown or not self.formats:
            raise ValueError(f"`formats` must be a non-empty subset of {FORMATS}. Received: {self.formats!r}")


def generate_examples(config, split=None):
    """Yield `(key, example)` for every (date, locale, format) the config covers, or only those of `split`."""
    from babel.dates import format_date  # the data extra; imported here so the package imports without it

    first = datetime.date.fromisoformat(config.first_date)
    days = (datetime.date.fromisoformat(config.last_date) - first).days + 1
    for offset in range(days):
        date = first + datetime.timedelta(days=offset)
        if split is not None and split_of(date) != split:
            continue
        iso = date.isoformat()
        for locale in config.locales:
            for date_format in config.formats:
                text = format_date(date, format=date_format, locale=locale)
                yield (
                    f"{iso}/{locale}/{date_format}",
                    {
                        "text": text,
                        "iso": iso,
                        "locale": locale,
                        "format": date_format,
                    },
                )


class BabelDates(tfds.core.GeneratorBasedBuilder):
    """Locale-formatted dates -> ISO 8601, generated with babel (CLDR), no network.

    See the module docstring for the locales, formats, configs and splits.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: en, ja, fr, de, es; full/long/medium/short; split by date."}  # noqa: RUF012
    BUILDER_CONFIGS = [  # noqa: RUF012
        BabelDatesConfig(name="default", description="1950-01-01 .. 2049-12-31"),
        BabelDatesConfig(
            name="small", description="2020-01-01 .. 2021-12-31", first_date="2020-01-01", last_date="2021-12-31"
        ),
    ]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description="Dates formatted by babel (CLDR) in several locales and formats, with their ISO 8601 "
            "form; split by date.",
            features=tfds.features.FeaturesDict(
                {
                    "text": tfds.features.Text(),
                    "iso": tfds.features.Text(),
                    "locale": tfds.features.Text(),
                    "format": tfds.features.ClassLabel(names=FORMATS),
                }
            ),
            supervised_keys=("text", "iso"),
            homepage="https://babel.pocoo.org/",
            license="Generated with babel (BSD-3-Clause) from CLDR data (Unicode licence).",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # generated locally
        return {split: self._generate_examples(split) for split, _ in _SPLIT_PERCENT}

    def _generate_examples(self, split):
        yield from generate_examples(self.builder_config, split)
