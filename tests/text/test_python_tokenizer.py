"""`PythonTokenizer` gives exactly the TensorFlow `Tokenizer`'s ids and texts: on every zoo model's test
inputs, on adversarial strings, and with TensorFlow's lowercasing table checked against TensorFlow."""

import importlib.util
import json
import pathlib
import random
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer import zoo
from keras_transformer.text import PythonTokenizer, Tokenizer
from keras_transformer.text.python_tokenizer import lowercase
from tests.zoo_inputs import test_split_pairs

ROOT = pathlib.Path(__file__).resolve().parents[2]

ADVERSARIAL = [
    "",
    "plain ascii, Mixed CASE 123",
    "Ça déjà vu, naïve façade, Ångström",  # precomposed accents
    "e\u0301 a\u0308 n\u0303 A\u030a",  # letters followed by combining marks
    "日本語のテキストです。カタカナも　全角スペース",  # CJK, U+3000 (not ASCII whitespace)
    "smile 😀, family 👨\u200d👩\u200d👧, flag 🇯🇵, skin 👍🏽",
    "שלום עולם مرحبا بالعالم",
    "  runs\t\tof \n\n whitespace\r\n\v\f  ",
    "nbsp\u00a0nel\u0085fs\x1cus\x1f",  # Unicode but not ASCII whitespace
    "İstanbul İ",  # İ lowercases to i + U+0307 (two code points)
    "STRASSE ẞ ß",
    "ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ' Α'Σ ΑΣ\u0301 ΑΣ\u00adΑ ΣΣΣ ΑΣ1",  # Greek final sigma in its contexts
    "ΑΣⰯ Ⱟ Ꟁ 𐕰𐕱",  # cased in Python's Unicode, not in TensorFlow's
    "ǅ ǈ ǋ ǲ ﬀ ﬁ Ω K Å ı",  # titlecase digraphs, ligatures, ohm / kelvin / angstrom signs, dotless i
    "Ꭰ Ᏸ ᲐᲑᲒ 𐐀𐐁 Ａ Ｚ",  # Cherokee, Georgian Mtavruli, Deseret, fullwidth Latin
    "before\x00after NUL",
    "\x00",
    "x" * 100,  # longer than max_length
]
INVALID_UTF8 = [
    b"\xff",
    b"a\xffb",
    b"\xe2\x82",
    b"\xe2\x82a",
    b"\xf0\x9f\x98",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xc0\xaf",  # overlong
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\x80\x80 A\xc3",
    "ΟΔΟΣ".encode() + b"\xff",
]


def both(vocabulary, split, lowercase):
    return Tokenizer(vocabulary, split=split, lowercase=lowercase), PythonTokenizer(
        vocabulary, split=split, lowercase=lowercase
    )


def assert_same_ids(tf_tokenizer, python_tokenizer, texts, max_length=None):
    for start in range(0, len(texts), 4096):
        chunk = texts[start : start + 4096]
        expected = tf_tokenizer.tokenize(chunk, max_length=max_length).to_list()
        got = python_tokenizer.tokenize(chunk, max_length=max_length)
        different = [(t, e, g) for t, e, g in zip(chunk, expected, got) if e != g]
        assert not different, f"{len(different)} of {len(chunk)} texts differ, e.g. {different[:3]}"


@pytest.mark.parametrize("split", ["characters", "whitespace"])
@pytest.mark.parametrize("lower", [False, True])
def test_adversarial_strings_give_the_same_ids(split, lower):
    texts = ADVERSARIAL + INVALID_UTF8
    # Most symbols in the vocabulary, some left out (unknown ids): what the TF tokenizer finds.
    found = Tokenizer.from_corpus(texts, split=split, lowercase=lower).vocabulary
    vocabulary = [symbol for index, symbol in enumerate(found) if index % 7]
    tf_tokenizer, python_tokenizer = both(vocabulary, split, lower)
    assert_same_ids(tf_tokenizer, python_tokenizer, texts)
    assert_same_ids(tf_tokenizer, python_tokenizer, texts, max_length=5)
    for text in texts:  # one text at a time: the scalar form
        assert python_tokenizer.tokenize(text) == tf_tokenizer.tokenize(text).numpy().tolist()


def test_lowercase_equals_tensorflow_on_random_tricky_strings():
    # Cased letters, Σ, case-ignorable marks and punctuation, letters whose case changed after
    # TensorFlow's Unicode version, NUL, and plain ASCII, in random order.
    pool = list("ΑΣσςΟΔaZ .,'’\u0301\u0345\u00ad\u02b0\u1d2c\u2c2f\u2c5fꟀ𐕰İIıẞ\x00 -\u200d日ǅⅫⓐ")
    rng = random.Random(0)
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    expected = [t.decode("utf-8") for t in tf.strings.lower(tf.constant(texts), encoding="utf-8").numpy()]
    different = [(t, e, lowercase(t)) for t, e in zip(texts, expected) if lowercase(t) != e]
    assert not different, f"{len(different)} of {len(texts)} differ, e.g. {different[:3]}"


def test_detokenize_equals_tensorflow():
    rng = random.Random(1)
    for split in ("characters", "whitespace"):
        tf_tokenizer, python_tokenizer = both(["a", "é", "日", "😀", "Σ"], split, False)
        rows = [[rng.randint(-2, 12) for _ in range(rng.randint(0, 9))] for _ in range(300)]
        expected = [t.decode("utf-8") for t in tf_tokenizer.detokenize(rows).numpy()]
        assert python_tokenizer.detokenize(rows) == expected
        width = max(map(len, rows))
        dense = np.array([row + [0] * (width - len(row)) for row in rows], np.int32)
        assert python_tokenizer.detokenize(dense) == expected
        assert python_tokenizer.detokenize(rows[3]) == tf_tokenizer.detokenize(rows[3]).numpy().decode("utf-8")


def test_loads_the_same_vocabulary_file(tmp_path):
    tokenizer = Tokenizer(["AH0", "B"], split="whitespace", lowercase=True)
    tokenizer.save(str(tmp_path / "vocabulary.json"))
    loaded = PythonTokenizer.load(tmp_path / "vocabulary.json")
    assert (loaded.vocabulary, loaded.split, loaded.lowercase) == (["AH0", "B"], "whitespace", True)
    assert loaded.vocabulary_size == tokenizer.vocabulary_size and loaded.unknown_text == "<unk>"
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a Tokenizer file"):
        PythonTokenizer.load(tmp_path / "other.json")


def test_refuses_what_tokenizer_refuses():
    with pytest.raises(ValueError, match="one code point"):
        PythonTokenizer(["ab"])
    with pytest.raises(ValueError, match="reserved symbol"):
        PythonTokenizer(["<unk>"], split="whitespace")
    with pytest.raises(ValueError, match="split"):
        PythonTokenizer(["a"], split="words")
    with pytest.raises(ValueError, match="max_length"):
        PythonTokenizer(["a"]).tokenize(["a"], max_length=0)
    with pytest.raises(TypeError, match="int"):
        PythonTokenizer(["a"]).tokenize([3])
    with pytest.raises(TypeError, match="integer token ids"):
        PythonTokenizer(["a"]).detokenize([[4, 1.5]])


def test_imports_no_tensorflow():
    code = (
        "import sys\n"
        "from keras_transformer.text import PythonTokenizer\n"
        "t = PythonTokenizer(['a', 'σ', 'ς'], lowercase=True)\n"
        "assert t.tokenize(['AΣ Σ']) == [[4, 6, 3, 5]], t.tokenize(['AΣ Σ'])\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr

@pytest.mark.parametrize("name", zoo.list_models(kind=zoo.SEQ2SEQ))
def test_zoo_model_test_inputs_give_the_same_ids(name):
    directory = zoo.model_dir(name)
    info = zoo.read_settings(directory)[0]
    max_length = json.loads((directory / "config.json").read_text())["max_length"]
    sources, targets = (list(side) for side in zip(*test_split_pairs(info)))
    assert sources, f"{name}: no test inputs"
    for side, texts in (("source", sources), ("target", targets)):
        path = directory / f"{side}_vocabulary.json"
        tf_tokenizer, python_tokenizer = Tokenizer.load(str(path)), PythonTokenizer.load(path)
        assert_same_ids(tf_tokenizer, python_tokenizer, texts, max_length=max_length)
    # The way back: the targets' ids (an end id appended) detokenize to the same texts.
    target_tf, target_python = (
        Tokenizer.load(str(directory / "target_vocabulary.json")),
        PythonTokenizer.load(directory / "target_vocabulary.json"),
    )
    rows = [ids + [target_python.end_id, 5] for ids in target_python.tokenize(targets)]
    expected = [t.decode("utf-8") for t in target_tf.detokenize(rows).numpy()]
    assert target_python.detokenize(rows) == expected


def test_lowercase_table_is_tensorflows():
    spec = importlib.util.spec_from_file_location("tf_lowercase", ROOT / "benchmarks" / "tf_lowercase.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert builder.main(["--check"]) == 0, "run `python benchmarks/tf_lowercase.py` to rewrite the table"
