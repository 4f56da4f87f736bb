"""`OutputShortlist`: decode over the target words a source sentence makes likely, not the whole vocabulary.

A lexical shortlist (the Marian / bergamot `lex.*.s2t.bin` files) lists, for every source word, the
target words it most often aligns to; with the `first` most frequent target words always allowed,
the output of a sentence is restricted to the union over its source words. Two things follow:

- a row may only produce its own allowed words (the others' logits become `NEVER`): so a sentence
  decodes the same alone or in any batch, as the engine that decodes one sentence a call does;
- the output projection is computed only for the batch's union of allowed words, a gather of those
  rows of the (tied) embedding: with a 32,000-word vocabulary and a 256-wide model, that projection
  is most of a decoding step's work.

Ids here are the model's (target ids = the shortlist's ids + `id_offset`).
"""

import numpy as np
from keras import ops

NEVER = -1e9


class OutputShortlist:
    """A shortlist table ready for decoding.

    Args:
        table: `(source vocabulary, width)` int array of target ids in the shortlist's numbering,
            -1 where a word's list is shorter; row w lists the targets of source word w.
        always: how many of the first target ids are always allowed (bergamot's `firstNum`).
        id_offset: added to the shortlist's ids (source and target) to get the model's ids; the
            model's source ids below `id_offset` (padding) allow nothing.
        vocabulary_size: the model's target vocabulary size.
        include_source: the source ids themselves are allowed too (Marian does so when source and
            target share one vocabulary: a name or a number can be copied).
    """

    def __init__(self, table, always, id_offset, vocabulary_size, include_source=False):
        table = np.asarray(table, np.int64)
        if table.ndim != 2:
            raise ValueError(f"`table` must be 2-D (source words, width). Received: table.shape={table.shape}")
        self.always = int(always)
        self.id_offset = int(id_offset)
        self.vocabulary_size = int(vocabulary_size)
        self.include_source = bool(include_source)
        # Rows for the model's source ids: `id_offset` empty rows first; ids in the model's numbering,
        # with a missing entry pointing at `vocabulary_size` (a slot that is dropped below).
        rows = np.where(table >= 0, table + self.id_offset, self.vocabulary_size)
        empty = np.full((self.id_offset, table.shape[1]), self.vocabulary_size, np.int64)
        self.table = np.concatenate([empty, rows]).astype("int32")
        self.always_ids = np.arange(self.id_offset, self.id_offset + self.always, dtype="int32")

    def restrict(self, encoder_tokens):
        """`(B, S)` source ids -> `{"ids": (n,), "allowed": (B, n), "position": (V,)}`: the batch's
        union of allowed target ids (sorted), which of them each row may produce, and each target id's
        column in the union (n for ids outside it). Computed once a batch, before the decoding loop."""
        batch = ops.shape(encoder_tokens)[0]
        table = ops.convert_to_tensor(self.table)
        # Source ids beyond the table (none for a matching vocabulary) allow nothing extra.
        tokens = ops.where(encoder_tokens < ops.shape(table)[0], encoder_tokens, 0)
        targets = ops.reshape(ops.take(table, tokens, axis=0), (batch, -1))  # (B, S·W)
        always = ops.broadcast_to(ops.convert_to_tensor(self.always_ids)[None], (batch, self.always))
        targets = ops.concatenate([targets, always], axis=1)
        if self.include_source:  # padding (below id_offset) goes to the dropped column
            own = ops.where(encoder_tokens >= self.id_offset, encoder_tokens, self.vocabulary_size)
            targets = ops.concatenate([targets, ops.cast(own, targets.dtype)], axis=1)
        # (B, V + 1) counts by a one-row scatter per row; the last column collects missing entries.
        rows = ops.broadcast_to(ops.arange(batch, dtype="int32")[:, None], ops.shape(targets))
        indices = ops.stack([ops.reshape(rows, (-1,)), ops.reshape(targets, (-1,))], axis=1)
        counts = ops.scatter(indices, ops.ones((ops.shape(indices)[0],), "int32"), (batch, self.vocabulary_size + 1))
        allowed = counts[:, : self.vocabulary_size] > 0
        union = ops.any(allowed, axis=0)
        n = ops.sum(ops.cast(union, "int32"))
        # The union's ids in ascending order, through top_k (a one-argument `where` lowers to ops that
        # TFLite's builtins lack): allowed ids score V - id, the others 0.
        scores = ops.where(union, self.vocabulary_size - ops.arange(self.vocabulary_size, dtype="int32"), 0)
        ids = self.vocabulary_size - ops.top_k(scores, k=n, sorted=True)[0]
        position = ops.scatter(ops.expand_dims(ids, 1), ops.arange(1, n + 1, dtype="int32"), (self.vocabulary_size,)) - 1
        return {"ids": ids, "allowed": ops.take(allowed, ids, axis=1), "position": ops.where(position < 0, n, position)}

    @staticmethod
    def mask(logits, restriction):
        """Logits over the union `(B, n)` with `NEVER` where a row may not produce the id."""
        return ops.where(restriction["allowed"], logits, ops.full_like(logits, NEVER))

    @staticmethod
    def expand(logits, restriction):
        """Masked logits over the union `(B, n)` -> full logits `(B, V)` (ids outside the union read
        an appended `NEVER` column)."""
        padded = ops.concatenate([logits, ops.full_like(logits[:, :1], NEVER)], axis=1)
        return ops.take(padded, restriction["position"], axis=1)
