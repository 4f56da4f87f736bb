"""`generate` (`keras_transformer.decoding.generate`): one entry point for greedy, beam and sampling
decoding of a trained model, on every Keras backend: compiled by `tf.function` (graph or XLA) on
TensorFlow, by `jax.jit` on JAX, run eagerly on PyTorch. The same weights give the same tokens on all
three."""

import contextlib
import weakref

import keras
import numpy as np
from keras import ops

from keras_transformer import _backend
from keras_transformer.decoding import buckets, compiled, search
from keras_transformer.decoding.dispatch import decode, nothing_for_empty_sources
from keras_transformer.decoding.incremental import IncrementalDecoder
from keras_transformer.decoding.settings import DecodingSettings
from keras_transformer.errors import InvalidArgumentError, InvalidTypeError
from keras_transformer.layers import graph_checks_disabled


def _compiled(model, settings, start_id, end_id, jit_compile):
    """The compiled loop for `model` decoding as `settings` say, from the shared cache (traced on
    first use). On TensorFlow it is a tf.function with a (None, None) int32 input signature, so new
    batch sizes and source lengths reuse the same graph (XLA and jax.jit compile once per shape,
    hence the shape buckets)."""
    model_ref = weakref.ref(model)

    def run_without_asserts(encoder_tokens):
        # Runs while tracing (or, eagerly, while `generate` runs), when the caller holds the model; a
        # strong reference here would keep the model alive through the cache.
        decoder = IncrementalDecoder(model_ref())
        # Ids reaching the loop were checked in `generate`; inside it the loop only feeds ids it
        # chose itself, so per-step assert ops would be pure overhead (and XLA drops them).
        with graph_checks_disabled():
            return decode(decoder, encoder_tokens, settings, start_id, end_id)

    key = ("generate", settings, start_id, end_id, jit_compile)
    return compiled.function(model, key, lambda: _compile(run_without_asserts, model_ref, jit_compile))


def _compile(run, model_ref, jit_compile):
    """`run(encoder_tokens)` as this backend runs it best: a `tf.function` (XLA when `jit_compile`),
    a `jax.jit` function (eager when not `jit_compile`), or torch eagerly without autograd."""
    backend = _backend.name()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(
            run,
            input_signature=[tf.TensorSpec([None, None], tf.int32)],
            reduce_retracing=True,
            jit_compile=jit_compile,
        )
    if backend == "jax" and jit_compile:
        import jax

        def stateless(values, encoder_tokens):
            # The weights are arguments, not constants baked into the compiled loop: training the
            # model after a call decodes with the new weights without compiling again.
            with keras.StatelessScope(state_mapping=list(zip(model_ref().variables, values))):
                return run(encoder_tokens)

        jitted = jax.jit(stateless)
        return lambda encoder_tokens: jitted([variable.value for variable in model_ref().variables], encoder_tokens)

    def eager(encoder_tokens):
        with _no_autograd():
            return run(encoder_tokens)

    return eager


def _no_autograd():
    """On torch, no autograd graph for the decoding loop (it would grow with every step)."""
    if _backend.name() != "torch":
        return contextlib.nullcontext()
    import torch

    return torch.no_grad()


def generate(
    model, encoder_tokens, settings=None, *, start_id=1, end_id=2, use_cache=True, jit_compile=None, **shorthand
):
    """Generate target ids for a batch of source ids, decoding as `settings` say.

    Args:
        model: a model from `build_transformer` (or an `IncrementalDecoder` of one).
        encoder_tokens: `(B, S)` int ids, 0 = padding.
        settings: a `DecodingSettings` (default greedy); its `max_output_length` (the most ids
            generated, end id included) defaults to the model's `max_length` and may not exceed it.
        start_id, end_id: the ids that open the decoder input and end a sequence.
        use_cache: decode with the key/value cache (default). `False` reruns the whole model on the
            whole prefix at each step (greedy only): slow, for checking the cache.
        jit_compile: None (default): compile the decoding loop (XLA on TensorFlow, `jax.jit` on
            JAX) after padding the batch to one of a few shape buckets (`decoding.buckets`: source
            length to a multiple of 8, batch size to a power of two or a multiple of 64), so it
            compiles once per bucket, not once per shape; the outputs are those of the unpadded
            batch. True: compile for the exact shape. False: no compilation (TensorFlow graph mode,
            JAX op by op; for debugging). PyTorch decodes eagerly (without autograd) for None and
            False; True raises there. Every choice gives the same tokens.
        **shorthand: `DecodingSettings` fields, e.g. `strategy="beam", beam_size=3`: a shorthand for
            `settings.replace(**shorthand)` (None values change nothing; an unknown name is a
            `ValueError` naming it).

    Returns:
        A dict with fixed keys whatever the strategy, L being the resolved `max_output_length`:
        `"tokens"` `(B, L)` int32, the best output: ids after the start id, up to and including the
        end id, then 0s; `"scores"` `(B,)` its log probability (length-normalized for beam search);
        `"token_scores"` `(B, L)` float32, the log probability of each of its ids (end id included,
        then 0s; they sum to the unnormalized score);
        `"candidates"` `(B, N, L)` and `"candidate_scores"` `(B, N)`, the n-best best-first
        (N = beam_size for beam search, 1 otherwise).

    Example:
    >>> import numpy as np
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> model = build_transformer(TransformerConfig.from_name("tiny"))
    >>> settings = DecodingSettings(strategy="beam", beam_size=3, max_output_length=6)
    >>> out = generate(model, np.array([[5, 6, 7]]), settings)
    >>> tuple(out["tokens"].shape), tuple(out["candidates"].shape)
    ((1, 6), (1, 3, 6))
    >>> same = generate(model, np.array([[5, 6, 7]]), strategy="beam", beam_size=3, max_output_length=6)
    >>> bool(np.array_equal(same["tokens"], out["tokens"]))
    True
    """
    if settings is None:
        settings = DecodingSettings()
    elif not isinstance(settings, DecodingSettings):
        raise InvalidTypeError(
            "`settings` must be a DecodingSettings or None (the output length is its max_output_length). "
            f"Received: settings={settings!r}"
        )
    settings = settings.replace(**shorthand)
    if settings.shortlist:
        raise InvalidArgumentError(
            "generate decodes over the whole vocabulary; a shortlist needs TextPipeline(..., shortlist=...). "
            "Received: shortlist=True"
        )
    if not (jit_compile is None or isinstance(jit_compile, bool)):
        raise ValueError(f"`jit_compile` must be None, True or False. Received: jit_compile={jit_compile!r}")
    decoder = model if isinstance(model, IncrementalDecoder) else IncrementalDecoder(model)
    settings = settings.resolved(decoder.max_length)
    length = settings.max_output_length
    if jit_compile and _backend.name() == "torch":
        raise ValueError(
            "`jit_compile=True` compiles the decoding loop on the tensorflow and jax backends; the torch "
            "backend decodes eagerly. Received: jit_compile=True with KERAS_BACKEND=torch (pass None or False)"
        )
    encoder_tokens = _checked_ids(encoder_tokens, decoder.source_vocabulary_size)
    if encoder_tokens.shape[0] == 0:
        count = settings.beam_size if settings.strategy == "beam" else 1
        return {
            "tokens": ops.zeros((0, length), "int32"),
            "scores": ops.zeros((0,), "float32"),
            "token_scores": ops.zeros((0, length), "float32"),
            "candidates": ops.zeros((0, count, length), "int32"),
            "candidate_scores": ops.zeros((0, count), "float32"),
        }

    if not use_cache:
        if settings.strategy != "greedy":
            raise ValueError(
                f"use_cache=False supports strategy='greedy' only. Received: strategy={settings.strategy!r}"
            )
        with _no_autograd():
            encoder_tokens = ops.convert_to_tensor(encoder_tokens)
            tokens, scores, token_scores = search.uncached_greedy_search(decoder, encoder_tokens, length, start_id, end_id)
        return nothing_for_empty_sources(encoder_tokens, _single(tokens, scores, token_scores))

    if jit_compile is None and _backend.name() != "torch":
        padded = buckets.pad_to_bucket(encoder_tokens, decoder.max_length)
        outputs = _compiled(decoder.model, settings, start_id, end_id, True)(padded)
        return buckets.unpad(outputs, int(encoder_tokens.shape[0]))
    return _compiled(decoder.model, settings, start_id, end_id, bool(jit_compile))(ops.convert_to_tensor(encoder_tokens))


def _checked_ids(encoder_tokens, vocabulary):
    """`encoder_tokens` as a `(B, S)` int32 NumPy array, or a `ValueError` naming what is wrong."""
    array = keras.ops.convert_to_numpy(encoder_tokens)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            "`encoder_tokens` must be integer ids of shape (B, S). "
            f"Received: shape={tuple(array.shape)}, dtype={array.dtype}"
        )
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= vocabulary:
            raise ValueError(
                f"`encoder_tokens` must be in [0, {vocabulary}) (the source vocabulary). "
                f"Received values from {low} to {high}"
            )
    if array.shape[0] and not array.shape[1]:
        raise ValueError(f"`encoder_tokens` must hold at least one position. Received: shape={tuple(array.shape)}")
    return array.astype("int32")


def _single(tokens, scores, token_scores):
    return {
        "tokens": tokens,
        "scores": scores,
        "token_scores": token_scores,
        "candidates": ops.expand_dims(tokens, 1),
        "candidate_scores": ops.expand_dims(scores, 1),
    }
