"""Per-token log probabilities from every search, checked against the full model run teacher-forced on
the output (an independent reference: no cache, no loop)."""

import numpy as np
import pytest
import keras
from keras import ops

from keras_transformer.decoding import generate, length_penalty
from tests.decoding.test_generate import frequent_token, make_model, sources


# TensorFlow decodes in graph mode (no XLA compilation to wait for); JAX compiles (op by op it is slower
# still); PyTorch decodes eagerly either way. Every choice gives the same tokens.
JIT = False if keras.backend.backend() == "tensorflow" else None


def teacher_forced_log_probs(model, encoder_tokens, tokens, start_id=1, temperature=1.0):
    """(B, L) log probability of each output id given the ids before it, from one full forward pass."""
    decoder_tokens = np.concatenate([np.full((len(tokens), 1), start_id, "int32"), tokens[:, :-1]], axis=1)
    logits = ops.convert_to_numpy(model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens}, training=False))
    logits = logits.astype("float64") / temperature
    log_probs = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(-1, keepdims=True)
    return np.take_along_axis(log_probs, tokens[:, :, None], axis=2)[:, :, 0]


def rare_token(model, encoder_tokens, max_length):
    """A token greedy search emits once or twice, late: rows end at different lengths, or not at all."""
    tokens = ops.convert_to_numpy(generate(model, encoder_tokens, max_output_length=max_length, jit_compile=JIT)["tokens"])
    values, counts = np.unique(tokens[:, 3:], return_counts=True)
    return int(values[counts.argmin()])


# Greedy rows ending early; beam hypotheses finishing at different lengths ("rare") or never, when the
# live ones are returned, normalized at the last step.
@pytest.mark.parametrize("strategy, end", [("greedy", "frequent"), ("beam", "rare"), ("beam", "never")])
def test_token_scores_are_the_full_models_log_probabilities_of_the_output(strategy, end):
    model = make_model()
    encoder_tokens = sources()
    end_id = {"frequent": frequent_token, "rare": rare_token}.get(end, lambda *_: 0)(model, encoder_tokens, 12)
    if end == "never":
        end_id = 100  # outside the vocabulary: no hypothesis ends, the live ones are returned
    out = generate(
        model, encoder_tokens, max_output_length=12, end_id=end_id, strategy=strategy, beam_size=3, length_penalty=0.6,
        jit_compile=JIT,
    )
    tokens = ops.convert_to_numpy(out["tokens"])
    token_scores = ops.convert_to_numpy(out["token_scores"])
    reference = teacher_forced_log_probs(model, encoder_tokens, tokens)
    lengths = np.array([list(row).index(end_id) + 1 if end_id in row else len(row) for row in tokens])
    inside = np.arange(tokens.shape[1])[None, :] < lengths[:, None]
    np.testing.assert_allclose(token_scores[inside], reference[inside], atol=1e-4)
    np.testing.assert_array_equal(token_scores[~inside], 0.0)
    summed = token_scores.sum(axis=1)
    if strategy == "beam":
        # The beam's score is its log probability normalized by GNMT's length penalty.
        summed = summed / ops.convert_to_numpy(length_penalty(lengths, 0.6))
    np.testing.assert_allclose(ops.convert_to_numpy(out["scores"]), summed, rtol=1e-5, atol=1e-5)


def test_sampled_token_scores_are_under_the_tempered_distribution():
    model = make_model()
    encoder_tokens = sources()
    out = generate(
        model, encoder_tokens, max_output_length=10, strategy="sample", temperature=0.7, seed=3, end_id=99, jit_compile=JIT
    )
    tokens = ops.convert_to_numpy(out["tokens"])
    reference = teacher_forced_log_probs(model, encoder_tokens, tokens, temperature=0.7)
    lengths = np.array([list(row).index(99) + 1 if 99 in row else len(row) for row in tokens])
    reference[np.arange(tokens.shape[1])[None, :] >= lengths[:, None]] = 0.0
    np.testing.assert_allclose(ops.convert_to_numpy(out["token_scores"]), reference, atol=1e-4)
    np.testing.assert_allclose(ops.convert_to_numpy(out["scores"]), reference.sum(1), rtol=1e-5)


def test_uncached_greedy_token_scores_equal_cached():
    model = make_model()
    encoder_tokens = sources()
    end_id = frequent_token(model, encoder_tokens, 12)
    cached = generate(model, encoder_tokens, max_output_length=12, end_id=end_id, jit_compile=JIT)
    uncached = generate(model, encoder_tokens, max_output_length=12, end_id=end_id, use_cache=False)
    np.testing.assert_allclose(
        ops.convert_to_numpy(cached["token_scores"]), ops.convert_to_numpy(uncached["token_scores"]), atol=1e-5
    )
