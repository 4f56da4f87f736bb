"""What `predict(texts, return_scores=True)` gives in every runtime: a `Prediction` per text, and the
rules every runtime shares to make one (which inputs are blank, which ids belong to the output).

Imports neither TensorFlow nor Keras: the LiteRT and CTranslate2 runtimes use it too.
"""

import re
from typing import NamedTuple

import numpy as np

# The characters Python's `str.isspace` calls whitespace, as one character class that Python's `re`
# and RE2 (TensorFlow's `tf.strings.regex_full_match`) read the same way: a text made of them alone,
# or of nothing, is blank. A blank text gets an empty output, with a score of 0, in every runtime,
# and the model is not run on it.
WHITESPACE = "[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
BLANK_PATTERN = f"{WHITESPACE}*"
_BLANK = re.compile(BLANK_PATTERN)


def is_blank(text):
    """Whether `text` (a str) is empty or whitespace only: `predict` answers it with "" unrun.

    Example:
    >>> is_blank(""), is_blank(" \\t\\u3000"), is_blank(" a ")
    (True, True, False)
    """
    return _BLANK.fullmatch(text) is not None


class Prediction(NamedTuple):
    """One output of `predict(texts, return_scores=True)` (or `flag=True`).

    Attributes:
        text: the output text, what `predict(texts)` gives.
        score: the output's log probability under the decoding settings it was decoded with: the sum
            of `token_scores` for greedy search and sampling (sampling's is under its tempered,
            filtered distribution); for beam search the beam's score, that sum divided by GNMT's
            length penalty. 0.0 for a blank input (nothing was decoded). Closer to 0 is surer.
        token_scores: the log probability of each output id, in order, the end id included (its
            last entry, unless the output was cut at the length limit): a tuple of floats.
        flagged: with `flag=True`, whether the output is likely wrong (see `reason`); None when the
            call did not ask to flag.
        reason: why it was flagged, in words (e.g. "low confidence", "not a valid date"), else None.
    """

    text: str
    score: float
    token_scores: tuple
    flagged: object = None
    reason: object = None

    def to_dict(self):
        """A JSON-ready dict of the fields (token scores as a list; `flagged` and `reason` only when
        the call asked to flag)."""
        values = {"text": self.text, "score": self.score, "token_scores": list(self.token_scores)}
        if self.flagged is not None:
            values.update(flagged=self.flagged, reason=self.reason)
        return values


def output_length(ids):
    """How many of a decoded row's ids (a sequence of ints: ids, then 0s once the output ended) are
    the output's: up to its last non-zero id, which is the end id when the output ended."""
    nonzero = np.flatnonzero(np.asarray(ids))
    return int(nonzero[-1]) + 1 if len(nonzero) else 0


def from_decoded(text, score, ids, token_scores):
    """The `Prediction` of a decoded row: its text, its score, and its ids and token scores as the
    decoder's fixed-size buffers (trimmed here to the output's ids)."""
    length = output_length(ids)
    return Prediction(text, float(score), tuple(float(value) for value in np.asarray(token_scores)[:length]))


BLANK_PREDICTION = Prediction("", 0.0, ())


__all__ = ["BLANK_PATTERN", "BLANK_PREDICTION", "Prediction", "WHITESPACE", "from_decoded", "is_blank", "output_length"]
