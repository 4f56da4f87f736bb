"""`TextPipeline`: texts in, texts out. A model, its two tokenizers and its `DecodingSettings`, run as
one compiled TensorFlow function that `predict` calls and the exported SavedModel serves.
"""

import warnings
import weakref

import tensorflow as tf

from keras_transformer import _backend, _validation
from keras_transformer.errors import InvalidArgumentError
from keras_transformer.decoding import buckets, compiled
from keras_transformer.decoding.dispatch import decode
from keras_transformer.decoding.incremental import IncrementalDecoder
from keras_transformer.decoding.prediction import BLANK_PATTERN, BLANK_PREDICTION, from_buffers, in_batches
from keras_transformer.decoding.settings import DecodingSettings
from keras_transformer.layers import graph_checks_disabled
from keras_transformer.models import config_of


def dense_source_ids(ragged_ids):
    """(B, None) ragged ids -> (B, S) int32, zero-padded, with S >= 1 so that an all-empty batch still
    has a (fully masked) source position."""
    dense = tf.cast(ragged_ids.to_tensor(default_value=0), tf.int32)
    return tf.pad(dense, [[0, 0], [0, tf.maximum(1 - tf.shape(dense)[1], 0)]])


class TextPipeline:
    """A trained Transformer with everything needed to run it on text.

    Args:
        model: a model from `build_transformer` (it carries its `TransformerConfig`).
        source_tokenizer, target_tokenizer: `keras_transformer.text.Tokenizer`s; the target's start
            and end ids drive decoding.
        settings: a `DecodingSettings` (default greedy); its `max_output_length` defaults to the
            model's `max_length`.
        name: a name for messages and exports (default the model's name).
        jit_compile: decode with XLA over shape buckets (see `decoding.buckets`: one compilation a
            bucket), or in TensorFlow graph mode (False, the default: no compile wait). Outputs are
            the same; XLA pays a compilation per bucket first, so it pays off only for long inputs
            (BENCHMARKS.md has measurements).
        shortlist: optional `decoding.shortlist.OutputShortlist`, used when the settings say
            `shortlist=True` (see `DecodingSettings`).

    `predict(texts)` and the SavedModel's `serving_default` (see `keras_transformer.export`) run the
    same `texts_function`: tokenize (truncating to the model's `max_length`), encode, decode with
    the key/value cache as the settings say, detokenize. A pipeline built in memory from a model
    just trained behaves exactly like the one a zoo model runs (`zoo.load(name).runtime`). A pipeline
    knows nothing of zoo folders: their info, card and history stay on the `zoo.ZooModel`.

    Example:
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> from keras_transformer.text import Tokenizer
    >>> source = Tokenizer.from_corpus(["abc"])
    >>> target = Tokenizer.from_corpus(["xyz"])
    >>> config = TransformerConfig.from_name("tiny", source_vocab_size=source.vocabulary_size,
    ...                                      target_vocab_size=target.vocabulary_size, max_length=8)
    >>> pipeline = TextPipeline(build_transformer(config), source, target, DecodingSettings(max_output_length=5))
    >>> outputs = pipeline.predict(["cab", ""])  # an untrained model: some string per input
    >>> len(outputs), all(isinstance(text, str) for text in outputs)
    (2, True)
    """

    def __init__(
        self,
        model,
        source_tokenizer,
        target_tokenizer,
        settings=None,
        name=None,
        jit_compile=False,
        shortlist=None,
    ):
        # Tokenizers and model run in one tf.function, which only a TensorFlow-backend model joins.
        _backend.require_tensorflow("TextPipeline")
        self.model = model
        self.config = config_of(model)
        for argument, tokenizer, size in (
            ("source_tokenizer", source_tokenizer, self.config.source_vocab_size),
            ("target_tokenizer", target_tokenizer, self.config.target_vocab_size),
        ):
            if getattr(tokenizer, "vocabulary_size", None) != size:
                raise ValueError(
                    f"`{argument}` must be a Tokenizer whose vocabulary_size equals the model's "
                    f"({size}). Received: {argument}={tokenizer!r} with vocabulary_size="
                    f"{getattr(tokenizer, 'vocabulary_size', None)}"
                )
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        settings = DecodingSettings() if settings is None else settings
        if not isinstance(settings, DecodingSettings):
            raise TypeError(f"`settings` must be a DecodingSettings. Received: settings={settings!r}")
        self.shortlist = shortlist
        self.settings = self._checked(settings.resolved(self.config.max_length))
        self.name = name or model.name
        self.jit_compile = _validation.boolean("jit_compile", jit_compile)
        self.decoder = IncrementalDecoder(model, shortlist if self.settings.shortlist else None)

    def __repr__(self):
        return f"TextPipeline(name={self.name!r}, settings={self.settings})"

    def with_settings(self, **changes):
        """The settings with `changes` applied (None values ignored), resolved for this model."""
        return self._checked(self.settings.replace(**changes).resolved(self.config.max_length))

    def _checked(self, settings):
        if settings.shortlist and self.shortlist is None:
            raise InvalidArgumentError(
                f"shortlist=True needs a pipeline with a shortlist; {self.model.name} has none. Received: shortlist=True"
            )
        return settings

    # ---------------------------------------------------------------- compiled functions

    def ids_function(self, settings=None):
        """The compiled `encoder_tokens (B, S) int32 -> decode(...)` dict function for `settings`
        (default the pipeline's), from the model's compiled-function cache (`decoding.compiled`)."""
        return self._function("ids", settings or self.settings)

    def texts_function(self, settings=None):
        """The compiled `texts (B,) string -> dict` function for `settings` (default the
        pipeline's): the one function `predict` and the SavedModel run. Its outputs: `"outputs"` (B,)
        string; `"scores"` (B,) float32, each output's log probability (the beam's score for beam
        search); `"tokens"` (B, L) int32, the output ids (end id included, then 0s); `"token_scores"`
        (B, L) float32, each id's log probability (then 0s). A blank text (empty or whitespace only,
        `decoding.prediction.is_blank`) gives "" and scores of 0."""
        return self._function("texts", settings or self.settings)

    def _function(self, kind, settings):
        source_tokenizer, target_tokenizer = self.source_tokenizer, self.target_tokenizer
        ids = {"start_id": target_tokenizer.start_id, "end_id": target_tokenizer.end_id}
        # The tokenizers' ids are unique while the entry lives: its function holds the tokenizers.
        shortlist = self.shortlist if settings.shortlist else None
        key = (f"pipeline {kind}", settings, self.jit_compile, ids["start_id"], ids["end_id"], id(shortlist))
        if kind == "texts":
            key += (id(source_tokenizer), id(target_tokenizer))
        # The cached function refers to the model weakly and never to `self` (which holds the model),
        # or the cache would keep the model alive.
        model_ref, max_length, jit_compile = weakref.ref(self.model), self.config.max_length, self.jit_compile

        def build():
            def decode_exact(encoder_tokens):
                # Ids come from the tokenizer (or a signature that checks them): no per-step asserts.
                # Runs while tracing, when the caller holds the model.
                with graph_checks_disabled():
                    return decode(IncrementalDecoder(model_ref(), shortlist), encoder_tokens, settings, **ids)

            if jit_compile and settings.strategy != "sample":
                # XLA over shape buckets (see `decoding.buckets`): one compilation a bucket, the real
                # rows' outputs as without padding. Sampling stays in graph mode (XLA draws another
                # random stream).
                exact = tf.function(decode_exact, jit_compile=True, reduce_retracing=True)

                def decode_ids(encoder_tokens):
                    padded = buckets.pad_to_bucket(encoder_tokens, max_length)
                    return buckets.unpad(exact(padded), tf.shape(encoder_tokens)[0])

            else:
                decode_ids = decode_exact

            if kind == "ids":
                signature = [tf.TensorSpec([None, None], tf.int32, name="encoder_tokens")]
                return tf.function(decode_ids, input_signature=signature)

            def texts_to_texts(texts):
                # A loaded signature does not enforce its TensorSpec's rank; ensure_shape does.
                texts = tf.ensure_shape(texts, [None])
                ids = dense_source_ids(source_tokenizer.tokenize(texts, max_length=max_length))
                # A blank text becomes a source of padding only, which decodes to nothing (`decode`),
                # whatever its tokenizer makes of it (a translation model's appends the end id).
                blank = tf.strings.regex_full_match(texts, BLANK_PATTERN)
                result = decode_ids(tf.where(blank[:, None], tf.zeros_like(ids), ids))
                return {
                    "outputs": target_tokenizer.detokenize(result["tokens"]),
                    "scores": result["scores"],
                    "tokens": result["tokens"],
                    "token_scores": result["token_scores"],
                }

            return tf.function(texts_to_texts, input_signature=[tf.TensorSpec([None], tf.string, name="texts")])

        return compiled.function(self.model, key, build)

    # ---------------------------------------------------------------- Python API

    def predict(self, texts, batch_size=64, progress=None, return_scores=False, **overrides):
        """Outputs for `texts` (a list of str), in order.

        Args:
            texts: the inputs; a blank one (empty or whitespace only) gets "" without running the model.
            batch_size: how many texts go through the model at once (texts are grouped by length).
            progress: optional callable `progress(done, total)` called after each batch.
            return_scores: give a `decoding.prediction.Prediction` per text (its text, its log
                probability and its tokens' log probabilities) instead of a str.
            **overrides: `DecodingSettings` fields to change for this call (e.g. `strategy="beam"`);
                None values are ignored.

        Returns:
            A list of str, or of `Prediction`s with `return_scores=True`.

        Warns:
            UserWarning: naming the texts longer than the model's `max_length` ids, which are
            truncated to it (the output is that of the first `max_length` ids).
        """
        texts = check_texts(texts)
        batch_size = _validation.positive_int("batch_size", batch_size)
        return_scores = _validation.boolean("return_scores", return_scores)
        function = self.texts_function(self.with_settings(**overrides))
        self._warn_truncated(texts, stacklevel=3)

        def decode_batches(batches):
            for batch in batches:
                result = {key: value.numpy() for key, value in function(tf.constant(batch, tf.string)).items()}
                outputs = [text.decode("utf-8") for text in result["outputs"]]
                if return_scores:
                    outputs = from_buffers(outputs, result["scores"], result["tokens"], result["token_scores"])
                yield outputs

        return in_batches(texts, batch_size, decode_batches, BLANK_PREDICTION if return_scores else "", progress)

    def truncated(self, texts):
        """Indices of the `texts` whose ids exceed the model's `max_length` (they are truncated)."""
        texts = check_texts(texts, "truncated")
        if not texts:
            return []
        lengths = self.source_tokenizer.tokenize(tf.constant(texts, tf.string)).row_lengths().numpy()
        return [index for index, length in enumerate(lengths) if length > self.config.max_length]

    def _warn_truncated(self, texts, stacklevel):
        long = self.truncated(texts)
        if long:
            shown = ", ".join(str(index) for index in long[:10]) + (", ..." if len(long) > 10 else "")
            warnings.warn(
                f"{len(long)} of {len(texts)} texts are longer than {self.name}'s max_length="
                f"{self.config.max_length} ids and were truncated to it (texts {shown}).",
                stacklevel=stacklevel,
            )

    def encode_texts(self, texts):
        """Texts -> `(B, S)` int32 ids as the pipeline feeds them to the model (truncated to the
        model's `max_length`, at least one column)."""
        ragged = self.source_tokenizer.tokenize(tf.constant(check_texts(texts, "encode_texts"), tf.string), max_length=self.config.max_length)
        return dense_source_ids(ragged).numpy()


def check_texts(texts, method="predict"):
    """`texts` as a list of str; `TypeError` for one bare string, None, or a non-str item (naming its
    index); the message names `method`, the method the user called."""
    return _validation.texts("texts", texts, method)


__all__ = ["TextPipeline", "check_texts", "dense_source_ids"]
