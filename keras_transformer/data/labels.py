"""The class labels of the datasets' label fields, by index, importable without TensorFlow Datasets
(the zoo tasks' declarations name them in `--help` and in their breakdowns)."""

# num2words_itn: `language`, `kind` and `variant` (the spellings people type: dataset version 1.1.0).
NUM2WORDS_LANGUAGES = ("en", "ja")
NUM2WORDS_KINDS = ("cardinal", "ordinal", "year")
NUM2WORDS_VARIANTS = ("num2words", "no_hyphen", "no_and", "no_comma", "a_hundred", "capitalized", "typed")

# babel_dates: `format`.
DATE_FORMATS = ("full", "long", "medium", "short")
