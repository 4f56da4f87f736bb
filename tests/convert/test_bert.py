"""`convert_bert` on a small random BERT checkpoint written here, checked against an independent NumPy
forward pass that reads the checkpoint in the Hugging Face layout (`(out, in)` dense weights, heads
concatenated), and against every way a checkpoint can fail to fit."""

import json
import math

import numpy as np
import pytest

from keras_transformer.convert import (
    IGNORED_TENSORS,
    ConversionError,
    SafetensorsError,
    bert_encoder_config,
    convert_bert,
    read_safetensors,
    weights_sha256,
)

HF_CONFIG = {
    "model_type": "bert",
    "vocab_size": 40,
    "hidden_size": 12,
    "num_attention_heads": 3,
    "intermediate_size": 20,
    "num_hidden_layers": 2,
    "max_position_embeddings": 16,
    "type_vocab_size": 2,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-12,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
}


def random_checkpoint(config=HF_CONFIG, seed=0):
    rng = np.random.default_rng(seed)
    d, f = config["hidden_size"], config["intermediate_size"]

    def normal(*shape):
        return rng.normal(scale=0.3, size=shape).astype("float32")

    tensors = {
        "embeddings.word_embeddings.weight": normal(config["vocab_size"], d),
        "embeddings.position_embeddings.weight": normal(config["max_position_embeddings"], d),
        "embeddings.token_type_embeddings.weight": normal(config["type_vocab_size"], d),
        "embeddings.LayerNorm.weight": 1 + normal(d),
        "embeddings.LayerNorm.bias": normal(d),
        "embeddings.position_ids": np.arange(config["max_position_embeddings"], dtype="int64")[None],
        "pooler.dense.weight": normal(d, d),
        "pooler.dense.bias": normal(d),
    }
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            tensors[f"{p}attention.self.{name}.weight"] = normal(d, d)
            tensors[f"{p}attention.self.{name}.bias"] = normal(d)
        tensors.update(
            {
                f"{p}attention.output.dense.weight": normal(d, d),
                f"{p}attention.output.dense.bias": normal(d),
                f"{p}attention.output.LayerNorm.weight": 1 + normal(d),
                f"{p}attention.output.LayerNorm.bias": normal(d),
                f"{p}intermediate.dense.weight": normal(f, d),
                f"{p}intermediate.dense.bias": normal(f),
                f"{p}output.dense.weight": normal(d, f),
                f"{p}output.dense.bias": normal(d),
                f"{p}output.LayerNorm.weight": 1 + normal(d),
                f"{p}output.LayerNorm.bias": normal(d),
            }
        )
    return tensors


def numpy_bert(tensors, config, ids):
    """BERT's forward pass straight from the checkpoint, in float64: mean-pooled, L2-normalised."""
    t = {name: value.astype("float64") for name, value in tensors.items()}
    heads, eps = config["num_attention_heads"], config["layer_norm_eps"]
    size = config["hidden_size"] // heads

    def norm(x, prefix):
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + eps) * t[prefix + ".weight"] + t[prefix + ".bias"]

    def linear(x, prefix):
        return x @ t[prefix + ".weight"].T + t[prefix + ".bias"]

    def gelu(x):
        return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))

    mask = ids != 0
    length = ids.shape[1]
    x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][:length]
    x = norm(x + t["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def split(y):  # (B, S, H·K) -> (B, H, S, K)
            return y.reshape(y.shape[0], length, heads, size).transpose(0, 2, 1, 3)

        q, k, v = (split(linear(x, f"{p}attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + np.where(mask[:, None, None, :], 0, -1e9)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        context = (weights @ v).transpose(0, 2, 1, 3).reshape(x.shape)
        x = norm(x + linear(context, f"{p}attention.output.dense"), f"{p}attention.output.LayerNorm")
        hidden = gelu(linear(x, f"{p}intermediate.dense"))
        x = norm(x + linear(hidden, f"{p}output.dense"), f"{p}output.LayerNorm")
    pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def write_safetensors(path, tensors):
    codes = {"float32": "F32", "int64": "I64", "float16": "F16"}
    header, offset, blobs = {}, 0, []
    for name, value in tensors.items():
        data = np.ascontiguousarray(value).tobytes()
        header[name] = {
            "dtype": codes[str(value.dtype)],
            "shape": list(value.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
        blobs.append(data)
    encoded = json.dumps({"__metadata__": {"format": "pt"}, **header}).encode()
    with open(path, "wb") as handle:
        handle.write(len(encoded).to_bytes(8, "little") + encoded + b"".join(blobs))


def test_converted_model_equals_a_numpy_bert_on_the_checkpoint(tmp_path):
    tensors = random_checkpoint()
    write_safetensors(tmp_path / "model.safetensors", tensors)
    read = read_safetensors(tmp_path / "model.safetensors")
    assert sorted(read) == sorted(tensors) and all(np.array_equal(read[n], tensors[n]) for n in tensors)
    config = bert_encoder_config(HF_CONFIG, normalize_pooled=True)
    model = convert_bert(read, config)
    ids = np.array([[2, 7, 9, 31, 3, 0, 0], [2, 5, 3, 0, 0, 0, 0], [2, 11, 12, 13, 14, 15, 3]], "int32")
    ours = np.asarray(model({"token_ids": ids, "segment_ids": np.zeros_like(ids)})["pooled_output"])
    np.testing.assert_allclose(ours, numpy_bert(tensors, HF_CONFIG, ids), atol=2e-6)


def test_weights_checksum_is_stable_and_sees_every_value():
    config = bert_encoder_config(HF_CONFIG)
    first, second = (convert_bert(random_checkpoint(), config) for _ in range(2))
    assert weights_sha256(first) == weights_sha256(second)
    changed = random_checkpoint()
    changed["encoder.layer.1.output.LayerNorm.bias"][3] += 1e-6
    assert weights_sha256(convert_bert(changed, config)) != weights_sha256(first)


def test_a_bert_prefix_is_accepted():
    tensors = {f"bert.{name}": value for name, value in random_checkpoint().items()}
    convert_bert(tensors, bert_encoder_config(HF_CONFIG))


def test_missing_unused_and_misshapen_tensors_fail_loudly():
    config = bert_encoder_config(HF_CONFIG)
    tensors = random_checkpoint()
    del tensors["encoder.layer.1.attention.self.key.bias"]
    with pytest.raises(ConversionError, match="encoder.layer.1.attention.self.key.bias"):
        convert_bert(tensors, config)
    tensors = random_checkpoint()
    tensors["encoder.layer.2.attention.self.key.bias"] = np.zeros(12, "float32")
    with pytest.raises(ConversionError, match="no place in the model.*encoder.layer.2"):
        convert_bert(tensors, config)
    tensors = random_checkpoint()
    tensors["encoder.layer.0.intermediate.dense.weight"] = np.zeros((12, 20), "float32")  # transposed
    with pytest.raises(ConversionError, match="intermediate.dense.weight.*does not fit"):
        convert_bert(tensors, config)
    tensors = random_checkpoint()
    tensors["embeddings.position_ids"] = tensors["embeddings.position_ids"][:, ::-1].copy()
    with pytest.raises(ConversionError, match="position_ids"):
        convert_bert(tensors, config)
    tensors = random_checkpoint()
    tensors["embeddings.LayerNorm.bias"][0] = np.nan
    with pytest.raises(ConversionError, match="not finite"):
        convert_bert(tensors, config)
    assert set(IGNORED_TENSORS) == {"pooler.dense.weight", "pooler.dense.bias"}


def test_configs_the_layers_cannot_compute_are_refused():
    for change, pattern in (
        ({"hidden_act": "gelu_new"}, "hidden_act"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
        ({"model_type": "roberta"}, "model_type"),
    ):
        with pytest.raises(ConversionError, match=pattern):
            bert_encoder_config({**HF_CONFIG, **change})
    config = bert_encoder_config(HF_CONFIG)
    assert (config.d_model, config.num_heads, config.d_ff, config.num_layers) == (12, 3, 20, 2)
    assert config.learned_positions and config.embedding_norm and not config.scale_embeddings


def test_broken_safetensors_files_are_refused(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x01\x00")
    with pytest.raises(SafetensorsError, match="too short"):
        read_safetensors(path)
    header = json.dumps({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\x00" * 8)
    with pytest.raises(SafetensorsError, match="'x'"):
        read_safetensors(path)
    header = json.dumps({"x": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\x00" * 8)
    with pytest.raises(SafetensorsError, match="dtype"):
        read_safetensors(path)
    path.write_bytes((10**9).to_bytes(8, "little") + b"{}")
    with pytest.raises(SafetensorsError, match="header length"):
        read_safetensors(path)
