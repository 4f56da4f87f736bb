"""`decode`: run the search that `DecodingSettings` name over an `IncrementalDecoder`, as graph code.

`generate`, `TextPipeline`, the SavedModel and the TFLite generator all decode through this one
function, so they cannot disagree about what the settings mean.
"""

from keras import ops

from keras_transformer.decoding import search


def decode(decoder, encoder_tokens, settings, start_id, end_id):
    """Decode `encoder_tokens` `(B, S)` int32 the way `settings` say.

    Args:
        decoder: an `IncrementalDecoder`.
        encoder_tokens: `(B, S)` int32 ids, 0 = padding.
        settings: a `DecodingSettings` whose `max_output_length` is set (`settings.resolved(...)`).
        start_id, end_id: the target vocabulary's start and end ids.

    Returns:
        A dict: `"tokens"` `(B, L)` int32 (ids up to and including the end id, then 0s), `"scores"`
        `(B,)` (the sequence's log probability; for beam search the beam's length-normalized score),
        `"token_scores"` `(B, L)` (each id's log probability under the decoding settings, end id
        included, then 0s), `"candidates"` `(B, N, L)` and `"candidate_scores"` `(B, N)`, best first
        (N = beam_size for beam search, 1 otherwise). L = `settings.max_output_length`. A row of
        padding only (an empty source) gets no ids and scores of 0.
    """
    length = settings.max_output_length
    if length is None:
        raise ValueError("`settings.max_output_length` must be set: call settings.resolved(model_max_length) first.")
    return nothing_for_empty_sources(encoder_tokens, _search(decoder, encoder_tokens, settings, start_id, end_id))


def nothing_for_empty_sources(encoder_tokens, outputs):
    """A source of padding only (an empty or blank text) decodes to no ids, with scores of 0: the
    model's answer to nothing is not an answer."""
    empty = ops.all(ops.equal(encoder_tokens, 0), axis=1)  # (B,)
    masked = {}
    for name, value in outputs.items():
        rows = ops.reshape(empty, (-1,) + (1,) * (len(value.shape) - 1))
        masked[name] = ops.where(rows, ops.zeros_like(value), value)
    return masked


def _search(decoder, encoder_tokens, settings, start_id, end_id):
    length = settings.max_output_length
    factor = settings.max_length_factor
    if settings.strategy == "beam":
        candidates, candidate_scores, candidate_token_scores = search.beam_search(
            decoder, encoder_tokens, length, start_id, end_id, settings.beam_size, settings.length_penalty, factor
        )
        return {
            "tokens": candidates[:, 0],
            "scores": candidate_scores[:, 0],
            "token_scores": candidate_token_scores[:, 0],
            "candidates": candidates,
            "candidate_scores": candidate_scores,
        }
    if settings.strategy == "sample":
        tokens, scores, token_scores = search.sample(
            decoder, encoder_tokens, length, start_id, end_id,
            settings.temperature, settings.top_k, settings.top_p, settings.seed, factor,
        )  # fmt: skip
    else:
        tokens, scores, token_scores = search.greedy_search(decoder, encoder_tokens, length, start_id, end_id, factor)
    return {
        "tokens": tokens,
        "scores": scores,
        "token_scores": token_scores,
        "candidates": ops.expand_dims(tokens, 1),
        "candidate_scores": ops.expand_dims(scores, 1),
    }
