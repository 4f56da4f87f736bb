import keras
import numpy as np
import pytest
from keras import ops

from keras_transformer.layers import MultiHeadAttention
from tests.harness import run_layer_test

rng = np.random.default_rng(3)


def paired_layers(num_heads=4, d_model=16, query_length=5, value_length=7):
    """Ours and `keras.layers.MultiHeadAttention` of the same sizes, with ours' weights copied over."""
    ours = MultiHeadAttention(num_heads=num_heads, d_model=d_model)
    ours.build((None, query_length, d_model), (None, value_length, d_model))
    reference = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model // num_heads)
    reference.build((None, query_length, d_model), (None, value_length, d_model))
    for mine, theirs in (
        (ours.query_dense, reference._query_dense),
        (ours.key_dense, reference._key_dense),
        (ours.value_dense, reference._value_dense),
        (ours.output_dense, reference._output_dense),
    ):
        assert mine.kernel.shape == theirs.kernel.shape
        theirs.kernel.assign(ops.convert_to_numpy(mine.kernel))
        theirs.bias.assign(rng.normal(size=theirs.bias.shape).astype("float32"))
        mine.bias.assign(ops.convert_to_numpy(theirs.bias))
    return ours, reference


def test_layer_harness_self_and_source_target():
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "d_model": 8},
        [rng.normal(size=(2, 3, 8)).astype("float32"), rng.normal(size=(2, 5, 8)).astype("float32")],
        (2, 3, 8),
    )


def test_matches_keras_multi_head_attention_with_copied_weights():
    ours, reference = paired_layers()
    query = rng.normal(size=(3, 5, 16)).astype("float32")
    value = rng.normal(size=(3, 7, 16)).astype("float32")
    out, weights = ours(query, value, return_attention_scores=True)
    expected, expected_weights = reference(query, value, return_attention_scores=True)
    np.testing.assert_allclose(ops.convert_to_numpy(out), ops.convert_to_numpy(expected), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(weights), ops.convert_to_numpy(expected_weights), rtol=1e-5, atol=1e-6)


def test_matches_keras_with_attention_mask_and_causal_mask():
    ours, reference = paired_layers(query_length=6, value_length=6)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    mask = rng.random((2, 6, 6)) > 0.5
    mask[:, :, 0] = True  # Keras gives a uniform row where we give zeros; keep rows non-empty
    np.testing.assert_allclose(
        ops.convert_to_numpy(ours(x, x, attention_mask=mask)),
        ops.convert_to_numpy(reference(x, x, attention_mask=mask)),
        rtol=1e-5,
        atol=1e-5,
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(ours(x, x, use_causal_mask=True)),
        ops.convert_to_numpy(reference(x, x, use_causal_mask=True)),
        rtol=1e-5,
        atol=1e-5,
    )


def test_keras_masks_from_mask_zero_embeddings_reach_the_attention():
    tokens = np.array([[4, 5, 6, 0, 0], [7, 8, 9, 3, 0]])
    embedded = keras.layers.Embedding(10, 16, mask_zero=True)(tokens)
    ours, reference = paired_layers(query_length=5, value_length=5)
    from_keras_mask = ops.convert_to_numpy(ours(embedded, embedded))
    padding = tokens != 0
    explicit = ops.convert_to_numpy(ours(embedded, embedded, attention_mask=padding[:, None, :] & padding[:, :, None]))
    np.testing.assert_allclose(from_keras_mask[padding], explicit[padding], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        from_keras_mask[padding], ops.convert_to_numpy(reference(embedded, embedded))[padding], rtol=1e-5, atol=1e-5
    )
    # The query mask is the output mask. (Keras' own layer deleted the mask from `embedded`: embed again.)
    embedded = keras.layers.Embedding(10, 16, mask_zero=True)(tokens)
    np.testing.assert_array_equal(ops.convert_to_numpy(ours(embedded, embedded)._keras_mask), padding)


def test_outputs_ignore_the_values_at_masked_keys():
    ours, _ = paired_layers()
    query = rng.normal(size=(2, 5, 16)).astype("float32")
    value = rng.normal(size=(2, 7, 16)).astype("float32")
    key_mask = np.ones((2, 7), bool)
    key_mask[:, 4:] = False
    changed = value.copy()
    changed[:, 4:] = rng.normal(size=(2, 3, 16)) * 100
    np.testing.assert_allclose(
        ops.convert_to_numpy(ours(query, value, value_mask=key_mask)),
        ops.convert_to_numpy(ours(query, changed, value_mask=key_mask)),
        rtol=1e-5,
        atol=1e-5,
    )


def test_split_call_is_the_same_function():
    ours, _ = paired_layers()
    query = rng.normal(size=(2, 5, 16)).astype("float32")
    value = rng.normal(size=(2, 7, 16)).astype("float32")
    key_heads, value_heads = ours.project_key_value(value)
    assert tuple(key_heads.shape) == (2, 7, 4, 4)
    np.testing.assert_allclose(
        ops.convert_to_numpy(ours.attend(query, key_heads, value_heads)), ops.convert_to_numpy(ours(query, value)), rtol=1e-6
    )


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="d_model=250, num_heads=8"):
        MultiHeadAttention(num_heads=8, d_model=250)
    with pytest.raises(ValueError, match="num_heads=0"):
        MultiHeadAttention(num_heads=0, d_model=8)
    layer = MultiHeadAttention(num_heads=2, d_model=8)
    x = np.zeros((2, 3, 8), "float32")
    with pytest.raises(ValueError, match=r"query.shape=\(2, 8\)"):
        layer(x[:, 0], x)
    with pytest.raises(ValueError, match="same batch size"):
        layer(x, np.zeros((3, 3, 8), "float32"))
    with pytest.raises(ValueError, match="same length S"):
        layer(x, x, key=np.zeros((2, 4, 8), "float32"))
    with pytest.raises(ValueError, match=r"attention_mask.shape=\(2, 3, 4\)"):
        layer(x, x, attention_mask=np.ones((2, 3, 4), bool))
    with pytest.raises(ValueError, match=r"attention_mask.shape=\(3, 3\)"):
        layer(x, x, attention_mask=np.ones((3, 3), bool))
