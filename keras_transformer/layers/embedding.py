"""Token embeddings scaled by √d_model, which double as the tied output projection; optionally plus
BERT's token-type (segment) embeddings."""

import math

import keras
from keras import ops

from keras_transformer import _validation
from keras_transformer.layers import _checks


@keras.saving.register_keras_serializable(package="keras_transformer")
class TokenEmbedding(keras.layers.Layer):
    """Maps token ids to `d_model` vectors multiplied by √d_model (Vaswani et al., 2017, section 3.4).

    The same matrix can serve as the pre-softmax linear transformation: call the layer with
    `reverse=True` on decoder states to get logits `x Eᵀ` ("we share the same weight matrix between the
    two embedding layers and the pre-softmax linear transformation").

    With `segment_vocabulary_size > 0` the layer also holds BERT's token-type embeddings (Devlin et
    al., 2019): a second table, `segment_embeddings`, whose row for each position's segment id (0 for
    the first sentence, 1 for the second, ...) is added to the token's vector.

    Token ids are checked to lie in `[0, vocabulary_size)`: eagerly (on every backend) a `ValueError`,
    in a TensorFlow graph an `InvalidArgumentError`. Compiled steps carry no check: under XLA
    (`jit_compile=True`) TensorFlow drops assert ops, and `jax.jit` and `torch.compile` have none;
    there an out-of-range id is not refused (XLA's gather clamps it), so validate data before a
    compiled `fit`.

    Args:
        vocabulary_size: V, the number of token ids.
        d_model: D, the embedding size.
        mask_zero: id 0 is padding: produce a Keras mask `(B, T)` that is False there.
        scale: multiply embeddings by √d_model (the paper's choice).
        embeddings_initializer: defaults to normal(0, d_model^-0.5), so scaled embeddings have unit
            variance and tied logits start small.
        segment_vocabulary_size: the number of segment (token-type) ids; 0 (default) for none.
        output_bias: hold a `(V,)` weight `output_bias` that the reverse call adds to the logits (a
            tied output projection with a bias, as Marian's models have).

    Call arguments:
        inputs: `(B, T)` integer ids, or with `reverse=True` `(B, T, D)` states.
        segment_ids: optional `(B, T)` integer segment ids in `[0, segment_vocabulary_size)`
            (default: all 0). Only with `segment_vocabulary_size > 0`.
        reverse: return logits `(B, T, V)` = inputs · Eᵀ instead of embeddings.

    Example:
    >>> import numpy as np
    >>> embedding = TokenEmbedding(vocabulary_size=10, d_model=4)
    >>> vectors = embedding(np.array([[3, 1, 0]]))
    >>> logits = embedding(vectors, reverse=True)
    >>> tuple(vectors.shape), tuple(logits.shape)
    ((1, 3, 4), (1, 3, 10))
    """

    def __init__(
        self,
        vocabulary_size,
        d_model,
        mask_zero=True,
        scale=True,
        embeddings_initializer=None,
        segment_vocabulary_size=0,
        output_bias=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = _validation.positive_int("vocabulary_size", vocabulary_size)
        self.d_model = _validation.positive_int("d_model", d_model)
        self.mask_zero = mask_zero
        self.scale = scale
        if embeddings_initializer is None:
            embeddings_initializer = keras.initializers.RandomNormal(stddev=d_model**-0.5)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.segment_vocabulary_size = _validation.non_negative_int("segment_vocabulary_size", segment_vocabulary_size)
        self.output_bias = _validation.boolean("output_bias", output_bias)
        self.supports_masking = mask_zero

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.vocabulary_size, self.d_model),
            initializer=self.embeddings_initializer,
        )
        if self.segment_vocabulary_size:
            self.segment_embeddings = self.add_weight(
                name="segment_embeddings",
                shape=(self.segment_vocabulary_size, self.d_model),
                initializer=self.embeddings_initializer,
            )
        if self.output_bias:
            self.logits_bias = self.add_weight(name="output_bias", shape=(self.vocabulary_size,), initializer="zeros")

    def call(self, inputs, segment_ids=None, reverse=False):
        if reverse:
            if inputs.shape[-1] is not None and inputs.shape[-1] != self.d_model:
                raise ValueError(
                    f"With reverse=True, inputs must end in d_model={self.d_model}. "
                    f"Received: inputs.shape={tuple(inputs.shape)}"
                )
            kernel = ops.cast(self.embeddings, self.compute_dtype)
            # (B, T, D) x (V, D) -> (B, T, V), contracting D without materializing Eᵀ at every call.
            logits = ops.einsum("btd,vd->btv", inputs, kernel)
            if self.output_bias:
                logits = logits + ops.cast(self.logits_bias, self.compute_dtype)
            return logits
        if "int" not in str(inputs.dtype):
            raise TypeError(
                f"TokenEmbedding expects integer token ids. Received: inputs.dtype={inputs.dtype}"
            )
        inputs = _checks.check_range(
            inputs, "token ids", 0, self.vocabulary_size, f"vocabulary_size={self.vocabulary_size}"
        )
        vectors = ops.take(ops.cast(self.embeddings, self.compute_dtype), inputs, axis=0)
        if self.scale:
            vectors = vectors * ops.cast(math.sqrt(self.d_model), self.compute_dtype)
        if self.segment_vocabulary_size:
            vectors = vectors + self._segment_vectors(inputs, segment_ids)
        elif segment_ids is not None:
            raise ValueError(
                "`segment_ids` needs a layer with segment embeddings. Received: segment_ids with "
                "segment_vocabulary_size=0"
            )
        return vectors

    def _segment_vectors(self, inputs, segment_ids):
        table = ops.cast(self.segment_embeddings, self.compute_dtype)
        if segment_ids is None:
            return table[0]  # (D,): every position is in segment 0
        if "int" not in str(segment_ids.dtype):
            raise TypeError(f"`segment_ids` must be integers. Received: segment_ids.dtype={segment_ids.dtype}")
        segment_ids = _checks.check_range(
            segment_ids,
            "segment ids",
            0,
            self.segment_vocabulary_size,
            f"segment_vocabulary_size={self.segment_vocabulary_size}",
        )
        return ops.take(table, segment_ids, axis=0)  # (B, T) -> (B, T, D)

    def compute_mask(self, inputs, mask=None, **kwargs):
        # Keras does not pass `reverse` here; float inputs mean the reverse (logits) call.
        if not self.mask_zero or "int" not in str(inputs.dtype):
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_spec(self, inputs, segment_ids=None, reverse=False):
        if reverse:
            shape = tuple(inputs.shape[:-1]) + (self.vocabulary_size,)
        else:
            shape = tuple(inputs.shape) + (self.d_model,)
        return keras.KerasTensor(shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "d_model": self.d_model,
                "mask_zero": self.mask_zero,
                "scale": self.scale,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "segment_vocabulary_size": self.segment_vocabulary_size,
                "output_bias": self.output_bias,
            }
        )
        return config
