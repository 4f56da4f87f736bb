"""The `dates_iso` task: dates written in five languages and four CLDR formats -> ISO 8601
(`keras_transformer.data.babel_dates`)."""

from keras_transformer.data.labels import DATE_FORMATS
from keras_transformer.zoo.tasks.itn_numbers import SHORT_TEXT_DEFAULTS
from keras_transformer.zoo.tasks.task import DatasetSource, Task


def describe_data(sizes):
    return (
        "`babel_dates` (config `default`), built offline by `keras_transformer.data` with the `babel` library "
        "(BSD-3-Clause) and the CLDR locale data it ships (Unicode licence): every date from 1950-01-01 to "
        "2049-12-31 written by `babel.dates.format_date` in the locales en, ja, fr, de, es and the formats "
        "full, long, medium, short, with its ISO 8601 form as the target. Short formats write two-digit years; "
        "the 100-year range keeps each two-digit year to one century (50-99 -> 19xx, 00-49 -> 20xx). "
        f"Split BY DATE (crc32 of the ISO date): train {sizes['train']:,}, validation {sizes['validation']:,}, "
        f"test {sizes['test']:,} examples; every wording of a date is in one split, so the test dates were "
        "never seen."
    )


TASK = Task(
    source=DatasetSource(dataset="babel_dates", config="default", source_field="text", target_field="iso", group_fields=("locale", "format")),
    name="dates_iso",
    description="Dates written in English, Japanese, French, German or Spanish (full, long, medium, short) -> "
    "ISO 8601",
    describe_data=describe_data,
    group_names={"format": dict(enumerate(DATE_FORMATS))},
    ambiguous_inputs=True,
    defaults=SHORT_TEXT_DEFAULTS,
    output_check="iso_date",
    examples=(
        ("Friday, January 5, 2024", "2024-01-05"),
        ("mercredi 27 septembre 2023", "2023-09-27"),
        ("5. März 1961", "1961-03-05"),
        ("2024年1月5日金曜日", "2024-01-05"),
        ("12 de octubre de 1992", "1992-10-12"),
        ("23.04.87", "1987-04-23"),
    ),
    notes=(
        "English short dates (M/d/yy) and Spanish short dates (d/M/yy) are the same text when the day is "
        '12 or less, e.g. "3/6/99" (March 6 in en, June 3 in es); the model cannot know the locale and '
        "gives one reading, which is wrong against the dataset's target whenever the other locale wrote the "
        "text (the Metrics section counts them; the training split holds the same texts with the other "
        "reading, from the other locale and the swapped date). "
        "Two-digit years are read in 1950-2049. Dates outside 1950-2049, other locales, other patterns "
        "(ISO input, abbreviations other than CLDR's) and misspellings are outside the training data."
        " The zoo's target for this model is 99.5% exact match. Against the dataset's single target the "
        "ambiguous short dates hold every model below that (each such text has one right answer per locale that "
        "wrote it, and the text does not say which), so the figures to hold against the target are the exact match "
        "on the unambiguous inputs and the exact match accepting any valid reading (Metrics)."
    ),
)
