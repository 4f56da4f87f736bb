"""BERT checkpoints (Hugging Face layout, safetensors) converted into `build_encoder` models.

Every source tensor goes to exactly one variable, and every variable gets exactly one tensor: a
missing tensor, a tensor left over, or a shape that does not fit fails with the tensor's name.
"""

import hashlib

import numpy as np

from keras_transformer.convert.plan import ConversionError, apply_plan, check_nothing_left
from keras_transformer.models.encoder import EncoderConfig, build_encoder

# Tensors a sentence-embedding checkpoint carries that the converted model deliberately leaves out,
# with the reason. Anything else left over is an error.
IGNORED_TENSORS = {
    "pooler.dense.weight": "BERT's [CLS] pooler (tanh dense layer); mean pooling does not use it",
    "pooler.dense.bias": "BERT's [CLS] pooler (tanh dense layer); mean pooling does not use it",
}
# Buffers, not weights: checked to hold what the model computes itself.
POSITION_IDS = "embeddings.position_ids"


def bert_encoder_config(hf_config, normalize_pooled=False):
    """The `EncoderConfig` of a Hugging Face BERT `config.json` (a dict).

    Only what our layers compute exactly is accepted: absolute position embeddings and the exact
    GELU (`hidden_act: "gelu"`); anything else raises `ConversionError`.
    """
    if hf_config.get("model_type", "bert") != "bert":
        raise ConversionError(f"Not a BERT config. Received: model_type={hf_config.get('model_type')!r}")
    if hf_config.get("hidden_act") not in ("gelu", "relu"):
        raise ConversionError(
            "Only the exact GELU ('gelu') and 'relu' activations convert. "
            f"Received: hidden_act={hf_config.get('hidden_act')!r}"
        )
    if hf_config.get("position_embedding_type", "absolute") != "absolute":
        raise ConversionError(
            "Only absolute position embeddings convert. "
            f"Received: position_embedding_type={hf_config.get('position_embedding_type')!r}"
        )
    return EncoderConfig(
        vocabulary_size=hf_config["vocab_size"],
        d_model=hf_config["hidden_size"],
        num_heads=hf_config["num_attention_heads"],
        d_ff=hf_config["intermediate_size"],
        num_layers=hf_config["num_hidden_layers"],
        dropout=hf_config.get("hidden_dropout_prob", 0.1),
        attention_dropout=hf_config.get("attention_probs_dropout_prob", 0.1),
        max_length=hf_config["max_position_embeddings"],
        activation=hf_config["hidden_act"],
        layer_norm_epsilon=hf_config.get("layer_norm_eps", 1e-12),
        learned_positions=True,
        segment_vocabulary_size=hf_config.get("type_vocab_size", 2),
        embedding_norm=True,
        scale_embeddings=False,
        normalize_pooled=normalize_pooled,
    )


def _plan(model, config):
    """`[(source tensor name, variable, transform)]` for every variable of `model`.

    Hugging Face dense weights are `(out, in)` (y = x Wᵀ + b); ours are `(in, out)`, and the attention
    projections keep heads apart: query/key/value `(D, H, K)`, output `(H, K, D)`.
    """
    heads, head_size, d_model = config.num_heads, config.d_model // config.num_heads, config.d_model

    def dense(weight):  # (out, in) -> (in, out)
        return weight.T

    def to_heads(weight):  # (H·K, D) -> (D, H·K) -> (D, H, K)
        return weight.T.reshape(d_model, heads, head_size)

    def bias_to_heads(bias):  # (H·K,) -> (H, K)
        return bias.reshape(heads, head_size)

    def from_heads(weight):  # (D, H·K) -> (H·K, D) -> (H, K, D)
        return weight.T.reshape(heads, head_size, d_model)

    def same(value):
        return value

    embedding = model.get_layer("token_embedding")
    norm = model.get_layer("embedding_norm")
    plan = [
        ("embeddings.word_embeddings.weight", embedding.embeddings, same),
        ("embeddings.token_type_embeddings.weight", embedding.segment_embeddings, same),
        ("embeddings.position_embeddings.weight", model.get_layer("positional_encoding").position_embeddings, same),
        ("embeddings.LayerNorm.weight", norm.gamma, same),
        ("embeddings.LayerNorm.bias", norm.beta, same),
    ]
    for i, block in enumerate(model.get_layer("encoder").blocks):
        prefix = f"encoder.layer.{i}."
        attention = block.self_attention
        for name, projection in (
            ("query", attention.query_dense),
            ("key", attention.key_dense),
            ("value", attention.value_dense),
        ):
            plan.append((f"{prefix}attention.self.{name}.weight", projection.kernel, to_heads))
            plan.append((f"{prefix}attention.self.{name}.bias", projection.bias, bias_to_heads))
        plan += [
            (f"{prefix}attention.output.dense.weight", attention.output_dense.kernel, from_heads),
            (f"{prefix}attention.output.dense.bias", attention.output_dense.bias, same),
            (f"{prefix}attention.output.LayerNorm.weight", block.self_attention_norm.gamma, same),
            (f"{prefix}attention.output.LayerNorm.bias", block.self_attention_norm.beta, same),
            (f"{prefix}intermediate.dense.weight", block.feed_forward.inner_dense.kernel, dense),
            (f"{prefix}intermediate.dense.bias", block.feed_forward.inner_dense.bias, same),
            (f"{prefix}output.dense.weight", block.feed_forward.output_dense.kernel, dense),
            (f"{prefix}output.dense.bias", block.feed_forward.output_dense.bias, same),
            (f"{prefix}output.LayerNorm.weight", block.feed_forward_norm.gamma, same),
            (f"{prefix}output.LayerNorm.bias", block.feed_forward_norm.beta, same),
        ]
    return plan


def _strip_prefix(tensors):
    # Checkpoints saved from BertForX name the backbone "bert.embeddings...", bare BertModel ones "embeddings...".
    if tensors and all(name.startswith("bert.") for name in tensors):
        return {name[len("bert.") :]: value for name, value in tensors.items()}
    return tensors


def convert_bert(tensors, config, name="encoder"):
    """Build `build_encoder(config)` and load the BERT checkpoint `tensors` into it.

    Args:
        tensors: `{name: np.ndarray}` in the Hugging Face BERT layout (e.g. from `read_safetensors`).
        config: an `EncoderConfig` from `bert_encoder_config`.
        name: the model's name.

    Returns:
        The `EncoderModel`, every variable set from the checkpoint.

    Raises:
        ConversionError: a tensor missing, left over (beyond `IGNORED_TENSORS`), of the wrong shape
            or not finite; or position ids that are not 0, 1, 2, ...
    """
    tensors = _strip_prefix(dict(tensors))
    model = build_encoder(config, name=name)
    plan = _plan(model, config)
    used = apply_plan(model, plan, tensors)
    if POSITION_IDS in tensors:
        position_ids = np.asarray(tensors[POSITION_IDS]).reshape(-1)
        if not np.array_equal(position_ids, np.arange(len(position_ids))):
            raise ConversionError(f"{POSITION_IDS!r} is not 0, 1, 2, ...: the model computes positions that way.")
        used.add(POSITION_IDS)
    check_nothing_left(tensors, used, IGNORED_TENSORS)
    return model


def weights_sha256(model):
    """A SHA-256 over every variable of `model` (path, shape and float32 bytes, in order): the
    checksum of a conversion's result, independent of any file format."""
    digest = hashlib.sha256()
    for variable in model.weights:
        value = np.ascontiguousarray(np.asarray(variable), dtype="<f4")
        digest.update(f"{variable.path}:{list(value.shape)}\n".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()
