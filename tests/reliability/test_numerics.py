"""Half-precision training stays finite, and the sequence-length limit is exact and clearly reported."""

import keras
import numpy as np
import pytest

import keras_transformer
from keras_transformer import training

STEPS = 50
BATCH = 16
VOCABULARY = 16


def toy_data(count, seed=0, max_length=8):
    """The reverse task with lengths 2..max_length-1, so batches carry padding (fully masked keys are a
    classic source of half-precision NaNs)."""
    rng = np.random.default_rng(seed)
    sources = [rng.integers(3, VOCABULARY, size=rng.integers(2, max_length)).tolist() for _ in range(count)]
    return training.teacher_forcing(
        sources, [s[::-1] for s in sources], start_id=1, end_id=2, source_length=max_length, target_length=max_length
    )


def build(policy, max_length=8, **overrides):
    keras.config.set_dtype_policy(policy)  # conftest restores float32 after each test
    config = keras_transformer.TransformerConfig.from_name(
        "tiny",
        source_vocab_size=VOCABULARY,
        target_vocab_size=VOCABULARY,
        max_length=max_length,
        **overrides,
    )
    return keras_transformer.build_transformer(config)


class LossRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def train(model, optimizer):
    """Fit STEPS batches; returns the logged losses and the loss on held-out batch before and after."""
    loss = training.MaskedSparseCrossEntropy(label_smoothing=0.1)
    model.compile(optimizer=optimizer, loss=loss)
    inputs, labels = toy_data(STEPS * BATCH)
    probe_inputs, probe_labels = toy_data(64, seed=1)
    before = float(loss(probe_labels, model(probe_inputs)))
    recorder = LossRecorder()
    model.fit(inputs, labels, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    after = float(loss(probe_labels, model(probe_inputs)))
    return recorder.losses, before, after


def assert_all_finite(model):
    assert len(model.optimizer.variables) > 0
    for variable in model.weights + model.optimizer.variables:
        value = np.asarray(keras.ops.convert_to_numpy(variable), dtype="float64")
        assert np.all(np.isfinite(value)), variable.path


@pytest.mark.parametrize("policy, compute_dtype", [("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16")])
def test_fifty_half_precision_steps_stay_finite_and_learn(policy, compute_dtype):
    model = build(policy)
    losses, before, after = train(model, training.paper_optimizer(32, warmup_steps=20, scale=2.0))

    encoder_block = model.get_layer("encoder")
    assert encoder_block.compute_dtype == compute_dtype
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in model.weights)
    # Keras wraps the optimizer in dynamic loss scaling for float16 only; bfloat16 has float32's range.
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    assert len(losses) == STEPS
    assert np.all(np.isfinite(losses)), losses
    assert_all_finite(model)
    assert after < before - 0.3, (before, after)


def test_float16_overflow_is_skipped_and_the_loss_scale_comes_down():
    """A loss scale of 2^40 overflows float16 gradients: those steps must be skipped, not applied."""
    model = build("mixed_float16")
    initial_scale = 2.0**40
    optimizer = keras.optimizers.LossScaleOptimizer(
        training.paper_optimizer(32, warmup_steps=20, scale=2.0), initial_scale=initial_scale
    )
    losses, before, after = train(model, optimizer)

    final_scale = float(keras.ops.convert_to_numpy(optimizer.dynamic_scale))
    applied_steps = int(keras.ops.convert_to_numpy(optimizer.inner_optimizer.iterations))
    assert final_scale < initial_scale / 2**10, final_scale  # it did overflow, repeatedly
    assert 0 < applied_steps < STEPS, applied_steps  # overflowing steps were skipped, later ones applied
    assert np.all(np.isfinite(losses)), losses
    assert_all_finite(model)
    assert after < before, (before, after)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_inputs_at_max_length_work_and_one_more_is_refused(policy):
    model = build(policy, max_length=8)
    rng = np.random.default_rng(0)

    def tokens(length):
        return rng.integers(3, VOCABULARY, size=(2, length)).astype("int32")

    logits = model({"encoder_tokens": tokens(8), "decoder_tokens": tokens(8)})
    assert tuple(logits.shape) == (2, 8, VOCABULARY)
    assert np.all(np.isfinite(np.asarray(logits)))
    for name in ("encoder_tokens", "decoder_tokens"):
        batch = {"encoder_tokens": tokens(8), "decoder_tokens": tokens(8), name: tokens(9)}
        with pytest.raises(ValueError, match=r"must be at most max_length=8\. Received: length=9"):
            model(batch)


def test_fit_at_max_length_works_and_one_more_is_refused():
    model = build("float32", max_length=8)
    model.compile(optimizer="adam", loss=training.MaskedSparseCrossEntropy())
    rng = np.random.default_rng(0)
    inputs = {
        "encoder_tokens": rng.integers(3, VOCABULARY, size=(4, 8)),
        "decoder_tokens": rng.integers(3, VOCABULARY, size=(4, 8)),
    }
    history = model.fit(inputs, inputs["decoder_tokens"], epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])

    too_long = {**inputs, "encoder_tokens": rng.integers(3, VOCABULARY, size=(4, 9))}
    # Whether the length is static (a ValueError while tracing) or dynamic (a graph assert), the
    # message names the limit and the length received.
    with pytest.raises(Exception, match=r"max_length=8"):
        model.fit(too_long, inputs["decoder_tokens"], epochs=1, verbose=0)
