import numpy as np
import pytest
from keras import ops

from keras_transformer.layers import (
    ScaledDotProductAttention,
    fast_scaled_dot_product_attention,
    scaled_dot_product_attention,
)
from tests.harness import run_layer_test

rng = np.random.default_rng(7)


def numpy_attention(query, key, value, mask=None):
    """Equation (1) of the paper, one head, written out with loops over the batch."""
    outputs, all_weights = [], []
    for b in range(query.shape[0]):
        scores = query[b] @ key[b].T / np.sqrt(query.shape[-1])  # (T, S)
        if mask is not None:
            scores = np.where(mask[b], scores, -np.inf)
        weights = np.zeros_like(scores)
        for t in range(scores.shape[0]):
            if np.isfinite(scores[t]).any():
                row = np.exp(scores[t] - scores[t][np.isfinite(scores[t])].max())
                weights[t] = row / row.sum()
        outputs.append(weights @ value[b])
        all_weights.append(weights)
    return np.stack(outputs), np.stack(all_weights)


def random_inputs(batch=2, query_length=3, key_length=5, depth=4, value_depth=6):
    q = rng.normal(size=(batch, query_length, depth)).astype("float32")
    k = rng.normal(size=(batch, key_length, depth)).astype("float32")
    v = rng.normal(size=(batch, key_length, value_depth)).astype("float32")
    mask = rng.random((batch, query_length, key_length)) > 0.4
    return q, k, v, mask


def test_layer_harness():
    q, k, v, _ = random_inputs()
    run_layer_test(ScaledDotProductAttention, {}, [q, k, v], (2, 3, 6), check_fit=False)


@pytest.mark.parametrize("use_mask", [False, True])
def test_explicit_path_matches_numpy(use_mask):
    q, k, v, mask = random_inputs()
    mask = mask if use_mask else None
    output, weights = scaled_dot_product_attention(q, k, v, mask)
    expected_output, expected_weights = numpy_attention(q, k, v, mask)
    np.testing.assert_allclose(ops.convert_to_numpy(weights), expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(output), expected_output, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("use_mask", [False, True])
def test_fast_path_equals_explicit_path_single_and_multi_head(use_mask):
    q, k, v, mask = random_inputs()
    mask = mask if use_mask else None
    explicit, _ = scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(
        ops.convert_to_numpy(fast_scaled_dot_product_attention(q, k, v, mask)), ops.convert_to_numpy(explicit), rtol=1e-5, atol=1e-6
    )
    heads = rng.normal(size=(2, 3, 4, 8)).astype("float32"), rng.normal(size=(2, 5, 4, 8)).astype("float32")
    values = rng.normal(size=(2, 5, 4, 8)).astype("float32")
    explicit, weights = scaled_dot_product_attention(heads[0], heads[1], values, mask)
    assert tuple(weights.shape) == (2, 4, 3, 5)
    fast = fast_scaled_dot_product_attention(heads[0], heads[1], values, mask)
    np.testing.assert_allclose(ops.convert_to_numpy(fast), ops.convert_to_numpy(explicit), rtol=1e-5, atol=1e-6)


def test_layer_uses_either_path_with_the_same_result():
    q, k, v, mask = random_inputs()
    layer = ScaledDotProductAttention()
    output_only = layer(q, k, v, mask=mask)
    output, weights = layer(q, k, v, mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(ops.convert_to_numpy(output_only), ops.convert_to_numpy(output), rtol=1e-5, atol=1e-6)
    assert tuple(weights.shape) == (2, 3, 5)


def test_a_row_with_no_allowed_key_gives_zeros_not_nan():
    q, k, v, mask = random_inputs()
    mask[0, 1, :] = False
    output, weights = scaled_dot_product_attention(q, k, v, mask)
    fast = fast_scaled_dot_product_attention(q, k, v, mask)
    for tensor in (output, weights, fast):
        assert np.all(np.isfinite(ops.convert_to_numpy(tensor)))
    np.testing.assert_array_equal(ops.convert_to_numpy(weights)[0, 1], 0.0)
    np.testing.assert_array_equal(ops.convert_to_numpy(output)[0, 1], 0.0)
    np.testing.assert_array_equal(ops.convert_to_numpy(fast)[0, 1], 0.0)


def test_weights_are_zero_where_masked_and_rows_sum_to_one():
    q, k, v, mask = random_inputs()
    mask[:, :, 0] = True  # every row keeps at least one key
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    weights = ops.convert_to_numpy(weights)
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)


def test_half_precision_inputs_stay_finite_with_large_scores():
    q = np.full((1, 2, 8), 60.0, "float16")
    k = np.full((1, 3, 8), 60.0, "float16")
    v = np.ones((1, 3, 8), "float16")
    output, weights = scaled_dot_product_attention(q, k, v)
    assert np.all(np.isfinite(ops.convert_to_numpy(ops.cast(output, "float32"))))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.cast(weights, "float32")).sum(-1), 1.0, rtol=1e-3)


def test_bad_shapes_raise_with_the_shapes_received():
    q, k, v, mask = random_inputs()
    with pytest.raises(ValueError, match=r"query.shape=\(3, 4\)"):
        scaled_dot_product_attention(q[0], k, v)
    with pytest.raises(ValueError, match="same last dimension"):
        scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="same length S"):
        scaled_dot_product_attention(q, k, v[:, :4])
    with pytest.raises(ValueError, match=r"mask.shape=\(2, 3, 4\)"):
        scaled_dot_product_attention(q, k, v, mask[:, :, :4])
    with pytest.raises(ValueError, match="dropout"):
        ScaledDotProductAttention(dropout=1.0)
