import math

import numpy as np
import pytest
from keras import ops

from keras_transformer.layers import TokenEmbedding
from tests.harness import run_layer_test


def test_layer_harness_forward():
    run_layer_test(
        TokenEmbedding,
        {"vocabulary_size": 20, "d_model": 8},
        [np.array([[1, 2, 3, 0], [4, 5, 0, 0]], "int32")],
        (2, 4, 8),
    )


def test_layer_harness_reverse():
    layer = TokenEmbedding(20, 8)
    layer.build()
    run_layer_test(
        TokenEmbedding,
        {"vocabulary_size": 20, "d_model": 8},
        [np.random.rand(2, 3, 8).astype("float32")],
        (2, 3, 20),
        call_kwargs={"reverse": True},
    )


def test_vectors_are_rows_scaled_by_sqrt_d_model():
    layer = TokenEmbedding(10, 16)
    output = ops.convert_to_numpy(layer(np.array([[7, 2]])))
    table = ops.convert_to_numpy(layer.embeddings)
    np.testing.assert_allclose(output[0], table[[7, 2]] * math.sqrt(16), rtol=1e-6)


def test_unscaled_option():
    layer = TokenEmbedding(10, 16, scale=False)
    output = ops.convert_to_numpy(layer(np.array([[7]])))
    np.testing.assert_allclose(output[0, 0], ops.convert_to_numpy(layer.embeddings)[7], rtol=1e-6)


def test_reverse_is_the_transposed_matrix():
    layer = TokenEmbedding(10, 4)
    layer.build()
    states = np.random.rand(2, 3, 4).astype("float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(states, reverse=True)), states @ ops.convert_to_numpy(layer.embeddings).T, rtol=1e-5, atol=1e-6
    )


def test_mask_marks_padding():
    output = TokenEmbedding(10, 4)(np.array([[3, 0, 5, 0]]))
    np.testing.assert_array_equal(ops.convert_to_numpy(output._keras_mask), [[True, False, True, False]])
    assert getattr(TokenEmbedding(10, 4, mask_zero=False)(np.array([[3, 0]])), "_keras_mask", None) is None


@pytest.mark.parametrize("bad_id", [10, 99, -1])
def test_ids_out_of_range_raise_naming_the_vocabulary(bad_id):
    with pytest.raises(ValueError, match=rf"token ids.*vocabulary_size=10.*{bad_id}"):
        TokenEmbedding(10, 4)(np.array([[1, bad_id]]))


def test_float_ids_raise():
    with pytest.raises(TypeError, match="integer token ids.*float32"):
        TokenEmbedding(10, 4)(np.array([[1.0, 2.0]], "float32"))


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="vocabulary_size=0"):
        TokenEmbedding(0, 4)
    with pytest.raises(ValueError, match="d_model=-2"):
        TokenEmbedding(10, -2)


def test_segment_embeddings_layer_harness():
    run_layer_test(
        TokenEmbedding,
        {"vocabulary_size": 20, "d_model": 8, "segment_vocabulary_size": 2, "scale": False},
        [np.array([[1, 2, 3, 0], [4, 5, 0, 0]], "int32"), np.array([[0, 0, 1, 1], [0, 1, 1, 1]], "int32")],
        (2, 4, 8),
    )


def test_segment_rows_are_added_and_default_to_segment_zero():
    layer = TokenEmbedding(10, 4, scale=False, segment_vocabulary_size=3)
    ids, segments = np.array([[7, 2, 5]]), np.array([[0, 2, 1]])
    output = ops.convert_to_numpy(layer(ids, segment_ids=segments))
    tokens, table = ops.convert_to_numpy(layer.embeddings), ops.convert_to_numpy(layer.segment_embeddings)
    np.testing.assert_allclose(output[0], tokens[[7, 2, 5]] + table[[0, 2, 1]], rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(layer(ids))[0], tokens[[7, 2, 5]] + table[0], rtol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(np.array([[3, 0]]), segment_ids=np.array([[1, 0]]))._keras_mask), [[True, False]])


def test_segment_ids_are_checked():
    layer = TokenEmbedding(10, 4, segment_vocabulary_size=2)
    with pytest.raises(ValueError, match="segment_vocabulary_size=2"):
        layer(np.array([[1, 2]]), segment_ids=np.array([[0, 2]]))
    with pytest.raises(ValueError, match="segment_vocabulary_size=0"):
        TokenEmbedding(10, 4)(np.array([[1, 2]]), segment_ids=np.array([[0, 1]]))
    with pytest.raises(ValueError, match="segment_vocabulary_size=-1"):
        TokenEmbedding(10, 4, segment_vocabulary_size=-1)
