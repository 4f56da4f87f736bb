"""Callbacks that watch the clock: `TimeBudget` stops `fit` after a set time, `Throughput` reports
seconds per epoch and target tokens per second."""

import time

import keras

from keras_transformer import _validation


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` after the training batch that uses up `minutes` of training time.

    The epoch's validation, the other callbacks' epoch end (checkpoints) and whatever follows `fit`
    still run.

    Args:
        minutes: the budget; None for no limit.

    Attributes:
        spent: whether the budget stopped training.
    """

    def __init__(self, minutes=None):
        super().__init__()
        if minutes is not None:
            _validation.positive_number("minutes", minutes)
        self.seconds = None if minutes is None else minutes * 60.0
        self.spent = False

    def on_train_begin(self, logs=None):
        self.started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if self.seconds is not None and time.monotonic() - self.started > self.seconds:
            if not self.spent:
                print(f"Time budget of {self.seconds / 60:.1f} min spent: stopping after this epoch's validation.")
            self.spent = True
            self.model.stop_training = True


class Throughput(keras.callbacks.Callback):
    """Prints seconds per epoch and target tokens per second, and progress every `every` batches.

    Args:
        steps_per_epoch: training steps an epoch.
        tokens_per_epoch: real (unpadded) target tokens an epoch.
        every: print progress every this many steps; 0 for epoch lines only.

    Attributes:
        epochs: one dict an epoch: `epoch` (from 1), `seconds` (training and validation), `steps`,
            `target_tokens_per_second`.
    """

    def __init__(self, steps_per_epoch, tokens_per_epoch, every=100):
        super().__init__()
        self.steps_per_epoch = _validation.positive_int("steps_per_epoch", steps_per_epoch)
        self.tokens_per_epoch = _validation.non_negative_int("tokens_per_epoch", tokens_per_epoch)
        self.every = _validation.non_negative_int("every", every)
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
        print(
            f"epoch {epoch + 1}: {seconds:.1f} s ({self.steps} steps), "
            f"{record['target_tokens_per_second']:.0f} target tokens/s incl. validation",
            flush=True,
        )
