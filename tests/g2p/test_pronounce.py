"""`g2p.pronounce` and `keras-transformer pronounce`: lexicons first, numbers read aloud, the model for the
rest in one batch, and no input that crashes it."""

import json
import os
import random
import subprocess
import sys

import pytest

from keras_transformer import cli, zoo
from keras_transformer.data import cmudict_file
from keras_transformer.g2p import LexiconError, Pronouncer, pronounce


@pytest.fixture(scope="module")
def reference():
    """CMUdict as the dataset builder parses it: word -> pronunciations, first the preferred."""
    with open(cmudict_file.default_source_path(), encoding="utf-8") as handle:
        return cmudict_file.parse_dictionary(handle)


class CountingModel:
    """A stand-in zoo model that records each `predict` call and answers "M" + the word's length."""

    def __init__(self):
        self.calls = []

    def predict(self, texts, **_):
        self.calls.append(list(texts))
        return [f"M{len(text)}" for text in texts]


def _sentences(words, rng):
    """`words` written as running text: sentences of 3-12 words, capitals at the start, commas,
    quotes, parentheses, all capitals now and then, tabs and newlines between some words."""
    sentences, index = [], 0
    while index < len(words):
        size = rng.randint(3, 12)
        chunk = words[index : index + size]
        index += size
        shown = [word.upper() if rng.random() < 0.05 else word for word in chunk]
        shown[0] = shown[0][:1].upper() + shown[0][1:]
        if len(shown) > 3:
            shown[1] += ","
            shown[2] = f"({shown[2]})"
            shown[3] = f'"{shown[3]}"'
        gap = rng.choice([" ", "  ", "\t", "\n"])
        sentences.append(gap.join(shown) + rng.choice([".", "!", "?", ";", " —"]))
    return " ".join(sentences)


def test_every_cmudict_word_in_running_text_gets_its_first_cmudict_pronunciation(reference):
    rng = random.Random(0)
    # Letters, apostrophes and hyphens inside: what running text spells (CMUdict's entries with periods,
    # digits or a leading apostrophe are abbreviations and clitics a text writes otherwise).
    words = [word for word in reference if word[0].isalpha() and word[-1].isalpha() and set(word) <= set("abcdefghijklmnopqrstuvwxyz'-")]
    sample = rng.sample(words, 6000)
    model = CountingModel()
    tokens = Pronouncer(model=model)(_sentences(sample, rng))
    spoken = [token for token in tokens if token.source != "punctuation"]
    assert [token.token.lower() for token in spoken] == sample
    wrong = [(t.token, t.phonemes, t.source) for t, w in zip(spoken, sample) if (t.phonemes, t.source) != (reference[w][0], "lexicon")]
    assert not wrong, f"{len(wrong)} of {len(sample)} words, e.g. {wrong[:5]}"
    assert model.calls == []  # every word was listed


def test_punctuation_numbers_and_unknown_words():
    model = CountingModel()
    tokens = Pronouncer(model=model)('I read 3 books, "blorptastic" ones.')
    assert [(t.token, t.source) for t in tokens] == [
        ("I", "lexicon"), ("read", "lexicon"), ("3", "cardinal"), ("books", "lexicon"), (",", "punctuation"),
        ('"', "punctuation"), ("blorptastic", "model"), ('"', "punctuation"), ("ones", "lexicon"), (".", "punctuation"),
    ]  # fmt: skip
    assert [t.phonemes for t in tokens][:4] == ["AY1", "R EH1 D", "TH R IY1", "B UH1 K S"]
    assert tokens[6].phonemes == "M11" and tokens[4].phonemes == ""


def test_titles_before_a_period_are_read_out(reference):
    tokens = Pronouncer(model=CountingModel())("Dr. Who met Dr Who and St. John vs. Mr. X.")
    said = [(t.token, t.phonemes, t.source) for t in tokens if t.source != "punctuation"]
    assert said[0] == ("Dr", reference["doctor"][0], "abbreviation")
    assert said[3] == ("Dr", reference["dr"][0], "lexicon")  # no period: CMUdict's own entry
    assert [s[1] for s in said[6:10]] == [reference["saint"][0], reference["john"][0], reference["versus"][0], reference["mister"][0]]


def test_the_model_runs_once_a_call_on_each_distinct_unlisted_word():
    model = CountingModel()
    pronouncer = Pronouncer(model=model)
    texts = ["Zorbly and FLIMWOX", "the zorbly quandrix", "", "Quandrix? zorbly!"]
    results = pronouncer.pronounce(texts)
    assert model.calls == [["zorbly", "flimwox", "quandrix"]]  # shortest first, each once
    assert [[t.phonemes for t in tokens if t.source == "model"] for tokens in results] == [
        ["M6", "M7"], ["M6", "M8"], [], ["M8", "M6"]
    ]
    assert results[2] == []
    tokens = pronouncer("zorbly flimwox zorbly-quorf")  # remembered; only the new part runs
    assert model.calls[1:] == [["quorf"]]
    assert [t.phonemes for t in tokens] == ["M6", "M7", "M6 M5"]


def test_unlisted_words_get_what_the_zoo_model_says_alone():
    words = ["blorptastic", "quandrix", "zorbly", "flimwoxed", "snargle"]
    texts = [f"The {words[0]} {words[1]}.", f"{words[2].title()}, {words[3]}; {words[4]}!"]
    results = pronounce(texts)
    found = {t.token.lower(): t.phonemes for tokens in results for t in tokens if t.source == "model"}
    model = zoo.load("g2p_en", runtime="litert")
    assert found == {word: model.predict([word])[0] for word in words}


def test_the_model_runs_in_ctranslate2_by_default_and_in_the_runtime_asked_for():
    assert type(Pronouncer().model.runtime).__name__ == "CTranslate2Pipeline"
    assert type(Pronouncer(runtime="litert").model.runtime).__name__ == "LiteRTPipeline"
    texts = ["Zorbly flimwoxed the quandrix.", "Snargle!"]
    assert Pronouncer().pronounce(texts) == Pronouncer(runtime="litert").pronounce(texts)


def test_user_lexicon_comes_first_then_cmudict(tmp_path):
    path = tmp_path / "names.dict"
    path.write_text("keras K EH1 R AH0 S\nread R IY1 D\n", encoding="utf-8")
    tokens = pronounce("Keras read TensorFlow", lexicon=str(path), model=CountingModel())
    assert [(t.phonemes, t.source) for t in tokens[:2]] == [("K EH1 R AH0 S", "user lexicon"), ("R IY1 D", "user lexicon")]
    tokens = pronounce("keras", lexicon={"Keras": "K IH1 R AH0 S"}, model=CountingModel())
    assert tokens[0].phonemes == "K IH1 R AH0 S"
    bad = tmp_path / "bad.dict"
    bad.write_text("ok OW1 K EY1\nnope N OW1 PX\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"bad\.dict, line 2"):
        pronounce("x", lexicon=str(bad))


def test_compounds_capitals_accents_and_other_scripts(reference):
    model = CountingModel()
    pronouncer = Pronouncer(model=model)
    tokens = {t.token: t for t in pronouncer("mother-in-law well-kept zorbly-known GPU café Москва 東京 don't")}
    assert tokens["mother-in-law"].phonemes == reference["mother-in-law"][0]
    assert tokens["mother-in-law"].source == "lexicon"
    kept = tokens["well-kept"]
    if "well-kept" not in reference:
        assert kept.phonemes == f"{reference['well'][0]} {reference['kept'][0]}" and kept.source == "lexicon"
    assert (tokens["zorbly-known"].phonemes, tokens["zorbly-known"].source) == (f"M6 {reference['known'][0]}", "model+lexicon")
    assert tokens["GPU"].source == "letters"
    assert tokens["GPU"].phonemes == " ".join(reference[letter][0] for letter in "gpu")
    assert tokens["café"].phonemes == reference["cafe"][0]
    assert (tokens["Москва"].phonemes, tokens["Москва"].source) == ("", "unsupported")
    assert tokens["東京"].phonemes == "" and tokens["don't"].phonemes == reference["don't"][0]


@pytest.mark.parametrize(
    "text",
    [
        "", "   \t\n ", "😀👍🏽 👨‍👩‍👧", "a\x00b\x07c\x1b[31m", "\ud800 lone surrogate", "漢字かなカナ。",
        bytes(range(256)).decode("latin-1"), bytes(random.Random(1).randbytes(3000)).decode("utf-8", "surrogateescape"),
        "word " * 20_000,
    ],
    ids=["empty", "whitespace", "emoji", "control", "surrogate", "cjk", "latin1", "junk", "100k"],
)
def test_bad_text_never_crashes(text):
    tokens = Pronouncer(model=CountingModel())(text)
    assert all(isinstance(t.phonemes, str) and isinstance(t.source, str) for t in tokens)
    assert all(t.token.strip() for t in tokens)  # no whitespace tokens
    if not text.strip():
        assert tokens == []


def test_wrong_argument_types_are_named():
    with pytest.raises(TypeError, match="texts"):
        pronounce(None)
    with pytest.raises(TypeError, match="texts"):
        pronounce(b"bytes")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        pronounce(["fine", 3])
    with pytest.raises(TypeError, match="lexicon"):
        Pronouncer(lexicon=42)
    with pytest.raises(ValueError, match="nosuch"):  # before any word needs the model
        Pronouncer(model="nosuch")
    with pytest.raises(ValueError, match="model='minilm_l6' .a sentence encoder model"):
        Pronouncer(model="minilm_l6")


def test_cli_prints_a_line_a_token_and_json(capfd):
    assert cli.main(["pronounce", "I read 3 books.", "Hi"]) == 0
    out = capfd.readouterr().out
    assert out == "I\tAY1\tlexicon\nread\tR EH1 D\tlexicon\n3\tTH R IY1\tcardinal\nbooks\tB UH1 K S\tlexicon\n.\t\tpunctuation\n\nHi\tHH AY1\tlexicon\n"
    assert cli.main(["pronounce", "--json", "Hi!", ""]) == 0
    lines = capfd.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [
        [{"token": "Hi", "phonemes": "HH AY1", "source": "lexicon"}, {"token": "!", "phonemes": "", "source": "punctuation"}],
        [],
    ]


def test_cli_reads_stdin_and_names_bad_lexicon_lines(tmp_path):
    bad = tmp_path / "bad.dict"
    bad.write_text("fine F AY1 N\nbroken\n", encoding="utf-8")
    run = [sys.executable, "-m", "keras_transformer.cli", "pronounce"]
    junk = "hello\n\n\x00\x01 😀\n" + "x" * 100_000 + "\n" + bytes(range(128, 256)).decode("latin-1") + "\n"
    done = subprocess.run([*run, "--json"], input=junk, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 5 and json.loads(done.stdout.splitlines()[0])[0]["phonemes"] == "HH AH0 L OW1"
    raw = b"caf\xc3\xa9 \xff\xfe junk\n\x00\x01\n"  # bytes that are not UTF-8 on stdin, under a strict locale
    for mode in (["--json"], []):
        done = subprocess.run([*run, *mode], input=raw, capture_output=True, timeout=120, env={**os.environ, "LC_ALL": "en_US.UTF-8", "PYTHONUTF8": "0"})
        assert done.returncode == 0, done.stderr
        assert b"K AH0 F EY1" in done.stdout and b"JH AH1 NG K" in done.stdout
    done = subprocess.run([*run, "--lexicon", str(bad), "hello"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "bad.dict, line 2" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([*run], input="", capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "empty" in done.stderr


def test_pronouncing_imports_no_tensorflow():
    code = "import sys; from keras_transformer import g2p; print(g2p.pronounce('Zorbly read 3 books.')[0].source); print('tensorflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["model", "False"], done.stderr
