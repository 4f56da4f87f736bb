"""`IncrementalDecoder`: one model's layers rearranged for step-by-step decoding with a key/value cache."""

from keras import ops

from keras_transformer.layers import masks
from keras_transformer.models import TransformerLayers, config_of


class IncrementalDecoder:
    """Encode once, then decode one token at a time, reusing cached keys and values.

    Wraps the layers (and so the weights) of a model from `build_transformer`; nothing is copied. Each
    decoder block keeps its self-attention keys/values in fixed-size `(B, L, H, K)` tensors updated in
    place, and the source-target keys/values are projected once from the encoder output, so a step
    costs the same at position 1 and position L.

    Args:
        model: a model from `build_transformer` (or loaded from its `.keras` file).
        shortlist: optional `decoding.shortlist.OutputShortlist`: each row may only produce the target
            ids its source allows, and the output projection runs on the batch's union of them.

    Example:
    >>> import numpy as np
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> decoder = IncrementalDecoder(build_transformer(TransformerConfig.from_name("tiny")))
    >>> state = decoder.start(np.array([[5, 6, 7]], "int32"), cache_length=8)
    >>> logits, caches = decoder.step(np.array([1], "int32"), 0, state)
    >>> tuple(logits.shape)
    (1, 100)
    """

    def __init__(self, model, shortlist=None):
        self.model = model
        self.shortlist = shortlist
        self.config = config_of(model)
        self.layers = TransformerLayers.from_model(model)
        self.vocabulary_size = self.config.target_vocab_size
        self.source_vocabulary_size = self.config.source_vocab_size
        self.max_length = self.config.max_length

    def encode(self, encoder_tokens):
        """`(B, S)` ids -> encoder output `(B, S, D)` and the source padding mask `(B, S)`."""
        layers = self.layers
        source_mask = masks.padding_mask(encoder_tokens)
        source = layers.positional_encoding(layers.source_embedding(encoder_tokens))
        return layers.encoder(source, mask=source_mask, training=False), source_mask

    def start(self, encoder_tokens, cache_length):
        """Encode the source and lay out everything a decoding loop carries.

        Returns a dict: `"caches"` (empty self-attention caches, one `(keys, values)` per block, each
        `(B, L, H, K)`), `"source_keys_values"` (projected once) and `"source_mask"`.
        """
        encoded, source_mask = self.encode(encoder_tokens)
        decoder = self.layers.decoder
        state = {
            "caches": decoder.empty_cache(ops.shape(encoder_tokens)[0], cache_length, dtype=encoded.dtype),
            "source_keys_values": decoder.project_source(encoded),
            "source_mask": source_mask,
        }
        if self.shortlist is not None:
            state["shortlist"] = self.shortlist.restrict(encoder_tokens)
        return state

    def output_ids(self, state):
        """The ids `step(..., restricted=True)` gives logits for: `(n,)` int32 with a shortlist (its
        union for the batch), None for the whole vocabulary."""
        return state["shortlist"]["ids"] if "shortlist" in state else None

    def step(self, tokens, position, state, caches=None, restricted=False):
        """Logits for the token after `tokens` `(B,)`, which stand at `position` of the target.

        Args:
            tokens: `(B,)` int ids (the start id at position 0).
            position: scalar int, tensor or Python.
            state: the dict from `start`.
            caches: the caches to use instead of `state["caches"]` (a loop passes its own).
            restricted: with a shortlist, return the logits of `output_ids(state)` only, `(B, n)`
                (what a search loop wants: the rest are never chosen), not all `(B, V)`.

        Returns:
            `(logits (B, V) float32, caches)` with the caches' slot `position` filled; with a
            shortlist, ids a row may not produce have logit `decoding.shortlist.NEVER`.
        """
        layers = self.layers
        caches = state["caches"] if caches is None else caches
        # (B,) -> (B, 1) -> (B, 1, D)
        embedded = layers.target_embedding(ops.expand_dims(ops.cast(tokens, "int32"), 1))
        embedded = layers.positional_encoding(embedded, start_position=position)
        decoded, caches = layers.decoder.decode_step(
            embedded, position, caches, state["source_keys_values"], state["source_mask"]
        )
        if "shortlist" in state:
            return self._shortlist_logits(decoded[:, 0, :], state, restricted), caches
        if layers.output_projection is None:
            logits = layers.target_embedding(decoded, reverse=True)
        else:
            logits = layers.output_projection(decoded)
        return ops.cast(logits[:, 0, :], "float32"), caches

    def _shortlist_logits(self, decoded, state, restricted):
        """`(B, D)` -> float32 logits computed for the shortlist's union of ids only: `(B, n)` when
        `restricted`, else spread over `(B, V)`."""
        ids, layers = state["shortlist"]["ids"], self.layers
        if layers.output_projection is None:
            embedding = layers.target_embedding
            kernel = ops.take(ops.cast(embedding.embeddings, decoded.dtype), ids, axis=0)  # (n, D)
            logits = ops.matmul(decoded, ops.transpose(kernel))
            if getattr(embedding, "output_bias", False):
                logits = logits + ops.take(ops.cast(embedding.logits_bias, decoded.dtype), ids, axis=0)
        else:
            projection = layers.output_projection
            logits = ops.matmul(decoded, ops.take(ops.cast(projection.kernel, decoded.dtype), ids, axis=1))
            logits = logits + ops.take(ops.cast(projection.bias, decoded.dtype), ids, axis=0)
        logits = self.shortlist.mask(ops.cast(logits, "float32"), state["shortlist"])
        return logits if restricted else self.shortlist.expand(logits, state["shortlist"])

    def full_logits(self, encoder_tokens, decoder_tokens):
        """Uncached: the whole model on the whole prefix, `(B, T, V)` (the reference for the cache)."""
        return self.model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens}, training=False)
