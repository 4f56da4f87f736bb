"""`LengthBuckets.array_batches`: the NumPy batches of any backend against the independent `tf.data` ones
of `LengthBuckets.batches` (same buckets, batch sizes, padding and examples), and its argument checks."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.data import LengthBuckets, example_lengths

START, END = 1, 2


def id_lists(seed, count=300, longest_source=20, longest_target=14):
    """Random source and target id lists; the first source id (100 + index) tells the examples apart."""
    rng = np.random.default_rng(seed)
    sources = [[100 + i] + rng.integers(4, 50, size=rng.integers(0, longest_source)).tolist() for i in range(count)]
    targets = [rng.integers(4, 50, size=rng.integers(1, longest_target + 1)).tolist() for _ in range(count)]
    return sources, targets


def rows(batches):
    """`{padded length: [(encoder row, decoder row, label row), ...]}` in batch order, with each batch's shape."""
    by_length, shapes = collections.defaultdict(list), collections.Counter()
    for inputs, labels in batches:
        encoder, decoder, labels = (np.asarray(x) for x in (inputs["encoder_tokens"], inputs["decoder_tokens"], labels))
        assert encoder.dtype == decoder.dtype == labels.dtype == np.int32
        assert encoder.shape == decoder.shape == labels.shape and labels.ndim == 2
        shapes[labels.shape] += 1
        by_length[labels.shape[1]].extend(zip(map(tuple, encoder), map(tuple, decoder), map(tuple, labels)))
    return by_length, shapes


def expected_row(source, target, padded_length):
    pad = lambda ids: tuple(ids) + (0,) * (padded_length - len(ids))  # noqa: E731
    return pad(source), pad([START, *target]), pad([*target, END])


@pytest.fixture(scope="module")
def data():
    sources, targets = id_lists(0)
    ragged = tf.ragged.constant(sources), tf.ragged.constant(targets)
    buckets = LengthBuckets.from_lengths(example_lengths(*ragged), batch_tokens=256, max_length=24, buckets=4)
    return buckets, sources, targets, ragged


def test_evaluation_batches_equal_the_tf_data_batches(data):
    buckets, sources, targets, ragged = data
    arrays, array_shapes = rows(buckets.array_batches(sources, targets, START, END))
    tf_rows, tf_shapes = rows(buckets.batches(*ragged, start_id=START, end_id=END))
    assert array_shapes == tf_shapes and len(array_shapes) > 1  # several buckets, one shape each
    assert all(shape == (buckets.batch_size(shape[1]), shape[1]) for shape in array_shapes)
    assert sorted(arrays) == sorted(tf_rows)
    for padded_length in arrays:  # the same rows, padding rows included, in the same order within a bucket
        assert collections.Counter(arrays[padded_length]) == collections.Counter(tf_rows[padded_length])
        assert arrays[padded_length] == tf_rows[padded_length]


def test_every_example_is_in_the_evaluation_batches_once(data):
    buckets, sources, targets, ragged = data
    batches = buckets.array_batches(sources, targets, START, END)
    by_length, _ = rows(batches)
    lengths = example_lengths(*ragged)
    expected = collections.defaultdict(list)
    for source, target, length in zip(sources, targets, lengths):
        padded_length = next(p for p, bound in zip(buckets.padded_lengths, buckets.boundaries) if length < bound)
        expected[padded_length].append(expected_row(source, target, padded_length))
    for padded_length, got in by_length.items():
        real = [row for row in got if any(row[2])]
        padding = [row for row in got if not any(row[0]) and not any(row[1]) and not any(row[2])]
        assert len(real) + len(padding) == len(got)
        assert real == expected[padded_length]  # each example once, in data order
        assert len(padding) < buckets.batch_size(padded_length)  # only the last batch is filled up
    assert sum(len(v) for v in expected.values()) == len(sources)
    assert len(batches) == buckets.count(*ragged, drop_remainder=False)[0]


def test_training_batches_drop_remainders_and_follow_the_seed(data):
    buckets, sources, targets, ragged = data
    batches = buckets.array_batches(sources, targets, START, END, shuffle_seed=7)
    by_length, shapes = rows(batches)
    assert len(batches) == buckets.count(*ragged)[0] == sum(shapes.values())
    # The same batch shapes as the tf.data training batches (each bucket's remainder dropped).
    assert shapes == rows(buckets.batches(*ragged, start_id=START, end_id=END, shuffle_seed=7))[1]
    lengths = example_lengths(*ragged)
    all_rows = {}
    for source, target, length in zip(sources, targets, lengths):
        padded_length = next(p for p, bound in zip(buckets.padded_lengths, buckets.boundaries) if length < bound)
        all_rows[expected_row(source, target, padded_length)] = padded_length
    for padded_length, got in by_length.items():
        size = buckets.batch_size(padded_length)
        members = sum(1 for p in all_rows.values() if p == padded_length)
        assert shapes[(size, padded_length)] == members // size  # full batches only
        assert len(got) == len(set(got)) == members // size * size  # no example twice, no padding row
        assert all(all_rows.get(row) == padded_length for row in got)  # real examples of this bucket
    # Shuffled: a batch's examples are not in data order, and the buckets' batches are interleaved.
    order = {row: index for index, row in enumerate(all_rows)}
    batch_orders = [[order[row] for row in zip(map(tuple, x["encoder_tokens"]), map(tuple, x["decoder_tokens"]),
                                               map(tuple, y))] for x, y in batches]  # fmt: skip
    assert any(indices != sorted(indices) for indices in batch_orders)
    padded = [labels.shape[1] for _, labels in batches]
    assert padded != sorted(padded) and padded != sorted(padded, reverse=True)

    def flat(seed):
        return [np.concatenate([x["encoder_tokens"], x["decoder_tokens"], y], axis=1)
                for x, y in buckets.array_batches(sources, targets, START, END, shuffle_seed=seed)]  # fmt: skip

    first, again, other = flat(7), flat(7), flat(8)
    assert len(first) == len(again) == len(other)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))  # reproducible
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, other))  # another seed


def test_layout_of_a_batch_and_lengths_at_the_bounds():
    buckets = LengthBuckets(batch_tokens=64, max_length=8, bounds=(4,))
    # Lengths 3 (bucket < 4, padded to 3), 4 (a bound is exclusive: next bucket, padded to 8) and 8 (= max_length).
    sources = [np.array([5, 6]), [5, 6, 7, 8], list(range(3, 11))]
    targets = [[7, 8], [7], [9] * 7]
    batches = buckets.array_batches(sources, targets, start_id=START, end_id=END)
    assert [labels.shape for _, labels in batches] == [(16, 3), (8, 8)]
    (short, short_labels), (long, long_labels) = batches
    assert short["encoder_tokens"][0].tolist() == [5, 6, 0]
    assert short["decoder_tokens"][0].tolist() == [1, 7, 8]
    assert short_labels[0].tolist() == [7, 8, 2]
    assert not short_labels[1:].any() and not short["encoder_tokens"][1:].any()
    assert long["encoder_tokens"][:2].tolist() == [[5, 6, 7, 8, 0, 0, 0, 0], list(range(3, 11))]
    assert long_labels[:2].tolist() == [[7, 2, 0, 0, 0, 0, 0, 0], [9] * 7 + [2]]
    assert long["decoder_tokens"][1].tolist() == [1] + [9] * 7
    assert buckets.array_batches([], [], START, END) == [] == buckets.array_batches([], [], START, END, shuffle_seed=0)


@pytest.mark.parametrize(
    "sources, targets, seed, message",
    [
        ([[4], [5]], [[6]], None, "`source_ids` and `target_ids`.*2 sources, 1 targets"),
        ([[4] * 9], [[6]], None, "longer than max_length=8.*up to 9"),
        ([[4]], [[6] * 8], 3, "longer than max_length=8.*up to 9"),  # the target + its start or end id
        ([[4]], [[6]], -1, "shuffle_seed"),
    ],
)
def test_bad_arguments_are_refused(sources, targets, seed, message):
    with pytest.raises(ValueError, match=message):
        LengthBuckets(batch_tokens=64, max_length=8).array_batches(sources, targets, START, END, shuffle_seed=seed)
