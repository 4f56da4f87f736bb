import math

import numpy as np
import pytest

from keras_transformer.layers import FeedForward
from tests.harness import run_layer_test


def test_layer_harness():
    run_layer_test(FeedForward, {"d_ff": 16}, [np.random.rand(2, 3, 8).astype("float32")], (2, 3, 8))


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_matches_the_formula_position_by_position(activation):
    layer = FeedForward(d_ff=12, activation=activation)
    x = np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32")
    output = np.asarray(layer(x))
    w1, b1 = np.asarray(layer.inner_dense.kernel), np.asarray(layer.inner_dense.bias)
    w2, b2 = np.asarray(layer.output_dense.kernel), np.asarray(layer.output_dense.bias)
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
