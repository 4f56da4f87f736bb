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


def from_buffers(texts, scores, tokens, token_scores):
    """The `Prediction`s of a decoded batch: `texts` (B,) str, `scores` (B,), and `tokens` (B, L) and
    `token_scores` (B, L) as the decoder's fixed-size buffers (what `TextPipeline.texts_function` and
    the LiteRT generator output)."""
    return [from_decoded(*row) for row in zip(texts, scores, tokens, token_scores)]


BLANK_PREDICTION = Prediction("", 0.0, ())


def in_batches(texts, batch_size, decode_batches, blank, progress=None):
    """The outputs for `texts` (a list of str), in order: the loop of every runtime's `predict`.

    A blank text (`is_blank`) gets `blank` (`""`, or `BLANK_PREDICTION`) and is not decoded. The
    others go to `decode_batches` in batches of at most `batch_size` texts of similar length (less
    padding, fewer shapes): `decode_batches(batches)` takes the batches (lists of str) and yields the
    outputs of each in turn, so that a runtime may start them all at once or one after the other.
    `progress(done, total)`, if given, is called after each batch, blank texts counting as done from
    the start (and once, at the end, when every text is blank).

    Example:
    >>> decode = lambda batches: ([text.upper() for text in batch] for batch in batches)
    >>> calls = []
    >>> in_batches(["ab", " ", "c", "def"], 2, decode, "", lambda done, total: calls.append(done))
    ['AB', '', 'C', 'DEF']
    >>> calls
    [3, 4]
    """
    order = sorted((index for index, text in enumerate(texts) if not is_blank(text)), key=lambda i: len(texts[i]))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    outputs = [blank] * len(texts)
    done = len(texts) - len(order)
    for indices, results in zip(batches, decode_batches([[texts[index] for index in indices] for indices in batches])):
        for index, result in zip(indices, results, strict=True):
            outputs[index] = result
        done += len(indices)
        if progress is not None:
            progress(done, len(texts))
    if progress is not None and texts and not batches:
        progress(len(texts), len(texts))
    return outputs


__all__ = [
    "BLANK_PATTERN",
    "BLANK_PREDICTION",
    "Prediction",
    "WHITESPACE",
    "from_buffers",
    "from_decoded",
    "in_batches",
    "is_blank",
    "output_length",
]
