"""`EncoderConfig` and `build_encoder`: an encoder-only Transformer (BERT-style when asked) as a
functional Keras model, returning token states and a pooled sentence vector."""

import dataclasses
import json

import keras

from keras_transformer import _validation
from keras_transformer.layers import PositionalEncoding, TokenEmbedding, TransformerEncoder

TOKEN_INPUT = "token_ids"
SEGMENT_INPUT = "segment_ids"
_ACTIVATIONS = ("relu", "gelu")


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Sizes and options of an encoder-only Transformer; validated on construction.

    The defaults are the paper's encoder (sinusoidal positions, embeddings scaled by √d_model, ReLU,
    post-LN); a BERT-style encoder sets `learned_positions`, `segment_vocabulary_size`,
    `embedding_norm`, `scale_embeddings=False`, `activation="gelu"` and `layer_norm_epsilon=1e-12`.

    Args:
        vocabulary_size: V (id 0 is padding).
        d_model: D. num_heads: H (divides D). d_ff: F. num_layers: N.
        dropout: embedding and residual dropout, in [0, 1). attention_dropout: on attention weights.
        max_length: the longest input (the position table's size).
        activation: "relu" (paper) or "gelu" (exact, BERT's).
        normalize_first: pre-LN blocks instead of post-LN.
        layer_norm_epsilon: epsilon of every layer norm.
        learned_positions: a trained position table instead of the sinusoidal one.
        segment_vocabulary_size: token-type ids (BERT: 2); 0 for none. With them, the model takes
            a `segment_ids` input too.
        embedding_norm: a layer norm over the summed embeddings, before dropout (BERT).
        scale_embeddings: multiply token embeddings by √d_model (paper) or not (BERT).
        normalize_pooled: L2-normalise the pooled vector (sentence-embedding models).

    Example:
    >>> config = EncoderConfig(vocabulary_size=1000, d_model=64, num_heads=4, d_ff=128, num_layers=2)
    >>> config.to_dict()["num_layers"]
    2
    """

    vocabulary_size: int
    d_model: int = 512
    num_heads: int = 8
    d_ff: int = 2048
    num_layers: int = 6
    dropout: float = 0.1
    attention_dropout: float = 0.0
    max_length: int = 512
    activation: str = "relu"
    normalize_first: bool = False
    layer_norm_epsilon: float = 1e-6
    learned_positions: bool = False
    segment_vocabulary_size: int = 0
    embedding_norm: bool = False
    scale_embeddings: bool = True
    normalize_pooled: bool = False

    def __post_init__(self):
        for name in ("vocabulary_size", "d_model", "num_heads", "d_ff", "num_layers", "max_length"):
            # Stored as a plain int (a NumPy integer passes the check but would not serialize to JSON).
            object.__setattr__(self, name, _validation.positive_int(name, getattr(self, name)))
        _validation.divides("num_heads", self.num_heads, "d_model", self.d_model)
        _validation.fraction("dropout", self.dropout)
        _validation.fraction("attention_dropout", self.attention_dropout)
        _validation.one_of("activation", self.activation, _ACTIVATIONS)
        object.__setattr__(
            self, "layer_norm_epsilon", _validation.positive_number("layer_norm_epsilon", self.layer_norm_epsilon)
        )
        object.__setattr__(
            self,
            "segment_vocabulary_size",
            _validation.non_negative_int("segment_vocabulary_size", self.segment_vocabulary_size),
        )
        for name in ("normalize_first", "learned_positions", "embedding_norm", "scale_embeddings", "normalize_pooled"):
            _validation.boolean(name, getattr(self, name))

    @property
    def input_names(self):
        """The model's inputs: `("token_ids",)`, plus `"segment_ids"` with segment embeddings."""
        return (TOKEN_INPUT, SEGMENT_INPUT) if self.segment_vocabulary_size else (TOKEN_INPUT,)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields):
        return cls(**_validation.known_fields("EncoderConfig fields", fields, cls))

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))


@keras.saving.register_keras_serializable(package="keras_transformer")
class EncoderModel(keras.Model):
    """The functional model `build_encoder` returns: it carries its `EncoderConfig` (`model.config`),
    saves only that config in `.keras` files (`from_config` rebuilds the graph with `build_encoder`),
    and refuses float ids, wrong ranks or missing inputs before Keras would cast them."""

    def __init__(self, inputs, outputs, name=None, config=None, **kwargs):
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.config = config

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "encoder_config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = build_encoder(EncoderConfig.from_dict(config["encoder_config"]), name=config["name"])
        model.trainable = config.get("trainable", True)
        return model

    def call(self, inputs, training=None, mask=None):
        expected = set(self.config.input_names)
        if not isinstance(inputs, dict) or set(inputs) != expected:
            received = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(f"The model takes a dict with keys {sorted(expected)}. Received: {received}")
        for name, ids in inputs.items():
            dtype = keras.backend.standardize_dtype(ids.dtype)
            if "int" not in dtype:
                raise TypeError(f"`{name}` must hold integer ids. Received: {name}.dtype={dtype}")
            if len(ids.shape) != 2:
                raise ValueError(f"`{name}` must have shape (B, S). Received: {name}.shape={tuple(ids.shape)}")
        if SEGMENT_INPUT in inputs:
            tokens, segments = tuple(inputs[TOKEN_INPUT].shape), tuple(inputs[SEGMENT_INPUT].shape)
            if any(a is not None and b is not None and a != b for a, b in zip(tokens, segments)):
                raise ValueError(
                    f"`token_ids` and `segment_ids` must have the same shape (B, S). Received: {tokens} and {segments}"
                )
        return super().call(inputs, training=training, mask=mask)


def build_encoder(config, name="encoder"):
    """Build the encoder-only Transformer described by `config` as a functional `keras.Model`.

    Token ids (0 = padding, masked everywhere) are embedded (plus segment and position embeddings),
    optionally layer-normalised, passed through `num_layers` encoder blocks, and mean-pooled over the
    real tokens.

    Args:
        config: an `EncoderConfig`.
        name: the model's name.

    Returns:
        An `EncoderModel` taking `{"token_ids": (B, S) int32}` (plus `"segment_ids"` `(B, S)` when
        `config.segment_vocabulary_size > 0`) and returning float32
        `{"sequence_output": (B, S, D), "pooled_output": (B, D)}`; `pooled_output` is the mean of
        the real tokens' states, L2-normalised when `config.normalize_pooled`.

    Example:
    >>> import numpy as np
    >>> config = EncoderConfig(vocabulary_size=100, d_model=16, num_heads=2, d_ff=32, num_layers=1)
    >>> outputs = build_encoder(config)({"token_ids": np.array([[5, 6, 7, 0]])})
    >>> tuple(outputs["sequence_output"].shape), tuple(outputs["pooled_output"].shape)
    ((1, 4, 16), (1, 16))
    """
    if not isinstance(config, EncoderConfig):
        raise TypeError(f"`config` must be an EncoderConfig. Received: config={config!r}")
    inputs = {key: keras.Input(shape=(None,), dtype="int32", name=key) for key in config.input_names}
    token_embedding = TokenEmbedding(
        config.vocabulary_size,
        config.d_model,
        scale=config.scale_embeddings,
        segment_vocabulary_size=config.segment_vocabulary_size,
        name="token_embedding",
    )
    # (B, S) -> (B, S, D); the Keras padding mask (B, S) is made here and reaches every block.
    x = token_embedding(inputs[TOKEN_INPUT], segment_ids=inputs.get(SEGMENT_INPUT))
    x = PositionalEncoding(config.max_length, learned=config.learned_positions, name="positional_encoding")(x)
    if config.embedding_norm:
        x = keras.layers.LayerNormalization(epsilon=config.layer_norm_epsilon, name="embedding_norm")(x)
    x = keras.layers.Dropout(config.dropout, name="embedding_dropout")(x)
    x = TransformerEncoder(
        config.num_layers,
        config.d_model,
        config.num_heads,
        config.d_ff,
        dropout=config.dropout,
        attention_dropout=config.attention_dropout,
        activation=config.activation,
        normalize_first=config.normalize_first,
        layer_norm_epsilon=config.layer_norm_epsilon,
        name="encoder",
    )(x)
    # Outputs leave the model in float32 whatever the dtype policy.
    sequence_output = keras.layers.Activation("linear", dtype="float32", name="sequence_output")(x)
    # Masked mean: padding positions count neither in the sum nor in the divisor.
    pooled = keras.layers.GlobalAveragePooling1D(dtype="float32", name="mean_pooling")(sequence_output)
    if config.normalize_pooled:
        pooled = keras.layers.UnitNormalization(dtype="float32", name="pooled_normalization")(pooled)
    outputs = {"sequence_output": sequence_output, "pooled_output": pooled}
    return EncoderModel(inputs, outputs, name=name, config=config)
