"""The data behind the benchmarks' real-token figures: bucketed batches must hold every example whole,
in the narrowest bucket, within the position budget, with teacher-forcing labels and zero padding."""

import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))

import train_throughput  # noqa: E402

VOCABULARY = 50


@pytest.mark.parametrize("bucketed", [False, True])
def test_variable_length_batches_are_teacher_forcing_with_zero_padding(bucketed):
    batches = train_throughput.variable_length_batches(bucketed, VOCABULARY, count=300)
    assert batches
    for source, decoder_in, labels in batches:
        assert source.shape == decoder_in.shape == labels.shape
        target_lengths = (labels != 0).sum(axis=1)
        source_lengths = (source != 0).sum(axis=1)
        for row in range(len(labels)):
            n, t = source_lengths[row], target_lengths[row]
            # Real tokens first, then only padding.
            assert (source[row, :n] != 0).all() and (source[row, n:] == 0).all()
            assert (labels[row, :t] != 0).all() and (labels[row, t:] == 0).all()
            # decoder input = start id, then the labels shifted right; labels end with the end id.
            assert decoder_in[row, 0] == 1 and labels[row, t - 1] == 2
            np.testing.assert_array_equal(decoder_in[row, 1:t], labels[row, : t - 1])
            assert (decoder_in[row, t:] == 0).all()
        width = source.shape[1]
        needed = max(source_lengths.max(), target_lengths.max())
        if bucketed:
            narrower = [w for w in train_throughput.BUCKET_WIDTHS if w < width]
            assert not narrower or needed > max(narrower), "an example sits in a wider bucket than it needs"
            assert source.size <= train_throughput.BATCH * train_throughput.LENGTH
            assert len(source) % 8 == 0
        else:
            assert source.shape == (train_throughput.BATCH, train_throughput.LENGTH)


def test_bucketing_raises_the_real_share_of_positions():
    def real_share(bucketed):
        batches = train_throughput.variable_length_batches(bucketed, VOCABULARY, count=600)
        return sum((labels != 0).sum() for _, _, labels in batches) / sum(labels.size for _, _, labels in batches)

    assert real_share(True) > real_share(False) + 0.2
