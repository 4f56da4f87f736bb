import numpy as np
import pytest
from keras import ops

from keras_transformer.layers import TransformerDecoderBlock, causal_mask, masks

rng = np.random.default_rng(17)


def test_causal_mask_is_lower_triangular():
    np.testing.assert_array_equal(ops.convert_to_numpy(causal_mask(4)), np.tril(np.ones((4, 4), bool))[None])
    # Queries at the last 2 of 5 positions: rows 3 and 4 of the full (5, 5) mask.
    np.testing.assert_array_equal(ops.convert_to_numpy(causal_mask(2, 5, query_offset=3)), ops.convert_to_numpy(causal_mask(5))[:, 3:])


@pytest.mark.parametrize("as_tensor", [False, True])
def test_the_cached_step_mask_is_row_position_of_the_full_mask(as_tensor):
    full = ops.convert_to_numpy(causal_mask(6))  # (1, 6, 6)
    for position in range(6):
        offset = ops.convert_to_tensor(position, "int32") if as_tensor else position
        step = ops.convert_to_numpy(causal_mask(1, 6, query_offset=offset))  # (1, 1, 6)
        np.testing.assert_array_equal(step, full[:, position : position + 1])


def test_decode_step_builds_its_mask_with_causal_mask(monkeypatch):
    block = TransformerDecoderBlock(d_model=8, num_heads=2, d_ff=16, dropout=0.0)
    target, source = np.zeros((1, 3, 8), "float32"), np.zeros((1, 4, 8), "float32")
    block(target, source)
    calls = []

    def recording_causal_mask(*args, **kwargs):
        calls.append((args, kwargs))
        return causal_mask(*args, **kwargs)

    monkeypatch.setattr(masks, "causal_mask", recording_causal_mask)
    cache = (np.zeros((1, 3, 2, 4), "float32"), np.zeros((1, 3, 2, 4), "float32"))
    block.decode_step(target[:, :1], 0, cache, block.source_target_attention.project_key_value(source))
    assert len(calls) == 1


@pytest.mark.parametrize("normalize_first", [False, True])
def test_cached_steps_equal_the_full_block(normalize_first):
    block = TransformerDecoderBlock(d_model=16, num_heads=4, d_ff=32, dropout=0.0, normalize_first=normalize_first)
    target = rng.normal(size=(2, 5, 16)).astype("float32")
    source = rng.normal(size=(2, 7, 16)).astype("float32")
    source_padding = np.array([[True] * 4 + [False] * 3, [True] * 7])
    full = ops.convert_to_numpy(block(target, source, encoder_sequence_mask=source_padding))
    shape = (2, 8, 4, 4)  # a cache longer than the prefix: slots past `step` must not leak in
    cache = (np.full(shape, 9.0, "float32"), np.full(shape, 9.0, "float32"))
    source_keys_values = block.source_target_attention.project_key_value(source)
    for position in range(5):
        output, cache = block.decode_step(
            target[:, position : position + 1], position, cache, source_keys_values, source_padding
        )
        np.testing.assert_allclose(ops.convert_to_numpy(output)[:, 0], full[:, position], rtol=1e-4, atol=1e-4)
