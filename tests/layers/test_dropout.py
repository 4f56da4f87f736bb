"""Dropout behaves the same on every backend (this folder runs under KERAS_BACKEND=jax and torch too):
off at inference (outputs equal the dropout-free layer's), on in training (random, a fraction `rate`
of the attention weights zeroed and the rest scaled by 1 / (1 - rate)), and reproducible from a seed."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_transformer import TransformerConfig, build_transformer
from keras_transformer.layers import (
    FeedForward,
    ScaledDotProductAttention,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)

RATE = 0.25
RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 6, 16)).astype("float32")
MEMORY = RNG.normal(size=(2, 5, 16)).astype("float32")
BLOCK = {"d_model": 16, "num_heads": 4, "d_ff": 32}


def numpy(value):
    return ops.convert_to_numpy(value)


def feed_forward(rate):
    return FeedForward(d_ff=32, dropout=rate), (X,)


def encoder_block(rate):
    return TransformerEncoderBlock(**BLOCK, dropout=rate), (X,)


def decoder_block(rate):
    return TransformerDecoderBlock(**BLOCK, dropout=rate), (X, MEMORY)


LAYERS = {"feed_forward": feed_forward, "encoder_block": encoder_block, "decoder_block": decoder_block}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_off_at_inference_on_in_training(make):
    layer, inputs = make(RATE)
    plain, _ = make(0.0)
    layer(*inputs)
    plain(*inputs)
    plain.set_weights(layer.get_weights())
    inference = numpy(layer(*inputs, training=False))
    np.testing.assert_array_equal(numpy(layer(*inputs, training=False)), inference)
    np.testing.assert_allclose(inference, numpy(plain(*inputs, training=True)), rtol=1e-6, atol=1e-6)
    first, second = numpy(layer(*inputs, training=True)), numpy(layer(*inputs, training=True))
    assert not np.allclose(first, inference) and not np.allclose(first, second)


def test_attention_weights_are_dropped_at_the_rate_and_rescaled():
    query = RNG.normal(size=(4, 64, 8)).astype("float32")
    key = RNG.normal(size=(4, 64, 8)).astype("float32")
    # Identity values: each output row is its (dropped-out) attention-weight row.
    value = np.broadcast_to(np.eye(64, dtype="float32"), (4, 64, 64)).copy()
    attention = ScaledDotProductAttention(dropout=RATE)
    _, weights = attention(query, key, value, return_attention_scores=True, training=False)
    dropped, returned = attention(query, key, value, return_attention_scores=True, training=True)
    weights, dropped, returned = numpy(weights), numpy(dropped), numpy(returned)
    # The reference weights, written out: softmax(QK^T / sqrt(d_k)).
    scores = np.einsum("btd,bsd->bts", query, key) / np.sqrt(8)
    reference = np.exp(scores - scores.max(-1, keepdims=True))
    reference /= reference.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, reference, rtol=1e-5, atol=1e-6)
    # As keras.layers.MultiHeadAttention does, the weights returned are those before dropout.
    np.testing.assert_allclose(returned, reference, rtol=1e-5, atol=1e-6)
    kept = dropped != 0
    assert abs((1 - kept.mean()) - RATE) < 0.02  # 16,384 weights: the drop fraction is within 0.02 of the rate
    np.testing.assert_allclose(dropped[kept], reference[kept] / (1 - RATE), rtol=1e-4, atol=1e-7)


def test_the_model_is_deterministic_at_inference_and_reproducible_from_a_seed():
    config = TransformerConfig.from_name("tiny", source_vocab_size=20, target_vocab_size=20, max_length=8, dropout=0.3)
    inputs = {
        "encoder_tokens": np.array([[5, 6, 7, 8], [9, 10, 0, 0]], "int32"),
        "decoder_tokens": np.array([[1, 11, 12], [1, 13, 0]], "int32"),
    }

    def build_and_run(seed):
        keras.utils.set_random_seed(seed)
        model = build_transformer(config)
        return model, numpy(model(inputs, training=True))

    model, first = build_and_run(3)
    _, again = build_and_run(3)
    np.testing.assert_array_equal(first, again)  # same seed, same weights and the same dropout masks
    inference = numpy(model(inputs, training=False))
    np.testing.assert_array_equal(numpy(model(inputs, training=False)), inference)
    assert not np.allclose(first, inference)
