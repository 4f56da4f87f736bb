"""Positional encoding added to embeddings: the paper's sinusoidal table (interleaved layout), or a
learned table (BERT's position embeddings)."""

import keras
import numpy as np
from keras import ops

from keras_transformer import _validation
from keras_transformer.layers import _checks


LAYOUTS = ("interleaved", "tensor2tensor")


def sinusoidal_table(length, d_model, layout="interleaved"):
    """The `(length, d_model)` sinusoidal table, in float64 NumPy.

    `"interleaved"`, section 3.5 of the paper: PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),
    PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)): sines on even columns, cosines on odd ones.

    `"tensor2tensor"`, the layout of tensor2tensor's `get_timing_signal_1d`, which Marian (and so the
    Firefox Translations models) uses: all sines, then all cosines, with the n = d_model / 2
    wavelengths spaced evenly in log scale from 2π to 10000·2π: column i < n is
    sin(pos / 10000^(i/(n-1))), column n + i the cosine of the same angle.
    """
    _validation.one_of("layout", layout, LAYOUTS)
    positions = np.arange(length, dtype=np.float64)[:, None]  # (L, 1)
    if layout == "tensor2tensor":
        if d_model % 2 or d_model < 4:
            raise ValueError(f"The tensor2tensor layout needs an even d_model >= 4. Received: d_model={d_model}")
        half = d_model // 2
        angles = positions * np.exp(-np.log(10000.0) * np.arange(half, dtype=np.float64) / (half - 1))
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
    even_columns = np.arange(0, d_model, 2, dtype=np.float64)  # 2i
    angles = positions / np.power(10000.0, even_columns / d_model)  # (L, ceil(D/2))
    table = np.zeros((length, d_model), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table


@keras.saving.register_keras_serializable(package="keras_transformer")
class PositionalEncoding(keras.layers.Layer):
    """Adds the sinusoidal positional encoding of Vaswani et al. (2017, section 3.5) to its input.

    Self-attention alone cannot tell word order; this layer adds to each position a fixed pattern of
    sines and cosines whose wavelengths form a geometric progression from 2π to 10000·2π. With
    `learned=True` the pattern is instead a trained `(max_length, D)` weight, `position_embeddings`,
    as in BERT (Devlin et al., 2019), which the paper found to work about as well (section 3.5).

    Args:
        max_length: the longest sequence accepted; longer inputs raise an error.
        learned: add a trained table instead of the fixed sinusoidal one.
        layout: the sinusoidal table's layout, "interleaved" (the paper) or "tensor2tensor" (sines
            then cosines, Marian's); see `sinusoidal_table`.
        embeddings_initializer: for the learned table (default truncated normal(0, 0.02), BERT's).

    Call arguments:
        inputs: `(B, T, D)` embeddings, T <= max_length.
        start_position: position of the first input step, an int or scalar tensor (cached decoding
            feeds one step at a time at later positions). Default 0.

    Returns:
        `(B, T, D)`: inputs + PE[start : start + T]. The Keras mask passes through.

    Example:
    >>> import numpy as np
    >>> layer = PositionalEncoding(max_length=16)
    >>> out = layer(np.zeros((1, 2, 4), "float32"))
    >>> [round(float(v), 6) for v in np.asarray(out)[0, 1]]
    [0.841471, 0.540302, 0.01, 0.99995]
    """

    def __init__(self, max_length=512, learned=False, embeddings_initializer=None, layout="interleaved", **kwargs):
        super().__init__(**kwargs)
        self.max_length = _validation.positive_int("max_length", max_length)
        self.learned = _validation.boolean("learned", learned)
        self.layout = _validation.one_of("layout", layout, LAYOUTS)
        if embeddings_initializer is None and learned:
            # Made only for a learned table: a new initializer draws a seed, and a sinusoidal model
            # must initialize its other weights exactly as it did before this option existed.
            embeddings_initializer = keras.initializers.TruncatedNormal(stddev=0.02)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer) if embeddings_initializer is not None else None
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "PositionalEncoding expects inputs of shape (B, T, D) with D known. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.d_model = input_shape[-1]
        if self.learned:
            self.position_embeddings = self.add_weight(
                name="position_embeddings",
                shape=(self.max_length, self.d_model),
                initializer=self.embeddings_initializer,
            )
        else:
            # A constant, not a weight: nothing to train, nothing to save.
            self._table = sinusoidal_table(self.max_length, self.d_model, self.layout).astype("float32")

    def call(self, inputs, start_position=0):
        length = ops.shape(inputs)[1]
        end = length + start_position
        inputs = _checks.check_length(end, self.max_length, f"{self.name} inputs", inputs)
        # A tensor, not the variable: JAX cannot slice a variable at a traced position.
        table = ops.convert_to_tensor(self.position_embeddings if self.learned else self._table)
        if isinstance(start_position, int) and start_position == 0:
            positions = table[:length]
        else:
            positions = ops.slice(table, (start_position, 0), (length, self.d_model))
        return inputs + ops.expand_dims(ops.cast(positions, inputs.dtype), 0)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_length": self.max_length,
                "learned": self.learned,
                "layout": self.layout,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
            }
        )
        return config
