"""`TrainingOptions`: the training recipe's options in one frozen, validated value, each also a
command-line option. Which part of the recipe reads each field:

- the model: `size` (a named size of `TransformerConfig`) and its overrides, `dropout`,
  `normalize_first`, `max_length` (`transformer_config`);
- the batches: `max_length`, `batch_tokens`, `length_buckets`, `max_examples`, `seed` (the batch builders
  of `training.batches`: text pairs and token arrays alike; for batches given as they are, `fit` batches
  NumPy arrays by `batch_tokens` and refuses `max_examples`);
- the optimizer and loss: `warmup_steps`, `learning_rate_scale`, `label_smoothing`, `jit_compile` (`compile`);
- the fit loop (`training.recipe.fit`, on every backend and every kind of batches): `epochs`,
  `steps_per_epoch`, `time_budget_minutes`, `patience`, `seed`, `initial_weights`, `checkpoint_dir`,
  `keep_checkpoints`, `average_last`, `log_every`.
"""

import argparse
import dataclasses

from keras_transformer.errors import InvalidArgumentError
from keras_transformer import _validation
from keras_transformer.models.config import TransformerConfig


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
    keras_transformer.errors.InvalidArgumentError: `dropout` must be a number in [0, 1). Received: dropout=1.5
    """

    size: str = _option("compact", "model size (models.config's named sizes)", choices=tuple(TransformerConfig.names()))
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
        _validation.one_of("size", self.size, tuple(TransformerConfig.names()))
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
                raise InvalidArgumentError(
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
            raise ValueError(f"Unknown training options {unknown}; known: {sorted(fields)}. Received: {sorted(defaults)}")
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
        """The `TransformerConfig` of the named `size` with the `d_model`... overrides."""
        overrides = {name: getattr(self, name) for name in ("d_model", "num_heads", "d_ff") if getattr(self, name)}
        if self.num_layers is not None:
            overrides.update(num_encoder_layers=self.num_layers, num_decoder_layers=self.num_layers)
        return TransformerConfig.from_name(
            self.size,
            source_vocab_size=source_vocab_size,
            target_vocab_size=target_vocab_size,
            dropout=self.dropout,
            max_length=self.max_length,
            normalize_first=self.normalize_first,
            **overrides,
        )

    def compile(self, model, d_model=None):
        """Compile `model` with Adam(0.9, 0.98, 1e-9) and the paper's warmup schedule (for `d_model`,
        default the model's config's), the label-smoothed masked loss and masked accuracy. Returns `model`."""
        # Imported here: the options (and every `--help` built from them) need no Keras backend.
        from keras_transformer.training.losses import MaskedSparseCrossEntropy
        from keras_transformer.training.metrics import MaskedAccuracy
        from keras_transformer.training.schedules import paper_optimizer

        model.compile(
            optimizer=paper_optimizer(
                d_model or model.config.d_model, warmup_steps=self.warmup_steps, scale=self.learning_rate_scale
            ),
            loss=MaskedSparseCrossEntropy(label_smoothing=self.label_smoothing),
            metrics=[MaskedAccuracy()],
            # Ids come from the tokenizers, so they are in range; XLA drops the model's id asserts.
            jit_compile=self.jit_compile,
        )
        return model
