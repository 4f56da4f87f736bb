import numpy as np
import pytest
from keras import ops

from keras_transformer.layers import TransformerEncoder, TransformerEncoderBlock
from tests import reference
from tests.harness import run_layer_test

rng = np.random.default_rng(11)
KW = {"d_model": 16, "num_heads": 4, "d_ff": 32, "dropout": 0.1}


def test_block_harness():
    run_layer_test(TransformerEncoderBlock, KW, [rng.normal(size=(2, 5, 16)).astype("float32")], (2, 5, 16))


def test_stack_harness():
    run_layer_test(
        TransformerEncoder,
        {"num_layers": 2, "normalize_first": True, **KW},
        [rng.normal(size=(2, 5, 16)).astype("float32")],
        (2, 5, 16),
    )


@pytest.mark.parametrize("normalize_first", [False, True])
def test_block_matches_the_numpy_reference(normalize_first):
    block = TransformerEncoderBlock(**KW, normalize_first=normalize_first)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    padding = np.array([[True] * 6, [True] * 4 + [False] * 2])
    output = ops.convert_to_numpy(block(x, mask=padding))
    expected = reference.encoder_block(x.astype("float64"), block, padding)
    # Padded query rows are not compared: their outputs are never attended to.
    np.testing.assert_allclose(output[padding], expected[padding], rtol=1e-4, atol=1e-4)


def test_padded_positions_do_not_change_real_outputs():
    encoder = TransformerEncoder(num_layers=2, **KW)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    padding = np.array([[True] * 3 + [False] * 3, [True] * 5 + [False]])
    changed = x.copy()
    changed[~padding] = rng.normal(size=changed[~padding].shape) * 10
    first, second = ops.convert_to_numpy(encoder(x, mask=padding)), ops.convert_to_numpy(encoder(changed, mask=padding))
    np.testing.assert_allclose(first[padding], second[padding], rtol=1e-5, atol=1e-5)


def test_returns_stacked_attention_weights():
    encoder = TransformerEncoder(num_layers=3, **KW)
    x = rng.normal(size=(2, 5, 16)).astype("float32")
    output, weights = encoder(x, return_attention_scores=True)
    assert tuple(weights.shape) == (2, 3, 4, 5, 5)
    np.testing.assert_allclose(ops.convert_to_numpy(output), ops.convert_to_numpy(encoder(x)), rtol=1e-5, atol=1e-6)


def test_pre_ln_stack_ends_with_a_norm_and_post_ln_does_not():
    assert TransformerEncoder(num_layers=1, normalize_first=True, **KW)(np.zeros((1, 2, 16), "float32")) is not None
    pre = TransformerEncoder(num_layers=1, normalize_first=True, **KW)
    pre.build((None, None, 16))
    post = TransformerEncoder(num_layers=1, **KW)
    post.build((None, None, 16))
    assert pre.final_norm is not None and post.final_norm is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="d_model=10, num_heads=4"):
        TransformerEncoderBlock(d_model=10, num_heads=4, d_ff=8)
    with pytest.raises(ValueError, match="dropout=1"):
        TransformerEncoderBlock(d_model=8, num_heads=4, d_ff=8, dropout=1)
    with pytest.raises(ValueError, match="num_layers=0"):
        TransformerEncoder(num_layers=0, **KW)
    with pytest.raises(ValueError, match=r"d_model=16.*input_shape=\(2, 5, 8\)"):
        TransformerEncoderBlock(**KW)(np.zeros((2, 5, 8), "float32"))
