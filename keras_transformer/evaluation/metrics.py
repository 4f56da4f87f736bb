"""Scores for generated text against references that may allow several answers: edit distance, word
(whole-answer) error rate, phoneme and character error rates (ARPAbet ones also with stress ignored),
exact match. Plain Python, run on decoded strings after generation."""

METRICS = (
    "exact_match",
    "word_error_rate",
    "phoneme_error_rate",
    "word_error_rate_no_stress",
    "phoneme_error_rate_no_stress",
    "character_error_rate",
)
STRESS_DIGITS = "012"


def edit_distance(a, b):
    """Levenshtein distance: the fewest insertions, deletions and substitutions that turn `a` into `b`.

    Args:
        a, b: sequences whose items compare with `==` (strings compare by character, lists by item).

    Returns:
        An int.

    Example:
    >>> edit_distance("kitten", "sitting")
    3
    >>> edit_distance(["HH", "AH0", "L", "OW1"], ["HH", "EH0", "L", "OW1"])
    1
    """
    a, b = list(a), list(b)
    if len(a) < len(b):
        a, b = b, a  # keep the row (len(b) + 1) short
    # One row of the dynamic-programming table at a time: previous[j] = distance(a[:i-1], b[:j]).
    previous = list(range(len(b) + 1))
    for i, item in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (item != other)))
        previous = current
    return previous[-1]


def exact_match(predictions, references):
    """The fraction of predictions equal (as strings) to one of their acceptable references.

    Args:
        predictions: a sequence of `str`.
        references: a sequence of the same length; each item a `str` or a list/tuple of acceptable `str`.

    Returns:
        A float in [0, 1].

    Example:
    >>> exact_match(["T AH0 M EY1 T OW2", "K AE1 T"], [["T AH0 M EY1 T OW2", "T AH0 M AA1 T OW2"], "K AA1 T"])
    0.5
    """
    pairs = _pairs(predictions, references)
    return sum(prediction in alternatives for prediction, alternatives in pairs) / len(pairs)


def word_error_rate(predictions, references):
    """The fraction of predictions that match none of their references: `1 - exact_match`.

    This is the grapheme-to-phoneme sense of "word error rate" (a word is wrong if its whole
    pronunciation is), not the speech-recognition one (edit distance over words).

    Args:
        predictions, references: as for `exact_match`.

    Returns:
        A float in [0, 1].

    Example:
    >>> round(word_error_rate(["R EH1 D", "L EH1 D", "K AE1 T"], [["R EH1 D", "R IY1 D"], ["L IY1 D"], "K AE1 T"]), 4)
    0.3333
    """
    return 1.0 - exact_match(predictions, references)


def phoneme_error_rate(predictions, references):
    """Total phoneme edit distance to the closest reference, divided by the total length of those references.

    Strings are split on whitespace into phonemes. For each prediction, the reference with the
    smallest edit distance is chosen (the first in the list on a tie), and both its distance and its
    length count.

    Args:
        predictions, references: as for `exact_match`; strings of space-separated phonemes.

    Returns:
        A float >= 0 (it can exceed 1 when predictions are much longer than references).

    Example:
    >>> phoneme_error_rate(["HH AH0 L OW1", "W ER1 D"], ["HH EH0 L OW1", ["W ER1 L D", "W ER1 D Z"]])
    0.25
    """
    return _error_rate(predictions, references, str.split, "phoneme")


def strip_stress(pronunciation):
    """An ARPAbet pronunciation without its stress digits: a trailing 0, 1 or 2 comes off each phoneme.

    Phonemes are split on whitespace and joined with one space. A phoneme that is a digit alone is
    left as it is (it carries no stress mark).

    Args:
        pronunciation: a str of space-separated phonemes.

    Returns:
        A str.

    Example:
    >>> strip_stress("D IH1 K SH AH0 N EH2 R IY0")
    'D IH K SH AH N EH R IY'
    """
    if not isinstance(pronunciation, str):
        raise TypeError(f"`pronunciation` must be a str. Received: pronunciation={pronunciation!r}")
    return " ".join(
        phoneme[:-1] if len(phoneme) > 1 and phoneme[-1] in STRESS_DIGITS else phoneme
        for phoneme in pronunciation.split()
    )


def word_error_rate_no_stress(predictions, references):
    """`word_error_rate` with stress ignored: the digits come off the prediction and every reference
    (`strip_stress`) before they are compared, so "AH0" and "AH1" count as the same phoneme.

    Args:
        predictions, references: as for `exact_match`; strings of space-separated ARPAbet phonemes.

    Returns:
        A float in [0, 1].

    Example:
    >>> word_error_rate_no_stress(["R EH0 D", "L IY1 D"], [["R EH1 D", "R IY1 D"], "L EH1 D"])
    0.5
    """
    return word_error_rate(*_without_stress(predictions, references))


def phoneme_error_rate_no_stress(predictions, references):
    """`phoneme_error_rate` with stress ignored: the digits come off the prediction and every
    reference (`strip_stress`) before the edit distances are counted.

    Args:
        predictions, references: as for `exact_match`; strings of space-separated ARPAbet phonemes.

    Returns:
        A float >= 0.

    Example:
    >>> predictions, references = ["HH AH1 L OW0", "K AE0 T"], ["HH EH0 L OW1", "K AE1 T S"]
    >>> phoneme_error_rate(predictions, references), phoneme_error_rate_no_stress(predictions, references)
    (0.5, 0.25)
    """
    return phoneme_error_rate(*_without_stress(predictions, references))


def character_error_rate(predictions, references):
    """Total character edit distance to the closest reference, divided by the total length of those references.

    Like `phoneme_error_rate`, with Unicode code points as the units (spaces included).

    Args:
        predictions, references: as for `exact_match`.

    Returns:
        A float >= 0.

    Example:
    >>> character_error_rate(["2024-01-05"], [["2024-01-06", "2024-01-05"]])
    0.0
    >>> character_error_rate(["2024-1-05"], ["2024-01-05"])
    0.1
    """
    return _error_rate(predictions, references, list, "character")


def _error_rate(predictions, references, units, name):
    total_distance = total_length = 0
    for prediction, alternatives in _pairs(predictions, references):
        predicted = units(prediction)
        candidates = [(edit_distance(predicted, units(reference)), len(units(reference))) for reference in alternatives]
        distance, length = min(candidates, key=lambda candidate: candidate[0])  # min keeps the first on a tie
        total_distance += distance
        total_length += length
    if total_length == 0:
        raise ValueError(f"The closest references hold no {name}s, so the {name} error rate is undefined.")
    return total_distance / total_length


def _without_stress(predictions, references):
    """`(predictions, references)` checked, with `strip_stress` applied to every string."""
    pairs = _pairs(predictions, references)
    return (
        [strip_stress(prediction) for prediction, _ in pairs],
        [[strip_stress(reference) for reference in alternatives] for _, alternatives in pairs],
    )


def _pairs(predictions, references):
    """Check the arguments; return `[(prediction, [acceptable references])]`."""
    if isinstance(predictions, str) or isinstance(references, str):
        raise TypeError("`predictions` and `references` must be sequences of strings, not one string.")
    predictions, references = list(predictions), list(references)
    if len(predictions) != len(references):
        raise ValueError(
            "`predictions` and `references` must pair up. Received: "
            f"len(predictions)={len(predictions)}, len(references)={len(references)}"
        )
    if not predictions:
        raise ValueError("`predictions` must not be empty: a rate over no examples is undefined.")
    pairs = []
    for index, (prediction, reference) in enumerate(zip(predictions, references)):
        if not isinstance(prediction, str):
            raise TypeError(f"`predictions` must hold str. Received: {prediction!r} at index {index}")
        alternatives = [reference] if isinstance(reference, str) else list(reference)
        if not alternatives or not all(isinstance(item, str) for item in alternatives):
            raise TypeError(
                "`references` must hold str or non-empty lists of str (acceptable answers). "
                f"Received: {reference!r} at index {index}"
            )
        pairs.append((prediction, alternatives))
    return pairs
