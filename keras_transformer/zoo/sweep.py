"""Decoding chosen on validation: decode the same validation examples greedily and with beam search over
a grid of beam sizes and length penalties, and keep the cheapest setting within a margin of the best
exact match. `Task.run` uses it before packaging a zoo model.

    grid = decoding_grid(beam_sizes=(2, 4), length_penalties=(0.0, 0.6))
    results = sweep_decoding(pipeline, sources, references, grid)
    chosen = choose_decoding(results)      # e.g. {"strategy": "beam", "beam_size": 4, ...}
"""

import time

from keras_transformer import _validation
from keras_transformer.evaluation import exact_match

BEAM_SIZES = (2, 4, 8)
LENGTH_PENALTIES = (0.0, 0.6, 1.0)
# A costlier setting must beat a cheaper one by at least this much exact match (0.2 points: 4 examples
# in 2,000) to be chosen; smaller differences are within the noise of the examples swept.
MARGIN = 0.002


def decoding_grid(beam_sizes=BEAM_SIZES, length_penalties=LENGTH_PENALTIES):
    """The decoding settings a sweep tries, cheapest first: greedy, then beam search by increasing beam
    size and, at one beam size, increasing length penalty (0 first).

    Args:
        beam_sizes: beam widths, positive ints (duplicates are dropped).
        length_penalties: GNMT length penalties α, numbers >= 0 (duplicates are dropped).

    Returns:
        A list of dicts of `DecodingSettings` fields, the first `{"strategy": "greedy"}`.

    Example:
    >>> for setting in decoding_grid(beam_sizes=(4, 2), length_penalties=(0.6, 0.0))[:3]:
    ...     print(setting)
    {'strategy': 'greedy'}
    {'strategy': 'beam', 'beam_size': 2, 'length_penalty': 0.0}
    {'strategy': 'beam', 'beam_size': 2, 'length_penalty': 0.6}
    """
    beam_sizes = _sequence("beam_sizes", beam_sizes)
    length_penalties = _sequence("length_penalties", length_penalties)
    sizes = sorted({_validation.positive_int("beam_sizes", size) for size in beam_sizes})
    penalties = sorted({_validation.non_negative_number("length_penalties", value) for value in length_penalties})
    beams = [{"strategy": "beam", "beam_size": size, "length_penalty": value} for size in sizes for value in penalties]
    return [{"strategy": "greedy"}, *beams]


def sweep_decoding(pipeline, sources, references, grid, batch_size=128):
    """Decode `sources` with each setting of `grid` and score the outputs by exact match.

    Args:
        pipeline: a `TextPipeline`; each setting overrides its `DecodingSettings` for one `predict`.
        sources: the texts (a list of str).
        references: the acceptable outputs of each text (a str or a list of str each).
        grid: a list of dicts of `DecodingSettings` fields (`decoding_grid`), cheapest first.
        batch_size: texts decoded at once.

    Returns:
        A list of dicts, one a setting in `grid`'s order: the setting's fields, `exact_match`
        (rounded to 4 places) and `seconds` (wall time of its decoding).
    """
    sources = _validation.texts("sources", sources, "sweep_decoding")
    if not sources:
        raise ValueError("`sources` must not be empty: a sweep scores decoding on some examples.")
    if not grid:
        raise ValueError(f"`grid` must hold at least one decoding setting. Received: grid={grid!r}")
    results = []
    for setting in grid:
        started = time.monotonic()
        predictions = pipeline.predict(sources, batch_size=batch_size, **setting)
        result = {
            **setting,
            "exact_match": round(exact_match(predictions, references), 4),
            "seconds": round(time.monotonic() - started, 1),
        }
        print(f"  decoding {setting} on {len(sources)} examples: exact match {result['exact_match']:.4f} in "
              f"{result['seconds']:.0f} s", flush=True)  # fmt: skip
        results.append(result)
    return results


def choose_decoding(results, margin=MARGIN):
    """The cheapest result whose exact match is within `margin` of the best one.

    A costlier setting is kept only when it beats every cheaper one by at least `margin`; ties and
    smaller differences go to the cheaper setting.

    Args:
        results: dicts with an `exact_match`, cheapest first (`sweep_decoding`'s order).
        margin: the smallest exact-match gain (a fraction: 0.002 is 0.2 points) worth a costlier setting.

    Returns:
        One item of `results`.

    Example:
    >>> results = [
    ...     {"strategy": "greedy", "exact_match": 0.8},
    ...     {"strategy": "beam", "beam_size": 2, "exact_match": 0.8015},
    ...     {"strategy": "beam", "beam_size": 4, "exact_match": 0.803},
    ... ]
    >>> choose_decoding(results)["beam_size"]  # beam 4 is 0.3 points above greedy, beam 2 within 0.2 of it
    2
    >>> choose_decoding(results, margin=0.005)["strategy"]
    'greedy'
    """
    if not results:
        raise ValueError(f"`results` must hold at least one scored setting. Received: results={results!r}")
    margin = _validation.non_negative_number("margin", margin)
    best = max(result["exact_match"] for result in results)
    # Exact matches are fractions rounded to 4 places; the tolerance keeps a gain of exactly `margin`
    # from being lost to floating-point error.
    return next(result for result in results if best - result["exact_match"] < max(margin - 1e-9, 1e-9))


def _sequence(name, values):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"`{name}` must be a list of numbers. Received: {name}={values!r}")
    values = list(values)
    if not values:
        raise ValueError(f"`{name}` must hold at least one value. Received: {name}={values!r}")
    return values
