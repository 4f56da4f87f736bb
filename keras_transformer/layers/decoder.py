"""The decoder block (masked self-attention + source-target attention + feed-forward) and its stack."""

import keras
from keras import ops

from keras_transformer.layers import masks
from keras_transformer.layers._block import ResidualSublayer, TransformerBlockBase, TransformerStackBase, layer_norm
from keras_transformer.layers.feed_forward import FeedForward
from keras_transformer.layers.multi_head_attention import MultiHeadAttention
from keras_transformer.layers.ssru import SSRU

SELF_ATTENTION_KINDS = ("attention", "ssru")


class _DecoderArguments:
    """The decoder's one argument beyond the shared block arguments: what its first sublayer is."""

    def _set_self_attention(self, self_attention):
        if self_attention not in SELF_ATTENTION_KINDS:
            raise ValueError(
                f"`self_attention` must be one of {SELF_ATTENTION_KINDS}. Received: self_attention={self_attention!r}"
            )
        self.self_attention = self_attention

    def block_config(self):
        return {**super().block_config(), "self_attention": self.self_attention}


@keras.saving.register_keras_serializable(package="keras_transformer")
class TransformerDecoderBlock(_DecoderArguments, TransformerBlockBase):
    """One decoder layer: masked self-attention, source-target attention, then the feed-forward network.

    Vaswani et al. (2017, section 3.1): the masked self-attention lets position t see only positions
    <= t (the block always adds this causal mask itself, so the decoder cannot peek at the tokens it
    must predict); the source-target attention takes its queries from the decoder and its keys and
    values from the encoder output. Each sublayer has a residual connection, dropout and layer norm,
    post-LN by default or pre-LN with `normalize_first=True`.

    With `self_attention="ssru"` the first sublayer is an `SSRU` (Kim et al., 2019) instead of the
    masked self-attention: a recurrence that also sees positions <= t only, costs O(1) a decoding
    step, and returns no attention weights. The Firefox Translations models use it.

    Args:
        d_model, num_heads, d_ff, dropout, attention_dropout, activation, normalize_first,
        layer_norm_epsilon: as for `TransformerEncoderBlock`.
        self_attention: "attention" (the paper's masked self-attention, default) or "ssru".

    Call arguments:
        decoder_sequence: `(B, T, D)` embedded target prefix.
        encoder_sequence: `(B, S, D)` encoder output.
        decoder_sequence_mask: optional boolean `(B, T)` target padding mask (Keras fills it from a
            `mask_zero` embedding).
        encoder_sequence_mask: optional boolean `(B, S)` source padding mask.
        return_attention_scores: also return a dict of weights, `"masked_self_attention"`
            `(B, H, T, T)` (not with an SSRU) and `"source_target_attention"` `(B, H, T, S)`.
        training: Python bool.

    Returns:
        `(B, T, D)`, or `(outputs, weights_dict)` with `return_attention_scores=True`.

    Example:
    >>> import numpy as np
    >>> block = TransformerDecoderBlock(d_model=8, num_heads=2, d_ff=16)
    >>> target = np.zeros((2, 4, 8), "float32")
    >>> memory = np.zeros((2, 6, 8), "float32")
    >>> tuple(block(target, memory).shape)
    (2, 4, 8)
    """

    def __init__(self, d_model, num_heads, d_ff, *args, self_attention="attention", **kwargs):
        super().__init__(d_model, num_heads, d_ff, *args, **kwargs)
        self._set_self_attention(self_attention)

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        for name, shape in (("decoder_sequence", decoder_sequence_shape), ("encoder_sequence", encoder_sequence_shape)):
            if shape is not None and shape[-1] != self.d_model:
                raise ValueError(
                    f"TransformerDecoderBlock expects `{name}` ending in d_model={self.d_model}. "
                    f"Received: {name}.shape={tuple(shape)}"
                )
        encoder_sequence_shape = encoder_sequence_shape or decoder_sequence_shape
        policy = self.dtype_policy
        attention_args = dict(dropout=self.attention_dropout, dtype=policy)
        if self.self_attention == "ssru":
            self.ssru = SSRU(self.d_model, dtype=policy, name="ssru")
            first_norm = "ssru_norm"
        else:
            self.masked_self_attention = MultiHeadAttention(
                self.num_heads, self.d_model, name="masked_self_attention", **attention_args
            )
            first_norm = "masked_self_attention_norm"
        self.source_target_attention = MultiHeadAttention(
            self.num_heads, self.d_model, name="source_target_attention", **attention_args
        )
        self.feed_forward = FeedForward(self.d_ff, activation=self.activation, dtype=policy, name="feed_forward")
        # Set under its own name: Keras saves weights by attribute name, and files written before the
        # SSRU existed hold `masked_self_attention_norm`.
        first_norm = layer_norm(first_norm, self.layer_norm_epsilon, policy)
        setattr(self, first_norm.name, first_norm)
        self.source_target_attention_norm = layer_norm(
            "source_target_attention_norm", self.layer_norm_epsilon, policy
        )
        self.feed_forward_norm = layer_norm("feed_forward_norm", self.layer_norm_epsilon, policy)
        self.residual_dropout = keras.layers.Dropout(self.dropout, dtype=policy, name="residual_dropout")

        if self.self_attention == "ssru":
            self.ssru.build(decoder_sequence_shape)
        else:
            self.masked_self_attention.build(decoder_sequence_shape, decoder_sequence_shape)
        self.source_target_attention.build(decoder_sequence_shape, encoder_sequence_shape)
        self.feed_forward.build(decoder_sequence_shape)
        norms = (first_norm, self.source_target_attention_norm, self.feed_forward_norm)
        for norm in norms:
            norm.build(decoder_sequence_shape)
        self.first_sublayer, self.source_target_attention_sublayer, self.feed_forward_sublayer = (
            ResidualSublayer(norm, self.residual_dropout, self.normalize_first) for norm in norms
        )

    def call(
        self,
        decoder_sequence,
        encoder_sequence,
        decoder_sequence_mask=None,
        encoder_sequence_mask=None,
        return_attention_scores=False,
        training=None,
    ):
        for name, tensor in (("decoder_sequence", decoder_sequence), ("encoder_sequence", encoder_sequence)):
            if len(tensor.shape) != 3:
                raise ValueError(
                    f"TransformerDecoderBlock expects `{name}` of rank 3 (B, length, D). "
                    f"Received: {name}.shape={tuple(tensor.shape)}"
                )
        # (B, T, T): causal and target padding; (B, 1, S): source padding, the same for every query.
        self_mask = masks.merge_masks(ops.shape(decoder_sequence)[1], key_mask=decoder_sequence_mask, causal=True)
        source_mask = masks.merge_masks(1, key_mask=encoder_sequence_mask)
        weights = {}

        def attend(name, attention, mask, keys_and_values=None):
            def sublayer(x):
                memory = x if keys_and_values is None else keys_and_values
                result = attention(
                    x,
                    memory,
                    attention_mask=mask,
                    return_attention_scores=return_attention_scores,
                    training=training,
                )
                if return_attention_scores:
                    result, weights[name] = result
                return result

            return sublayer

        if self.self_attention == "ssru":
            first = self.ssru
        else:
            first = attend("masked_self_attention", self.masked_self_attention, self_mask)
        x = self._sublayers(
            decoder_sequence,
            first,
            attend("source_target_attention", self.source_target_attention, source_mask, encoder_sequence),
            training,
        )
        return (x, weights) if return_attention_scores else x

    def _sublayers(self, x, first, source_target_attention, training):
        """The block as in the paper: three residual sublayers in a row (the first a masked
        self-attention or an SSRU)."""
        x = self.first_sublayer(x, first, training)
        x = self.source_target_attention_sublayer(x, source_target_attention, training)
        return self.feed_forward_sublayer(x, lambda y: self.feed_forward(y, training=training), training)

    def decode_step(self, decoder_step, step, cache, source_keys_values, source_mask=None):
        """One step of incremental decoding with a key/value cache.

        Computes the same output as `call` would at position `step` for the whole prefix, but only for
        the new position: the keys and values of earlier positions come from `cache`, and those of the
        encoder output were projected once (`source_target_attention.project_key_value`).

        Args:
            decoder_step: `(B, 1, D)` embedded token at position `step`.
            step: scalar int (tensor or Python), the position being decoded.
            cache: `(key_cache, value_cache)`, each `(B, L, H, K)` with L the longest decode; slots
                `>= step` may hold anything. With an SSRU, `(state,)`, the `(B, 1, D)` recurrent state
                after position `step - 1` (zeros at step 0).
            source_keys_values: `(source_keys, source_values)`, each `(B, S, H, K)`.
            source_mask: optional boolean `(B, S)` source padding mask.

        Returns:
            `(output (B, 1, D), (key_cache, value_cache))` with slot `step` written (a dynamic update
            slice, so the loop keeps fixed shapes for XLA and TFLite); with an SSRU, `(output,
            (state,))` with the state after position `step`.
        """
        decoder_step = ops.convert_to_tensor(decoder_step)
        if self.self_attention == "ssru":
            return self._ssru_step(decoder_step, cache, source_keys_values, source_mask)
        key_cache, value_cache = cache
        cache_length = ops.shape(key_cache)[1]
        # (1, 1, L): row `step` of the full causal mask, so the new query attends to positions <= `step`.
        self_mask = masks.causal_mask(1, cache_length, query_offset=ops.cast(step, "int32"))
        source_attention_mask = None if source_mask is None else ops.expand_dims(source_mask, 1)  # (B, 1, S)
        updated = {}

        def masked_self_attention(x):
            key, value = self.masked_self_attention.project_key_value(x)  # (B, 1, H, K) each
            start = [0, step, 0, 0]
            updated["cache"] = (ops.slice_update(key_cache, start, key), ops.slice_update(value_cache, start, value))
            return self.masked_self_attention.attend(x, *updated["cache"], mask=self_mask)

        def source_target_attention(x):
            return self.source_target_attention.attend(x, *source_keys_values, mask=source_attention_mask)

        output = self._sublayers(decoder_step, masked_self_attention, source_target_attention, training=False)
        return output, updated["cache"]

    def _ssru_step(self, decoder_step, cache, source_keys_values, source_mask):
        source_attention_mask = None if source_mask is None else ops.expand_dims(source_mask, 1)  # (B, 1, S)
        updated = {}

        def recurrence(x):
            output, updated["state"] = self.ssru.step(x, cache[0])
            return output

        def source_target_attention(x):
            return self.source_target_attention.attend(x, *source_keys_values, mask=source_attention_mask)

        output = self._sublayers(decoder_step, recurrence, source_target_attention, training=False)
        return output, (updated["state"],)

    def compute_mask(self, decoder_sequence, previous_mask=None):
        # Keras passes the mask of the first argument: the output keeps the target padding.
        return previous_mask



@keras.saving.register_keras_serializable(package="keras_transformer")
class TransformerDecoder(_DecoderArguments, TransformerStackBase):
    """The decoder: a stack of `num_layers` `TransformerDecoderBlock`s, each attending to the encoder output.

    With `normalize_first=True` a final layer norm closes the stack.

    Args:
        num_layers: N.
        d_model, num_heads, d_ff, dropout, attention_dropout, activation, normalize_first,
        layer_norm_epsilon, self_attention: as for `TransformerDecoderBlock`.

    Call arguments:
        decoder_sequence: `(B, T, D)`; encoder_sequence: `(B, S, D)`.
        decoder_sequence_mask, encoder_sequence_mask: optional boolean padding masks.
        return_attention_scores: also return a dict of stacked weights, `"masked_self_attention"`
            `(B, N, H, T, T)` (not with an SSRU) and `"source_target_attention"` `(B, N, H, T, S)`.
        training: Python bool.

    Returns:
        `(B, T, D)`, or `(outputs, weights_dict)`.

    Example:
    >>> import numpy as np
    >>> decoder = TransformerDecoder(num_layers=2, d_model=8, num_heads=2, d_ff=16)
    >>> tuple(decoder(np.zeros((2, 4, 8), "float32"), np.zeros((2, 6, 8), "float32")).shape)
    (2, 4, 8)
    """

    block_class = TransformerDecoderBlock

    def __init__(self, num_layers, d_model, num_heads, d_ff, *args, self_attention="attention", **kwargs):
        super().__init__(num_layers, d_model, num_heads, d_ff, *args, **kwargs)
        self._set_self_attention(self_attention)

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        self.build_blocks(decoder_sequence_shape, encoder_sequence_shape)

    def call(
        self,
        decoder_sequence,
        encoder_sequence,
        decoder_sequence_mask=None,
        encoder_sequence_mask=None,
        return_attention_scores=False,
        training=None,
    ):
        x = decoder_sequence
        collected = {"source_target_attention": []}
        if self.self_attention == "attention":
            collected["masked_self_attention"] = []
        for block in self.blocks:
            result = block(
                x,
                encoder_sequence,
                decoder_sequence_mask=decoder_sequence_mask,
                encoder_sequence_mask=encoder_sequence_mask,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            if return_attention_scores:
                result, weights = result
                for name in collected:
                    collected[name].append(weights[name])
            x = result
        if self.final_norm is not None:
            x = self.final_norm(x)
        if return_attention_scores:
            # N x (B, H, T, ·) -> (B, N, H, T, ·)
            return x, {name: ops.stack(found, axis=1) for name, found in collected.items()}
        return x

    def project_source(self, encoder_sequence):
        """The source-target keys and values of every block, `[(keys, values)] * N`, each
        `(B, S, H, K)`: computed once per source sentence for cached decoding."""
        return [block.source_target_attention.project_key_value(encoder_sequence) for block in self.blocks]

    def empty_cache(self, batch_size, cache_length, dtype=None):
        """Zero self-attention caches for every block: `[(keys, values)] * N`, each `(B, L, H, K)`;
        with an SSRU, `[(state,)] * N`, each `(B, 1, D)`, whatever `cache_length`."""
        dtype = dtype or self.compute_dtype
        if self.self_attention == "ssru":
            return [(ops.zeros((batch_size, 1, self.d_model), dtype),) for _ in self.blocks]
        shape = (batch_size, cache_length, self.num_heads, self.d_model // self.num_heads)
        return [(ops.zeros(shape, dtype), ops.zeros(shape, dtype)) for _ in self.blocks]

    def decode_step(self, decoder_step, step, caches, source_keys_values, source_mask=None):
        """One cached decoding step through every block (see `TransformerDecoderBlock.decode_step`).

        Returns `(output (B, 1, D), caches)`.
        """
        x, new_caches = decoder_step, []
        for block, cache, keys_values in zip(self.blocks, caches, source_keys_values):
            x, cache = block.decode_step(x, step, cache, keys_values, source_mask)
            new_caches.append(cache)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x, new_caches

    def compute_mask(self, decoder_sequence, previous_mask=None):
        # Keras passes the mask of the first argument: the output keeps the target padding.
        return previous_mask

