"""Train the `itn_numbers` zoo model: number words -> digits (English and Japanese cardinals, ordinals
and years), on the offline `num2words_itn` TFDS builder, and package it into `saved_models/itn_numbers/`.

    "two thousand and twenty-four" -> "2024"     "twenty-first" -> "21st"     "nineteen ninety-nine" -> "1999"
    "二千二十四" -> "2024"     "二十一番目" -> "21番目"     "平成十一年" -> "1999年"

One command trains (seeded, bucketed batches, paper schedule, label smoothing, best checkpoint by
validation loss, time budget), scores the validation split, writes the zoo folder, measures it on the
test split with `keras-transformer evaluate itn_numbers` and writes the numbers into its card:

    python examples/train_itn.py --time-budget-minutes 20        # the zoo model
    python examples/train_itn.py --max-examples 3000 --time-budget-minutes 1 --no-package   # a smoke run

Years are rare in the data (about 1,000 a language against 90,000 cardinals and 90,000 ordinals)
and Japanese years need the era's first year (平成 = 1989), so the training pass repeats every year
example `YEAR_REPEATS` times; numbers below 1,000 (1% of the data, and what people write most) are
repeated `SMALL_REPEATS` times.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # examples/ is not a package

import seq2seq_recipe as recipe  # noqa: E402

KINDS = ("cardinal", "ordinal", "year")
YEAR = KINDS.index("year")
YEAR_REPEATS = 8
SMALL_REPEATS = 16  # numbers below 1,000: 1% of the data, and the ones people type most
# One- and two-digit numbers are rarer still (0.01% and 0.09%) and the most typed of all.
SHORT_REPEATS = {10: 128, 100: 32}


def repeats(columns, index):
    """How many times training example `index` is used a pass: rare kinds and short numbers more."""
    if columns["kind"][index] == YEAR:
        return YEAR_REPEATS
    digits = "".join(c for c in columns["digits"][index] if c.isdigit())
    number = int(digits)
    for below, count in sorted(SHORT_REPEATS.items()):
        if number < below:
            return count
    return SMALL_REPEATS if number < 1000 else 1


def describe_data(sizes):
    return (
        "`num2words_itn` (config `default`), built offline by `keras_transformer.data` with the `num2words` "
        "library (LGPL-2.1; the library generates the data, the generated number/words pairs are ours and "
        "carry no licence beyond this repository's): every number 0..99,999 as a cardinal and as an ordinal, "
        "and every year 1000..2099, in English and Japanese (Japanese years are written with era names, "
        "e.g. 平成十一年 -> 1999年). "
        f"Split BY NUMBER (crc32 of the number): train {sizes['train']:,}, validation {sizes['validation']:,}, "
        f"test {sizes['test']:,} examples; every wording of a number (language, kind) is in one split, so the "
        f"test numbers were never seen. Each year example is repeated {YEAR_REPEATS} times in a training pass, "
        f"and each cardinal or ordinal below 1,000 {SMALL_REPEATS} times (they are 1% of the data), below 100 "
        f"{SHORT_REPEATS[100]} times and below 10 {SHORT_REPEATS[10]} times."
    )


TASK = recipe.ZooTask(
    name="itn_numbers",
    script="train_itn.py",
    task="Inverse text normalization of numbers: English and Japanese number words (cardinals, ordinals, years) -> digits",
    dataset="num2words_itn",
    dataset_config="default",
    source_field="text",
    target_field="digits",
    group_fields=("language", "kind"),
    group_names={"kind": dict(enumerate(KINDS))},
    oversample=repeats,
    defaults=recipe.SHORT_TEXT_DEFAULTS,
    describe_data=describe_data,
    examples=(
        ("two thousand and twenty-four", "2024"),
        ("forty-two thousand, one hundred and seventh", "42107th"),
        ("nineteen ninety-nine", "1999"),
        ("八万六千五百二十七", "86527"),
        ("二十一番目", "21番目"),
        ("平成十一年", "1999年"),
    ),
    notes=(
        "Numbers above 99,999, negative numbers, decimals and fractions are outside the training data; "
        "inputs must be written the way num2words writes them (English: \"and\" after hundreds, commas "
        "after thousands, hyphenated tens; Japanese: kanji numerals). Japanese years before 1000 are "
        "not covered."
    ),
)


def main(argv=None):
    return recipe.run_zoo_task(TASK, argv)


if __name__ == "__main__":
    main()
