"""`SentenceEncoder`: texts in, unit vectors out. An encoder model from `build_encoder` and its
`WordPieceTokenizer`, run as one compiled TensorFlow function that `embed` calls and the exported
SavedModel serves."""

import numpy as np
import tensorflow as tf

from keras_transformer import _validation
from keras_transformer.models.encoder import SEGMENT_INPUT, TOKEN_INPUT, EncoderModel
from keras_transformer.pipeline import check_texts


class SentenceEncoder:
    """A sentence-embedding model with everything needed to run it on text.

    Args:
        model: an `EncoderModel` (from `build_encoder` or `keras_transformer.convert`); its
            `pooled_output` is the sentence vector (L2-normalised when its config says so).
        tokenizer: a `keras_transformer.text.WordPieceTokenizer` (or any tokenizer with a
            `tokenize(texts) -> ragged ids` made of TensorFlow ops) whose ids fit the model.
        name: a name for messages and exports (default the model's name).

    `embed(texts)` and the SavedModel's `serving_default` run the same `texts_function`: tokenize
    (`[CLS] ... [SEP]`, truncated to the tokenizer's `max_length`), pad with id 0, encode, pool.

    Example:
    >>> from keras_transformer.models import EncoderConfig, build_encoder
    >>> from keras_transformer.text import WordPieceTokenizer
    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"], max_length=8)
    >>> config = EncoderConfig(vocabulary_size=7, d_model=8, num_heads=2, d_ff=16, num_layers=1,
    ...                        max_length=8, normalize_pooled=True)
    >>> encoder = SentenceEncoder(build_encoder(config), tokenizer)
    >>> vectors = encoder.embed(["hello world", ""])
    >>> vectors.shape, bool(np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5))
    ((2, 8), True)
    """

    def __init__(self, model, tokenizer, name=None):
        if not isinstance(model, EncoderModel):
            raise TypeError(f"`model` must be an EncoderModel (from build_encoder). Received: model={model!r}")
        config = model.config
        if getattr(tokenizer, "vocabulary_size", None) != config.vocabulary_size:
            raise ValueError(
                "`tokenizer` must have the model's vocabulary_size. Received: "
                f"tokenizer.vocabulary_size={getattr(tokenizer, 'vocabulary_size', None)}, "
                f"model vocabulary_size={config.vocabulary_size}"
            )
        if getattr(tokenizer, "max_length", config.max_length) > config.max_length:
            raise ValueError(
                "The tokenizer's max_length must not exceed the model's. Received: "
                f"tokenizer.max_length={tokenizer.max_length}, model max_length={config.max_length}"
            )
        self.model = model
        self.config = config
        self.tokenizer = tokenizer
        self.name = name or model.name
        self._functions = {}

    def __repr__(self):
        return f"SentenceEncoder(name={self.name!r}, dimension={self.dimension})"

    @property
    def dimension(self):
        """D, the length of each vector."""
        return self.config.d_model

    def _model_inputs(self, token_ids):
        inputs = {TOKEN_INPUT: token_ids}
        if SEGMENT_INPUT in self.config.input_names:
            inputs[SEGMENT_INPUT] = tf.zeros_like(token_ids)  # one sentence: segment 0 everywhere
        return inputs

    def ids_function(self):
        """The compiled `token_ids (B, S) int32 -> {"embeddings": (B, D) float32}` function."""
        if "ids" not in self._functions:

            @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="token_ids")])
            def ids_to_embeddings(token_ids):
                outputs = self.model(self._model_inputs(token_ids), training=False)
                return {"embeddings": outputs["pooled_output"]}

            self._functions["ids"] = ids_to_embeddings
        return self._functions["ids"]

    def texts_function(self):
        """The compiled `texts (B,) string -> {"embeddings": (B, D) float32}` function: the one
        function `embed` and the SavedModel run."""
        if "texts" not in self._functions:
            ids_to_embeddings = self.ids_function()

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
            def texts_to_embeddings(texts):
                # A loaded signature does not enforce its TensorSpec's rank; ensure_shape does.
                texts = tf.ensure_shape(texts, [None])
                token_ids = tf.cast(self.tokenizer.tokenize(texts).to_tensor(default_value=0), tf.int32)
                return ids_to_embeddings(token_ids)

            self._functions["texts"] = texts_to_embeddings
        return self._functions["texts"]

    def tokenize(self, texts):
        """Texts -> the `(B, S)` int32 ids the model is fed (zero-padded)."""
        texts = check_texts(texts, "tokenize")
        return self.tokenizer.tokenize(tf.constant(texts, tf.string)).to_tensor(default_value=0).numpy()

    def embed(self, texts, batch_size=64, progress=None):
        """`(B, D)` float32 vectors for `texts` (a list of str), in order.

        Args:
            texts: the inputs; empty strings are allowed (`[CLS] [SEP]` alone).
            batch_size: how many texts go through the model at once (texts are grouped by length,
                which changes no vector: padding is masked).
            progress: optional callable `progress(done, total)` called after each batch.
        """
        texts = check_texts(texts, "embed")
        batch_size = _validation.positive_int("batch_size", batch_size)
        vectors = np.zeros((len(texts), self.dimension), np.float32)
        function = self.texts_function()
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            vectors[indices] = function(tf.constant([texts[i] for i in indices], tf.string))["embeddings"].numpy()
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return vectors

    def search(self, queries, documents, top_k=5, batch_size=64):
        """Rank `documents` against each query by cosine similarity.

        Args:
            queries: a list of str.
            documents: a list of str, or their `(N, D)` vectors from `embed` (to embed them once).
            top_k: how many documents to return a query (at most all of them).
            batch_size: as for `embed`.

        Returns:
            For each query, a list of `(document index, score)` pairs, best first.
        """
        top_k = _validation.positive_int("top_k", top_k)
        query_vectors = self.embed(_validation.texts("queries", queries, "search"), batch_size=batch_size)
        if isinstance(documents, np.ndarray):
            document_vectors = documents
        else:
            document_vectors = self.embed(_validation.texts("documents", documents, "search"), batch_size=batch_size)
        if document_vectors.ndim != 2 or document_vectors.shape[1] != self.dimension:
            raise ValueError(
                f"`documents` vectors must have shape (N, {self.dimension}). Received: shape={document_vectors.shape}"
            )
        if not self.config.normalize_pooled:
            query_vectors = query_vectors / np.maximum(np.linalg.norm(query_vectors, axis=1, keepdims=True), 1e-12)
            norms = np.linalg.norm(document_vectors, axis=1, keepdims=True)
            document_vectors = document_vectors / np.maximum(norms, 1e-12)
        scores = query_vectors @ document_vectors.T  # (Q, N)
        ranked = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]
        return [[(int(i), float(row[i])) for i in order] for row, order in zip(scores, ranked)]


__all__ = ["SentenceEncoder"]
