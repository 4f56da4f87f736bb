"""The SSRU: a recurrent sublayer that can stand in for the decoder's masked self-attention."""

import keras
from keras import ops

from keras_transformer import _validation


@keras.saving.register_keras_serializable(package="keras_transformer")
class SSRU(keras.layers.Layer):
    """The simpler simple recurrent unit of Kim et al. (2019), "From Research to Production and Back:
    Ludicrously Fast Neural Machine Translation", section 3.

    Per position t, with input x_t `(D,)` and a state c that starts at zero:

        f_t = σ(x_t W_f + b_f)                 forget gate, in (0, 1)
        c_t = f_t ⊙ c_(t-1) + (1 - f_t) ⊙ (x_t W)
        h_t = ReLU(c_t)

    The state carries everything before t, and nothing after: like the masked self-attention it
    replaces, position t sees positions <= t only, with no mask to build. Unlike attention, a
    decoding step costs the same at every position and keeps one `(B, D)` vector, not every earlier
    key and value. The decoder block wraps it in the usual residual, dropout and layer norm.

    On a whole sequence the matrix products (the costly part) run for every position at once, and
    only the cheap elementwise recurrence loops over positions, with a length known only at run time:
    on TensorFlow a `while_loop` adding each state into a fixed-shape buffer through a one-hot
    position (it differentiates, where a dynamic update slice does not, and converts to TFLite,
    whose builtins lack the tensor lists a scan makes), elsewhere `ops.scan` (JAX cannot
    differentiate a `while_loop`). `step` is the same recurrence one position at a time.

    Args:
        units: D, the width of input, state and output.
        kernel_initializer, bias_initializer: for W, W_f and b_f.

    Call arguments:
        inputs: `(B, T, D)`.

    Returns:
        `(B, T, D)`, h at every position. The Keras mask passes through (padding at the end of a
        row never changes the real positions' states).

    Example:
    >>> import numpy as np
    >>> layer = SSRU(units=4)
    >>> tuple(layer(np.zeros((2, 3, 4), "float32")).shape)
    (2, 3, 4)
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = _validation.positive_int("units", units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        if input_shape[-1] != self.units:
            raise ValueError(
                f"SSRU expects inputs ending in units={self.units}. Received: input_shape={tuple(input_shape)}"
            )
        self.kernel = self.add_weight(name="kernel", shape=(self.units, self.units), initializer=self.kernel_initializer)
        self.forget_kernel = self.add_weight(
            name="forget_kernel", shape=(self.units, self.units), initializer=self.kernel_initializer
        )
        self.forget_bias = self.add_weight(name="forget_bias", shape=(self.units,), initializer=self.bias_initializer)

    def _gates(self, inputs):
        """Inputs `(B, T, D)` -> `(forget gate, candidate)`, both `(B, T, D)`."""
        kernel = ops.cast(self.kernel, self.compute_dtype)
        forget_kernel = ops.cast(self.forget_kernel, self.compute_dtype)
        forget_bias = ops.cast(self.forget_bias, self.compute_dtype)
        forget = ops.sigmoid(ops.matmul(inputs, forget_kernel) + forget_bias)
        return forget, ops.matmul(inputs, kernel)

    def call(self, inputs):
        if len(inputs.shape) != 3:
            raise ValueError(f"SSRU expects inputs of rank 3 (B, T, D). Received: inputs.shape={tuple(inputs.shape)}")
        forget, candidate = self._gates(inputs)
        if keras.backend.backend() == "tensorflow":
            return ops.relu(self._loop(forget, (1 - forget) * candidate))

        def advance(state, gates):
            forget_t, update_t = gates[..., 0], gates[..., 1]  # (B, D) each
            state = forget_t * state + update_t
            return state, state

        # Time-major for the scan, (B, T, D, 2) -> (T, B, D, 2), as ONE tensor: Keras 3.15's TensorFlow
        # scan fails on several sequences whose length is unknown while tracing.
        gates = ops.moveaxis(ops.stack([forget, (1 - forget) * candidate], axis=-1), 1, 0)
        _, states = ops.scan(advance, ops.zeros_like(inputs[:, 0]), gates)
        return ops.relu(ops.moveaxis(states, 0, 1))

    @staticmethod
    def _loop(forget, update):
        """c_t = f_t ⊙ c_(t-1) + u_t over positions, as a `while_loop` on a `(B, T, D)` buffer."""
        length = ops.shape(forget)[1]

        def body(position, state, states):
            state = ops.take(forget, position, axis=1) * state + ops.take(update, position, axis=1)
            at = ops.one_hot(position, length, dtype=state.dtype)  # (T,)
            return position + 1, state, states + at[None, :, None] * ops.expand_dims(state, 1)

        initial = (ops.convert_to_tensor(0, "int32"), ops.zeros_like(forget[:, 0]), ops.zeros_like(forget))
        return ops.while_loop(lambda position, *_: position < length, body, initial)[2]

    def step(self, inputs, state):
        """One position: inputs `(B, 1, D)` and the previous state `(B, 1, D)` (zeros before the
        first position) -> `(output (B, 1, D), new state (B, 1, D))`."""
        forget, candidate = self._gates(inputs)
        state = forget * ops.cast(state, forget.dtype) + (1 - forget) * candidate
        return ops.relu(state), state

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
