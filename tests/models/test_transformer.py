import os

import keras
import numpy as np
import pytest
from keras import ops

from keras_transformer.models import TransformerConfig, build_attention_model, build_transformer

rng = np.random.default_rng(5)


def tiny(**overrides):
    fields = dict(d_model=32, num_heads=4, d_ff=64, num_encoder_layers=2, num_decoder_layers=2, max_length=16)
    fields.update(overrides)
    return TransformerConfig.from_name("tiny", **fields)


def batch(batch_size=3, source_length=7, target_length=6, vocabulary=100):
    source = rng.integers(3, vocabulary, size=(batch_size, source_length)).astype("int32")
    target = rng.integers(3, vocabulary, size=(batch_size, target_length)).astype("int32")
    source[1, 4:] = 0
    target[1, 3:] = 0
    return {"encoder_tokens": source, "decoder_tokens": target}


def test_inputs_and_output_shape_and_dtype():
    model = build_transformer(tiny())
    assert [i.name for i in model.inputs] == ["decoder_tokens", "encoder_tokens"] or {
        i.name for i in model.inputs
    } == {"encoder_tokens", "decoder_tokens"}
    logits = model(batch())
    assert tuple(logits.shape) == (3, 6, 100)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert getattr(logits, "_keras_mask", None) is None


def test_causality_changing_later_decoder_tokens_leaves_earlier_logits():
    model = build_transformer(tiny())
    inputs = batch()
    inputs["decoder_tokens"][1] = rng.integers(3, 100, size=6)
    baseline = ops.convert_to_numpy(model(inputs))
    for t in range(5):
        changed = {k: v.copy() for k, v in inputs.items()}
        changed["decoder_tokens"][:, t + 1 :] = rng.integers(3, 100, size=changed["decoder_tokens"][:, t + 1 :].shape)
        logits = ops.convert_to_numpy(model(changed))
        np.testing.assert_allclose(logits[:, : t + 1], baseline[:, : t + 1], rtol=1e-5, atol=1e-5)


def test_padding_extra_padding_leaves_real_positions_unchanged():
    model = build_transformer(tiny())
    inputs = batch()
    padded = {
        "encoder_tokens": np.pad(inputs["encoder_tokens"], ((0, 0), (0, 5))),
        "decoder_tokens": np.pad(inputs["decoder_tokens"], ((0, 0), (0, 4))),
    }
    real = inputs["decoder_tokens"] != 0
    np.testing.assert_allclose(
        ops.convert_to_numpy(model(padded))[:, :6][real], ops.convert_to_numpy(model(inputs))[real], rtol=1e-4, atol=1e-5
    )


def test_padded_source_ids_are_ignored_through_the_mask():
    model = build_transformer(tiny())
    inputs = batch()
    # Row 1 has source padding at 4:. A shorter copy of the same sentence must decode identically.
    short = {"encoder_tokens": inputs["encoder_tokens"][1:2, :4], "decoder_tokens": inputs["decoder_tokens"][1:2]}
    real = inputs["decoder_tokens"][1] != 0
    np.testing.assert_allclose(
        ops.convert_to_numpy(model(inputs))[1][real], ops.convert_to_numpy(model(short))[0][real], rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize(
    "overrides",
    [{}, {"share_embeddings": True}, {"tie_output": False}, {"normalize_first": True, "activation": "gelu"}],
)
def test_keras_file_round_trip_in_safe_mode_without_custom_objects(tmp_path, overrides):
    model = build_transformer(tiny(**overrides))
    inputs = batch()
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(inputs)), ops.convert_to_numpy(model(inputs)), rtol=1e-6, atol=1e-6)
    assert loaded.count_params() == model.count_params()


def test_keras_file_loads_in_a_fresh_process(tmp_path):
    """Loading needs the model class imported (it registers the model and the layers) but no custom_objects."""
    import subprocess
    import sys

    model = build_transformer(tiny())
    inputs = batch()
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    np.save(os.path.join(tmp_path, "source.npy"), inputs["encoder_tokens"])
    np.save(os.path.join(tmp_path, "target.npy"), inputs["decoder_tokens"])
    np.save(os.path.join(tmp_path, "expected.npy"), ops.convert_to_numpy(model(inputs)))
    script = f"""
import numpy as np, keras
from keras_transformer.models import TransformerModel  # the import registers the model and its layers
d = {str(tmp_path)!r}
model = keras.saving.load_model(d + "/model.keras", safe_mode=True)
out = model({{"encoder_tokens": np.load(d + "/source.npy"), "decoder_tokens": np.load(d + "/target.npy")}})
np.testing.assert_allclose(keras.ops.convert_to_numpy(out), np.load(d + "/expected.npy"), rtol=1e-6, atol=1e-6)
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ok" in result.stdout


def test_shared_and_tied_embeddings_are_one_matrix():
    model = build_transformer(tiny(share_embeddings=True, tie_output=True))
    assert model.get_layer("source_embedding") is not None
    names = [layer.name for layer in model.layers]
    assert "target_embedding" not in names and "output_projection" not in names
    untied = build_transformer(tiny(tie_output=False))
    assert untied.get_layer("output_projection").units == 100


def test_attention_model_shares_weights_and_returns_all_three_attentions():
    config = tiny()
    model = build_transformer(config)
    attention_model = build_attention_model(model)
    inputs = batch()
    outputs = attention_model(inputs)
    np.testing.assert_allclose(ops.convert_to_numpy(outputs["logits"]), ops.convert_to_numpy(model(inputs)), rtol=1e-5, atol=1e-5)
    assert tuple(outputs["encoder_self_attention"].shape) == (3, 2, 4, 7, 7)
    assert tuple(outputs["decoder_masked_self_attention"].shape) == (3, 2, 4, 6, 6)
    assert tuple(outputs["source_target_attention"].shape) == (3, 2, 4, 6, 7)

    masked = ops.convert_to_numpy(outputs["decoder_masked_self_attention"])
    upper = np.triu(np.ones((6, 6), bool), k=1)
    assert np.all(masked[..., upper] == 0.0)

    cross = ops.convert_to_numpy(outputs["source_target_attention"])
    source_real = inputs["encoder_tokens"] != 0
    target_real = inputs["decoder_tokens"] != 0
    for b in range(3):
        rows = cross[b][:, :, target_real[b]]  # (N, H, real T, S)
        np.testing.assert_allclose(rows[..., source_real[b]].sum(-1), 1.0, rtol=1e-5)
        assert np.all(rows[..., ~source_real[b]] == 0.0)

    # Training the first model moves the second: they hold the same variables.
    model.get_layer("source_embedding").embeddings.assign(np.zeros((100, 32), "float32"))
    assert not np.allclose(ops.convert_to_numpy(attention_model(inputs)["logits"]), ops.convert_to_numpy(outputs["logits"]))


def test_bad_inputs_name_what_was_wrong():
    model = build_transformer(tiny())
    inputs = batch()
    too_big = {k: v.copy() for k, v in inputs.items()}
    too_big["decoder_tokens"][0, 0] = 100
    with pytest.raises(ValueError, match=r"token ids.*vocabulary_size=100.*100"):
        model(too_big)
    too_long = {"encoder_tokens": np.ones((1, 17), "int32"), "decoder_tokens": np.ones((1, 3), "int32")}
    with pytest.raises(ValueError, match=r"max_length=16.*length=17"):
        model(too_long)
    with pytest.raises(TypeError, match="encoder_tokens.dtype=float32"):
        model({"encoder_tokens": np.full((1, 3), 1.7, "float32"), "decoder_tokens": np.ones((1, 3), "int32")})
    with pytest.raises(ValueError, match=r"encoder_tokens.shape=\(1, 3, 2\)"):
        model({"encoder_tokens": np.ones((1, 3, 2), "int32"), "decoder_tokens": np.ones((1, 3), "int32")})
    with pytest.raises(ValueError, match="same batch size"):
        model({"encoder_tokens": np.ones((2, 3), "int32"), "decoder_tokens": np.ones((1, 3), "int32")})
    with pytest.raises(ValueError, match='Missing data for input "decoder_tokens"'):
        model({"encoder_tokens": np.ones((2, 3), "int32")})


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="jax.jit traces predict: no value checks (as XLA on TensorFlow)")
def test_out_of_range_ids_raise_in_predict():
    model = build_transformer(tiny())
    inputs = batch()
    inputs["encoder_tokens"][2, 1] = 250
    with pytest.raises(Exception, match=r"vocabulary_size=100"):
        model.predict(inputs, verbose=0)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_model_trains_a_step_with_float32_logits(policy):
    from keras_transformer import training

    keras.config.set_dtype_policy(policy)
    model = build_transformer(tiny())
    inputs = batch()
    logits = model(inputs)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    model.compile(optimizer="adam", loss=training.MaskedSparseCrossEntropy())
    history = model.fit(inputs, inputs["decoder_tokens"], epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
