"""The `itn_numbers` task: inverse text normalization of numbers, English and Japanese number words
-> digits (`keras_transformer.data.num2words_itn`), rare kinds and short numbers oversampled."""

from keras_transformer.data.labels import NUM2WORDS_KINDS, NUM2WORDS_VARIANTS
from keras_transformer.zoo.tasks.task import DatasetSource, Task

# Option defaults shared by the short-text tasks (itn_numbers, dates_iso): a 2+2-layer pre-LN compact
# model, large bucketed batches, a short warmup, fixed-size epochs and a 20-minute budget.
SHORT_TEXT_DEFAULTS = {
    "size": "compact",
    "num_layers": 2,
    "dropout": 0.0,
    "normalize_first": True,
    "learning_rate_scale": 0.8,
    "batch_tokens": 4096,
    "warmup_steps": 1000,
    "steps_per_epoch": 300,
    "patience": 100,
    "time_budget_minutes": 20.0,
    "validation_examples": 4000,
}

# The dataset's class labels, by index (its `kind` and `variant` fields).
ITN_KINDS, ITN_VARIANTS = NUM2WORDS_KINDS, NUM2WORDS_VARIANTS
ITN_YEAR_REPEATS = 8
ITN_SMALL_REPEATS = 16  # numbers below 1,000: 1% of the data, and the ones people type most
# One- and two-digit numbers are rarer still (0.01% and 0.09%) and the most typed of all.
ITN_SHORT_REPEATS = {10: 128, 100: 32}


def itn_repeats(split, index):
    """How many times `itn_numbers` training example `index` is used a pass: rare kinds and short
    numbers more; capitalized spellings never (the source is lowercased, so they repeat another example)."""
    if "variant" in split.groups and ITN_VARIANTS[split.groups["variant"][index]] == "capitalized":
        return 0
    if ITN_KINDS[split.groups["kind"][index]] == "year":
        return ITN_YEAR_REPEATS
    number = int("".join(c for c in split.targets[index] if c.isdigit()))
    for below, count in sorted(ITN_SHORT_REPEATS.items()):
        if number < below:
            return count
    return ITN_SMALL_REPEATS if number < 1000 else 1


def describe_data(sizes):
    return (
        "`num2words_itn` (config `default`), built offline by `keras_transformer.data` with the `num2words` "
        "library (LGPL-2.1; the library generates the data, the generated number/words pairs are ours and "
        "carry no licence beyond this repository's): every number 0..99,999 as a cardinal and as an ordinal, "
        "and every year 1000..2099, in English and Japanese (Japanese years are written with era names, "
        "e.g. 平成十一年 -> 1999年). "
        f"Split BY NUMBER (crc32 of the number): train {sizes['train']:,}, validation {sizes['validation']:,}, "
        f"test {sizes['test']:,} examples; every wording of a number (language, kind) is in one split, so the "
        f"test numbers were never seen. English numbers also come in the spellings people type (dataset version "
        "1.1.0, the `variant` field): without hyphens (twenty one), without \"and\" (one hundred five), without "
        "commas, with \"a hundred\" / \"a thousand\" for a leading \"one\", in capitals or title case, and all of "
        "these at once (\"typed\"); each variant of a number is in that number's split. "
        f"Each year example is repeated {ITN_YEAR_REPEATS} times in a training pass, "
        f"and each cardinal or ordinal below 1,000 {ITN_SMALL_REPEATS} times (they are 1% of the data), below 100 "
        f"{ITN_SHORT_REPEATS[100]} times and below 10 {ITN_SHORT_REPEATS[10]} times; the capitalized variant is left "
        "out of training (the source is lowercased, so it repeats another example)."
    )


TASK = Task(
    source=DatasetSource(dataset="num2words_itn", config="default", source_field="text", target_field="digits", group_fields=("language", "kind", "variant")),
    name="itn_numbers",
    description="Inverse text normalization of numbers: English and Japanese number words (cardinals, ordinals, "
    "years) -> digits",
    describe_data=describe_data,
    group_names={"kind": dict(enumerate(ITN_KINDS)), "variant": dict(enumerate(ITN_VARIANTS))},
    oversample=itn_repeats,
    defaults=SHORT_TEXT_DEFAULTS,
    output_check="number",
    examples=(
        ("two thousand and twenty-four", "2024"),
        ("twenty one", "21"),
        ("A hundred five", "105"),
        ("forty-two thousand, one hundred and seventh", "42107th"),
        ("nineteen ninety-nine", "1999"),
        ("八万六千五百二十七", "86527"),
        ("二十一番目", "21番目"),
        ("平成十一年", "1999年"),
    ),
    notes=(
        "Numbers above 99,999, negative numbers, decimals and fractions are outside the training data, and so "
        'are sentences around a number ("the twenty-first"), digits mixed with words and misspellings. English '
        'may leave out hyphens, "and" and commas, say "a hundred", and use any case (the test split measures '
        "each spelling, see Metrics); Japanese must be kanji numerals as num2words writes them. Japanese years "
        "before 1000 are not covered."
    ),
)
