"""`Figures`: what a zoo task's run measured, as one typed record that flows from training and
evaluation to the model card (`zoo.card.model_card`) and to the run's `metrics.json`."""

import dataclasses

from keras_transformer import _validation


@dataclasses.dataclass
class Figures:
    """A task run's figures. Filled step by step (read -> train -> choose decoding -> package); a
    figure a step did not reach stays at its default.

    Attributes (by step):
        task, command, run_folder, resumed_commands, previous_stages, options, arguments, seed: the run.
        training_examples, training_examples_a_pass (after oversampling), monitored_validation_examples,
            split_sizes ({split: examples}): the data.
        config (the model config as a dict), parameters, device, trained_backend, best_epoch,
            averaged_epochs, epochs_run, initial_epoch, stopped_by_time_budget, train_seconds,
            training_hours, optimizer_steps, steps_per_epoch, steps_per_pass, target_tokens_per_epoch,
            validation_loss, validation_token_accuracy, validation_losses, epochs (this call's
            throughput records), epoch_history (one row an epoch: epoch, loss, val_loss,
            val_accuracy, seconds): training.
        validation (scores of the greedy decoding), validation_decode_seconds, decoding_sweep
            ({"examples", "margin", "results", "chosen"} or None), decoding (the chosen
            `DecodingSettings` as a dict): choosing the decoding.
        shown ([source, output, expected] rows), zoo_dir, zoo_megabytes, weights_dtype, test (one
            evaluation report a strategy), test_breakdown, test_readings, litert_parity,
            fine_tuned_from, total_seconds_before_packaging, total_seconds: packaging.
    """

    task: str
    command: str = ""
    run_folder: str = ""
    resumed_commands: list = dataclasses.field(default_factory=list)
    previous_stages: list = dataclasses.field(default_factory=list)
    options: dict = dataclasses.field(default_factory=dict)
    arguments: dict = dataclasses.field(default_factory=dict)
    seed: int = 0
    training_examples: int = 0
    training_examples_a_pass: int = 0
    monitored_validation_examples: int = 0
    split_sizes: dict = dataclasses.field(default_factory=dict)
    config: dict = dataclasses.field(default_factory=dict)
    parameters: int = 0
    device: str = ""
    trained_backend: str | None = None
    best_epoch: int | None = None
    averaged_epochs: list = dataclasses.field(default_factory=list)
    epochs_run: int = 0
    initial_epoch: int = 0
    stopped_by_time_budget: bool = False
    train_seconds: float = 0.0
    training_hours: float = 0.0
    optimizer_steps: int = 0
    steps_per_epoch: int = 0
    steps_per_pass: int = 0
    target_tokens_per_epoch: int = 0
    validation_loss: float | None = None
    validation_token_accuracy: float | None = None
    validation_losses: list = dataclasses.field(default_factory=list)
    epochs: list = dataclasses.field(default_factory=list)
    epoch_history: list = dataclasses.field(default_factory=list)
    validation: dict = dataclasses.field(default_factory=dict)
    validation_decode_seconds: float = 0.0
    decoding_sweep: dict | None = None
    decoding: dict = dataclasses.field(default_factory=dict)
    shown: list = dataclasses.field(default_factory=list)
    zoo_dir: str | None = None
    zoo_megabytes: float | None = None
    weights_dtype: str = "float32"
    test: list = dataclasses.field(default_factory=list)
    test_breakdown: dict | None = None
    test_readings: dict | None = None
    litert_parity: dict | None = None
    fine_tuned_from: dict | None = None
    total_seconds_before_packaging: float | None = None
    total_seconds: float | None = None

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Figures from `to_dict` output (a run's `metrics.json`); an unknown key is an error naming it."""
        return cls(**_validation.known_fields("figures", values, cls))


def epoch_history(history, epoch_seconds):
    """One row an epoch of a `fit` history, for tables: `{"epoch" (from 1), "loss", "val_loss",
    "val_accuracy", "seconds"}`; a value the history or `epoch_seconds` lacks is None.

    Example:
    >>> history = {"loss": [2.5, 1.5], "val_loss": [1.5, 1.25], "val_masked_accuracy": [0.75, 0.8]}
    >>> epoch_history(history, {2: 901.2})[1]
    {'epoch': 2, 'loss': 1.5, 'val_loss': 1.25, 'val_accuracy': 0.8, 'seconds': 901.2}
    """
    columns = {"loss": "loss", "val_loss": "val_loss", "val_accuracy": "val_masked_accuracy"}
    epochs = max((len(values) for values in history.values()), default=0)

    def value(name, index):
        values = history.get(name, [])
        return round(float(values[index]), 4) if index < len(values) else None

    return [
        {"epoch": index + 1, **{column: value(name, index) for column, name in columns.items()},
         "seconds": epoch_seconds.get(index + 1)}
        for index in range(epochs)
    ]  # fmt: skip


def training_figures(record):
    """The `Figures` fields a `training.run_folder.RunRecord` fills, as keyword arguments."""
    rows = epoch_history(record.history, record.epoch_seconds)
    return {
        "parameters": record.parameters,
        "device": record.device,
        "trained_backend": record.backend,
        "best_epoch": record.best_epoch,
        "averaged_epochs": list(record.averaged_epochs),
        "epochs_run": record.epochs_run,
        "initial_epoch": record.initial_epoch,
        "stopped_by_time_budget": record.stopped_by_time_budget,
        "train_seconds": round(record.train_seconds, 1),
        "training_hours": round(sum(row["seconds"] or 0 for row in rows) / 3600, 2),
        "optimizer_steps": record.optimizer_steps,
        "steps_per_epoch": record.steps_per_epoch,
        "steps_per_pass": record.steps_per_pass,
        "target_tokens_per_epoch": record.target_tokens_per_epoch,
        "validation_loss": round(record.validation_loss, 4),
        "validation_token_accuracy": round(record.validation_accuracy, 4),
        "validation_losses": [float(v) for v in record.history.get("val_loss", [])],
        "epochs": record.throughput,
        "epoch_history": rows,
        "options": record.options,
    }
