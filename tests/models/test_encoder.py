"""`EncoderConfig` and `build_encoder`: validation, the functional graph, masking, `.keras` round trip."""

import keras
import numpy as np
import pytest

from keras_transformer.models import EncoderConfig, EncoderModel, build_encoder

BERT_LIKE = {
    "vocabulary_size": 50,
    "d_model": 16,
    "num_heads": 4,
    "d_ff": 32,
    "num_layers": 2,
    "dropout": 0.0,
    "activation": "gelu",
    "layer_norm_epsilon": 1e-12,
    "learned_positions": True,
    "segment_vocabulary_size": 2,
    "embedding_norm": True,
    "scale_embeddings": False,
    "normalize_pooled": True,
}


def bert_inputs(ids):
    ids = np.asarray(ids, "int32")
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids)}


def test_paper_defaults_take_token_ids_only():
    config = EncoderConfig(vocabulary_size=30, d_model=8, num_heads=2, d_ff=16, num_layers=1)
    model = build_encoder(config)
    assert isinstance(model, EncoderModel) and model.config is config
    assert config.input_names == ("token_ids",)
    outputs = model({"token_ids": np.array([[3, 4, 0]])})
    assert tuple(outputs["sequence_output"].shape) == (1, 3, 8)
    assert tuple(outputs["pooled_output"].shape) == (1, 8)
    names = {layer.name for layer in model.layers}
    assert "embedding_norm" not in names and "pooled_normalization" not in names


def test_bert_options_build_the_bert_layers():
    model = build_encoder(EncoderConfig(**BERT_LIKE))
    paths = [variable.path for variable in model.weights]
    for expected in (
        "token_embedding/segment_embeddings",
        "positional_encoding/position_embeddings",
        "embedding_norm/gamma",
        "encoder/block_1/feed_forward/inner/kernel",
    ):
        assert expected in paths
    assert model.get_layer("encoder").layer_norm_epsilon == 1e-12
    assert model.get_layer("token_embedding").scale is False


def test_padding_changes_nothing_and_pooling_is_the_masked_mean():
    model = build_encoder(EncoderConfig(**BERT_LIKE))
    short = model(bert_inputs([[5, 6, 7]]))
    padded = model(bert_inputs([[5, 6, 7, 0, 0]]))
    short, padded = keras.tree.map_structure(keras.ops.convert_to_numpy, (short, padded))
    np.testing.assert_allclose(padded["pooled_output"], short["pooled_output"], atol=1e-6)
    np.testing.assert_allclose(padded["sequence_output"][:, :3], short["sequence_output"], atol=1e-5)
    states = short["sequence_output"][0]
    mean = states.mean(axis=0)
    np.testing.assert_allclose(short["pooled_output"][0], mean / np.linalg.norm(mean), rtol=1e-5)


def test_keras_round_trip_rebuilds_from_the_config(tmp_path):
    model = build_encoder(EncoderConfig(**BERT_LIKE), name="bert_like")
    inputs = bert_inputs([[5, 6, 7, 0], [9, 0, 0, 0]])
    path = str(tmp_path / "encoder.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, EncoderModel) and loaded.config == model.config and loaded.name == "bert_like"
    pooled = [keras.ops.convert_to_numpy(m(inputs)["pooled_output"]) for m in (loaded, model)]
    np.testing.assert_array_equal(*pooled)


def test_one_fit_step_trains_the_pooled_output():
    model = build_encoder(EncoderConfig(**{**BERT_LIKE, "normalize_pooled": False}))
    inputs = bert_inputs([[5, 6, 7, 0], [9, 10, 0, 0]])
    before = keras.ops.convert_to_numpy(model.get_layer("token_embedding").embeddings).copy()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss={"pooled_output": "mse"})
    history = model.fit(inputs, {"pooled_output": np.ones((2, 16), "float32")}, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(before, keras.ops.convert_to_numpy(model.get_layer("token_embedding").embeddings))


def test_config_validation_names_the_argument():
    with pytest.raises(ValueError, match="num_heads"):
        EncoderConfig(vocabulary_size=10, d_model=10, num_heads=3)
    with pytest.raises(ValueError, match="activation"):
        EncoderConfig(vocabulary_size=10, activation="swish")
    with pytest.raises(ValueError, match="layer_norm_epsilon"):
        EncoderConfig(vocabulary_size=10, layer_norm_epsilon=0)
    with pytest.raises(ValueError, match="segment_vocabulary_size"):
        EncoderConfig(vocabulary_size=10, segment_vocabulary_size=-2)
    with pytest.raises(ValueError, match="Unknown EncoderConfig fields"):
        EncoderConfig.from_dict({"vocabulary_size": 10, "hidden_size": 3})
    config = EncoderConfig(**BERT_LIKE)
    assert EncoderConfig.from_json(config.to_json()) == config
    with pytest.raises(TypeError, match="EncoderConfig"):
        build_encoder({"vocabulary_size": 10})


def test_model_refuses_bad_inputs():
    model = build_encoder(EncoderConfig(**BERT_LIKE))
    with pytest.raises(ValueError, match="segment_ids"):
        model({"token_ids": np.array([[1, 2]])})
    with pytest.raises(TypeError, match="token_ids"):
        model({"token_ids": np.array([[1.5, 2.0]]), "segment_ids": np.array([[0, 0]])})
    with pytest.raises(ValueError, match="same shape"):
        model({"token_ids": np.array([[1, 2, 3]]), "segment_ids": np.array([[0, 0]])})
    with pytest.raises(ValueError, match="vocabulary_size=50"):
        model(bert_inputs([[1, 50]]))
