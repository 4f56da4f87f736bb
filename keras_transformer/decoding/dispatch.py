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
        `(B,)`, `"candidates"` `(B, N, L)` and `"candidate_scores"` `(B, N)`, best first (N =
        beam_size for beam search, 1 otherwise). L = `settings.max_output_length`.
    """
    length = settings.max_output_length
    if length is None:
        raise ValueError("`settings.max_output_length` must be set: call settings.resolved(model_max_length) first.")
    factor = settings.max_length_factor
    if settings.strategy == "beam":
        candidates, candidate_scores = search.beam_search(
            decoder, encoder_tokens, length, start_id, end_id, settings.beam_size, settings.length_penalty, factor
        )
        return {
            "tokens": candidates[:, 0],
            "scores": candidate_scores[:, 0],
            "candidates": candidates,
            "candidate_scores": candidate_scores,
        }
    if settings.strategy == "sample":
        tokens, scores = search.sample(
            decoder, encoder_tokens, length, start_id, end_id,
            settings.temperature, settings.top_k, settings.top_p, settings.seed, factor,
        )  # fmt: skip
    else:
        tokens, scores = search.greedy_search(decoder, encoder_tokens, length, start_id, end_id, factor)
    return {
        "tokens": tokens,
        "scores": scores,
        "candidates": ops.expand_dims(tokens, 1),
        "candidate_scores": ops.expand_dims(scores, 1),
    }
