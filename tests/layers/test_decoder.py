import numpy as np
import pytest
from keras import ops

from keras_transformer.layers import TransformerDecoder, TransformerDecoderBlock
from tests import reference
from tests.harness import run_layer_test

rng = np.random.default_rng(13)
KW = {"d_model": 16, "num_heads": 4, "d_ff": 32, "dropout": 0.1}


def inputs(batch=2, target_length=5, source_length=7):
    return (
        rng.normal(size=(batch, target_length, 16)).astype("float32"),
        rng.normal(size=(batch, source_length, 16)).astype("float32"),
    )


def test_block_harness():
    run_layer_test(TransformerDecoderBlock, KW, list(inputs()), (2, 5, 16))


def test_stack_harness():
    run_layer_test(TransformerDecoder, {"num_layers": 2, "normalize_first": True, **KW}, list(inputs()), (2, 5, 16))


@pytest.mark.parametrize("normalize_first", [False, True])
def test_block_matches_the_numpy_reference(normalize_first):
    block = TransformerDecoderBlock(**KW, normalize_first=normalize_first)
    target, source = inputs()
    target_padding = np.array([[True] * 5, [True] * 3 + [False] * 2])
    source_padding = np.array([[True] * 4 + [False] * 3, [True] * 7])
    output = ops.convert_to_numpy(
        block(target, source, decoder_sequence_mask=target_padding, encoder_sequence_mask=source_padding)
    )
    expected = reference.decoder_block(target.astype("float64"), source.astype("float64"), block, target_padding, source_padding)
    np.testing.assert_allclose(output[target_padding], expected[target_padding], rtol=1e-4, atol=1e-4)


def test_causality_later_positions_do_not_change_earlier_outputs():
    decoder = TransformerDecoder(num_layers=2, **KW)
    target, source = inputs(target_length=6)
    baseline = ops.convert_to_numpy(decoder(target, source))
    for t in range(5):
        changed = target.copy()
        changed[:, t + 1 :] = rng.normal(size=changed[:, t + 1 :].shape) * 10
        output = ops.convert_to_numpy(decoder(changed, source))
        np.testing.assert_allclose(output[:, : t + 1], baseline[:, : t + 1], rtol=1e-5, atol=1e-5)
        assert not np.allclose(output[:, t + 1 :], baseline[:, t + 1 :])


def test_padded_source_positions_do_not_change_outputs():
    decoder = TransformerDecoder(num_layers=2, **KW)
    target, source = inputs()
    source_padding = np.array([[True] * 4 + [False] * 3, [True] * 6 + [False]])
    changed = source.copy()
    changed[~source_padding] = rng.normal(size=changed[~source_padding].shape) * 10
    np.testing.assert_allclose(
        ops.convert_to_numpy(decoder(target, source, encoder_sequence_mask=source_padding)),
        ops.convert_to_numpy(decoder(target, changed, encoder_sequence_mask=source_padding)),
        rtol=1e-5,
        atol=1e-5,
    )


def test_returns_each_attention_stacked():
    decoder = TransformerDecoder(num_layers=3, **KW)
    target, source = inputs()
    output, weights = decoder(target, source, return_attention_scores=True)
    assert tuple(weights["masked_self_attention"].shape) == (2, 3, 4, 5, 5)
    assert tuple(weights["source_target_attention"].shape) == (2, 3, 4, 5, 7)
    masked = ops.convert_to_numpy(weights["masked_self_attention"])
    assert np.all(masked[..., np.triu_indices(5, k=1)[0], np.triu_indices(5, k=1)[1]] == 0.0)
    np.testing.assert_allclose(ops.convert_to_numpy(output), ops.convert_to_numpy(decoder(target, source)), rtol=1e-5, atol=1e-6)


def test_bad_inputs():
    block = TransformerDecoderBlock(**KW)
    target, source = inputs()
    with pytest.raises(ValueError, match=r"encoder_sequence.shape=\(2, 7, 8\)"):
        block(target, source[..., :8])
    with pytest.raises(ValueError, match="num_layers=-1"):
        TransformerDecoder(num_layers=-1, **KW)
