"""Greedy search, beam search and sampling over the key/value cache of `IncrementalDecoder`.

Every loop is a `keras.ops.while_loop` over fixed-shape state (an output buffer `(B, L)` written with
dynamic update slices), so it runs inside `tf.function`, compiles with XLA or `jax.jit`, converts to
TFLite and runs eagerly on PyTorch. Outputs hold the generated ids after the start id, up to and
including the end id, then 0s.
"""

from keras import ops

NEG_INF = -1e9


def _most_likely(logits):
    """(B, V) -> (B,) int32 argmax. Through top_k: Keras' TF `argmax` emits a BitwiseAnd (its
    negative-zero fix) that TFLite builtins lack."""
    return ops.cast(ops.top_k(logits, k=1)[1][:, 0], "int32")


def _write_column(buffer, column, values):
    """buffer (B, L) with column `column` set to values (B,)."""
    return ops.slice_update(buffer, [0, column], ops.expand_dims(values, 1))


def length_limits(encoder_tokens, max_length, length_factor):
    """`(B,)` int32: how many ids each row may generate, ceil(length_factor × its source length)
    (non-padding ids), at least 1 and at most `max_length`; None without a factor. Marian's
    `max-length-factor`: a runaway output stops there, without an end id."""
    if length_factor is None:
        return None
    lengths = ops.sum(ops.cast(ops.not_equal(encoder_tokens, 0), "float32"), axis=1)
    limits = ops.cast(ops.ceil(lengths * float(length_factor)), "int32")
    return ops.clip(limits, 1, max_length)


def _greedy_choice(logits, step):
    return _most_likely(logits), ops.log_softmax(logits, axis=-1)


def _advance(choose, logits, step, finished, scores, end_id, output_ids=None):
    """One step's bookkeeping shared by every token-by-token search: pick a token per row (0 for
    rows already finished), add its log probability to the row's score, and mark rows that ended.

    `choose(logits, step)` returns `(columns (B,), log_probs (B, V))`. With `output_ids` (n,) the
    logits cover only those ids (a shortlist's union, `IncrementalDecoder.output_ids`): the chosen
    column is mapped to its id. Returns `(chosen, scores, finished, gained)`, `gained` (B,) being the
    chosen tokens' log probabilities (0 for rows already finished)."""
    chosen, log_probs = choose(logits, step)
    gained = ops.squeeze(ops.take_along_axis(log_probs, ops.expand_dims(chosen, 1), axis=1), 1)
    if output_ids is not None:
        chosen = ops.take(output_ids, chosen, axis=0)
    chosen = ops.where(finished, ops.zeros_like(chosen), chosen)
    gained = ops.where(finished, ops.zeros_like(gained), gained)
    return chosen, scores + gained, ops.logical_or(finished, ops.equal(chosen, end_id)), gained


def _token_by_token(decoder, encoder_tokens, max_length, start_id, end_id, choose, length_factor=None):
    """The cached loop behind greedy search and sampling: a `while_loop` over fixed-shape state.
    Returns `(tokens (B, L) int32, scores (B,), token_scores (B, L))`."""
    batch_size = ops.shape(encoder_tokens)[0]
    state = decoder.start(encoder_tokens, max_length)
    limits = length_limits(encoder_tokens, max_length, length_factor)
    output_ids = decoder.output_ids(state)

    def cond(step, previous, tokens, token_scores, finished, scores, caches):
        return ops.logical_and(step < max_length, ops.logical_not(ops.all(finished)))

    def body(step, previous, tokens, token_scores, finished, scores, caches):
        logits, caches = decoder.step(previous, step, state, caches, restricted=True)
        chosen, scores, finished, gained = _advance(choose, logits, step, finished, scores, end_id, output_ids)
        if limits is not None:
            finished = ops.logical_or(finished, step + 1 >= limits)
        tokens, token_scores = _write_column(tokens, step, chosen), _write_column(token_scores, step, gained)
        return step + 1, chosen, tokens, token_scores, finished, scores, caches

    loop_vars = (
        ops.convert_to_tensor(0, "int32"),
        ops.full((batch_size,), start_id, "int32"),
        ops.zeros((batch_size, max_length), "int32"),
        ops.zeros((batch_size, max_length), "float32"),
        ops.zeros((batch_size,), "bool"),
        ops.zeros((batch_size,), "float32"),
        state["caches"],
    )
    _, _, tokens, token_scores, _, scores, _ = ops.while_loop(cond, body, loop_vars)
    return tokens, scores, token_scores


def greedy_search(decoder, encoder_tokens, max_length, start_id, end_id, length_factor=None):
    """Pick the most likely token at every step until every row has produced `end_id` (or, with
    `length_factor`, its `length_limits` of ids).

    Returns `(tokens (B, max_length) int32, scores (B,) float32, token_scores (B, max_length)
    float32)`: `token_scores` are the chosen tokens' log probabilities (end id included, then 0s) and
    `scores` their sums.
    """
    return _token_by_token(decoder, encoder_tokens, max_length, start_id, end_id, _greedy_choice, length_factor)


def uncached_greedy_search(decoder, encoder_tokens, max_length, start_id, end_id):
    """Greedy search that reruns the whole model on the whole prefix each step: the slow reference
    the cached loop must match token for token. Eager Python loop; returns what `greedy_search` does."""
    batch_size = int(ops.shape(encoder_tokens)[0])
    prefix = ops.full((batch_size, 1), start_id, "int32")
    finished = ops.zeros((batch_size,), "bool")
    scores = ops.zeros((batch_size,), "float32")
    columns, gains = [], []
    for _ in range(max_length):
        logits = decoder.full_logits(encoder_tokens, prefix)[:, -1, :]
        chosen, scores, finished, gained = _advance(_greedy_choice, logits, len(columns), finished, scores, end_id)
        columns.append(chosen)
        gains.append(gained)
        # Finished rows keep feeding their own 0s; their outputs are ignored.
        prefix = ops.concatenate([prefix, ops.expand_dims(chosen, 1)], axis=1)
        if bool(ops.all(finished)):
            break
    padding = [[0, 0], [0, max_length - len(columns)]]
    return ops.pad(ops.stack(columns, axis=1), padding), scores, ops.pad(ops.stack(gains, axis=1), padding)


def _filter_logits(logits, top_k, top_p):
    """Keep the `top_k` most likely tokens and the smallest set whose probability reaches `top_p`."""
    if top_k is not None:
        kth = ops.top_k(logits, k=top_k)[0][:, -1:]  # (B, 1)
        logits = ops.where(logits < kth, ops.full_like(logits, NEG_INF), logits)
    if top_p is not None and top_p < 1.0:
        order = ops.flip(ops.argsort(logits, axis=-1), axis=-1)  # descending
        sorted_logits = ops.take_along_axis(logits, order, axis=-1)
        cumulative = ops.cumsum(ops.softmax(sorted_logits, axis=-1), axis=-1)
        # Drop a token when the tokens before it already reach top_p (the first always stays).
        drop_sorted = (cumulative - ops.softmax(sorted_logits, axis=-1)) >= top_p
        # Scatter back to vocabulary order through the inverse permutation.
        inverse = ops.argsort(order, axis=-1)
        drop = ops.take_along_axis(drop_sorted, inverse, axis=-1)
        logits = ops.where(drop, ops.full_like(logits, NEG_INF), logits)
    return logits


# Sampling's random numbers: a counter-based hash of (seed, step, row) in int32 arithmetic that never
# overflows (15-bit halves), so TensorFlow, XLA, JAX, PyTorch and TFLite (builtin ops only) draw the
# same numbers; backends' own generators differ from each other. Two rounds of x -> x(2x + 1), a
# multiplication by an odd constant and a swap of the halves each (RC6's quadratic, then the high
# bits fed back into the low ones): adjacent rows, steps and seeds are uncorrelated (chi-square of
# pairs as for independent draws).
_HALF = 1 << 15
_MODULUS = 1 << 30
_FACTORS = (0x2C1B3C6D, 0x297A2D39)  # odd, < 2^30


def _multiply(x, y):
    """x * y mod 2^30 for ints in [0, 2^30) (tensors or Python ints); no product exceeds 2^30."""
    x_high, x_low = x // _HALF, x % _HALF
    y_high, y_low = y // _HALF, y % _HALF
    low = x_low * y_low
    high = ((x_high * y_low) % _HALF + (x_low * y_high) % _HALF + low // _HALF) % _HALF
    return high * _HALF + low % _HALF


def _swap_halves(x):
    return (x % _HALF) * _HALF + x // _HALF


def _mix(x):
    """A permutation of [0, 2^30) that scatters neighbouring inputs."""
    for factor in _FACTORS:
        x = _swap_halves(_multiply(x, (2 * x + 1) % _MODULUS))
        x = _swap_halves(_multiply(x, factor))
    return x


def _uniform(key, step, batch_size):
    """`(B,)` float32 in [0, 1), 24 random bits each, from the hashed (key, step, row)."""
    step_key = _mix((key + ops.cast(step, "int32")) % _MODULUS)
    hashed = _mix((step_key + ops.arange(batch_size, dtype="int32")) % _MODULUS)
    return ops.cast(hashed // (1 << 6), "float32") / float(1 << 24)


def _draw(probabilities, uniform):
    """Inverse-CDF sampling: per row, the first token whose cumulative probability exceeds
    `uniform` times the row's total; tokens of probability 0 are never drawn."""
    cumulative = ops.cumsum(probabilities, axis=-1)  # (B, V)
    threshold = uniform * cumulative[:, -1]  # (B,)
    drawn = ops.sum(ops.cast(cumulative <= ops.expand_dims(threshold, 1), "int32"), axis=-1)
    # Rounding can leave the threshold at the total: the last token that may be drawn, then.
    positions = ops.arange(ops.shape(probabilities)[-1], dtype="int32")
    last = ops.max(ops.where(probabilities > 0, positions, ops.zeros_like(positions)), axis=-1)
    return ops.minimum(drawn, last)


def sample(
    decoder, encoder_tokens, max_length, start_id, end_id, temperature=1.0, top_k=None, top_p=None, seed=0, length_factor=None
):
    """Draw each token from softmax(logits / temperature), optionally restricted by top-k / top-p.

    The draw at step t for row b uses a uniform number hashed from `(seed, t, b)`, so the same seed
    gives the same output, on every backend and in every runtime (it is not the backend's random
    generator). Returns `(tokens (B, max_length), scores (B,), token_scores (B, max_length))`: the log
    probabilities of the drawn tokens under the filtered, tempered distribution, and their sums.
    """
    key = _mix(seed % _MODULUS)  # a Python int

    def choose(logits, step):
        logits = _filter_logits(logits / temperature, top_k, top_p)
        log_probs = ops.log_softmax(logits, axis=-1)
        return _draw(ops.exp(log_probs), _uniform(key, step, ops.shape(logits)[0])), log_probs

    return _token_by_token(decoder, encoder_tokens, max_length, start_id, end_id, choose, length_factor)


def length_penalty(length, alpha):
    """GNMT's ((5 + length) / 6) ** alpha (Wu et al., 2016)."""
    return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)


def beam_search(decoder, encoder_tokens, max_length, start_id, end_id, beam_size=4, alpha=0.6, length_factor=None):
    """Batched beam search with GNMT length normalization; returns the n-best.

    Keeps `beam_size` live hypotheses per example (ranked by summed log probability) and the
    `beam_size` best finished ones (ranked by log probability / length_penalty); a hypothesis
    finishes when the end id is among the step's `beam_size` best candidates. Stops when no live
    hypothesis can still beat the worst kept finished one, or at `max_length`.

    Returns `(tokens (B, beam_size, max_length), scores (B, beam_size), token_scores (B, beam_size,
    max_length))`, best first; scores are length-normalized log probabilities, token scores each
    token's own log probability (they sum to the score before normalization). An example with fewer finished hypotheses than beams fills
    the rest with its best live ones (normalized at `max_length`). With `length_factor` the search
    stops at the batch's longest `length_limits`, as Marian bounds a batch by its widest source.
    """
    beams = beam_size
    batch_size = ops.shape(encoder_tokens)[0]
    # Every example's source, once per beam: (B, S) -> (B * beams, S).
    state = decoder.start(ops.repeat(encoder_tokens, beams, axis=0), max_length)
    # With a shortlist the step's logits cover its union of ids only: candidates index into it.
    output_ids = decoder.output_ids(state)
    vocabulary = decoder.vocabulary_size if output_ids is None else ops.shape(output_ids)[0]
    limits = length_limits(encoder_tokens, max_length, length_factor)
    last_step = max_length if limits is None else ops.max(limits)

    def flat(x):  # (B, beams, ...) -> (B * beams, ...)
        return ops.reshape(x, (-1,) + tuple(x.shape[2:]))

    def gather_beams(x, indices):  # x (B, beams, ...), indices (B, k) -> (B, k, ...)
        for _ in range(len(x.shape) - 2):
            indices = ops.expand_dims(indices, -1)
        return ops.take_along_axis(x, indices, axis=1)

    def cond(step, alive_tokens, alive_scores, alive_gains, finished_tokens, finished_scores, finished_gains, caches):
        best_possible = alive_scores[:, 0] / length_penalty(max_length, alpha)
        worst_finished = finished_scores[:, -1]
        can_improve = ops.any(best_possible > worst_finished)
        return ops.logical_and(step < last_step, can_improve)

    def body(step, alive_tokens, alive_scores, alive_gains, finished_tokens, finished_scores, finished_gains, caches):
        previous = ops.where(
            step == 0,
            ops.full((batch_size * beams,), start_id, "int32"),
            flat(ops.take(alive_tokens, ops.maximum(step - 1, 0), axis=2)),
        )
        logits, caches = decoder.step(previous, step, state, caches, restricted=True)
        log_probs = ops.reshape(ops.log_softmax(logits, axis=-1), (batch_size, beams, vocabulary))
        candidates = ops.reshape(alive_scores[:, :, None] + log_probs, (batch_size, beams * vocabulary))
        # 2 * beams candidates: even if `beams` of them end, `beams` stay alive.
        top_scores, top_indices = ops.top_k(candidates, k=2 * beams)
        gained = ops.take_along_axis(ops.reshape(log_probs, (batch_size, beams * vocabulary)), top_indices, axis=1)
        source_beam = top_indices // vocabulary
        token = ops.cast(top_indices % vocabulary, "int32")
        if output_ids is not None:
            token = ops.take(output_ids, token, axis=0)
        candidate_tokens = gather_beams(alive_tokens, source_beam)  # (B, 2k, L)
        position = ops.one_hot(step, max_length, dtype="int32")  # write column `step`
        candidate_tokens = candidate_tokens * (1 - position) + ops.expand_dims(token, 2) * position
        weights = ops.cast(position, "float32")
        candidate_gains = gather_beams(alive_gains, source_beam) * (1.0 - weights) + ops.expand_dims(gained, 2) * weights
        ended = ops.equal(token, end_id)

        # Live: the best `beams` candidates that did not end.
        live_scores = ops.where(ended, ops.full_like(top_scores, NEG_INF), top_scores)
        live_scores, live_order = ops.top_k(live_scores, k=beams)
        alive_tokens = gather_beams(candidate_tokens, live_order)
        alive_gains = gather_beams(candidate_gains, live_order)
        caches_from = ops.take_along_axis(source_beam, live_order, axis=1)  # (B, beams)
        flat_indices = flat(caches_from + ops.expand_dims(ops.arange(batch_size, dtype="int32"), 1) * beams)
        # Each block's cache (keys and values, or an SSRU's state) follows its hypothesis.
        caches = [tuple(ops.take(part, flat_indices, axis=0) for part in cache) for cache in caches]

        # Finished: merge the kept ones with the candidates that just ended among the top `beams`
        # (an end id ranked below them would not have survived a beam of that width; this is what
        # makes beam_size=1 exactly greedy search).
        new_finished = top_scores / length_penalty(step + 1, alpha)
        within_beam = ops.expand_dims(ops.arange(2 * beams, dtype="int32"), 0) < beams
        new_finished = ops.where(ops.logical_and(ended, within_beam), new_finished, ops.full_like(new_finished, NEG_INF))
        merged_scores = ops.concatenate([finished_scores, new_finished], axis=1)
        merged_tokens = ops.concatenate([finished_tokens, candidate_tokens], axis=1)
        finished_scores, finished_order = ops.top_k(merged_scores, k=beams)
        finished_tokens = gather_beams(merged_tokens, finished_order)
        finished_gains = gather_beams(ops.concatenate([finished_gains, candidate_gains], axis=1), finished_order)
        return step + 1, alive_tokens, live_scores, alive_gains, finished_tokens, finished_scores, finished_gains, caches

    # Only the first beam is live at the start, or every beam would repeat the same hypothesis.
    initial_scores = ops.tile(ops.convert_to_tensor([[0.0] + [NEG_INF] * (beams - 1)], "float32"), (batch_size, 1))
    loop_vars = (
        ops.convert_to_tensor(0, "int32"),
        ops.zeros((batch_size, beams, max_length), "int32"),
        initial_scores,
        ops.zeros((batch_size, beams, max_length), "float32"),
        ops.zeros((batch_size, beams, max_length), "int32"),
        ops.full((batch_size, beams), NEG_INF, "float32"),
        ops.zeros((batch_size, beams, max_length), "float32"),
        state["caches"],
    )
    step, alive_tokens, alive_scores, alive_gains, finished_tokens, finished_scores, finished_gains, _ = ops.while_loop(
        cond, body, loop_vars
    )
    # Examples whose finished list has gaps take live hypotheses, normalized at the length reached.
    alive_normalized = alive_scores / length_penalty(step, alpha)
    merged_scores = ops.concatenate([finished_scores, alive_normalized], axis=1)
    merged_tokens = ops.concatenate([finished_tokens, alive_tokens], axis=1)
    merged_gains = ops.concatenate([finished_gains, alive_gains], axis=1)
    scores, order = ops.top_k(merged_scores, k=beams)
    return gather_beams(merged_tokens, order), scores, gather_beams(merged_gains, order)

