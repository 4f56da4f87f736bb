import numpy as np
import pytest

from keras_transformer.training import teacher_forcing


def test_shifts_targets_and_pads():
    inputs, labels = teacher_forcing([[5, 6, 7], [8]], [[9, 10], [11, 12, 13]], start_id=1, end_id=2)
    np.testing.assert_array_equal(inputs["encoder_tokens"], [[5, 6, 7], [8, 0, 0]])
    np.testing.assert_array_equal(inputs["decoder_tokens"], [[1, 9, 10, 0], [1, 11, 12, 13]])
    np.testing.assert_array_equal(labels, [[9, 10, 2, 0], [11, 12, 13, 2]])
    assert labels.dtype == np.int32


def test_fixed_lengths_pad_and_refuse_longer():
    inputs, labels = teacher_forcing([[5]], [[9]], start_id=1, end_id=2, source_length=4, target_length=5)
    assert inputs["encoder_tokens"].shape == (1, 4) and labels.shape == (1, 5)
    with pytest.raises(ValueError, match="len=3 at index 0"):
        teacher_forcing([[5, 6, 7]], [[9]], start_id=1, end_id=2, source_length=2)


def test_bad_input():
    with pytest.raises(ValueError, match="len\\(sources\\)=1, len\\(targets\\)=2"):
        teacher_forcing([[5]], [[9], [8]], start_id=1, end_id=2)
    with pytest.raises(ValueError, match="start_id=0"):
        teacher_forcing([[5]], [[9]], start_id=0, end_id=2)
    with pytest.raises(ValueError, match=r"\[5, 0\] at index 0"):
        teacher_forcing([[5, 0]], [[9]], start_id=1, end_id=2)
