"""Marian Transformer models (as the Firefox Translations models are) converted into `build_transformer`
models.

Marian keeps its architecture as YAML inside the model file (`special:model.yml`); `marian_config`
turns it into a `TransformerConfig`, refusing any option whose computation our layers do not
reproduce exactly, by name. `convert_marian` then maps every tensor to exactly one variable
(`convert.plan`).

Token ids. Marian's vocabulary ids are ours plus one: our id 0 is padding (Keras masks it), Marian's
id 0 is `</s>`. Our last id, `vocab + 1`, is the decoder's start: Marian starts decoding from a zero
vector instead of a start token's embedding, so that row of the (shared) embedding is zero, as is
the padding row; both get an output bias of `NEVER` so that no search picks them.
"""

import numpy as np

from keras_transformer.convert.plan import ConversionError, apply_plan, check_nothing_left

# The bias given to the padding and start ids' logits: exp(-1e9) is exactly 0 in float32.
NEVER = -1e9
# Options of `model.yml` that our layers compute as Marian does, with the only values accepted.
# A different value (or an option missing here that changes the computation) is refused by name.
_REQUIRED = {
    "type": "transformer",
    "transformer-postprocess": "dan",  # dropout, add, layer norm: post-LN
    "transformer-preprocess": "",
    "transformer-postprocess-emb": "d",  # dropout only: no layer norm on the embeddings
    "transformer-ffn-activation": "relu",
    "transformer-ffn-depth": 2,
    "transformer-train-position-embeddings": False,
    "transformer-tied-layers": [],
    "transformer-no-projection": False,
    "transformer-pool": False,
    "layer-normalization": False,
    "right-left": False,
    "output-omit-bias": False,
    "skip": False,
    "lemma-dim-emb": 0,
    "ulr": False,
}
_DECODER_SELF_ATTENTION = {"self-attention": "attention", "rnn": "ssru"}
# Activation scales of the int8 engine (`*_QuantMultA`) and the YAML itself carry no weight.
_NOT_WEIGHTS = ("_QuantMultA",)
MODEL_YML = "special:model.yml"


def marian_config(model_yml, max_length=256, dropout=None):
    """The `TransformerConfig` of a Marian `model.yml` (a dict).

    Args:
        model_yml: the parsed YAML.
        max_length: the longest sequence our model accepts (Marian's sinusoids have no limit).
        dropout: the dropout for fine-tuning (default the model's own `transformer-dropout`, or 0.1).

    Raises:
        ConversionError: an option our layers do not reproduce, named with its value.
    """
    from keras_transformer.models.config import TransformerConfig

    for option, expected in _REQUIRED.items():
        value = model_yml.get(option, expected)
        if value != expected:
            raise ConversionError(
                f"Marian option {option!r} is not supported: only {expected!r} converts exactly. Received: {option}={value!r}"
            )
    autoregression = model_yml.get("transformer-decoder-autoreg", "self-attention")
    if autoregression not in _DECODER_SELF_ATTENTION:
        raise ConversionError(
            "Marian option 'transformer-decoder-autoreg' must be 'self-attention' or 'rnn'. "
            f"Received: transformer-decoder-autoreg={autoregression!r}"
        )
    if autoregression == "rnn" and model_yml.get("dec-cell") != "ssru":
        raise ConversionError(f"Only the SSRU decoder cell converts. Received: dec-cell={model_yml.get('dec-cell')!r}")
    if not model_yml.get("tied-embeddings-all", False):
        raise ConversionError(
            "Only models with one embedding for source, target and output convert. "
            f"Received: tied-embeddings-all={model_yml.get('tied-embeddings-all')!r}"
        )
    vocabularies = model_yml.get("dim-vocabs", [])
    if len(vocabularies) != 2 or vocabularies[0] != vocabularies[1]:
        raise ConversionError(f"Expected one vocabulary size shared by both sides. Received: dim-vocabs={vocabularies!r}")
    ours = int(vocabularies[0]) + 2  # + padding and start
    return TransformerConfig(
        source_vocab_size=ours,
        target_vocab_size=ours,
        d_model=int(model_yml["dim-emb"]),
        num_heads=int(model_yml["transformer-heads"]),
        d_ff=int(model_yml["transformer-dim-ffn"]),
        num_encoder_layers=int(model_yml["enc-depth"]),
        num_decoder_layers=int(model_yml["dec-depth"]),
        dropout=float(model_yml.get("transformer-dropout", 0.1) if dropout is None else dropout),
        max_length=max_length,
        share_embeddings=True,
        tie_output=True,
        activation="relu",
        decoder_self_attention=_DECODER_SELF_ATTENTION[autoregression],
        positional_layout="tensor2tensor",
        scale_embeddings=True,
        output_bias=True,
        layer_norm_epsilon=1e-9,  # Marian's layer norm
    )


def _plan(model, config):
    """`[(Marian tensor, variable, transform)]` for every variable of `model`.

    Marian's matrices are `(in, out)` like ours; heads are contiguous column blocks of the
    projections, so `(D, H·K)` reshapes to our `(D, H, K)` and the output `(H·K, D)` to `(H, K, D)`.
    """
    heads, head_size, d_model = config.num_heads, config.d_model // config.num_heads, config.d_model

    def same(value):
        return value

    def row(bias):  # Marian biases are (1, n)
        return np.reshape(bias, -1)

    def to_heads(weight):
        return np.reshape(weight, (d_model, heads, head_size))

    def bias_to_heads(bias):
        return np.reshape(bias, (heads, head_size))

    def from_heads(weight):
        return np.reshape(weight, (heads, head_size, d_model))

    def embedding(weight):  # (V, D) -> (V + 2, D): zero rows for padding (first) and start (last)
        zeros = np.zeros((1, weight.shape[1]), weight.dtype)
        return np.concatenate([zeros, weight, zeros])

    def output_bias(bias):
        never = np.full((1,), NEVER, "float32")
        return np.concatenate([never, row(bias), never])

    def attention(prefix, layer):
        rows = []
        for letter, projection in (("q", layer.query_dense), ("k", layer.key_dense), ("v", layer.value_dense)):
            rows.append((f"{prefix}_W{letter}", projection.kernel, to_heads))
            rows.append((f"{prefix}_b{letter}", projection.bias, bias_to_heads))
        rows.append((f"{prefix}_Wo", layer.output_dense.kernel, from_heads))
        rows.append((f"{prefix}_bo", layer.output_dense.bias, row))
        return rows

    def norm(prefix, layer):
        return [(f"{prefix}_ln_scale", layer.gamma, row), (f"{prefix}_ln_bias", layer.beta, row)]

    def feed_forward(prefix, block):
        ffn = block.feed_forward
        return [
            (f"{prefix}_W1", ffn.inner_dense.kernel, same),
            (f"{prefix}_b1", ffn.inner_dense.bias, row),
            (f"{prefix}_W2", ffn.output_dense.kernel, same),
            (f"{prefix}_b2", ffn.output_dense.bias, row),
            *norm(f"{prefix}_ffn", block.feed_forward_norm),
        ]

    shared = model.get_layer("source_embedding")
    plan = [("Wemb", shared.embeddings, embedding), ("decoder_ff_logit_out_b", shared.logits_bias, output_bias)]
    for i, block in enumerate(model.get_layer("encoder").blocks, start=1):
        prefix = f"encoder_l{i}"
        plan += attention(f"{prefix}_self", block.self_attention)
        plan += norm(f"{prefix}_self_Wo", block.self_attention_norm)
        plan += feed_forward(f"{prefix}_ffn", block)
    for i, block in enumerate(model.get_layer("decoder").blocks, start=1):
        prefix = f"decoder_l{i}"
        if config.decoder_self_attention == "ssru":
            plan += [
                (f"{prefix}_rnn_W", block.ssru.kernel, same),
                (f"{prefix}_rnn_Wf", block.ssru.forget_kernel, same),
                (f"{prefix}_rnn_bf", block.ssru.forget_bias, row),
                *norm(f"{prefix}_rnn_ffn", block.ssru_norm),
            ]
        else:
            plan += attention(f"{prefix}_self", block.masked_self_attention)
            plan += norm(f"{prefix}_self_Wo", block.masked_self_attention_norm)
        plan += attention(f"{prefix}_context", block.source_target_attention)
        plan += norm(f"{prefix}_context_Wo", block.source_target_attention_norm)
        plan += feed_forward(f"{prefix}_ffn", block)
    return plan


def convert_marian(tensors, model_yml, max_length=256, dropout=None, name="translation"):
    """Build the model that `model_yml` describes and load Marian's `tensors` into it.

    Args:
        tensors: `{name: float32 np.ndarray}` in Marian's names and shapes (int8 matrices already
            divided by their multipliers, as `convert.marian_files.read_marian` gives them).
        model_yml: the parsed `special:model.yml`.
        max_length, dropout: as for `marian_config`.
        name: the model's name.

    Returns:
        A `TransformerModel` (see the module docstring for its ids).

    Raises:
        ConversionError: an unsupported option, or a tensor missing, left over, misshapen or not finite.
    """
    from keras_transformer.models.transformer import build_transformer

    config = marian_config(model_yml, max_length=max_length, dropout=dropout)
    model = build_transformer(config, name=name)
    used = apply_plan(model, _plan(model, config), tensors)
    ignored = [tensor for tensor in tensors if tensor.endswith(_NOT_WEIGHTS) or tensor == MODEL_YML]
    check_nothing_left(tensors, used, ignored)
    return model
