"""Tests for `keras_transformer.text.Tokenizer`: round trips over many scripts, edge cases, graphs, export."""

import doctest
import json

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.text import Tokenizer
from keras_transformer.text import tokenizer as tokenizer_module

SCRIPTS = {
    "ascii": "Hello, world! 123",
    "accented": "Ça déjà vu, naïve façade, Ångström",
    "japanese": "日本語のテキストです。カタカナも",
    "emoji": "smile 😀, family 👨\u200d👩\u200d👧, flag 🇯🇵",
    "combining": "e\u0301 a\u0308 n\u0303",  # decomposed: letters followed by combining marks
    "right_to_left": "שלום עולם مرحبا بالعالم",
}


def characters_tokenizer():
    return Tokenizer.from_corpus(SCRIPTS.values())


def decode(tensor):
    return [value.decode("utf-8") for value in np.atleast_1d(tensor.numpy())]


def test_docstring_example_runs():
    result = doctest.testmod(tokenizer_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_reserved_ids_and_vocabulary_size():
    tokenizer = Tokenizer(["b", "a"])
    assert (tokenizer.pad_id, tokenizer.start_id, tokenizer.end_id, tokenizer.unknown_id) == (0, 1, 2, 3)
    assert tokenizer.vocabulary == ["b", "a"]
    assert tokenizer.vocabulary_size == 6
    assert tokenizer.tokenize(["ab"]).to_list() == [[5, 4]]


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_characters_round_trip(name):
    tokenizer = characters_tokenizer()
    text = SCRIPTS[name]
    ids = tokenizer.tokenize([text])
    assert ids.dtype == tf.int32
    assert ids.shape.rank == 2
    assert len(ids.to_list()[0]) == len(text)  # one id per code point, nothing normalized
    assert tokenizer.unknown_id not in ids.flat_values.numpy()
    assert decode(tokenizer.detokenize(ids)) == [text]


def test_characters_keep_combining_marks_and_logical_order():
    tokenizer = characters_tokenizer()
    ids = tokenizer.tokenize(["e\u0301"]).to_list()[0]
    assert [tokenizer.vocabulary[i - 4] for i in ids] == ["e", "\u0301"]
    rtl = "שלום"
    ids = tokenizer.tokenize([rtl]).to_list()[0]
    assert "".join(tokenizer.vocabulary[i - 4] for i in ids) == rtl


def test_whitespace_round_trip_of_phonemes():
    tokenizer = Tokenizer.from_corpus(["HH AH0 L OW1", "W ER1 L D"], split="whitespace")
    assert tokenizer.vocabulary == ["AH0", "D", "ER1", "HH", "L", "OW1", "W"]
    ids = tokenizer.tokenize(["HH AH0 L OW1", "  W\tER1  L D \n"])
    assert ids.to_list() == [[7, 4, 8, 9], [10, 6, 8, 5]]
    assert decode(tokenizer.detokenize(ids)) == ["HH AH0 L OW1", "W ER1 L D"]


def test_unknown_symbols_map_to_unknown_id():
    tokenizer = Tokenizer.from_corpus(["abc"])
    assert tokenizer.tokenize(["axc€"]).to_list() == [[4, 3, 6, 3]]
    assert decode(tokenizer.detokenize([[4, 3, 6]])) == ["a\ufffdc"]
    phonemes = Tokenizer.from_corpus(["AA B"], split="whitespace")
    assert phonemes.tokenize(["AA ZZ B"]).to_list() == [[4, 3, 5]]
    assert decode(phonemes.detokenize([[4, 3, 5]])) == ["AA <unk> B"]


def test_empty_and_whitespace_only_texts():
    characters = Tokenizer.from_corpus(["a b"])
    assert characters.tokenize(["", "  ", "a"]).to_list() == [[], [], [5]]


def test_whitespace_is_stripped_and_collapsed_before_splitting():
    # The reference: Python's own idea of whitespace (`str.split()`), joined back with one space.
    characters = Tokenizer.from_corpus(["a b"], lowercase=True)
    texts = ["  a   b ", "a\tb\n", "\u3000A\u00a0\u2009b\u205f", "a\x1cb", "\r\n", "a b"]
    expected = [[characters.vocabulary.index(c) + 4 for c in " ".join(t.lower().split())] for t in texts]
    assert characters.tokenize(texts).to_list() == expected
    assert expected[0] == expected[-1]
    assert Tokenizer.from_corpus(["  x  y "]).vocabulary == [" ", "x", "y"]  # the corpus is read the same way
    words = Tokenizer.from_corpus(["AA B"], split="whitespace")
    assert words.tokenize(["AA\u3000B", " AA  B "]).to_list() == [[4, 5], [4, 5]]
    words = Tokenizer.from_corpus(["a b"], split="whitespace")
    assert words.tokenize(["", "  \t\n ", "a"]).to_list() == [[], [], [4]]
    assert decode(words.detokenize(tf.zeros([2, 0], tf.int32))) == ["", ""]
    assert characters.tokenize([]).shape.as_list()[0] == 0


def test_invalid_utf8_does_not_crash():
    tokenizer = Tokenizer.from_corpus(["ab"])
    bad = b"a\xff\xfeb\xc3"  # stray continuation bytes and a truncated 2-byte sequence
    for split in ("characters", "whitespace"):
        tok = Tokenizer.from_corpus(["ab", "a b"], split=split)
        ids = tok.tokenize([bad]).to_list()[0]
        assert ids and all(0 <= i < tok.vocabulary_size for i in ids)
    ids = tokenizer.tokenize([bad]).to_list()[0]
    assert ids[0] == 4 and tokenizer.unknown_id in ids
    text = decode(tokenizer.detokenize([ids]))[0]  # valid UTF-8 out
    assert text.startswith("a") and "\ufffd" in text
    # A corpus with invalid bytes still gives a valid vocabulary (U+FFFD is then a symbol).
    assert "\ufffd" in Tokenizer.from_corpus([bad]).vocabulary


def test_long_text():
    tokenizer = Tokenizer.from_corpus(["abcdefghij"])
    text = "abcdefghij" * 1000
    ids = tokenizer.tokenize([text])
    assert ids.row_lengths().numpy().tolist() == [10000]
    assert decode(tokenizer.detokenize(ids)) == [text]


def test_max_length_truncates():
    tokenizer = Tokenizer.from_corpus(["abcdef"])
    ids = tokenizer.tokenize(["abcdef", "ab", ""], max_length=3)
    assert ids.to_list() == [[4, 5, 6], [4, 5], []]
    assert tokenizer.tokenize("abcdef", max_length=2).numpy().tolist() == [4, 5]
    words = Tokenizer.from_corpus(["x y z"], split="whitespace")
    assert words.tokenize(["x y z x"], max_length=2).to_list() == [[4, 5]]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_length"):
            tokenizer.tokenize(["ab"], max_length=bad)


def test_scalar_and_list_inputs():
    tokenizer = Tokenizer.from_corpus(["ab"])
    scalar = tokenizer.tokenize("ba")
    assert isinstance(scalar, tf.Tensor) and scalar.numpy().tolist() == [5, 4]
    assert tokenizer.tokenize(tf.constant(["ab", "b"])).to_list() == [[4, 5], [5]]
    assert tokenizer.detokenize(scalar).numpy() == b"ba"


def test_detokenize_drops_pad_and_start_and_stops_at_end():
    tokenizer = Tokenizer.from_corpus(["abc"])  # a=4, b=5, c=6
    ids = tf.constant([[1, 4, 5, 2, 6, 6], [1, 6, 0, 0, 0, 0], [4, 0, 5, 0, 0, 0], [2, 4, 4, 4, 4, 4]])
    assert decode(tokenizer.detokenize(ids)) == ["ab", "c", "ab", ""]
    ragged = tf.ragged.constant([[4, 5, 2, 6], [6]], dtype=tf.int64)
    assert decode(tokenizer.detokenize(ragged)) == ["ab", "c"]
    # Ids outside [0, V) are shown as unknown rather than failing a gather.
    assert decode(tokenizer.detokenize([[4, 7, -1, 100]])) == ["a\ufffd\ufffd\ufffd"]


def test_detokenize_refuses_bad_input():
    tokenizer = Tokenizer.from_corpus(["abc"])
    with pytest.raises(TypeError, match="ids.dtype=float32"):
        tokenizer.detokenize(tf.constant([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="ids.shape"):
        tokenizer.detokenize(tf.zeros([1, 2, 3], tf.int32))


def test_tokenize_refuses_bad_input():
    tokenizer = Tokenizer.from_corpus(["abc"])
    with pytest.raises(TypeError, match="texts.dtype=int32"):
        tokenizer.tokenize(tf.constant([1, 2]))
    with pytest.raises(ValueError, match="texts.shape"):
        tokenizer.tokenize(tf.constant([["a"]]))


def test_constructor_validates_arguments():
    with pytest.raises(ValueError, match="split='words'"):
        Tokenizer(["a"], split="words")
    with pytest.raises(ValueError, match="reserved symbol '<s>'"):
        Tokenizer(["a", "<s>"], split="whitespace")
    with pytest.raises(ValueError, match="repeat"):
        Tokenizer(["a", "a"])
    with pytest.raises(ValueError, match="one code point"):
        Tokenizer(["ab"])
    with pytest.raises(ValueError, match="without whitespace"):
        Tokenizer(["A B"], split="whitespace")
    with pytest.raises(ValueError, match="at least one symbol"):
        Tokenizer([])
    with pytest.raises(TypeError, match="not one string"):
        Tokenizer("abc")


def test_from_corpus_is_deterministic_and_respects_counts():
    corpus = ["banana", "apple", "cherry"]
    a = Tokenizer.from_corpus(corpus)
    b = Tokenizer.from_corpus(list(reversed(corpus)))
    assert a.vocabulary == b.vocabulary == sorted(set("".join(corpus)))
    # Counts: a 4; e, n, p, r 2; the rest 1.
    assert Tokenizer.from_corpus(corpus, min_count=2).vocabulary == ["a", "e", "n", "p", "r"]
    assert Tokenizer.from_corpus(corpus, min_count=3).vocabulary == ["a"]
    assert Tokenizer.from_corpus(corpus, max_size=2).vocabulary == ["a", "e"]  # ties go to the smaller symbol
    counts = {c: "".join(corpus).count(c) for c in set("".join(corpus))}
    top = sorted(counts, key=lambda c: (-counts[c], c))[:3]
    assert Tokenizer.from_corpus(corpus, max_size=3).vocabulary == sorted(top)
    with pytest.raises(ValueError, match="min_count=0"):
        Tokenizer.from_corpus(corpus, min_count=0)
    with pytest.raises(ValueError, match="vocabulary would be empty"):
        Tokenizer.from_corpus(["ab"], min_count=2)


def test_from_corpus_agrees_with_tokenize_on_non_ascii_whitespace():
    # U+3000 (ideographic space) is whitespace to the normalization that runs before splitting; the
    # vocabulary must agree with tokenize.
    tokenizer = Tokenizer.from_corpus(["a\u3000b c"], split="whitespace")
    assert tokenizer.vocabulary == ["a", "b", "c"]
    assert tokenizer.tokenize(["a\u3000b c"]).to_list() == [[4, 5, 6]]


def test_lowercase_option():
    tokenizer = Tokenizer.from_corpus(["École"], lowercase=True)
    assert "É" not in tokenizer.vocabulary and "é" in tokenizer.vocabulary
    assert tokenizer.tokenize(["ÉCOLE"]).to_list() == tokenizer.tokenize(["école"]).to_list()


def test_save_load_round_trip(tmp_path):
    tokenizer = Tokenizer.from_corpus(SCRIPTS.values(), lowercase=True)
    path = tmp_path / "vocabulary.json"
    tokenizer.save(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["split"] == "characters" and document["version"] == 1
    loaded = Tokenizer.load(path)
    assert loaded.vocabulary == tokenizer.vocabulary
    assert loaded.get_config() == tokenizer.get_config()
    texts = list(SCRIPTS.values()) + ["unseen ✓"]
    assert loaded.tokenize(texts).to_list() == tokenizer.tokenize(texts).to_list()
    assert Tokenizer.from_config(tokenizer.get_config()).vocabulary == tokenizer.vocabulary


def test_load_refuses_other_files(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"vocabulary": ["a"]}))
    with pytest.raises(ValueError, match="not a Tokenizer file"):
        Tokenizer.load(path)
    path.write_text(json.dumps({"format": "keras_transformer.Tokenizer", "version": 99}))
    with pytest.raises(ValueError, match="version 99"):
        Tokenizer.load(path)


def test_inside_tf_function_with_signature():
    tokenizer = characters_tokenizer()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def round_trip(texts):
        ids = tokenizer.tokenize(texts, max_length=100)
        return ids.to_tensor(), tokenizer.detokenize(ids)

    texts = list(SCRIPTS.values())
    dense, restored = round_trip(tf.constant(texts))
    assert decode(restored) == texts
    assert dense.shape[0] == len(texts)
    assert decode(round_trip(tf.constant(["", "Hello"]))[1]) == ["", "Hello"]


def test_in_tf_data_map():
    tokenizer = Tokenizer.from_corpus(["HH AH0 L OW1"], split="whitespace")
    dataset = tf.data.Dataset.from_tensor_slices(["HH AH0", "L OW1 HH", "XX"])
    dataset = dataset.map(tokenizer.tokenize).padded_batch(3)
    (batch,) = list(dataset)
    assert batch.numpy().tolist() == [[5, 4, 0], [6, 7, 5], [3, 0, 0]]
    batched = tf.data.Dataset.from_tensor_slices(["HH AH0", "L"]).batch(2).map(tokenizer.tokenize)
    assert next(iter(batched)).to_list() == [[5, 4], [6]]


class _TextModule(tf.Module):
    def __init__(self, tokenizer):
        super().__init__()
        self.tokenizer = tokenizer

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def round_trip(self, texts):
        ids = self.tokenizer.tokenize(texts)
        return {"ids": ids.to_tensor(), "texts": self.tokenizer.detokenize(ids)}


def test_saved_model_loads_with_plain_tensorflow(tmp_path):
    tokenizer = characters_tokenizer()
    path = str(tmp_path / "saved")
    tf.saved_model.save(_TextModule(tokenizer), path)
    del tokenizer
    restored = tf.saved_model.load(path)
    texts = ["Hello", "日本語", "Zebra"]  # "Z" and "b" unseen
    outputs = restored.round_trip(tf.constant(texts))
    expected = characters_tokenizer().tokenize(texts).to_tensor()
    np.testing.assert_array_equal(outputs["ids"].numpy(), expected.numpy())
    assert decode(outputs["texts"])[:2] == ["Hello", "日本語"]
    assert decode(outputs["texts"])[2].count("\ufffd") == 2
