"""What the encoder and decoder share: block arguments and their checks, the residual sublayer
connection, and the stack of N blocks with its optional final norm."""

import keras

from keras_transformer import _validation


def validate_block_arguments(d_model, num_heads, d_ff, dropout, layer_norm_epsilon):
    for name, value in (("d_model", d_model), ("num_heads", num_heads), ("d_ff", d_ff)):
        _validation.positive_int(name, value)
    _validation.divides("num_heads", num_heads, "d_model", d_model)
    _validation.fraction("dropout", dropout)
    _validation.positive_number("layer_norm_epsilon", layer_norm_epsilon)


class ResidualSublayer:
    """LayerNorm(x + Dropout(Sublayer(x))) — post-LN, the paper — or x + Dropout(Sublayer(LayerNorm(x))).

    Not a layer of its own: it owns no weights, it only wires the block's named norm and dropout
    layers around a sublayer, so that weight names stay those of the block.
    """

    def __init__(self, norm, dropout, normalize_first):
        self.norm = norm
        self.dropout = dropout
        self.normalize_first = normalize_first

    def __call__(self, x, sublayer, training):
        if self.normalize_first:
            return x + self.dropout(sublayer(self.norm(x)), training=training)
        return self.norm(x + self.dropout(sublayer(x), training=training))


def layer_norm(name, epsilon, dtype_policy):
    return keras.layers.LayerNormalization(epsilon=epsilon, dtype=dtype_policy, name=name)


class TransformerBlockBase(keras.layers.Layer):
    """The arguments every Transformer block takes, checked and serialized in one place."""

    def __init__(
        self,
        d_model,
        num_heads,
        d_ff,
        dropout=0.1,
        attention_dropout=0.0,
        activation="relu",
        normalize_first=False,
        layer_norm_epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        validate_block_arguments(d_model, num_heads, d_ff, dropout, layer_norm_epsilon)
        self.d_model = int(d_model)
        self.num_heads = int(num_heads)
        self.d_ff = int(d_ff)
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = activation
        self.normalize_first = normalize_first
        self.layer_norm_epsilon = layer_norm_epsilon
        self.supports_masking = True

    def block_config(self):
        return {
            "d_model": self.d_model,
            "num_heads": self.num_heads,
            "d_ff": self.d_ff,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "activation": self.activation,
            "normalize_first": self.normalize_first,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }

    def get_config(self):
        return {**super().get_config(), **self.block_config()}


class TransformerStackBase(TransformerBlockBase):
    """N identical blocks of `block_class` (and a final norm for pre-LN), built with one set of
    block arguments."""

    block_class = None

    def __init__(self, num_layers, d_model, num_heads, d_ff, **kwargs):
        num_layers = _validation.positive_int("num_layers", num_layers)
        super().__init__(d_model, num_heads, d_ff, **kwargs)
        self.num_layers = num_layers

    def build_blocks(self, *input_shapes):
        self.blocks = [
            self.block_class(**self.block_config(), dtype=self.dtype_policy, name=f"block_{i}")
            for i in range(self.num_layers)
        ]
        for block in self.blocks:
            block.build(*input_shapes)
        self.final_norm = None
        if self.normalize_first:
            self.final_norm = layer_norm("final_norm", self.layer_norm_epsilon, self.dtype_policy)
            self.final_norm.build(input_shapes[0])

    def get_config(self):
        return {**super().get_config(), "num_layers": self.num_layers}
