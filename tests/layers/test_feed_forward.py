import math

import numpy as np
import pytest
from keras import ops

from keras_transformer.layers import FeedForward
from tests.harness import run_layer_test


def test_layer_harness():
    run_layer_test(FeedForward, {"d_ff": 16}, [np.random.rand(2, 3, 8).astype("float32")], (2, 3, 8))


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_matches_the_formula_position_by_position(activation):
    layer = FeedForward(d_ff=12, activation=activation)
    x = np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32")
    output = ops.convert_to_numpy(layer(x))
    w1, b1 = ops.convert_to_numpy(layer.inner_dense.kernel), ops.convert_to_numpy(layer.inner_dense.bias)
    w2, b2 = ops.convert_to_numpy(layer.output_dense.kernel), ops.convert_to_numpy(layer.output_dense.bias)
    hidden = x @ w1 + b1
    if activation == "relu":
        hidden = np.maximum(hidden, 0)
    else:
        hidden = 0.5 * hidden * (1 + np.vectorize(math.erf)(hidden / math.sqrt(2)))
    np.testing.assert_allclose(output, hidden @ w2 + b2, rtol=1e-4, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="d_ff=0"):
        FeedForward(d_ff=0)
    with pytest.raises(ValueError, match="dropout=1.5"):
        FeedForward(d_ff=4, dropout=1.5)


def test_gelu_is_the_exact_erf_form_bert_uses():
    ffn = FeedForward(d_ff=6, activation="gelu")
    inputs = np.random.default_rng(0).normal(size=(1, 3, 4)).astype("float32") * 3
    output = ops.convert_to_numpy(ffn(inputs))
    w1, b1 = ops.convert_to_numpy(ffn.inner_dense.kernel), ops.convert_to_numpy(ffn.inner_dense.bias)
    w2, b2 = ops.convert_to_numpy(ffn.output_dense.kernel), ops.convert_to_numpy(ffn.output_dense.bias)
    hidden = inputs.astype("float64") @ w1 + b1
    exact = hidden * 0.5 * (1 + np.vectorize(math.erf)(hidden / math.sqrt(2)))
    tanh = 0.5 * hidden * (1 + np.tanh(math.sqrt(2 / math.pi) * (hidden + 0.044715 * hidden**3)))
    np.testing.assert_allclose(output, exact @ w2 + b2, rtol=1e-5, atol=1e-6)
    assert np.abs(exact - tanh).max() > 1e-4  # the test tells the two forms apart
    assert FeedForward.from_config(ffn.get_config()).get_config()["activation"] == "gelu"
