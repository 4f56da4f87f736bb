"""What the encoder and decoder blocks share: argument checks and the residual sublayer connection."""

import keras


def validate_block_arguments(d_model, num_heads, d_ff, dropout, layer_norm_epsilon):
    for name, value in (("d_model", d_model), ("num_heads", num_heads), ("d_ff", d_ff)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
    if d_model % num_heads:
        raise ValueError(f"num_heads must divide d_model. Received: d_model={d_model}, num_heads={num_heads}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
    if layer_norm_epsilon <= 0:
        raise ValueError(f"`layer_norm_epsilon` must be positive. Received: layer_norm_epsilon={layer_norm_epsilon}")


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
