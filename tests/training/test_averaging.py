"""`training.average_checkpoints`: the paper's checkpoint averaging."""

import numpy as np
import pytest
from keras import ops

import keras_transformer
from keras_transformer import training


@pytest.fixture
def model():
    config = keras_transformer.TransformerConfig.from_name(
        "tiny", source_vocab_size=12, target_vocab_size=12, max_length=8
    )
    return keras_transformer.build_transformer(config)


def compiled(model):
    model.compile(optimizer=training.paper_optimizer(32, warmup_steps=10), loss=training.MaskedSparseCrossEntropy())
    model.optimizer.build(model.trainable_variables)
    return model


def inputs():
    tokens = np.array([[4, 5, 6, 0], [7, 8, 0, 0]], "int32")
    return {"encoder_tokens": tokens, "decoder_tokens": tokens}


def test_averaging_copies_of_one_checkpoint_gives_the_same_model(model, tmp_path):
    path = tmp_path / "epoch.weights.h5"
    compiled(model).save_weights(str(path))  # weights and optimizer state, like ResumableCheckpoint's files
    expected_weights, expected_logits = model.get_weights(), ops.convert_to_numpy(model(inputs()))
    fresh = keras_transformer.build_transformer(model.config)
    training.average_checkpoints(fresh, [path] * 3)
    for got, expected in zip(fresh.get_weights(), expected_weights):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ops.convert_to_numpy(fresh(inputs())), expected_logits, rtol=1e-5, atol=1e-6)


def test_averaging_two_weight_sets_gives_their_mean_and_keeps_the_optimizer_state(model, tmp_path):
    model = compiled(model)
    rng = np.random.default_rng(0)
    sets = []
    for index in range(2):
        weights = [rng.normal(size=w.shape).astype(w.dtype) for w in model.get_weights()]
        model.set_weights(weights)
        model.save_weights(str(tmp_path / f"{index}.weights.h5"))
        sets.append(weights)
    model.optimizer.iterations.assign(7)
    training.average_checkpoints(model, [tmp_path / "0.weights.h5", tmp_path / "1.weights.h5"])
    for got, first, second in zip(model.get_weights(), *sets):
        np.testing.assert_allclose(got, (first.astype("float64") + second) / 2, rtol=1e-6)
    assert int(model.optimizer.iterations) == 7  # the files' optimizer state is not loaded into the model


def test_no_paths_is_an_error(model):
    with pytest.raises(ValueError, match="paths"):
        training.average_checkpoints(model, [])
