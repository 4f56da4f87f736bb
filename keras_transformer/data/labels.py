"""The class labels of the datasets' label fields, by index, and the rule `num2words_itn` writes
ordinals by, importable without TensorFlow Datasets (the zoo tasks' declarations name the labels in
`--help` and in their breakdowns; `zoo.confidence` checks ITN outputs against the rule)."""

# num2words_itn: `language`, `kind` and `variant` (the spellings people type: dataset version 1.1.0).
NUM2WORDS_LANGUAGES = ("en", "ja")
NUM2WORDS_KINDS = ("cardinal", "ordinal", "year")
NUM2WORDS_VARIANTS = ("num2words", "no_hyphen", "no_and", "no_comma", "a_hundred", "capitalized", "typed")

# babel_dates: `format`.
DATE_FORMATS = ("full", "long", "medium", "short")


def english_ordinal_suffix(number):
    """ "st", "nd", "rd" or "th", as written after digits ("21st", "12th").

    Example:
    >>> [f"{n}{english_ordinal_suffix(n)}" for n in (1, 2, 3, 4, 11, 12, 13, 21, 102, 111)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '102nd', '111th']
    """
    if number % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
