import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_transformer.layers import PositionalEncoding, sinusoidal_table
from tests.harness import run_layer_test


def test_layer_harness():
    run_layer_test(
        PositionalEncoding,
        {"max_length": 16},
        [np.random.rand(2, 5, 8).astype("float32")],
        (2, 5, 8),
    )


def test_golden_values_from_the_design_note():
    # DESIGN.md: for d_model = 4, pos = 1 -> [0.841471, 0.540302, 0.0099998, 0.99995].
    table = sinusoidal_table(2, 4)
    np.testing.assert_allclose(table[1], [0.841471, 0.540302, 0.0099998, 0.99995], atol=1e-6)
    np.testing.assert_allclose(table[0], [0.0, 1.0, 0.0, 1.0])


@pytest.mark.parametrize("d_model", [6, 7, 512])
def test_table_matches_the_paper_formula_entry_by_entry(d_model):
    table = sinusoidal_table(50, d_model)
    for pos in (0, 1, 7, 49):
        for column in range(d_model):
            i = column // 2
            angle = pos / 10000 ** (2 * i / d_model)
            expected = math.sin(angle) if column % 2 == 0 else math.cos(angle)
            assert table[pos, column] == pytest.approx(expected, abs=1e-12)


def test_layer_adds_the_table_to_its_input():
    inputs = np.random.rand(3, 9, 8).astype("float32")
    output = PositionalEncoding(max_length=9)(inputs)
    np.testing.assert_allclose(ops.convert_to_numpy(output), inputs + sinusoidal_table(9, 8)[None], rtol=1e-6, atol=1e-6)


def test_start_position_offsets_the_table():
    inputs = np.zeros((1, 2, 8), "float32")
    output = PositionalEncoding(max_length=10)(inputs, start_position=4)
    np.testing.assert_allclose(ops.convert_to_numpy(output)[0], sinusoidal_table(10, 8)[4:6], atol=1e-6)


def test_longer_than_max_length_raises_naming_the_limit():
    layer = PositionalEncoding(max_length=4)
    with pytest.raises(ValueError, match=r"max_length=4.*length=5"):
        layer(np.zeros((1, 5, 8), "float32"))


@pytest.mark.tensorflow_only  # a tf.function with an unknown length: the check is a graph assert
def test_longer_than_max_length_raises_in_a_graph_with_dynamic_length():
    import tensorflow as tf

    layer = PositionalEncoding(max_length=4)
    layer.build((None, None, 8))
    run = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 8), tf.float32)])
    assert run(tf.zeros((1, 4, 8))).shape == (1, 4, 8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_length=4"):
        run(tf.zeros((1, 5, 8)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_length"):
        PositionalEncoding(max_length=0)
    with pytest.raises(ValueError, match=r"\(B, T, D\)"):
        PositionalEncoding(max_length=4)(np.zeros((2, 8), "float32"))


def test_mask_passes_through():
    tokens = np.array([[3, 4, 0]])
    embedded = keras.layers.Embedding(10, 8, mask_zero=True)(tokens)
    output = PositionalEncoding(max_length=8)(embedded)
    np.testing.assert_array_equal(ops.convert_to_numpy(output._keras_mask), [[True, True, False]])


def test_learned_table_layer_harness():
    run_layer_test(
        PositionalEncoding,
        {"max_length": 16, "learned": True},
        [np.random.rand(2, 5, 8).astype("float32")],
        (2, 5, 8),
    )


def test_learned_table_is_a_weight_added_row_by_row():
    layer = PositionalEncoding(max_length=10, learned=True)
    inputs = np.random.rand(2, 4, 6).astype("float32")
    output = ops.convert_to_numpy(layer(inputs))
    table = ops.convert_to_numpy(layer.position_embeddings)
    assert [w.name for w in layer.weights] == ["position_embeddings"]
    assert table.shape == (10, 6)
    np.testing.assert_allclose(output, inputs + table[None, :4], rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(layer(inputs[:, :1], start_position=3)), inputs[:, :1] + table[None, 3:4], rtol=1e-6)


def test_sinusoidal_layer_keeps_no_weights():
    layer = PositionalEncoding(max_length=10)
    layer(np.zeros((1, 2, 4), "float32"))
    assert layer.weights == []
    with pytest.raises(ValueError, match="learned"):
        PositionalEncoding(max_length=10, learned="yes")
