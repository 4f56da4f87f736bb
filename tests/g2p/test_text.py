"""`tokenize` and `fold` of `keras_transformer.g2p.text`: a table of sentences with their tokens, the
robustness inputs (empty, long, binary junk, lone surrogates, emoji) and the docstring examples."""

import doctest
import random

import pytest

from keras_transformer.errors import InvalidTypeError
from keras_transformer.g2p import text
from keras_transformer.g2p.text import Token, fold, tokenize


def W(token):
    return Token(token, "word")


def N(token):
    return Token(token, "number")


def P(token):
    return Token(token, "punctuation")


CASES = [
    # words, apostrophes and hyphens
    ("Hello world", [W("Hello"), W("world")]),
    ("don't o'clock rock'n'roll", [W("don't"), W("o'clock"), W("rock'n'roll")]),
    ("well-known mother-in-law", [W("well-known"), W("mother-in-law")]),
    ("don’t ‘twas ʼem", [W("don’t"), W("‘twas"), W("ʼem")]),
    ("'hello'", [P("'"), W("hello"), P("'")]),
    ("“Quoted,” she said.", [P("“"), W("Quoted"), P(","), P("”"), W("she"), W("said"), P(".")]),
    ("the dogs' bones", [W("the"), W("dogs"), P("'"), W("bones")]),
    ("the dog's bone", [W("the"), W("dog's"), W("bone")]),
    ("tell 'em 'til 'tis 'cause 'bout", [W("tell"), W("'em"), W("'til"), W("'tis"), W("'cause"), W("'bout")]),
    ("rock 'n' roll", [W("rock"), W("'n"), P("'"), W("roll")]),
    ("'twas", [W("'twas")]),
    ("'hello", [P("'"), W("hello")]),
    ("-hello- a--b", [P("-"), W("hello"), P("-"), W("a"), P("-"), P("-"), W("b")]),
    ("snake_case", [W("snake"), P("_"), W("case")]),
    # abbreviations and periods
    ("U.S. and e.g. i.e.", [W("U.S."), W("and"), W("e.g."), W("i.e.")]),
    ("I live in the U.S.A.", [W("I"), W("live"), W("in"), W("the"), W("U.S.A.")]),
    ("e.g., at 7 p.m.", [W("e.g."), P(","), W("at"), N("7"), W("p.m.")]),
    ("Mr. Smith", [W("Mr"), P("."), W("Smith")]),
    ("end.Next", [W("end"), P("."), W("Next")]),
    ("Plan B.", [W("Plan"), W("B"), P(".")]),
    ("Wait...", [W("Wait"), P("."), P("."), P(".")]),
    # numbers
    ("I have 3.", [W("I"), W("have"), N("3"), P(".")]),
    ("pi is 3.14.", [W("pi"), W("is"), N("3.14"), P(".")]),
    ("1,234,567 and 1,2,3", [N("1,234,567"), W("and"), N("1"), P(","), N("2"), P(","), N("3")]),
    ("1,000th 1,00", [N("1,000th"), N("1"), P(","), N("00")]),
    (".5 -.5 -5 −5", [N(".5"), N("-.5"), N("-5"), N("−5")]),
    ("3−2 5-3 x-5", [N("3"), P("−"), N("2"), N("5"), P("-"), N("3"), N("x-5")]),
    ("1990-1995 555-1234", [N("1990"), P("-"), N("1995"), N("555"), P("-"), N("1234")]),
    ("1st 22nd 3rd 4th", [N("1st"), N("22nd"), N("3rd"), N("4th")]),
    ("50% 3.5%.", [N("50%"), N("3.5%"), P(".")]),
    ("$5 $3.50 €10 £2 ¥100 5€", [N("$5"), N("$3.50"), N("€10"), N("£2"), N("¥100"), N("5€")]),
    ("-$5 $.99 US$5 $5M", [N("-$5"), N("$.99"), W("US"), N("$5"), N("$5M")]),
    ("($5)", [P("("), N("$5"), P(")")]),
    ("10:30 9:05am 7pm", [N("10:30"), N("9:05am"), N("7pm")]),
    ("Time: 10:30.", [W("Time"), P(":"), N("10:30"), P(".")]),
    ("MP3 COVID-19 4x4 B2B 3D mp3s", [N("MP3"), N("COVID-19"), N("4x4"), N("B2B"), N("3D"), N("mp3s")]),
    ("the '90s and 1990s", [W("the"), N("'90s"), W("and"), N("1990s")]),
    ("19-year-old", [N("19-year-old")]),
    ("1.2.3 192.168.0.1", [N("1.2.3"), N("192.168.0.1")]),
    ("１２３ ٣٤", [N("１２３"), N("٣٤")]),
    # symbols and other punctuation
    ("A & B @ C + = # ° %", [W("A"), P("&"), W("B"), P("@"), W("C"), P("+"), P("="), P("#"), P("°"), P("%")]),
    ("x² (…) — ½", [W("x"), P("²"), P("("), P("…"), P(")"), P("—"), P("½")]),
    ("Hi!?", [W("Hi"), P("!"), P("?")]),
    # other scripts and accents
    ("Café naïve", [W("Café"), W("naïve")]),
    ("Cafe\u0301", [W("Cafe\u0301")]),
    ("東京は晴れ。", [W("東京は晴れ"), P("。")]),
    ("Привет, мир!", [W("Привет"), P(","), W("мир"), P("!")]),
    ("東京2020", [N("東京2020")]),
    # whitespace, control characters, emoji, surrogates
    ("", []),
    (" \t\n\r\v\f\u00a0\u2003\u3000\u2028", []),
    ("\ta\n\nb  c\u00a0d", [W("a"), W("b"), W("c"), W("d")]),
    ("\x00a\x01b\x7f", [P("\x00"), W("a"), P("\x01"), W("b"), P("\x7f")]),
    ("ok 😀!", [W("ok"), P("😀"), P("!")]),
    ("👨\u200d👩\u200d👧", [P("👨"), P("\u200d"), P("👩"), P("\u200d"), P("👧")]),
    ("\ud800x\udfff", [P("\ud800"), W("x"), P("\udfff")]),
]


@pytest.mark.parametrize("source, expected", CASES, ids=[repr(source)[:40] for source, _ in CASES])
def test_tokenize(source, expected):
    assert tokenize(source) == expected


FOLDS = [
    ("Café", "cafe"),
    ("Cafe\u0301", "cafe"),
    ("HELLO", "hello"),
    ("don’t", "don't"),
    ("‘em", "'em"),
    ("ʼtil", "'til"),
    ("well\u2010known", "well-known"),
    ("Ǆ", "dz"),
    ("ﬁne", "fine"),
    ("Straße", "strasse"),
    ("Ångström", "angstrom"),
    ("U.S.", "u.s."),
    ("Привет", "привет"),
    ("", ""),
]


@pytest.mark.parametrize("word, expected", FOLDS)
def test_fold(word, expected):
    assert fold(word) == expected


def _check_invariants(source):
    tokens = tokenize(source)
    # Nothing but whitespace is dropped, and no token holds any.
    assert "".join(token.text for token in tokens) == "".join(source.split())
    for token in tokens:
        assert token.kind in ("word", "number", "punctuation")
        assert token.text and not any(character.isspace() for character in token.text)
        if token.kind == "punctuation":
            assert len(token.text) == 1
    return tokens


def test_long_text_and_pathological_runs():
    unit = "Don't pay $3.50 for 'em, e.g. the U.S. in 1999 at 10:30pm (50%)! "
    source = (unit * (100_000 // len(unit) + 1))[:100_000]
    tokens = _check_invariants(source)
    assert len(tokens) > 10_000
    for source in ["a-" * 50_000, "1," * 50_000, "1." * 50_000, "a." * 50_000, "'" * 100_000, "x" * 100_000]:
        _check_invariants(source)
    assert tokenize("7" * 100_000) == [N("7" * 100_000)]


def test_random_bytes_and_strings():
    generator = random.Random(0)
    for _ in range(100):
        junk = bytes(generator.randrange(256) for _ in range(200))
        _check_invariants(junk.decode("utf-8", errors="surrogateescape"))
        _check_invariants(junk.decode("utf-8", errors="replace"))
    alphabet = "aZé\u0301 1'’-.,:$€%°&\t\n\x00😀\u200d東\ud800"
    for _ in range(300):
        _check_invariants("".join(generator.choice(alphabet) for _ in range(generator.randrange(30))))


@pytest.mark.parametrize("value", [b"bytes", None, 3, ["a list"]])
def test_tokenize_rejects_non_str(value):
    with pytest.raises(InvalidTypeError, match=f"`text` must be a str. Received: text of type {type(value).__name__}"):
        tokenize(value)
    with pytest.raises(TypeError, match="`word` must be a str"):
        fold(value)


def test_docstring_examples_run():
    result = doctest.testmod(text, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_the_plain_prose_shortcut_splits_as_the_whole_path():
    """`tokenize` takes a shortcut for plain ASCII prose; on every text it takes it for, its tokens are the
    whole path's (`text._tokens`): running text, and random ASCII strings rich in the characters that
    matter (apostrophes, hyphens, periods, quotes)."""
    import random

    from keras_transformer.g2p import text as module

    rng = random.Random(0)
    alphabet = "abcXYZ'-.,!?\"() \t\n;:_/&*"
    texts = ["Then Jesus said, \"Don't be afraid--it's I.\" They were well-known men's sons'.",
             "rock'n'roll o'clock 'tis -hyphen- 'quoted' a.b. U.S. e.g. ...!?", "Mr. Smith, Mrs. Jones & co."]  # fmt: skip
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(5000)]
    shortcut = 0
    for sample in texts:
        if module._NOT_SIMPLE.search(sample) is None:
            shortcut += 1
            assert tokenize(sample) == module._tokens(sample), sample
    assert shortcut > 2000
