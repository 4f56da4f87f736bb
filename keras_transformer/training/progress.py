"""Callbacks that watch the clock: `Deadline` and `TimeBudget` stop `fit` cleanly in time, `Throughput` reports
seconds per epoch and target tokens per second (and can keep them in a JSON file across resumed runs:
`read_epoch_seconds`, `record_epoch_seconds`)."""

import json
import os
import pathlib
import time

import keras

from keras_transformer import _validation


class Deadline(keras.callbacks.Callback):
    """Stops `fit` cleanly before an epoch that would end after `deadline` (a `time.time()` value),
    judged by the longest epoch of this `fit` call so far, not counting its first (which includes
    compiling the step); mid-epoch only once the deadline has passed. The epoch's validation, the
    other callbacks' epoch end (checkpoints) and whatever follows `fit` still run.

    Args:
        deadline: a `time.time()` value; None for no limit.

    Attributes:
        spent: whether the deadline stopped training.
    """

    def __init__(self, deadline=None):
        super().__init__()
        if deadline is not None:
            _validation.positive_number("deadline", deadline)
        self.deadline = deadline
        self.spent = False

    def on_train_begin(self, logs=None):
        self.longest = 0.0
        self._first = True

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.deadline is not None and time.time() > self.deadline:
            self._stop("Time budget spent (the deadline has passed): stopping after this epoch's validation")

    def on_epoch_end(self, epoch, logs=None):
        if self._first:
            self._first = False
        else:
            self.longest = max(self.longest, time.time() - self.started)
        if self.deadline is not None and time.time() + self.longest > self.deadline:
            self._stop("the next epoch would end after the deadline: stopping")

    def _stop(self, message):
        if not self.spent:
            print(message, flush=True)
        self.spent = True
        self.model.stop_training = True


class TimeBudget(Deadline):
    """A `Deadline` `minutes` after `fit` begins (None: no limit)."""

    def __init__(self, minutes=None):
        if minutes is not None:
            _validation.positive_number("minutes", minutes)
        super().__init__()
        self.seconds = None if minutes is None else minutes * 60.0

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.seconds is not None:
            self.deadline = time.time() + self.seconds


class Throughput(keras.callbacks.Callback):
    """Prints seconds per epoch and target tokens per second, and progress every `every` batches.

    Args:
        steps_per_epoch: training steps an epoch.
        tokens_per_epoch: real (unpadded) target tokens an epoch.
        every: print progress every this many steps; 0 for epoch lines only.
        seconds_path: a JSON file `{"<epoch from 1>": seconds}`; when given, each epoch's seconds are
            merged into it (`record_epoch_seconds`), so a resumed run keeps the earlier epochs'.

    Attributes:
        epochs: one dict an epoch: `epoch` (from 1), `seconds` (training and validation), `steps`,
            `target_tokens_per_second`.
    """

    def __init__(self, steps_per_epoch, tokens_per_epoch, every=100, seconds_path=None):
        super().__init__()
        self.steps_per_epoch = _validation.positive_int("steps_per_epoch", steps_per_epoch)
        self.tokens_per_epoch = _validation.non_negative_int("tokens_per_epoch", tokens_per_epoch)
        self.every = _validation.non_negative_int("every", every)
        if seconds_path is not None and not isinstance(seconds_path, (str, os.PathLike)):
            raise ValueError(f"`seconds_path` must be None or a path. Received: seconds_path={seconds_path!r}")
        self.seconds_path = seconds_path
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.started = time.monotonic()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.every and self.steps % self.every == 0:
            seconds = time.monotonic() - self.started
            tokens = self.tokens_per_epoch * self.steps / self.steps_per_epoch
            print(
                f"  epoch {self.epoch + 1} step {self.steps}/{self.steps_per_epoch}: {seconds:.0f} s, "
                f"{self.steps / seconds:.2f} steps/s, {tokens / seconds:.0f} target tokens/s"
                + (" (includes XLA compilation of each bucket's shape)" if not self.epochs else ""),
                flush=True,
            )

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.monotonic() - self.started  # training steps and validation
        fraction = self.steps / self.steps_per_epoch
        record = {
            "epoch": epoch + 1,
            "seconds": round(seconds, 1),
            "steps": self.steps,
            "target_tokens_per_second": round(self.tokens_per_epoch * fraction / seconds, 1),
        }
        self.epochs.append(record)
        if self.seconds_path is not None:
            record_epoch_seconds(self.seconds_path, record["epoch"], record["seconds"])
        print(
            f"epoch {epoch + 1}: {seconds:.1f} s ({self.steps} steps), "
            f"{record['target_tokens_per_second']:.0f} target tokens/s incl. validation",
            flush=True,
        )


def read_epoch_seconds(path):
    """The epoch times a `Throughput(seconds_path=path)` recorded: `{epoch (from 1): seconds}`, sorted
    by epoch; `{}` when the file does not exist.

    Raises:
        ValueError: the file is not such a record (naming the file and what it holds).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    try:
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("not a JSON object")
        seconds = {int(epoch): float(value) for epoch, value in values.items()}
        if any(epoch < 1 for epoch in seconds) or any(value < 0 for value in seconds.values()):
            raise ValueError("epochs count from 1 and seconds are >= 0")
    except (ValueError, TypeError) as error:
        raise ValueError(
            f'{path} must hold {{"<epoch from 1>": seconds}}, e.g. {{"1": 922.7}} ({error}). Received: {text[:200]!r}'
        ) from None
    return dict(sorted(seconds.items()))


def record_epoch_seconds(path, epoch, seconds):
    """Merge `{epoch: seconds}` (seconds rounded to 0.1) into the JSON file `path` (created if missing;
    the other epochs are kept, a repeated epoch takes the new value). The file is replaced atomically.
    Returns the merged `{epoch: seconds}`.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "epoch_seconds.json")
    >>> _ = record_epoch_seconds(path, 1, 922.7)
    >>> record_epoch_seconds(path, 2, 901.04)
    {1: 922.7, 2: 901.0}
    """
    epoch = _validation.positive_int("epoch", epoch)
    seconds = _validation.non_negative_number("seconds", seconds)
    path = pathlib.Path(path)
    merged = {**read_epoch_seconds(path), epoch: round(seconds, 1)}
    merged = dict(sorted(merged.items()))
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps({str(k): v for k, v in merged.items()}, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return merged
