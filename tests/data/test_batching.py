"""`keras_transformer.data.batching`: length buckets, the one batch-size rule, step counting, tokenizing pairs."""

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.data import LengthBuckets, example_lengths, tokenize_pairs
from keras_transformer.text import Tokenizer


def ragged(rng, count, low, high):
    return tf.ragged.constant([rng.integers(4, 20, size=rng.integers(low, high + 1)).tolist() for _ in range(count)])


def test_count_matches_a_pass_over_the_batches():
    rng = np.random.default_rng(0)
    source, target = ragged(rng, 500, 1, 30), ragged(rng, 500, 1, 12)
    buckets = LengthBuckets.from_lengths(example_lengths(source, target), batch_tokens=256, max_length=32, buckets=5)
    assert list(buckets.bounds) == sorted(set(buckets.bounds)) and len(buckets.bounds) <= 5
    for shuffle_seed in (0, None):  # training (drops partial batches) and evaluation (fills them up)
        steps, tokens, shapes = 0, 0, set()
        for inputs, labels in buckets.batches(source, target, start_id=1, end_id=2, shuffle_seed=shuffle_seed):
            steps += 1
            tokens += int(tf.math.count_nonzero(labels))
            padded = int(labels.shape[1])
            assert inputs["encoder_tokens"].shape[1] == inputs["decoder_tokens"].shape[1] == padded
            shapes.add((padded, int(labels.shape[0])))
        counted_steps, counted_tokens = buckets.count(source, target, drop_remainder=shuffle_seed is not None)
        assert counted_steps == steps
        # Every batch of a bucket has the bucket's one shape, from the one batch-size rule.
        assert all(padded in buckets.padded_lengths and size == buckets.batch_size(padded) for padded, size in shapes)
        if shuffle_seed is None:
            assert counted_tokens == tokens == int(tf.reduce_sum(target.row_lengths() + 1))
        else:
            assert abs(counted_tokens - tokens) <= 0.2 * tokens


def test_teacher_forcing_layout_of_a_batch():
    buckets = LengthBuckets(batch_tokens=64, max_length=8, bounds=(4,))
    source, target = tf.ragged.constant([[5, 6]]), tf.ragged.constant([[7, 8]])
    (inputs, labels), *rest = list(buckets.batches(source, target, start_id=1, end_id=2))
    assert not rest and labels.shape == (buckets.batch_size(3), 3)  # bucket bound 4 pads to 3; rows filled up
    assert inputs["encoder_tokens"][0].numpy().tolist() == [5, 6, 0]
    assert inputs["decoder_tokens"][0].numpy().tolist() == [1, 7, 8]
    assert labels[0].numpy().tolist() == [7, 8, 2]
    assert int(tf.math.count_nonzero(labels[1:])) == 0


def test_boundaries_and_batch_sizes():
    buckets = LengthBuckets(batch_tokens=1024, max_length=20)
    assert buckets.boundaries == (7, 9, 11, 14, 18, 21)
    assert buckets.padded_lengths == (6, 8, 10, 13, 17, 20)
    assert [buckets.batch_size(n) for n in (6, 20, 2000)] == [168, 48, 8]  # multiples of 8, at least 8


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"batch_tokens": 0, "max_length": 8}, "batch_tokens"),
        ({"batch_tokens": 64, "max_length": True}, "max_length"),
        ({"batch_tokens": 64, "max_length": 8, "bounds": (5, 3)}, "increasing"),
    ],
)
def test_bad_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        LengthBuckets(**arguments)


def test_tokenize_pairs_refuses_sequences_over_max_length():
    source = Tokenizer.from_corpus(["abcdef"])
    target = Tokenizer.from_corpus(["xyz"])
    ids, _ = tokenize_pairs(source, target, ["abc", "fed"], ["xyz", "zz"], max_length=4)
    assert ids.to_list() == [[4, 5, 6], [9, 8, 7]]
    with pytest.raises(ValueError, match="validation data .* longest target \\(with start/end\\) 4"):
        tokenize_pairs(source, target, ["ab"], ["xyz"], max_length=3, name="validation")
