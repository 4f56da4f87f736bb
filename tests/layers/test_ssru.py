"""The SSRU against a NumPy loop of Kim et al.'s equations, and the SSRU decoder (block, stack, model,
cached decoding, files)."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_transformer import TransformerConfig, build_transformer
from keras_transformer.decoding import generate
from keras_transformer.decoding.incremental import IncrementalDecoder
from keras_transformer.layers import SSRU, TransformerDecoder, TransformerDecoderBlock
from tests import reference
from tests.harness import run_layer_test

rng = np.random.default_rng(29)
KW = {"d_model": 16, "num_heads": 4, "d_ff": 32, "dropout": 0.1, "self_attention": "ssru"}


def numpy_ssru(x, layer):
    """x (B, T, D) float64 -> h (B, T, D): the recurrence one position at a time."""
    kernel, forget_kernel, forget_bias = (np.asarray(w, np.float64) for w in layer.get_weights())
    state = np.zeros((x.shape[0], x.shape[2]))
    outputs = []
    for t in range(x.shape[1]):
        forget = 1 / (1 + np.exp(-(x[:, t] @ forget_kernel + forget_bias)))
        state = forget * state + (1 - forget) * (x[:, t] @ kernel)
        outputs.append(np.maximum(state, 0))
    return np.stack(outputs, axis=1)


def randomized_ssru(units=8):
    layer = SSRU(units, bias_initializer="random_normal")
    layer.build((None, None, units))
    return layer


def test_harness():
    run_layer_test(SSRU, {"units": 8}, [rng.normal(size=(2, 5, 8)).astype("float32")], (2, 5, 8))


def test_full_sequence_matches_the_numpy_recurrence():
    layer = randomized_ssru()
    x = rng.normal(size=(3, 11, 8))
    output = ops.convert_to_numpy(layer(x.astype("float32")))
    np.testing.assert_allclose(output, numpy_ssru(x, layer), rtol=1e-5, atol=1e-5)


def test_step_by_step_matches_the_numpy_recurrence():
    layer = randomized_ssru()
    x = rng.normal(size=(2, 6, 8))
    state = np.zeros((2, 1, 8), "float32")
    outputs = []
    for t in range(6):
        output, state = layer.step(x[:, t : t + 1].astype("float32"), state)
        outputs.append(ops.convert_to_numpy(output))
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), numpy_ssru(x, layer), rtol=1e-5, atol=1e-5)


def test_a_position_never_sees_later_positions():
    layer = randomized_ssru()
    x = rng.normal(size=(1, 7, 8)).astype("float32")
    changed = x.copy()
    changed[:, 4:] += 3.0
    first, second = (ops.convert_to_numpy(layer(v)) for v in (x, changed))
    np.testing.assert_allclose(first[:, :4], second[:, :4], rtol=1e-6)
    assert not np.allclose(first[:, 4:], second[:, 4:])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="units"):
        SSRU(0)
    with pytest.raises(ValueError, match="units=8"):
        SSRU(8)(np.zeros((1, 2, 4), "float32"))
    with pytest.raises(ValueError, match="self_attention"):
        TransformerDecoderBlock(d_model=8, num_heads=2, d_ff=16, self_attention="lstm")


def _decoder_inputs(batch=2, target_length=5, source_length=7):
    return [
        rng.normal(size=(batch, target_length, 16)).astype("float32"),
        rng.normal(size=(batch, source_length, 16)).astype("float32"),
    ]


def test_block_and_stack_harness():
    run_layer_test(TransformerDecoderBlock, KW, _decoder_inputs(), (2, 5, 16))
    run_layer_test(TransformerDecoder, {"num_layers": 2, **KW}, _decoder_inputs(), (2, 5, 16))


def test_block_matches_the_numpy_reference():
    block = TransformerDecoderBlock(**{**KW, "dropout": 0.0})
    target, source = _decoder_inputs()
    block(target, source)  # build
    output = ops.convert_to_numpy(block(target, source))
    x = target.astype("float64")
    x = reference.layer_norm(x + numpy_ssru(x, block.ssru), block.ssru_norm)
    x = reference.layer_norm(
        x + reference.multi_head_attention(x, source.astype("float64"), block.source_target_attention),
        block.source_target_attention_norm,
    )
    x = reference.layer_norm(x + reference.feed_forward(x, block.feed_forward), block.feed_forward_norm)
    np.testing.assert_allclose(output, x, rtol=1e-4, atol=1e-4)


def marian_like_config(**overrides):
    fields = dict(
        decoder_self_attention="ssru",
        positional_layout="tensor2tensor",
        share_embeddings=True,
        output_bias=True,
        layer_norm_epsilon=1e-9,
        max_length=16,
    )
    return TransformerConfig.from_name("tiny", **{**fields, **overrides})


def _randomize_biases(model):
    for weight in model.weights:
        if "bias" in weight.path:
            weight.assign(rng.normal(size=weight.shape).astype("float32") * 0.5)


def test_cached_steps_equal_the_full_model():
    model = build_transformer(marian_like_config())
    _randomize_biases(model)
    decoder = IncrementalDecoder(model)
    source = np.array([[5, 6, 7, 8], [9, 10, 0, 0]], "int32")
    target = np.array([[1, 12, 13, 14, 15], [1, 20, 21, 0, 0]], "int32")
    full = ops.convert_to_numpy(decoder.full_logits(source, target))
    state = decoder.start(source, cache_length=8)
    caches = state["caches"]
    for position in range(target.shape[1]):
        logits, caches = decoder.step(target[:, position], position, state, caches)
        rows = target[:, position] != 0
        np.testing.assert_allclose(ops.convert_to_numpy(logits)[rows], full[rows, position], rtol=1e-4, atol=1e-4)
    assert tuple(caches[0][0].shape) == (2, 1, 32)  # O(1) state, whatever the cache length


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_cached_decoding_equals_uncached_greedy(strategy):
    model = build_transformer(marian_like_config())
    _randomize_biases(model)
    source = rng.integers(3, 100, size=(3, 6)).astype("int32")
    cached = generate(model, source, max_output_length=10, strategy=strategy, **({"beam_size": 1, "length_penalty": 0.0} if strategy == "beam" else {}))
    uncached = generate(model, source, max_output_length=10, use_cache=False)
    np.testing.assert_array_equal(np.asarray(cached["tokens"]).reshape(3, -1, 10)[:, 0], np.asarray(uncached["tokens"]))


def test_keras_file_round_trip(tmp_path):
    model = build_transformer(marian_like_config())
    _randomize_biases(model)
    path = tmp_path / "ssru.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert restored.config == model.config
    batch = {"encoder_tokens": np.array([[5, 6, 7]], "int32"), "decoder_tokens": np.array([[1, 8]], "int32")}
    np.testing.assert_allclose(ops.convert_to_numpy(restored(batch)), ops.convert_to_numpy(model(batch)), rtol=1e-6)
    names = {w.path for w in model.weights}
    assert any("ssru" in n for n in names) and not any("masked_self_attention" in n for n in names)
    assert any("output_bias" in n for n in names)


def test_the_paper_model_keeps_its_weights_and_names():
    """The new options default to the paper's model: same weights, names and config fields' meaning."""
    model = build_transformer(TransformerConfig.from_name("tiny"))
    names = [w.path for w in model.weights]
    assert any("masked_self_attention" in n for n in names)
    assert not any("ssru" in n or "output_bias" in n for n in names)
