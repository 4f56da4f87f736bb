"""The training recipe: `TrainingOptions` (validated, with a command line) and `train`, which tokenizes
text pairs, batches them by length, builds and compiles a Transformer with the paper's optimizer and
label-smoothed loss, fits it with checkpoints, early stopping and a time budget, and returns a
`TextPipeline` of the best weights by validation loss (or the average of the last epochs').

    options = TrainingOptions(size="tiny", epochs=2)
    result = train(options, source_tokenizer, target_tokenizer, (sources, targets),
                   (validation_sources, validation_targets), name="my_model", output_dir="runs/my_model")
    result.pipeline.predict(["some text"])
"""

from __future__ import annotations  # TrainResult names TensorFlow-only types imported in `train`

import argparse
import dataclasses
import importlib.util
import json
import pathlib
import time

import keras
import numpy as np

from keras_transformer import _backend, _validation
from keras_transformer.decoding.settings import DecodingSettings
from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.training.averaging import average_checkpoints
from keras_transformer.training.callbacks import ResumableCheckpoint
from keras_transformer.training.losses import MaskedSparseCrossEntropy
from keras_transformer.training.metrics import MaskedAccuracy
from keras_transformer.training.progress import Throughput, TimeBudget, read_epoch_seconds
from keras_transformer.training.schedules import paper_optimizer

# Where `train` keeps each epoch's wall seconds, `{"<epoch from 1>": seconds}`, merged across resumed calls.
EPOCH_SECONDS_FILE = "epoch_seconds.json"

# The recipe's model sizes (encoder and decoder layers each).
SIZES = {
    "tiny": {"d_model": 32, "num_heads": 2, "d_ff": 64, "num_layers": 1},
    "compact": {"d_model": 128, "num_heads": 4, "d_ff": 512, "num_layers": 3},
    "small": {"d_model": 256, "num_heads": 4, "d_ff": 1024, "num_layers": 3},
}


def _option(default, help, kind=None, choices=None):
    """A `TrainingOptions` field with what its command-line option needs."""
    kind = kind or type(default)
    return dataclasses.field(default=default, metadata={"help": help, "kind": kind, "choices": choices})


@dataclasses.dataclass(frozen=True)
class TrainingOptions:
    """The recipe's options; validated on construction. Each is also a command-line option
    (`--d-model` for `d_model`; see `add_arguments`).

    Example:
    >>> options = TrainingOptions(size="tiny", epochs=2)
    >>> options.transformer_config(source_vocab_size=30, target_vocab_size=40).d_model
    32
    >>> TrainingOptions(dropout=1.5)
    Traceback (most recent call last):
    ...
    ValueError: `dropout` must be a number in [0, 1). Received: dropout=1.5
    """

    size: str = _option("compact", "model size", choices=tuple(SIZES))
    d_model: int | None = _option(None, "override the size's d_model", int)
    num_heads: int | None = _option(None, "override the size's num_heads", int)
    d_ff: int | None = _option(None, "override the size's d_ff", int)
    num_layers: int | None = _option(None, "encoder and decoder layers each (override the size's)", int)
    dropout: float = _option(0.1, "residual, attention and embedding dropout")
    normalize_first: bool = _option(False, "pre-layer-norm blocks (the paper's are post-layer-norm)")
    max_length: int = _option(64, "longest source or decoder sequence")
    batch_tokens: int = _option(1024, "padded target positions a batch, about")
    warmup_steps: int = _option(1500, "warmup steps of the paper's learning-rate schedule")
    learning_rate_scale: float = _option(1.0, "multiplies the paper's learning rate")
    label_smoothing: float = _option(0.1, "label smoothing of the loss")
    length_buckets: int = _option(6, "length buckets (quantiles of the training lengths) unless the task fixes them")
    epochs: int = _option(100, "most epochs")
    steps_per_epoch: int | None = _option(
        None, "steps between validations (the data repeats); default: one pass over the data", int
    )
    time_budget_minutes: float | None = _option(None, "stop training cleanly after this long", float)
    patience: int = _option(6, "early stopping: epochs without a better validation loss")
    jit_compile: bool = _option(True, "compile the training step with XLA")
    seed: int = _option(0, "seed of the weights, the shuffle and dropout")
    initial_weights: str | None = _option(
        None,
        "continue from a checkpoint of this recipe (checkpoints/best.weights.h5 of an earlier run with the same "
        "options): model weights and optimizer state, schedule step included",
        str,
    )
    checkpoint_dir: str | None = _option(
        None,
        "resumable checkpoints (weights and optimizer state) after every epoch; rerunning the same command "
        "continues after the last saved epoch",
        str,
    )
    keep_checkpoints: int = _option(2, "how many epoch checkpoints to keep in --checkpoint-dir")
    average_last: int | None = _option(
        None,
        "also try the average of the last K epoch checkpoints (needs --checkpoint-dir and --keep-checkpoints >= K); "
        "kept when its validation loss is lower than the best epoch's",
        int,
    )
    log_every: int = _option(100, "print progress every this many steps (0: epoch lines only)")
    max_examples: int | None = _option(None, "use only this many training (and validation) examples", int)

    def __post_init__(self):
        _validation.one_of("size", self.size, tuple(SIZES))
        for name in ("d_model", "num_heads", "d_ff", "num_layers", "steps_per_epoch", "average_last", "max_examples"):
            _validation.positive_int(name, getattr(self, name), allow_none=True)
        for name in ("max_length", "batch_tokens", "warmup_steps", "length_buckets", "epochs", "patience",
                     "keep_checkpoints"):  # fmt: skip
            _validation.positive_int(name, getattr(self, name))
        for name in ("seed", "log_every"):
            _validation.non_negative_int(name, getattr(self, name))
        _validation.fraction("dropout", self.dropout)
        _validation.fraction("label_smoothing", self.label_smoothing)
        _validation.positive_number("learning_rate_scale", self.learning_rate_scale)
        if self.time_budget_minutes is not None:
            _validation.positive_number("time_budget_minutes", self.time_budget_minutes)
        _validation.boolean("normalize_first", self.normalize_first)
        _validation.boolean("jit_compile", self.jit_compile)
        if self.average_last is not None and self.average_last > 1:
            if self.checkpoint_dir is None or self.keep_checkpoints < self.average_last:
                raise ValueError(
                    "`average_last` averages the epoch checkpoints of `checkpoint_dir`: it needs a checkpoint_dir "
                    "and keep_checkpoints >= average_last. Received: "
                    f"average_last={self.average_last}, checkpoint_dir={self.checkpoint_dir!r}, "
                    f"keep_checkpoints={self.keep_checkpoints}"
                )

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def add_arguments(cls, parser, **defaults):
        """Add every option to the `argparse` parser (`--d-model` for `d_model`, `--no-jit-compile`
        for a boolean); `defaults` replaces option defaults by field name. Returns the parser."""
        fields = {field.name: field for field in dataclasses.fields(cls)}
        unknown = sorted(set(defaults) - set(fields))
        if unknown:
            raise ValueError(f"Unknown training options {unknown}; known: {sorted(fields)}")
        group = parser.add_argument_group("training")
        for name, field in fields.items():
            flag = "--" + name.replace("_", "-")
            default = defaults.get(name, field.default)
            kind, choices = field.metadata["kind"], field.metadata["choices"]
            text = field.metadata["help"] + (" (default: %(default)s)" if default is not None else "")
            if kind is bool:
                group.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
            else:
                group.add_argument(flag, type=kind, default=default, choices=choices, help=text)
        return parser

    @classmethod
    def from_args(cls, args):
        """Options from parsed `add_arguments` arguments (other attributes of `args` are ignored)."""
        return cls(**{field.name: getattr(args, field.name) for field in dataclasses.fields(cls)})

    def transformer_config(self, source_vocab_size, target_vocab_size):
        """The `TransformerConfig` of `size` with the `d_model`... overrides."""
        sizes = dict(SIZES[self.size])
        for name in ("d_model", "num_heads", "d_ff", "num_layers"):
            if getattr(self, name) is not None:
                sizes[name] = getattr(self, name)
        num_layers = sizes.pop("num_layers")
        return TransformerConfig(
            source_vocab_size=source_vocab_size,
            target_vocab_size=target_vocab_size,
            num_encoder_layers=num_layers,
            num_decoder_layers=num_layers,
            dropout=self.dropout,
            max_length=self.max_length,
            normalize_first=self.normalize_first,
            **sizes,
        )

    def compile(self, model):
        """Compile `model` with Adam(0.9, 0.98, 1e-9) and the paper's warmup schedule, the
        label-smoothed masked loss and masked accuracy. Returns `model`."""
        model.compile(
            optimizer=paper_optimizer(
                model.config.d_model, warmup_steps=self.warmup_steps, scale=self.learning_rate_scale
            ),
            loss=MaskedSparseCrossEntropy(label_smoothing=self.label_smoothing),
            metrics=[MaskedAccuracy()],
            # Ids come from the tokenizers, so they are in range; XLA drops the model's id asserts.
            jit_compile=self.jit_compile,
        )
        return model


@dataclasses.dataclass
class TrainResult:
    """What `train` returns.

    Attributes:
        pipeline: a `TextPipeline` (greedy decoding) of a fresh, uncompiled model holding the kept
            weights: the best epoch's by validation loss, or the average of the last epochs' when
            that was better (`averaged_epochs`).
        history: the run's `fit` history, `{metric: [value an epoch]}` (`history.csv`: with a
            `checkpoint_dir`, the epochs of earlier, resumed calls too).
        initial_epoch: the epochs done before this call (a resumed run), else 0.
        throughput: one record an epoch of this call (see `Throughput.epochs`).
        stopped_by_time_budget: whether the time budget ended training.
        train_seconds: wall time of this call's `fit`.
        optimizer_steps: the optimizer's step counter at the end (earlier stages and calls included).
        validation_loss, validation_accuracy: of the kept weights.
        best_epoch: the epoch (from 1) with the lowest validation loss in `history`.
        averaged_epochs: the epochs whose checkpoints were averaged into the kept weights, or ().
        steps_per_epoch, target_tokens_per_epoch: an epoch's steps and real target tokens.
        steps_per_pass: steps of one pass over the training data.
        buckets: the `LengthBuckets` of the batches.
        longest_target: the longest training target, in tokens (without the end id).
        parameters: the model's parameter count.
        epoch_seconds: `{epoch (from 1): wall seconds}` of the epochs whose time was recorded
            (`epoch_seconds.json`: earlier, resumed calls' epochs included).
    """

    pipeline: TextPipeline
    history: dict
    initial_epoch: int
    throughput: list
    stopped_by_time_budget: bool
    train_seconds: float
    optimizer_steps: int
    validation_loss: float
    validation_accuracy: float
    best_epoch: int | None
    averaged_epochs: tuple
    steps_per_epoch: int
    target_tokens_per_epoch: int
    steps_per_pass: int
    buckets: LengthBuckets
    longest_target: int
    parameters: int
    epoch_seconds: dict = dataclasses.field(default_factory=dict)

    @property
    def model(self):
        return self.pipeline.model

    @property
    def config(self):
        return self.pipeline.config

    @property
    def epochs_run(self):
        """Epochs trained (a resumed run's earlier epochs included)."""
        return len(self.history.get("val_loss", []))

    def summary(self):
        """The figures a metrics file records."""
        return {
            "validation_loss": round(self.validation_loss, 4),
            "validation_token_accuracy": round(self.validation_accuracy, 4),
            "best_epoch": self.best_epoch,
            "averaged_epochs": list(self.averaged_epochs),
            "epochs_run": self.epochs_run,
            "initial_epoch": self.initial_epoch,
            "stopped_by_time_budget": self.stopped_by_time_budget,
            "train_seconds": round(self.train_seconds, 1),
            "optimizer_steps": self.optimizer_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "target_tokens_per_epoch": self.target_tokens_per_epoch,
            "steps_per_pass": self.steps_per_pass,
            "epochs": self.throughput,
            "parameters": self.parameters,
            "epoch_history": epoch_history(self.history, self.epoch_seconds),
        }


def epoch_history(history, epoch_seconds):
    """One row an epoch of a `fit` history, for tables: `{"epoch" (from 1), "loss", "val_loss",
    "val_accuracy", "seconds"}`; a value the history or `epoch_seconds` lacks is None.

    Args:
        history: `{metric: [value an epoch]}` (`read_history`, `TrainResult.history`).
        epoch_seconds: `{epoch (from 1): seconds}` (`read_epoch_seconds`).

    Returns:
        A list of dicts, one an epoch of `history`.

    Example:
    >>> history = {"loss": [2.5, 1.5], "val_loss": [1.5, 1.25], "val_masked_accuracy": [0.75, 0.8]}
    >>> epoch_history(history, {2: 901.2})[1]
    {'epoch': 2, 'loss': 1.5, 'val_loss': 1.25, 'val_accuracy': 0.8, 'seconds': 901.2}
    >>> epoch_history(history, {})[0]["seconds"] is None
    True
    """
    columns = {"loss": "loss", "val_loss": "val_loss", "val_accuracy": "val_masked_accuracy"}
    epochs = max((len(values) for values in history.values()), default=0)

    def value(name, index):
        values = history.get(name, [])
        return round(float(values[index]), 4) if index < len(values) else None

    return [
        {
            "epoch": index + 1,
            **{column: value(name, index) for column, name in columns.items()},
            "seconds": epoch_seconds.get(index + 1),
        }
        for index in range(epochs)
    ]


def train(options, source_tokenizer, target_tokenizer, train_pairs, validation_pairs, name, output_dir, bounds=None):
    """Tokenize, batch, build, compile and fit; keep the best weights by validation loss.

    Args:
        options: `TrainingOptions`.
        source_tokenizer, target_tokenizer: `Tokenizer`s (saved to `output_dir` here).
        train_pairs, validation_pairs: `(sources, targets)`, two lists of str each.
        name: the Keras model's name (checkpoints record layer names under it).
        output_dir: the run's folder (created if missing).
        bounds: length-bucket bounds (see `LengthBuckets`); None: `options.length_buckets` quantiles
            of the training lengths.

    Writes in `output_dir`: `config.json`, the vocabularies, `checkpoints/best.weights.h5` (weights
    and optimizer state of the best epoch), `history.csv`, `logs/` (TensorBoard, when installed) and
    `model.weights.h5` (the kept weights, without optimizer state) and `epoch_seconds.json` (each
    epoch's wall seconds, merged into what the file held). With `options.checkpoint_dir`, every epoch
    is saved there and rerunning the same call resumes after the last saved epoch (the history, the
    epoch times and the best checkpoint carry on from the earlier calls); a rerun whose `epochs` are
    all done trains nothing and returns the kept weights again.

    Returns:
        A `TrainResult`.
    """
    if not isinstance(options, TrainingOptions):
        raise TypeError(f"`options` must be TrainingOptions. Received: options={options!r}")
    _backend.require_tensorflow("training.train (it hands back a TextPipeline)")
    # Imported here, so that `TrainingOptions` (the model config and compile settings) serves every backend.
    import tensorflow as tf

    from keras_transformer.data.batching import LengthBuckets, example_lengths, tokenize_pairs
    from keras_transformer.pipeline import TextPipeline
    from keras_transformer.zoo.folder import read_history

    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(options.seed)
    source_tokenizer.save(output_dir / "source_vocabulary.json")
    target_tokenizer.save(output_dir / "target_vocabulary.json")

    tokenize = {
        "source_tokenizer": source_tokenizer,
        "target_tokenizer": target_tokenizer,
        "max_length": options.max_length,
    }
    train_source, train_target = tokenize_pairs(
        sources=train_pairs[0], targets=train_pairs[1], name="training", **tokenize
    )
    val_source, val_target = tokenize_pairs(
        sources=validation_pairs[0], targets=validation_pairs[1], name="validation", **tokenize
    )
    if bounds is None:
        buckets = LengthBuckets.from_lengths(example_lengths(train_source, train_target), options.batch_tokens,
                                             options.max_length, options.length_buckets)  # fmt: skip
    else:
        buckets = LengthBuckets(options.batch_tokens, options.max_length, tuple(bounds))
    ids = {"start_id": target_tokenizer.start_id, "end_id": target_tokenizer.end_id}
    train_data = buckets.batches(train_source, train_target, **ids, shuffle_seed=options.seed)
    val_data = buckets.batches(val_source, val_target, **ids)

    # Steps and real target tokens of one pass, for the speed figures and so Keras knows the epoch
    # length. The bucket sizes are the same every pass, so the step count is too.
    steps_per_pass, tokens_per_pass = buckets.count(train_source, train_target)
    validation_steps = buckets.count(val_source, val_target, drop_remainder=False)[0]
    val_data = val_data.apply(tf.data.experimental.assert_cardinality(validation_steps))
    if options.steps_per_epoch:
        steps_per_epoch = options.steps_per_epoch
        tokens_per_epoch = int(tokens_per_pass * steps_per_epoch / max(1, steps_per_pass))
        train_data = train_data.repeat()
    else:
        if steps_per_pass == 0:
            raise ValueError(
                f"The training data fills no batch of batch_tokens={options.batch_tokens}: give more examples, a "
                f"smaller batch_tokens, or steps_per_epoch. Received: {len(train_pairs[0])} training examples"
            )
        steps_per_epoch, tokens_per_epoch = steps_per_pass, tokens_per_pass
        train_data = train_data.apply(tf.data.experimental.assert_cardinality(steps_per_pass))
    print(
        f"{len(train_pairs[0])} training examples ({steps_per_pass} steps, {tokens_per_pass} target tokens a pass), "
        f"{len(validation_pairs[0])} validation examples; buckets {list(buckets.boundaries)}; "
        f"{steps_per_epoch} steps an epoch",
        flush=True,
    )

    config = options.transformer_config(source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size)
    (output_dir / "config.json").write_text(config.to_json() + "\n")
    model = options.compile(build_transformer(config, name=name))
    if options.initial_weights:
        model.optimizer.build(model.trainable_variables)
        model.load_weights(options.initial_weights)
        print(
            f"continuing from {options.initial_weights} at optimizer step {int(model.optimizer.iterations)}", flush=True
        )
    print(f"{model.count_params()} parameters; config {json.dumps(config.to_dict(), sort_keys=True)}", flush=True)

    callbacks, budget, throughput, best_path = _callbacks(options, output_dir, steps_per_epoch, tokens_per_epoch)
    train_started = time.monotonic()
    history = model.fit(
        train_data,
        validation_data=val_data,
        epochs=options.epochs,
        steps_per_epoch=steps_per_epoch if options.steps_per_epoch else None,
        callbacks=callbacks,
        verbose=2,
    )
    train_seconds = time.monotonic() - train_started

    if not best_path.is_file():
        raise RuntimeError(f"No epoch was trained and there is no earlier best checkpoint at {best_path}.")
    run_history = read_history(output_dir) or history.history
    optimizer_steps = int(model.optimizer.iterations)
    model.load_weights(str(best_path))
    val_loss, val_accuracy = model.evaluate(val_data, verbose=0)
    averaged = ()
    if options.average_last and options.average_last > 1:
        averaged, val_loss, val_accuracy = _try_average(model, val_data, options, val_loss, val_accuracy)

    # The checkpoint holds the optimizer state too; the kept weights are the model's only.
    inference_model = build_transformer(config, name=name)
    inference_model.set_weights(model.get_weights())
    inference_model.save_weights(str(output_dir / "model.weights.h5"))
    return TrainResult(
        pipeline=TextPipeline(inference_model, source_tokenizer, target_tokenizer, DecodingSettings(), name=name),
        history=run_history,
        initial_epoch=history.epoch[0] if history.epoch else len(run_history.get("val_loss", [])),
        throughput=throughput.epochs,
        stopped_by_time_budget=budget.spent,
        train_seconds=train_seconds,
        optimizer_steps=optimizer_steps,
        validation_loss=float(val_loss),
        validation_accuracy=float(val_accuracy),
        best_epoch=int(np.argmin(run_history["val_loss"])) + 1 if run_history.get("val_loss") else None,
        averaged_epochs=averaged,
        steps_per_epoch=steps_per_epoch,
        target_tokens_per_epoch=tokens_per_epoch,
        steps_per_pass=steps_per_pass,
        buckets=buckets,
        longest_target=int(tf.reduce_max(train_target.row_lengths())),
        parameters=model.count_params(),
        epoch_seconds=read_epoch_seconds(output_dir / EPOCH_SECONDS_FILE),
    )


def load_trained_run(output_dir, source_tokenizer, target_tokenizer, name):
    """The `TrainResult` of a run `training.arrays.fit_token_arrays` trained (on any backend, any
    machine), for packaging on TensorFlow: its `config.json`, `model.weights.h5`, `history.csv`,
    `epoch_seconds.json` and `run.json`. `train_seconds` is the sum of the recorded epoch times.

    Raises:
        ValueError: `output_dir` lacks one of those files (naming it).
    """
    _backend.require_tensorflow("training.load_trained_run (it hands back a TextPipeline)")
    from keras_transformer.data.batching import LengthBuckets
    from keras_transformer.models import TransformerConfig
    from keras_transformer.pipeline import TextPipeline
    from keras_transformer.training.arrays import RUN_FILE
    from keras_transformer.zoo.folder import read_history

    output_dir = pathlib.Path(output_dir)
    missing = [f for f in ("config.json", "model.weights.h5", "history.csv", RUN_FILE) if not (output_dir / f).is_file()]
    if missing:
        raise ValueError(
            f"`output_dir` must be a run folder of keras_transformer.training.arrays; {output_dir} lacks {missing}"
        )
    run = json.loads((output_dir / RUN_FILE).read_text())
    config = TransformerConfig.from_json((output_dir / "config.json").read_text())
    sizes = (source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size)
    if sizes != (config.source_vocab_size, config.target_vocab_size):
        raise ValueError(
            f"The run in {output_dir} was trained with vocabularies of {config.source_vocab_size} and "
            f"{config.target_vocab_size} ids; the tokenizers have {sizes[0]} and {sizes[1]}: it was not trained "
            "on ids from these tokenizers"
        )
    model = build_transformer(config, name=name)
    model.load_weights(str(output_dir / "model.weights.h5"))
    history = read_history(output_dir)
    epoch_seconds = read_epoch_seconds(output_dir / EPOCH_SECONDS_FILE)
    return TrainResult(
        pipeline=TextPipeline(model, source_tokenizer, target_tokenizer, DecodingSettings(), name=name),
        history=history,
        initial_epoch=len(history.get("val_loss", [])),
        throughput=[],
        stopped_by_time_budget=bool(run["stopped_by_deadline"]),
        train_seconds=float(sum(epoch_seconds.values())),
        optimizer_steps=int(run["optimizer_steps"]),
        validation_loss=float(run["validation_loss"]),
        validation_accuracy=float(run["validation_accuracy"]),
        best_epoch=int(run["best_epoch"]),
        averaged_epochs=tuple(run["averaged_epochs"]),
        steps_per_epoch=int(run["steps_per_epoch"]),
        target_tokens_per_epoch=int(run["target_tokens_per_epoch"]),
        steps_per_pass=int(run["steps_per_epoch"]),
        buckets=LengthBuckets(int(run["batch_tokens"]), config.max_length, tuple(run["buckets"])),
        longest_target=int(run["longest_target"]),
        parameters=model.count_params(),
        epoch_seconds=epoch_seconds,
    )


def _callbacks(options, output_dir, steps_per_epoch, tokens_per_epoch):
    """Throughput, time budget, best-by-validation-loss checkpoint, early stopping, CSV history, the
    resumable epoch checkpoints and TensorBoard (when installed). Returns `(callbacks, budget,
    throughput, best checkpoint path)`."""
    from keras_transformer.zoo.folder import read_history

    best_path = output_dir / "checkpoints" / "best.weights.h5"
    best_path.parent.mkdir(exist_ok=True)
    # A resumed run keeps the best checkpoint of the calls before it unless an epoch beats it.
    earlier = (
        (read_history(output_dir) or {}).get("val_loss", []) if options.checkpoint_dir and best_path.is_file() else []
    )
    budget = TimeBudget(options.time_budget_minutes)
    seconds_path = output_dir / EPOCH_SECONDS_FILE
    if not options.checkpoint_dir:
        # A run that does not resume starts its history afresh (CSVLogger overwrites), so do its times.
        seconds_path.unlink(missing_ok=True)
    throughput = Throughput(steps_per_epoch, tokens_per_epoch, every=options.log_every, seconds_path=seconds_path)
    callbacks = [
        throughput,
        budget,
        keras.callbacks.ModelCheckpoint(
            str(best_path),
            monitor="val_loss",
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=min(earlier, default=None),
        ),  # fmt: skip
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=options.patience),
        # A resumed run adds its epochs to the history of the run it continues.
        keras.callbacks.CSVLogger(str(output_dir / "history.csv"), append=bool(options.checkpoint_dir)),
    ]
    if options.checkpoint_dir:
        callbacks.append(ResumableCheckpoint(options.checkpoint_dir, max_to_keep=options.keep_checkpoints))
    if importlib.util.find_spec("tensorboard") is not None:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(output_dir / "logs")))
    else:
        print("tensorboard is not installed: no TensorBoard logs (pip install tensorboard)", flush=True)
    return callbacks, budget, throughput, best_path


def _try_average(model, val_data, options, best_loss, best_accuracy):
    """Average the last `options.average_last` epoch checkpoints into `model` when that lowers the
    validation loss; otherwise leave the best weights. Returns `(averaged epochs or (), loss, accuracy)`."""
    entries = ResumableCheckpoint(options.checkpoint_dir).checkpoints()[: options.average_last]
    if len(entries) < 2:
        return (), best_loss, best_accuracy
    best_weights = model.get_weights()
    average_checkpoints(model, [entry["path"] for entry in entries])
    loss, accuracy = model.evaluate(val_data, verbose=0)
    epochs = tuple(sorted(int(entry["epoch"]) for entry in entries))
    print(f"average of epochs {list(epochs)}: validation loss {loss:.4f} against {best_loss:.4f} for the best epoch",
          flush=True)  # fmt: skip
    if loss < best_loss:
        return epochs, loss, accuracy
    model.set_weights(best_weights)
    return (), best_loss, best_accuracy
