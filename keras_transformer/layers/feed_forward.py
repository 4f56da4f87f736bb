"""The position-wise feed-forward network of each Transformer block."""

import keras

from keras_transformer import _validation


@keras.saving.register_keras_serializable(package="keras_transformer")
class FeedForward(keras.layers.Layer):
    """FFN(x) = act(x W1 + b1) W2 + b2, applied to each position alone (Vaswani et al., 2017, section 3.3).

    Args:
        d_ff: F, the inner width (2048 in the paper's base model).
        activation: "relu" (the paper) or "gelu", or any Keras activation name. "gelu" is the exact
            x·Φ(x) = x·(1 + erf(x/√2))/2 that BERT uses, not the tanh approximation.
        dropout: dropout after the activation in training (0 in the paper).
        kernel_initializer, bias_initializer: for both dense layers.

    Call arguments:
        inputs: `(B, T, D)`.
        training: Python bool.

    Returns:
        `(B, T, D)`. The Keras mask passes through.

    Example:
    >>> import numpy as np
    >>> ffn = FeedForward(d_ff=16)
    >>> tuple(ffn(np.zeros((2, 3, 8), "float32")).shape)
    (2, 3, 8)
    """

    def __init__(
        self,
        d_ff,
        activation="relu",
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.d_ff = _validation.positive_int("d_ff", d_ff)
        _validation.fraction("dropout", dropout)
        self.activation = keras.activations.get(activation)
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        d_model = input_shape[-1]
        if d_model is None:
            raise ValueError(f"FeedForward needs a known last dimension. Received: input_shape={input_shape}")
        common = dict(
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
        )
        self.inner_dense = keras.layers.Dense(self.d_ff, activation=self.activation, name="inner", **common)
        self.output_dense = keras.layers.Dense(d_model, name="output", **common)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        for sublayer in (self.inner_dense, self.output_dense):
            sublayer.supports_masking = True  # position-wise: a Keras mask passes through unchanged
        self.inner_dense.build(input_shape)
        self.output_dense.build(tuple(input_shape[:-1]) + (self.d_ff,))

    def call(self, inputs, training=None):
        hidden = self.inner_dense(inputs)  # (B, T, D) -> (B, T, F)
        hidden = self.dropout_layer(hidden, training=training)
        return self.output_dense(hidden)  # (B, T, F) -> (B, T, D)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "d_ff": self.d_ff,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
