"""What `predict(texts, flag=True)` flags as likely wrong: `Confidence`, read from a zoo folder's
`confidence.json` (written by `python -m keras_transformer.zoo.calibrate NAME`), and the output
checks (`CHECKS`) a task can name.

An output is flagged, for the first reason that holds:
    "unknown characters"  the source holds a character (a piece) the model's vocabulary lacks: the
                          model never saw it and read it as its unknown id;
    a check's reason      the output fails the task's check, e.g. "not a valid date" (2023-02-30);
    "low confidence"      the calibrated signal (e.g. the output's lowest token log probability) is
                          below the threshold chosen on the validation split.
A blank input (empty output, nothing decoded) is never flagged. Imports no TensorFlow.
"""

import dataclasses
import datetime
import json
import math
import pathlib
import re

import numpy as np

from keras_transformer.data.labels import english_ordinal_suffix
from keras_transformer.decoding.prediction import is_blank
from keras_transformer.errors import ZooError

FILE = "confidence.json"
FORMAT = "keras_transformer.Confidence"
UNKNOWN_CHARACTERS = "unknown characters"
LOW_CONFIDENCE = "low confidence"
CALIBRATE_COMMAND = "python -m keras_transformer.zoo.calibrate"


def lowest_token_log_prob(prediction):
    """The log probability of the output's least likely token (its end id included)."""
    return min(prediction.token_scores) if prediction.token_scores else prediction.score


def mean_token_log_prob(prediction):
    """The mean log probability of the output's tokens (its end id included)."""
    return float(np.mean(prediction.token_scores)) if prediction.token_scores else prediction.score


def sequence_score(prediction):
    """The output's own score: its log probability (beam search: the beam's length-penalized score)."""
    return prediction.score


# What a threshold can be set on: higher is surer for each.
SIGNALS = {
    "lowest_token_log_prob": lowest_token_log_prob,
    "mean_token_log_prob": mean_token_log_prob,
    "sequence_score": sequence_score,
}

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_NUMBER = re.compile(r"(0|[1-9][0-9]*)(st|nd|rd|th|番目|年)?")


def valid_iso_date(text):
    """Whether `text` is a date that exists, written YYYY-MM-DD (year 0001-9999).

    Example:
    >>> [valid_iso_date(t) for t in ("2024-02-29", "2023-02-29", "2000-08-00", "999-01-01")]
    [True, False, False, False]
    """
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        return False
    try:
        datetime.date(*map(int, match.groups()))
    except ValueError:
        return False
    return True


def valid_number(text):
    """Whether `text` is a number as `num2words_itn` writes them: digits without leading zeros,
    optionally an English ordinal suffix that agrees with the number ("21st", not "21th"), or the
    Japanese ordinal 番目 or year 年.

    Example:
    >>> [valid_number(t) for t in ("2024", "21st", "12th", "21番目", "1999年", "21th", "007", "12 3", "")]
    [True, True, True, True, True, False, False, False, False]
    """
    match = _NUMBER.fullmatch(text)
    if match is None:
        return False
    digits, suffix = match.groups()
    return suffix not in ("st", "nd", "rd", "th") or suffix == english_ordinal_suffix(int(digits))


@dataclasses.dataclass(frozen=True)
class Check:
    """A test every right output of a task passes, and what a failed one is flagged as.

    Args:
        passes: `passes(output_text)` -> bool.
        reason: the flag's reason when it fails, e.g. "not a valid date".
    """

    passes: object
    reason: str


# Checks a task can name (`Task.output_check`); the folder's confidence.json keeps the name, so
# flagging needs neither the task's declaration nor its data.
CHECKS = {
    "iso_date": Check(valid_iso_date, "not a valid date"),
    "number": Check(valid_number, "not a number"),
}


@dataclasses.dataclass(frozen=True)
class Confidence:
    """How a zoo model's outputs are flagged, as its folder's `confidence.json` says.

    Args:
        signal: a name from `SIGNALS`: what is compared with `threshold`.
        threshold: outputs whose signal is below it are flagged "low confidence"; -inf flags none.
        unknown_id: the source id of characters the vocabulary lacks; a source holding it is flagged
            "unknown characters" (None: never).
        check: a name from `CHECKS` (the task's output check), or None.
        calibration: what the calibration measured (validation, test and out-of-domain figures, the
            command); for the card and for readers, not used to flag.

    Example:
    >>> from keras_transformer.decoding.prediction import Prediction
    >>> dates = Confidence("lowest_token_log_prob", -0.5, unknown_id=3, check="iso_date")
    >>> outputs = [Prediction("2024-02-30", -1.1, (-0.1,) * 11), Prediction("2024-03-01", -3.0, (-0.1, -2.0, -0.9))]
    >>> [(p.flagged, p.reason) for p in dates.flag_ids([[5, 6], [5, 6]], outputs, ["a", "b"])]
    [(True, 'not a valid date'), (True, 'low confidence')]
    """

    signal: str
    threshold: float
    unknown_id: int | None = None
    check: str | None = None
    calibration: dict = dataclasses.field(default_factory=dict, compare=False)

    def __post_init__(self):
        if self.signal not in SIGNALS:
            raise ValueError(f"`signal` must be one of {list(SIGNALS)}. Received: signal={self.signal!r}")
        if self.check is not None and self.check not in CHECKS:
            raise ValueError(f"`check` must be None or one of {list(CHECKS)}. Received: check={self.check!r}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)) or math.isnan(self.threshold):
            raise ValueError(f"`threshold` must be a number. Received: threshold={self.threshold!r}")

    def signal_of(self, prediction):
        """The signal of one `Prediction` (a float; higher is surer)."""
        return float(SIGNALS[self.signal](prediction))

    def reason(self, text, prediction, source_ids):
        """Why `prediction` (the output for `text`, whose source ids are `source_ids`) is likely
        wrong, in words, or None when it is not flagged."""
        if is_blank(text):
            return None
        if self.unknown_id is not None and self.unknown_id in source_ids:
            return UNKNOWN_CHARACTERS
        if self.check is not None and not CHECKS[self.check].passes(prediction.text):
            return CHECKS[self.check].reason
        if self.signal_of(prediction) < self.threshold:
            return LOW_CONFIDENCE
        return None

    def flag_ids(self, source_ids, predictions, texts):
        """`predictions` with `flagged` and `reason` set, given each text's source ids (rows of ints)."""
        flagged = []
        for text, prediction, ids in zip(texts, predictions, source_ids, strict=True):
            reason = self.reason(text, prediction, np.asarray(ids).tolist())
            flagged.append(prediction._replace(flagged=reason is not None, reason=reason))
        return flagged

    def flag(self, texts, predictions, runtime):
        """`predictions` (the `Prediction`s of `texts`, in order) with `flagged` and `reason` set; the
        source ids come from `runtime.encode_texts`, so every runtime flags alike."""
        texts = list(texts)
        if len(texts) != len(predictions):
            raise ValueError(f"One prediction a text. Received: {len(texts)} texts, {len(predictions)} predictions")
        if not texts:
            return []
        return self.flag_ids(np.asarray(runtime.encode_texts(texts)), predictions, texts)

    def to_dict(self):
        """The JSON-ready contents of `confidence.json`."""
        threshold = self.threshold if math.isfinite(self.threshold) else None
        return {"format": FORMAT, "version": 1, "signal": self.signal, "threshold": threshold,
                "unknown_id": self.unknown_id, "check": self.check, "calibration": self.calibration}  # fmt: skip

    @classmethod
    def from_dict(cls, values):
        """The `Confidence` a `to_dict` wrote (a null threshold flags nothing as low confidence)."""
        if values.get("format") != FORMAT:
            raise ValueError(f"Not a {FORMAT} file. Received: format={values.get('format')!r}")
        threshold = values["threshold"]
        return cls(values["signal"], -math.inf if threshold is None else float(threshold), values.get("unknown_id"),
                   values.get("check"), values.get("calibration", {}))  # fmt: skip


def read(directory):
    """The `Confidence` of the zoo folder `directory`.

    Raises:
        ZooError: the folder has no `confidence.json` (the message says how to make one), or the file
            cannot be read.
    """
    directory = pathlib.Path(directory)
    path = directory / FILE
    if not path.is_file():
        raise ZooError(
            f"{directory.name} has no calibrated confidence ({path} is missing), so `flag=True` cannot say which "
            f"outputs are likely wrong. Make it with: {CALIBRATE_COMMAND} {directory}"
        )
    try:
        return Confidence.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as error:
        raise ZooError(f"{path} cannot be read ({error}); rewrite it with: {CALIBRATE_COMMAND} {directory}") from error


def write(directory, confidence):
    """Write `confidence` (a `Confidence`) as `directory`'s `confidence.json`."""
    text = json.dumps(confidence.to_dict(), indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    (pathlib.Path(directory) / FILE).write_text(text, encoding="utf-8")


__all__ = ["CHECKS", "FILE", "LOW_CONFIDENCE", "SIGNALS", "UNKNOWN_CHARACTERS", "Check", "Confidence", "read",
           "valid_iso_date", "valid_number", "write"]  # fmt: skip
