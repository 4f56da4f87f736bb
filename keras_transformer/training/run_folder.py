"""A training run's folder: every file a run writes, read and written here and nowhere else.

    runs/my_model/
      config.json            the model's config (`TransformerConfig` JSON)
      history.csv            the `fit` history, one row an epoch (Keras' CSVLogger; a resumed run appends)
      epoch_seconds.json     {"<epoch from 1>": wall seconds}, merged across resumed calls
      run.json               the `RunRecord` of the last call
      commands.txt           the command of every call, oldest first (a resumed run repeats one)
      checkpoints/best.weights.h5   weights and optimizer state of the best epoch by validation loss
      resumable/             the epoch checkpoints (`ResumableCheckpoint`) a rerun resumes from
      model.weights.h5       the kept weights (the best epoch's, or the average of the last epochs'),
                             without optimizer state
      metrics.json           what a zoo task measured (written by `zoo.tasks`)

One rule for `history.csv`: an epoch that appears twice (a rerun of an epoch interrupted before its
checkpoint) counts once, with its last row.
"""

import csv
import dataclasses
import json
import os
import pathlib

from keras_transformer.errors import DataError
from keras_transformer import _validation

CONFIG = "config.json"
HISTORY = "history.csv"
EPOCH_SECONDS = "epoch_seconds.json"
RECORD = "run.json"
COMMANDS = "commands.txt"
BEST_CHECKPOINT = "checkpoints/best.weights.h5"
RESUMABLE = "resumable"
WEIGHTS = "model.weights.h5"
METRICS = "metrics.json"


def read_history(path):
    """The `fit` history `{metric: [value an epoch]}` of a `history.csv` file (or of the folder holding
    one), epochs in order; an epoch written twice takes its last row. `{}` when there is no file.

    Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "history.csv"
    >>> _ = path.write_text("epoch,loss,val_loss\\n0,2.0,1.5\\n1,1.0,1.25\\n1,0.5,1.0\\n")
    >>> read_history(path)
    {'loss': [2.0, 0.5], 'val_loss': [1.5, 1.0]}
    """
    path = pathlib.Path(path)
    if path.is_dir():
        path = path / HISTORY
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_epoch = {int(row["epoch"]): row for row in rows}  # the last row of an epoch wins
    names = [name for name in (rows[0] if rows else {}) if name != "epoch"]
    ordered = [by_epoch[epoch] for epoch in sorted(by_epoch)]
    return {name: [float(row[name]) for row in ordered] for name in names}


def write_history(path, history):
    """Write a `{metric: [value an epoch]}` history (or a `keras.callbacks.History`) as CSV, an `epoch`
    column first (from 0), as Keras' CSVLogger writes it."""
    logs = getattr(history, "history", history)
    lengths = {len(values) for values in logs.values()}
    if len(lengths) != 1:
        raise ValueError(f"every `history` entry must have one value per epoch. Received lengths: {sorted(lengths)}")
    names = list(logs)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *names])
        for epoch in range(lengths.pop()):
            writer.writerow([epoch, *(repr(float(logs[name][epoch])) for name in names)])


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """What one call of `training.recipe.fit` did (`run.json`).

    Attributes:
        name: the Keras model's name.
        weights: the kept weights file (`model.weights.h5` of the run folder).
        history: `{metric: [value an epoch]}`, the earlier calls' epochs of a resumed run included.
        best_epoch: the epoch (from 1) with the lowest validation loss, or None.
        averaged_epochs: the epochs whose checkpoints were averaged into the kept weights, or ().
        initial_epoch: epochs done before this call.
        optimizer_steps: the optimizer's step counter at the end (earlier stages included).
        steps_per_epoch, steps_per_pass: an epoch's steps, and one pass over the training batches'.
        target_tokens_per_epoch: real (unpadded) target tokens an epoch.
        train_seconds: wall seconds of this call's `fit`.
        epoch_seconds: `{epoch (from 1): wall seconds}` of every recorded epoch.
        throughput: this call's epochs (`Throughput.epochs`).
        validation_loss, validation_accuracy: of the kept weights.
        stopped_by_time_budget: the time budget (or deadline) ended training.
        parameters: the model's parameter count.
        device, backend: what trained it.
        options: the `TrainingOptions` that applied, as a dict.
        batches: what the batches were, as their builder describes them (bucket bounds, batch
            tokens, the longest target...), or {}.
    """

    name: str
    weights: str
    history: dict
    best_epoch: int | None
    averaged_epochs: tuple
    initial_epoch: int
    optimizer_steps: int
    steps_per_epoch: int
    steps_per_pass: int
    target_tokens_per_epoch: int
    train_seconds: float
    epoch_seconds: dict
    throughput: list
    validation_loss: float
    validation_accuracy: float
    stopped_by_time_budget: bool
    parameters: int
    device: str
    backend: str
    options: dict
    batches: dict = dataclasses.field(default_factory=dict)

    @property
    def epochs_run(self):
        """Epochs trained (a resumed run's earlier epochs included)."""
        return len(self.history.get("val_loss", []))

    def to_dict(self):
        """The record as `run.json` holds it (the history stays in `history.csv`)."""
        values = dataclasses.asdict(self)
        values.pop("history")
        values["averaged_epochs"] = list(self.averaged_epochs)
        values["epoch_seconds"] = {str(epoch): seconds for epoch, seconds in self.epoch_seconds.items()}
        return values

    @classmethod
    def from_dict(cls, values, history):
        values = _validation.known_fields("run record", values, cls)
        return cls(**{
            **values,
            "history": history,
            "averaged_epochs": tuple(values["averaged_epochs"]),
            "epoch_seconds": {int(epoch): float(seconds) for epoch, seconds in values["epoch_seconds"].items()},
        })  # fmt: skip


class RunFolder:
    """The files of one training run (see the module docstring), by name.

    Args:
        path: the folder; created by `create()`.
    """

    def __init__(self, path):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a folder path. Received: path={path!r}")
        self.path = pathlib.Path(path)

    def __repr__(self):
        return f"RunFolder({str(self.path)!r})"

    def __truediv__(self, name):
        return self.path / name

    def create(self):
        (self.path / BEST_CHECKPOINT).parent.mkdir(parents=True, exist_ok=True)
        return self

    # ------------------------------------------------------------------ files by name

    @property
    def best_checkpoint(self):
        return self.path / BEST_CHECKPOINT

    @property
    def weights(self):
        return self.path / WEIGHTS

    @property
    def history_file(self):
        return self.path / HISTORY

    @property
    def epoch_seconds_file(self):
        return self.path / EPOCH_SECONDS

    @property
    def resumable(self):
        return self.path / RESUMABLE

    # ------------------------------------------------------------------ reading and writing

    def write_config(self, config):
        (self.path / CONFIG).write_text(config.to_json() + "\n", encoding="utf-8")

    def read_config(self):
        """The run's `TransformerConfig`, or `EncoderConfig` (an encoder run: its config has a
        `vocabulary_size`)."""
        from keras_transformer.models.config import TransformerConfig
        from keras_transformer.models.encoder import EncoderConfig

        values = json.loads(self._text(CONFIG))
        return (EncoderConfig if "vocabulary_size" in values else TransformerConfig).from_dict(values)

    def history(self):
        return read_history(self.history_file)

    def epoch_seconds(self):
        from keras_transformer.training.progress import read_epoch_seconds

        return read_epoch_seconds(self.epoch_seconds_file)

    def write_record(self, record):
        (self.path / RECORD).write_text(json.dumps(record.to_dict(), indent=1) + "\n", encoding="utf-8")

    def has_record(self):
        return (self.path / RECORD).is_file()

    def read_record(self):
        """The `RunRecord` of the run's last call; `ValueError` naming the folder when it has none."""
        try:
            values = json.loads(self._text(RECORD))
        except json.JSONDecodeError as error:
            raise DataError(f"{self.path / RECORD} is not valid JSON: {error}") from None
        return RunRecord.from_dict(values, self.history())

    def commands(self):
        """Every call's command, oldest first."""
        path = self.path / COMMANDS
        return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []

    def record_command(self, command, resumes):
        """Append `command` to `commands.txt` (a run that does not resume starts the file afresh).
        Returns the commands of the earlier calls it continues, oldest first."""
        earlier = self.commands() if resumes else []
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / COMMANDS).write_text("\n".join([*earlier, command]) + "\n", encoding="utf-8")
        return earlier

    def write_metrics(self, figures):
        (self.path / METRICS).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")

    def read_metrics(self):
        path = self.path / METRICS
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def _text(self, name):
        path = self.path / name
        if not path.is_file():
            raise DataError(f"{self.path} is not a training run folder: it has no {name}")
        return path.read_text(encoding="utf-8")
