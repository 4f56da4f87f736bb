"""`build_transformer`: the encoder-decoder of "Attention Is All You Need" as a functional Keras model."""

import dataclasses

import keras

from keras_transformer.layers import PositionalEncoding, TokenEmbedding, TransformerDecoder, TransformerEncoder

ENCODER_INPUT = "encoder_tokens"
DECODER_INPUT = "decoder_tokens"


@dataclasses.dataclass
class TransformerLayers:
    """The named layers of a model built by `build_transformer`, so a second graph (attention
    inspection, cached decoding) can reuse them: `TransformerLayers.from_model(model)`. Names are part
    of the saved format: keep them stable."""

    source_embedding: TokenEmbedding
    target_embedding: TokenEmbedding
    positional_encoding: PositionalEncoding
    source_dropout: keras.layers.Layer
    target_dropout: keras.layers.Layer
    encoder: TransformerEncoder
    decoder: TransformerDecoder
    output_projection: keras.layers.Layer | None  # None when tied to the target embedding
    logits: keras.layers.Layer

    @classmethod
    def create(cls, config):
        embedding = dict(scale=config.scale_embeddings)
        # The bias belongs to the embedding that projects the output: the target's (maybe shared).
        output_bias = dict(output_bias=True) if config.output_bias else {}
        if config.share_embeddings:
            source_embedding = TokenEmbedding(
                config.source_vocab_size, config.d_model, name="source_embedding", **embedding, **output_bias
            )
            target_embedding = source_embedding
        else:
            source_embedding = TokenEmbedding(config.source_vocab_size, config.d_model, name="source_embedding", **embedding)
            target_embedding = TokenEmbedding(
                config.target_vocab_size, config.d_model, name="target_embedding", **embedding, **output_bias
            )
        stack = dict(
            d_model=config.d_model,
            num_heads=config.num_heads,
            d_ff=config.d_ff,
            dropout=config.dropout,
            activation=config.activation,
            normalize_first=config.normalize_first,
            layer_norm_epsilon=config.layer_norm_epsilon,
        )
        positions = {} if config.positional_layout == "interleaved" else {"layout": config.positional_layout}
        decoder_options = {} if config.decoder_self_attention == "attention" else {"self_attention": "ssru"}
        return cls(
            source_embedding=source_embedding,
            target_embedding=target_embedding,
            positional_encoding=PositionalEncoding(config.max_length, name="positional_encoding", **positions),
            source_dropout=keras.layers.Dropout(config.dropout, name="source_dropout"),
            target_dropout=keras.layers.Dropout(config.dropout, name="target_dropout"),
            encoder=TransformerEncoder(config.num_encoder_layers, name="encoder", **stack),
            decoder=TransformerDecoder(config.num_decoder_layers, name="decoder", **stack, **decoder_options),
            output_projection=(
                None if config.tie_output else keras.layers.Dense(config.target_vocab_size, name="output_projection")
            ),
            # Logits leave the model in float32 whatever the dtype policy, for a stable softmax and loss.
            logits=keras.layers.Activation("linear", dtype="float32", name="logits"),
        )

    @classmethod
    def from_model(cls, model):
        def get(name):
            try:
                return model.get_layer(name)
            except ValueError:
                return None

        source_embedding = get("source_embedding")
        fields = {f.name: get(f.name) for f in dataclasses.fields(cls)}
        fields["target_embedding"] = get("target_embedding") or source_embedding
        missing = [name for name, layer in fields.items() if layer is None and name != "output_projection"]
        if missing:
            raise ValueError(
                f"The model was not built by build_transformer: no layer named {missing}. "
                f"Received: model.name={model.name!r}"
            )
        return cls(**fields)

    def forward(self, encoder_tokens, decoder_tokens, return_attention_scores=False, training=None):
        """Token ids -> float32 logits `(B, T, V)`; padding masks travel as Keras masks from the
        `mask_zero` embeddings to every attention."""
        # (B, S) -> (B, S, D); the Keras mask (B, S) is made here, once, and handed down.
        source = self.source_embedding(encoder_tokens)
        source = self.source_dropout(self.positional_encoding(source), training=training)
        target = self.target_embedding(decoder_tokens)
        target = self.target_dropout(self.positional_encoding(target), training=training)

        encoded = self.encoder(source, return_attention_scores=return_attention_scores, training=training)
        if return_attention_scores:
            encoded, encoder_weights = encoded
        decoded = self.decoder(target, encoded, return_attention_scores=return_attention_scores, training=training)
        if return_attention_scores:
            decoded, decoder_weights = decoded

        if self.output_projection is None:
            logits = self.target_embedding(decoded, reverse=True)  # (B, T, D) -> (B, T, V)
        else:
            logits = self.output_projection(decoded)
        logits = self.logits(logits)
        if not return_attention_scores:
            return logits
        weights = {
            "logits": logits,
            "encoder_self_attention": encoder_weights,
            "source_target_attention": decoder_weights["source_target_attention"],
        }
        if "masked_self_attention" in decoder_weights:  # an SSRU decoder has none
            weights["decoder_masked_self_attention"] = decoder_weights["masked_self_attention"]
        return weights


@keras.saving.register_keras_serializable(package="keras_transformer")
class TransformerModel(keras.Model):
    """The functional model `build_transformer` returns: it carries its `TransformerConfig` and checks
    its inputs before Keras casts them.

    `model.config` is the config it was built from; everything that needs a size (decoding, export,
    plots) reads it there. `get_config` is that config, and `from_config` rebuilds the same graph
    with `build_transformer`, so `.keras` files hold no layer graph to trust, only sizes.

    Keras casts whatever it is fed to the `int32` of the inputs, so float ids (1.7 -> 1) would be
    silently truncated; this class refuses them, and wrong ranks or batch sizes, naming the input.
    """

    def __init__(self, inputs, outputs, name=None, config=None, **kwargs):
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.config = config

    def get_config(self):
        if self.config is None:  # a graph from an older `.keras` file: keep the functional form
            return super().get_config()
        return {"name": self.name, "trainable": self.trainable, "transformer_config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "transformer_config" not in config:
            return super().from_config(config, custom_objects=custom_objects)
        from keras_transformer.models.config import TransformerConfig

        model = build_transformer(TransformerConfig.from_dict(config["transformer_config"]), name=config["name"])
        model.trainable = config.get("trainable", True)
        return model

    def call(self, inputs, training=None, mask=None):
        if not isinstance(inputs, dict) or set(inputs) != {ENCODER_INPUT, DECODER_INPUT}:
            received = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(
                f"The model takes a dict with keys {ENCODER_INPUT!r} and {DECODER_INPUT!r}. Received: {received}"
            )
        for name, tokens in inputs.items():
            dtype = keras.backend.standardize_dtype(tokens.dtype)
            if "int" not in dtype:
                raise TypeError(f"`{name}` must hold integer token ids. Received: {name}.dtype={dtype}")
            if len(tokens.shape) != 2:
                raise ValueError(f"`{name}` must have shape (B, length). Received: {name}.shape={tuple(tokens.shape)}")
        batch_sizes = {inputs[name].shape[0] for name in inputs} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                "`encoder_tokens` and `decoder_tokens` must have the same batch size. Received: "
                f"{tuple(inputs[ENCODER_INPUT].shape)} and {tuple(inputs[DECODER_INPUT].shape)}"
            )
        return super().call(inputs, training=training, mask=mask)


def _token_inputs():
    return {
        ENCODER_INPUT: keras.Input(shape=(None,), dtype="int32", name=ENCODER_INPUT),
        DECODER_INPUT: keras.Input(shape=(None,), dtype="int32", name=DECODER_INPUT),
    }


def build_transformer(config, name="transformer"):
    """Build the encoder-decoder Transformer described by `config` as a functional `keras.Model`.

    Args:
        config: a `TransformerConfig`.
        name: the model's name.

    Returns:
        A `keras.Model` (a `TransformerModel`, which checks its inputs) taking `{"encoder_tokens": (B, S) int32, "decoder_tokens": (B, T) int32}`
        (id 0 = padding) and returning float32 logits `(B, T, target_vocab_size)`: the prediction at
        position t of the token after `decoder_tokens[:, t]`.

    Example:
    >>> import numpy as np
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> model = build_transformer(TransformerConfig.from_name("tiny"))
    >>> batch = {"encoder_tokens": np.array([[5, 6, 7, 0]]), "decoder_tokens": np.array([[1, 5, 6]])}
    >>> tuple(model(batch).shape)
    (1, 3, 100)
    """
    from keras_transformer.models.config import TransformerConfig

    if not isinstance(config, TransformerConfig):
        raise TypeError(f"`config` must be a TransformerConfig. Received: config={config!r}")
    inputs = _token_inputs()
    layers = TransformerLayers.create(config)
    logits = layers.forward(inputs[ENCODER_INPUT], inputs[DECODER_INPUT])
    return TransformerModel(inputs, logits, name=name, config=config)


def build_attention_model(model):
    """A second model over the same layers (and weights) as `model` that also returns every attention.

    Args:
        model: a model from `build_transformer` (or loaded from its `.keras` file).

    Returns:
        A `keras.Model` with the same inputs, returning a dict:
        `"logits"` `(B, T, V)`; `"encoder_self_attention"` `(B, N, H, S, S)`;
        `"decoder_masked_self_attention"` `(B, N, H, T, T)`; `"source_target_attention"`
        `(B, N, H, T, S)`. N is the layer, H the head; weights of a query row sum to 1 over the
        keys it may attend to.
    """
    inputs = _token_inputs()
    layers = TransformerLayers.from_model(model)
    outputs = _AttentionInspector(layers, config_of(model), name="attention_inspector")(inputs)
    return keras.Model(inputs, outputs, name=f"{model.name}_attention")


class _AttentionInspector(keras.layers.Layer):
    """Runs the model's own layers with `return_attention_scores=True`.

    A wrapper rather than a second functional graph over the same layers: Keras 3.15 checks a
    functional graph with each layer's *first* output structure (`Operation.output`), so a layer first
    called for one tensor cannot later be a node that returns (output, weights).
    """

    def __init__(self, transformer_layers, config, **kwargs):
        super().__init__(**kwargs)
        self.transformer_layers = transformer_layers
        self.config = config
        # Track the shared layers so the inspection model lists the same weights.
        self.shared_layers = [getattr(transformer_layers, f.name) for f in dataclasses.fields(transformer_layers)]
        self.built = True

    def call(self, inputs):
        return self.transformer_layers.forward(
            inputs[ENCODER_INPUT], inputs[DECODER_INPUT], return_attention_scores=True, training=False
        )

    def compute_output_spec(self, inputs):
        # Written out: Keras' torch backend would infer it by calling `call` on stand-in lengths (83)
        # longer than max_length.
        config = self.config
        (batch, source), target = inputs[ENCODER_INPUT].shape, inputs[DECODER_INPUT].shape[1]
        weights_dtype = self.transformer_layers.encoder.compute_dtype
        encoder_layers, decoder_layers, heads = config.num_encoder_layers, config.num_decoder_layers, config.num_heads
        spec = {
            "logits": keras.KerasTensor((batch, target, config.target_vocab_size), self.transformer_layers.logits.compute_dtype),
            "encoder_self_attention": keras.KerasTensor((batch, encoder_layers, heads, source, source), weights_dtype),
            "source_target_attention": keras.KerasTensor((batch, decoder_layers, heads, target, source), weights_dtype),
        }
        if config.decoder_self_attention == "attention":
            spec["decoder_masked_self_attention"] = keras.KerasTensor(
                (batch, decoder_layers, heads, target, target), weights_dtype
            )
        return spec


def config_of(model):
    """The `TransformerConfig` a model was built from (`model.config`).

    Raises:
        ValueError: the model carries no config (it was not built by `build_transformer`).
    """
    config = getattr(model, "config", None)
    from keras_transformer.models.config import TransformerConfig

    if not isinstance(config, TransformerConfig):
        raise ValueError(
            "The model carries no TransformerConfig: build it with build_transformer(config) (or load a "
            f".keras file saved from one). Received: model={getattr(model, 'name', model)!r}"
        )
    return config
