"""The training recipe shared by the sequence-to-sequence examples (`train_g2p.py`, `train_itn.py`,
`train_dates.py`): read a TFDS split, tokenize it, make bucketed teacher-forcing batches, build and
compile a Transformer with the paper's optimizer and label-smoothed loss, fit it with checkpoints,
early stopping, TensorBoard and a time budget, and package the result as a zoo folder.

`examples/` is not a package: a script imports this module after putting its own folder first on
`sys.path`:

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    import seq2seq_recipe as recipe

A script's life with it:

    parser = argparse.ArgumentParser()
    recipe.add_training_arguments(parser, output_dir="runs/x", size="compact")
    args = parser.parse_args(argv)
    recipe.start(args)                                    # seed, output folder, TFDS quiet
    train = recipe.read_split("num2words_itn", "train", ["text", "digits"])
    ...tokenizers...
    result = recipe.train(args, source_tokenizer, target_tokenizer, train_pairs, validation_pairs, name="x")
    result.model   # a fresh inference model holding the best weights (by validation loss)
"""

import argparse
import contextlib
import dataclasses
import importlib.util
import io
import json
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: keep the log readable

import keras
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

import keras_transformer
from keras_transformer import training, zoo
from keras_transformer.data import load_split

SIZES = {
    "tiny": {"d_model": 32, "num_heads": 2, "d_ff": 64, "num_layers": 1},
    "compact": {"d_model": 128, "num_heads": 4, "d_ff": 512, "num_layers": 3},
    "small": {"d_model": 256, "num_heads": 4, "d_ff": 1024, "num_layers": 3},
}

# Length buckets (exclusive upper bounds) of `train_g2p.py`: CMUdict pairs padded to 6, 8, 10, 13, 17 or 29.
DEFAULT_BOUNDARIES = (7, 9, 11, 14, 18, 30)


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` after the batch that uses up `minutes` of training time (validation of that
    epoch, checkpointing and the rest of the script still run)."""

    def __init__(self, minutes):
        super().__init__()
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
    """Prints seconds per epoch and target tokens per second, and progress every `every` batches."""

    def __init__(self, steps_per_epoch, tokens_per_epoch, every=100):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.tokens_per_epoch = tokens_per_epoch
        self.every = every
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
                + (" (includes XLA compilation of each bucket's shape)" if self.epoch == 0 else ""),
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


def read_split(name, split, fields, data_dir=None, config=None, max_examples=None):
    """A split of a `keras_transformer.data` dataset as Python lists, one per field.

    Text fields become `str`, lists of texts lists of `str`, numbers Python numbers.

    Returns:
        A dict `field -> list`, in the split's order.
    """
    dataset = load_split(name, split, data_dir=data_dir, config=config)
    if max_examples:
        dataset = dataset.take(max_examples)
    columns = {field: [] for field in fields}
    if all(dataset.element_spec[field].shape.rank == 0 for field in fields):
        # Scalar fields: read in large batches, far faster than one example at a time.
        dataset = dataset.map(lambda example: {field: example[field] for field in fields}).batch(8192)
        for batch in dataset.as_numpy_iterator():
            for field in fields:
                columns[field].extend(_python_value(value) for value in batch[field])
        return columns
    for example in dataset.as_numpy_iterator():
        for field in fields:
            columns[field].append(_python_value(example[field]))
    return columns


def _python_value(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_python_value(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def bucket_boundaries(max_length, bounds=DEFAULT_BOUNDARIES):
    """Length buckets (exclusive upper bounds) for `bucket_by_sequence_length`: sequences are padded to
    `bound - 1` positions for the first bound above their length, or to `max_length`."""
    return [b for b in bounds if b <= max_length] + [max_length + 1]


def bounds_from_lengths(lengths, buckets=8):
    """Bucket bounds (for `bucket_boundaries`) that split `lengths` into about `buckets` groups of
    similar size: the quantiles of the lengths, + 1 (bounds are exclusive), distinct and sorted."""
    lengths = np.asarray(lengths)
    quantiles = np.quantile(lengths, np.linspace(0, 1, buckets + 1)[1:])
    return tuple(sorted({int(q) + 1 for q in quantiles}))


def bucket_batch_size(padded_length, batch_tokens):
    """Examples a batch of sequences padded to `padded_length`: about `batch_tokens` positions, a multiple of 8."""
    return max(8, batch_tokens // padded_length // 8 * 8)


def example_lengths(source_ids, target_ids):
    """The length each example is bucketed by: max(source length, target length + 1) (start or end id)."""
    return np.maximum(source_ids.row_lengths().numpy(), target_ids.row_lengths().numpy() + 1)


def make_dataset(
    source_ids, target_ids, start_id, end_id, batch_tokens, max_length, shuffle_seed=None, bounds=DEFAULT_BOUNDARIES
):
    """Teacher-forcing batches `({"encoder_tokens", "decoder_tokens"}, labels)`, bucketed by length.

    Every batch is padded (with 0) to its bucket's length AND batch size, so there is one shape a
    bucket (each shape is an XLA compilation with `jit_compile=True`). Training (`shuffle_seed` given)
    drops each bucket's last partial batch; otherwise that batch is filled up with all-padding rows,
    which the masked loss and accuracy ignore.
    """

    def to_example(source, target):
        start = tf.constant([start_id], tf.int32)
        end = tf.constant([end_id], tf.int32)
        inputs = {"encoder_tokens": source, "decoder_tokens": tf.concat([start, target], 0)}
        return inputs, tf.concat([target, end], 0)

    def length(inputs, labels):
        return tf.maximum(tf.shape(inputs["encoder_tokens"])[0], tf.shape(labels)[0])

    def fill_batch(inputs, labels):
        # (b, L) -> (batch size of the bucket, L) with rows of padding.
        padded_length = tf.shape(labels)[1]
        missing = tf.maximum(8, batch_tokens // padded_length // 8 * 8) - tf.shape(labels)[0]

        def pad(tokens):
            return tf.pad(tokens, [[0, missing], [0, 0]])

        return tf.nest.map_structure(pad, inputs), pad(labels)

    boundaries = bucket_boundaries(max_length, bounds)
    padded_lengths = [b - 1 for b in boundaries] + [max_length]
    batch_sizes = [bucket_batch_size(n, batch_tokens) for n in padded_lengths]
    dataset = tf.data.Dataset.from_tensor_slices((source_ids, target_ids)).map(to_example).cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(int(source_ids.nrows()), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.bucket_by_sequence_length(
        length,
        boundaries,
        batch_sizes,
        pad_to_bucket_boundary=True,
        drop_remainder=shuffle_seed is not None,
    )
    if shuffle_seed is None:
        dataset = dataset.map(fill_batch)
    return dataset.prefetch(tf.data.AUTOTUNE)


def count_epoch(source_ids, target_ids, batch_tokens, max_length, bounds=DEFAULT_BOUNDARIES, drop_remainder=True):
    """Steps and real (unpadded) target tokens of one pass of `make_dataset` over these examples,
    computed from the lengths (no pass over the data). Steps are exact; with `drop_remainder` the
    tokens are an estimate (which examples a bucket drops changes with the shuffle)."""
    boundaries = bucket_boundaries(max_length, bounds)
    padded_lengths = [b - 1 for b in boundaries]
    lengths = example_lengths(source_ids, target_ids)
    target_tokens = target_ids.row_lengths().numpy() + 1
    bucket = np.searchsorted(np.asarray(boundaries), lengths, side="right")
    steps = tokens = 0
    for index, padded_length in enumerate(padded_lengths):
        members = bucket == index
        count = int(members.sum())
        if not count:
            continue
        size = bucket_batch_size(padded_length, batch_tokens)
        kept = count // size * size if drop_remainder else count
        steps += count // size if drop_remainder else -(-count // size)
        tokens += float(target_tokens[members].mean()) * kept
    return steps, int(round(tokens))


def tokenize_pairs(source_tokenizer, target_tokenizer, sources, targets, max_length, name):
    """Both sides as ragged ids; `ValueError` if a source, or a target with its start/end id, is longer
    than `max_length`."""
    source, target = source_tokenizer.tokenize(sources), target_tokenizer.tokenize(targets)
    longest_source = int(tf.reduce_max(source.row_lengths()))
    longest_target = int(tf.reduce_max(target.row_lengths())) + 1  # + the start or end id
    if max(longest_source, longest_target) > max_length:
        raise ValueError(
            f"The {name} data has sequences longer than --max-length={max_length}: "
            f"longest source {longest_source}, longest target (with start/end) {longest_target}."
        )
    return source, target


def add_training_arguments(parser, **defaults):
    """The recipe's command-line options; `defaults` overrides their defaults (by dest name)."""
    parser.add_argument("--output-dir", help="where results go (default: %(default)s)")
    parser.add_argument("--data-dir", help="TFDS data dir (default: keras_transformer.data.default_data_dir())")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--steps-per-epoch", type=int,
                        help="steps between validations (the data repeats); default: one pass over the data")  # fmt: skip
    parser.add_argument("--time-budget-minutes", type=float, help="stop training cleanly after this long")
    parser.add_argument("--patience", type=int, default=6, help="early stopping on validation loss")
    parser.add_argument("--size", choices=list(SIZES), default="compact", help="model size (default: %(default)s)")
    parser.add_argument("--d-model", type=int, help="override the size's d_model")
    parser.add_argument("--num-heads", type=int, help="override the size's num_heads")
    parser.add_argument("--d-ff", type=int, help="override the size's d_ff")
    parser.add_argument("--num-layers", type=int, help="encoder and decoder layers each")
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--normalize-first", action=argparse.BooleanOptionalAction, default=False,
                        help="pre-layer-norm blocks (the paper's are post-layer-norm)")  # fmt: skip
    parser.add_argument("--max-length", type=int, default=64, help="longest source or decoder sequence")
    parser.add_argument("--batch-tokens", type=int, default=1024, help="padded target positions a batch")
    parser.add_argument("--warmup-steps", type=int, default=1500, help="short: the budget allows few epochs")
    parser.add_argument("--learning-rate-scale", type=float, default=1.0, help="multiplies the paper's schedule")
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--max-examples", type=int, help="use only this many training (and validation) examples")
    parser.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--log-every", type=int, default=100, help="print progress every this many steps")
    parser.add_argument("--checkpoint-dir",
                        help="resumable checkpoints (weights + optimizer state) after every epoch; rerunning the same "
                             "command continues after the last saved epoch")  # fmt: skip
    parser.add_argument("--keep-checkpoints", type=int, default=2, help="how many epoch checkpoints to keep")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--initial-weights",
                        help="continue from a checkpoint of this recipe (checkpoints/best.weights.h5 of an earlier "
                             "run with the same options): model weights and optimizer state, schedule step included")  # fmt: skip
    parser.set_defaults(**defaults)
    return parser


def start(args):
    """Seed everything, create the output folder, quiet TFDS; returns the output folder."""
    tfds.disable_progress_bar()
    keras.utils.set_random_seed(args.seed)
    output_dir = pathlib.Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    return output_dir


def build_config(args, source_vocab_size, target_vocab_size):
    """The `TransformerConfig` of `--size` with the `--d-model`... overrides."""
    sizes = dict(SIZES[args.size])
    for name in ("d_model", "num_heads", "d_ff", "num_layers"):
        if getattr(args, name, None) is not None:
            sizes[name] = getattr(args, name)
    num_layers = sizes.pop("num_layers")
    return keras_transformer.TransformerConfig(
        source_vocab_size=source_vocab_size,
        target_vocab_size=target_vocab_size,
        num_encoder_layers=num_layers,
        num_decoder_layers=num_layers,
        dropout=args.dropout,
        max_length=args.max_length,
        normalize_first=getattr(args, "normalize_first", False),
        **sizes,
    )


def compile_model(model, args, d_model):
    """Adam(0.9, 0.98, 1e-9) with the paper's warmup schedule, label-smoothed masked loss, masked accuracy."""
    model.compile(
        optimizer=training.paper_optimizer(d_model, warmup_steps=args.warmup_steps, scale=args.learning_rate_scale),
        loss=training.MaskedSparseCrossEntropy(label_smoothing=args.label_smoothing),
        metrics=[training.MaskedAccuracy()],
        # Ids come from the tokenizers, so they are in range; XLA drops the model's id asserts.
        jit_compile=args.jit_compile,
    )
    return model


def make_callbacks(args, output_dir, steps_per_epoch, tokens_per_epoch):
    """Throughput, time budget, best-by-validation-loss checkpoint, early stopping, CSV history and
    TensorBoard (when installed). Returns `(callbacks, budget, throughput, checkpoint_path)`."""
    checkpoint_path = output_dir / "checkpoints" / "best.weights.h5"
    checkpoint_path.parent.mkdir(exist_ok=True)
    budget = TimeBudget(args.time_budget_minutes)
    throughput = Throughput(steps_per_epoch, tokens_per_epoch, every=args.log_every)
    callbacks = [
        throughput,
        budget,
        keras.callbacks.ModelCheckpoint(
            str(checkpoint_path), monitor="val_loss", save_best_only=True, save_weights_only=True
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience),
        keras.callbacks.CSVLogger(str(output_dir / "history.csv")),
    ]
    if getattr(args, "checkpoint_dir", None):
        callbacks.append(training.ResumableCheckpoint(args.checkpoint_dir, max_to_keep=args.keep_checkpoints))
        callbacks[4] = keras.callbacks.CSVLogger(str(output_dir / "history.csv"), append=True)
    if importlib.util.find_spec("tensorboard") is not None:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(output_dir / "logs")))
    else:
        print("tensorboard is not installed: no TensorBoard logs (pip install tensorboard)", flush=True)
    return callbacks, budget, throughput, checkpoint_path


@dataclasses.dataclass
class TrainResult:
    """What `train` returns. `model` is a fresh (uncompiled) inference model with the best weights."""

    model: object
    config: object
    history: dict
    budget: TimeBudget
    throughput: Throughput
    train_seconds: float
    validation_loss: float
    validation_accuracy: float
    steps_per_epoch: int
    target_tokens_per_epoch: int
    steps_per_pass: int
    parameters: int
    train_source: object
    train_target: object

    @property
    def best_epoch(self):
        return int(np.argmin(self.history["val_loss"])) + 1

    @property
    def epochs_run(self):
        return len(self.history["val_loss"])

    def summary(self):
        """The figures a metrics file records."""
        return {
            "validation_loss": round(self.validation_loss, 4),
            "validation_token_accuracy": round(self.validation_accuracy, 4),
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "stopped_by_time_budget": self.budget.spent,
            "train_seconds": round(self.train_seconds, 1),
            "steps_per_epoch": self.steps_per_epoch,
            "target_tokens_per_epoch": self.target_tokens_per_epoch,
            "steps_per_pass": self.steps_per_pass,
            "epochs": self.throughput.epochs,
            "parameters": self.parameters,
        }


def train(
    args, source_tokenizer, target_tokenizer, train_pairs, validation_pairs, name, bounds=None, buckets=8, output_dir=None
):
    """Tokenize, batch, build, compile and fit; reload the best weights (by validation loss).

    Args:
        args: parsed `add_training_arguments` options.
        source_tokenizer, target_tokenizer: `Tokenizer`s (saved to the output folder here).
        train_pairs, validation_pairs: `(sources, targets)` lists of str.
        name: the Keras model name.
        bounds: length-bucket bounds; None: `bounds_from_lengths(..., buckets)` of the training data.
        output_dir: default `args.output_dir`.

    Writes `config.json`, the vocabularies, `checkpoints/best.weights.h5`, `history.csv`, `logs/` and
    `model.weights.h5` (the best weights without optimizer state) in the output folder.
    """
    output_dir = pathlib.Path(output_dir or args.output_dir)
    source_tokenizer.save(output_dir / "source_vocabulary.json")
    target_tokenizer.save(output_dir / "target_vocabulary.json")
    train_source, train_target = tokenize_pairs(source_tokenizer, target_tokenizer, *train_pairs, args.max_length, "training")
    val_source, val_target = tokenize_pairs(source_tokenizer, target_tokenizer, *validation_pairs, args.max_length, "validation")
    if bounds is None:
        bounds = bounds_from_lengths(example_lengths(train_source, train_target), buckets)
    ids = {"start_id": target_tokenizer.start_id, "end_id": target_tokenizer.end_id}
    batching = {"batch_tokens": args.batch_tokens, "max_length": args.max_length, "bounds": bounds}
    train_data = make_dataset(train_source, train_target, **ids, **batching, shuffle_seed=args.seed)
    val_data = make_dataset(val_source, val_target, **ids, **batching)

    # Steps and real target tokens of one pass, for the speed figures and so Keras knows the epoch
    # length. The bucket sizes are the same every pass, so the step count is too.
    steps_per_pass, tokens_per_pass = count_epoch(train_source, train_target, **batching)
    validation_steps = count_epoch(val_source, val_target, **batching, drop_remainder=False)[0]
    val_data = val_data.apply(tf.data.experimental.assert_cardinality(validation_steps))
    if args.steps_per_epoch:
        steps_per_epoch = args.steps_per_epoch
        tokens_per_epoch = int(tokens_per_pass * steps_per_epoch / steps_per_pass)
        train_data = train_data.repeat()
    else:
        steps_per_epoch, tokens_per_epoch = steps_per_pass, tokens_per_pass
        train_data = train_data.apply(tf.data.experimental.assert_cardinality(steps_per_pass))
    print(
        f"{len(train_pairs[0])} training examples ({steps_per_pass} steps, {tokens_per_pass} target tokens a pass), "
        f"{len(validation_pairs[0])} validation examples; buckets {bucket_boundaries(args.max_length, bounds)}; "
        f"{steps_per_epoch} steps an epoch",
        flush=True,
    )

    config = build_config(args, source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size)
    (output_dir / "config.json").write_text(config.to_json() + "\n")
    model = keras_transformer.build_transformer(config, name=name)
    compile_model(model, args, config.d_model)
    if getattr(args, "initial_weights", None):
        model.optimizer.build(model.trainable_variables)
        model.load_weights(args.initial_weights)
        print(f"continuing from {args.initial_weights} at optimizer step {int(model.optimizer.iterations)}", flush=True)
    print(f"{model.count_params()} parameters; config {json.dumps(config.to_dict(), sort_keys=True)}", flush=True)

    callbacks, budget, throughput, checkpoint_path = make_callbacks(args, output_dir, steps_per_epoch, tokens_per_epoch)
    train_started = time.monotonic()
    history = model.fit(
        train_data,
        validation_data=val_data,
        epochs=args.epochs,
        steps_per_epoch=steps_per_epoch if args.steps_per_epoch else None,
        callbacks=callbacks,
        verbose=2,
    )
    train_seconds = time.monotonic() - train_started

    model.load_weights(str(checkpoint_path))
    val_loss, val_accuracy = model.evaluate(val_data, verbose=0)
    # The checkpoint holds the optimizer state too; the published weights are the model's only.
    inference_model = keras_transformer.build_transformer(config, name=name)
    inference_model.set_weights(model.get_weights())
    inference_model.save_weights(str(output_dir / "model.weights.h5"))
    return TrainResult(
        model=inference_model,
        config=config,
        history=history.history,
        budget=budget,
        throughput=throughput,
        train_seconds=train_seconds,
        validation_loss=float(val_loss),
        validation_accuracy=float(val_accuracy),
        steps_per_epoch=steps_per_epoch,
        target_tokens_per_epoch=tokens_per_epoch,
        steps_per_pass=steps_per_pass,
        parameters=model.count_params(),
        train_source=train_source,
        train_target=train_target,
    )


def zoo_entry(name, model, config, source_tokenizer, target_tokenizer, settings):
    """A `zoo.ZooModel` of an in-memory model, to predict exactly as the packaged model will."""
    return zoo.ZooModel(
        name=name,
        path=None,
        model=model,
        config=config,
        source_tokenizer=source_tokenizer,
        target_tokenizer=target_tokenizer,
        settings=settings,
        card="",
    )


def evaluate_zoo_folder(directory, split="test", limit=None, captured=None):
    """Run `keras-transformer evaluate <name> --split <split>` on the zoo folder `directory` (found
    through `$KERAS_TRANSFORMER_ZOO` set to its parent) and return the JSON report it prints, plus the
    seconds it took.

    With `captured` (a dict), the texts the command decoded and its predictions are recorded there
    (`"texts"`, `"predictions"`), so they can be scored in other ways without decoding again.
    """
    from keras_transformer import cli

    directory = pathlib.Path(directory).resolve()
    argv = ["evaluate", directory.name, "--split", split, "--quiet"]
    if limit is not None:
        argv += ["--limit", str(limit)]
    previous = os.environ.get(zoo.ZOO_VARIABLE)
    os.environ[zoo.ZOO_VARIABLE] = str(directory.parent)
    predict = zoo.ZooModel.predict
    if captured is not None:

        def recording_predict(self, texts, *args, **kwargs):
            outputs = predict(self, texts, *args, **kwargs)
            captured.update(texts=list(texts), predictions=list(outputs))
            return outputs

        zoo.ZooModel.predict = recording_predict
    output = io.StringIO()
    started = time.monotonic()
    try:
        with contextlib.redirect_stdout(output):
            status = cli.main(argv)
    finally:
        zoo.ZooModel.predict = predict
        if previous is None:
            os.environ.pop(zoo.ZOO_VARIABLE, None)
        else:
            os.environ[zoo.ZOO_VARIABLE] = previous
    if status != 0:
        raise RuntimeError(f"keras-transformer {' '.join(argv)} exited with {status}")
    report = json.loads(output.getvalue())
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def format_command(script, argv):
    """The command line that reproduces a run, for model cards."""
    import shlex

    return " ".join(["python", f"examples/{script}", *map(shlex.quote, argv)])


def package(zoo_dir, name, result, source_tokenizer, target_tokenizer, settings, card_for, split="test", captured=None):
    """Write the zoo folder `zoo_dir`, measure it on `split` with `keras-transformer evaluate`, then
    rewrite its card and `card_metrics` with the measured figures (and the manifest).

    Args:
        card_for: `card_for(report)` returns the card's Markdown; `report` is the evaluate report
            (None for the first, provisional card).

    Returns:
        The evaluate report.
    """
    zoo_dir = pathlib.Path(zoo_dir)
    zoo.save(zoo_dir, result.model, result.config, source_tokenizer, target_tokenizer, settings, card_for(None),
             history=result.history)  # this stage's curves (an `--initial-weights` run: its own epochs only)
    report = evaluate_zoo_folder(zoo_dir, split=split, captured=captured)
    print("keras-transformer evaluate " + name + ": " + json.dumps(report), flush=True)
    settings = dict(settings, card_metrics=dict(report["measured"]))
    (zoo_dir / "zoo.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (zoo_dir / "card.md").write_text(card_for(report), encoding="utf-8")
    zoo.write_manifest(zoo_dir)
    return report


def folder_megabytes(directory):
    """Total size of the files in `directory`, in MB (10^6 bytes)."""
    return sum(p.stat().st_size for p in pathlib.Path(directory).iterdir() if p.is_file()) / 1e6


# ---------------------------------------------------------------------------------------------------
# Zoo tasks: one text field -> one text field of a `keras_transformer.data` dataset, packaged as a zoo
# model. `train_itn.py` and `train_dates.py` are a `ZooTask` and a call to `run_zoo_task`.


# Option defaults shared by the zoo's short-text tasks (itn_numbers, dates_iso): a 2+2-layer pre-LN
# compact model, large bucketed batches, a short warmup, fixed-size epochs and a 20-minute budget.
SHORT_TEXT_DEFAULTS = {
    "size": "compact",
    "num_layers": 2,
    "dropout": 0.0,
    "normalize_first": True,
    "learning_rate_scale": 0.8,
    "batch_tokens": 4096,
    "warmup_steps": 1000,
    "steps_per_epoch": 300,
    "patience": 100,
    "time_budget_minutes": 20.0,
}


@dataclasses.dataclass
class ZooTask:
    """What differs between the zoo recipes.

    Args:
        name: the zoo name (`saved_models/<name>/`) and Keras model name.
        script: the script's file name in `examples/`, for the card's training command.
        task: one line for `zoo list`.
        dataset, dataset_config: the `keras_transformer.data` builder and its config name.
        source_field, target_field: the text fields the model maps.
        group_fields: fields whose values the validation exact match is broken down by.
        defaults: the script's option defaults (`add_training_arguments` dest names).
        describe_data: `describe_data(split_sizes)` returns the card's Markdown about the data, its
            licence and its split.
        examples: a few `(source, expected target)` pairs shown in the card with the model's outputs.
        group_names: `{field: names}` for class-label group fields (ids -> names in the breakdown).
        oversample: `oversample(columns, index)` -> how many times training example `index` is used a
            pass (rare kinds can be repeated); None: once each.
        ambiguous_inputs: some source texts have several targets in the data (the input alone cannot
            tell which): also score "any valid reading" and the unambiguous inputs alone.
        notes: extra Markdown for the card's limitations section.
    """

    name: str
    script: str
    task: str
    dataset: str
    dataset_config: str
    source_field: str
    target_field: str
    group_fields: tuple
    defaults: dict
    describe_data: object
    examples: tuple = ()
    group_names: dict = dataclasses.field(default_factory=dict)
    oversample: object = None
    ambiguous_inputs: bool = False
    notes: str = ""


def zoo_task_arguments(task, argv):
    """Parse a zoo script's command line: the recipe's options plus zoo packaging ones."""
    parser = argparse.ArgumentParser(description=task.task)
    defaults = {"output_dir": f"runs/{task.name}", **task.defaults}
    add_training_arguments(parser, **defaults)
    parser.add_argument("--validation-examples", type=int, default=4000,
                        help="validation examples scored at each epoch end (the full split is decoded at the end)")  # fmt: skip
    parser.add_argument("--compare-beam-examples", type=int, default=2000,
                        help="validation examples decoded with both greedy and beam search (0: skip)")  # fmt: skip
    parser.add_argument("--zoo-dir", default=f"saved_models/{task.name}",
                        help="where the zoo folder is written (default: %(default)s)")  # fmt: skip
    parser.add_argument("--length-buckets", type=int, default=6,
                        help="length buckets (quantiles of the training lengths); each is one XLA compilation")  # fmt: skip
    parser.add_argument("--no-package", action="store_true", help="train and score, write no zoo folder")
    return parser.parse_args(argv)


def _breakdown(correct, groups):
    """Exact match a group value: `{value: [matches, count]}`."""
    table = {}
    for right, group in zip(correct, groups):
        counts = table.setdefault(str(group), [0, 0])
        counts[0] += int(right)
        counts[1] += 1
    return table


def _score(task, sources, targets, predictions, readings=None, columns=None):
    """Exact match, and (with `readings`, text -> every target it has in the data) exact match
    accepting any valid reading and on the unambiguous inputs alone; per-group breakdown."""
    correct = [p == t for p, t in zip(predictions, targets)]
    scores = {"examples": len(targets), "exact_match": round(sum(correct) / len(correct), 4), "wrong": len(correct) - sum(correct)}
    if readings is not None:
        ambiguous = [len(readings.get(s, ())) > 1 for s in sources]
        any_reading = [p in readings.get(s, {t}) for s, p, t in zip(sources, predictions, targets)]
        plain = [c for c, a in zip(correct, ambiguous) if not a]
        scores.update(
            ambiguous_inputs=sum(ambiguous),
            exact_match_any_reading=round(sum(any_reading) / len(any_reading), 4),
            exact_match_unambiguous=round(sum(plain) / max(1, len(plain)), 4),
        )
    if columns is not None:
        scores["breakdown"] = {
            field: _breakdown(correct, [task.group_names.get(field, {}).get(v, v) for v in columns[field]])
            for field in task.group_fields
        }
    return scores


def _readings(task, args):
    """Source text -> the set of targets it has anywhere in the dataset (all splits)."""
    readings = {}
    for split in ("train", "validation", "test"):
        columns = read_split(task.dataset, split, [task.source_field, task.target_field], data_dir=args.data_dir,
                             config=task.dataset_config)  # fmt: skip
        for source, target in zip(columns[task.source_field], columns[task.target_field]):
            readings.setdefault(source, set()).add(target)
    return readings


def run_zoo_task(task, argv=None):
    """Train `task`'s model, score it on the validation split, package it into `--zoo-dir`, measure
    it on the test split with `keras-transformer evaluate`, and write the card. Returns the metrics."""
    import sys

    from keras_transformer.data import get_builder
    from keras_transformer.text import Tokenizer

    argv = list(sys.argv[1:] if argv is None else argv)
    args = zoo_task_arguments(task, argv)
    started = time.monotonic()
    output_dir = start(args)

    fields = [task.source_field, task.target_field, *task.group_fields]
    read = {"data_dir": args.data_dir, "config": task.dataset_config}
    train_columns = read_split(task.dataset, "train", fields, max_examples=args.max_examples, **read)
    val_columns = read_split(task.dataset, "validation", fields, max_examples=args.max_examples, **read)
    train_sources, train_targets = train_columns[task.source_field], train_columns[task.target_field]
    val_sources, val_targets = val_columns[task.source_field], val_columns[task.target_field]
    print(f"read {len(train_sources)} training and {len(val_sources)} validation examples "
          f"in {time.monotonic() - started:.0f} s", flush=True)  # fmt: skip

    source_tokenizer = Tokenizer.from_corpus(train_sources, split="characters", lowercase=True)
    target_tokenizer = Tokenizer.from_corpus(train_targets, split="characters")
    print(f"vocabularies: source {source_tokenizer.vocabulary_size}, target {target_tokenizer.vocabulary_size}; "
          f"longest source {max(map(len, train_sources))}, longest target {max(map(len, train_targets))} "
          "characters", flush=True)  # fmt: skip
    if task.oversample is not None:
        repeats = [task.oversample(train_columns, index) for index in range(len(train_sources))]
        train_sources = [s for s, n in zip(train_sources, repeats) for _ in range(n)]
        train_targets = [t for t, n in zip(train_targets, repeats) for _ in range(n)]
        print(f"oversampled: {len(train_sources)} training examples a pass", flush=True)
    monitored = (val_sources[: args.validation_examples], val_targets[: args.validation_examples])
    result = train(args, source_tokenizer, target_tokenizer, (train_sources, train_targets), monitored, name=task.name,
                   buckets=args.length_buckets)  # fmt: skip

    longest_target = int(tf.reduce_max(result.train_target.row_lengths()))
    settings = {
        "task": task.task,
        "dataset": task.dataset,
        "dataset_config": task.dataset_config,
        "source_field": task.source_field,
        "target_field": task.target_field,
        "metrics": ["exact_match", "character_error_rate"],
        # The longest training target, its end id, and 2 to spare.
        "max_output_length": min(longest_target + 3, result.config.max_length),
        "decoding": {"strategy": "greedy", "beam_size": 4},
    }
    entry = zoo_entry(task.name, result.model, result.config, source_tokenizer, target_tokenizer, settings)
    readings = _readings(task, args) if task.ambiguous_inputs else None

    decode_started = time.monotonic()
    predictions = entry.predict(val_sources, batch_size=256)
    decode_seconds = time.monotonic() - decode_started
    validation = _score(task, val_sources, val_targets, predictions, readings, val_columns)
    print(f"validation (greedy, decoded in {decode_seconds:.0f} s): {json.dumps(validation)}", flush=True)
    for source, prediction, target in [(s, p, t) for s, p, t in zip(val_sources, predictions, val_targets) if p != t][:20]:
        print(f"  wrong: {source!r} -> {prediction!r}, expected {target!r}")

    beam = None
    if args.compare_beam_examples:
        count = args.compare_beam_examples
        beam_started = time.monotonic()
        beam_predictions = entry.predict(val_sources[:count], batch_size=128, strategy="beam", beam_size=4)
        beam = {
            "examples": min(count, len(val_sources)),
            "greedy_exact_match": round(sum(p == t for p, t in zip(predictions[:count], val_targets)) / min(count, len(val_targets)), 4),
            "beam4_exact_match": round(sum(p == t for p, t in zip(beam_predictions, val_targets)) / len(beam_predictions), 4),
            "beam4_seconds": round(time.monotonic() - beam_started, 1),
        }
        print(f"greedy vs beam (4) on the first {beam['examples']} validation examples: {json.dumps(beam)}", flush=True)
        # Beam search only when it is measurably better: at least 0.2 points (4 examples in 2,000).
        if beam["beam4_exact_match"] - beam["greedy_exact_match"] >= 0.002:
            settings["decoding"]["strategy"] = "beam"

    summary = result.summary()
    metrics = {
        "validation": validation,
        "beam_comparison": beam,
        "decoding": settings["decoding"],
        "max_output_length": settings["max_output_length"],
        **{k: v for k, v in summary.items() if k != "epochs"},
        "monitored_validation_examples": len(monitored[0]),
        "training_examples": len(train_columns[task.source_field]),
        "training_examples_a_pass": len(train_sources),
        "validation_decode_seconds": round(decode_seconds, 1),
        "epochs": summary["epochs"],
        "seed": args.seed,
        "command": format_command(task.script, argv),
        "command_arguments": vars(args),
        "previous_stages": _previous_stages(args),
    }
    if args.no_package:
        metrics["total_seconds"] = round(time.monotonic() - started, 1)
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        return metrics

    builder = get_builder(task.dataset, data_dir=args.data_dir, config=task.dataset_config)
    split_sizes = {name: info.num_examples for name, info in builder.info.splits.items()}
    shown = entry.predict([source for source, _ in task.examples]) if task.examples else []
    metrics["total_seconds_before_packaging"] = round(time.monotonic() - started, 1)
    extra = {}

    def card_for(report):
        shown_rows = [(source, output, expected) for (source, expected), output in zip(task.examples, shown)]
        return _card(task, args, argv, result, metrics, split_sizes, shown_rows, report, extra)

    captured = {}
    report = package(args.zoo_dir, task.name, result, source_tokenizer, target_tokenizer, settings, card_for,
                     captured=captured)  # fmt: skip
    metrics["test"] = report
    if readings is not None:
        # The CLI reports exact match against the one target of each example; score its own test
        # predictions (recorded while it ran) against every valid reading too.
        test_columns = read_split(task.dataset, "test", fields, **read)
        test_sources, test_targets = test_columns[task.source_field], test_columns[task.target_field]
        if captured.get("texts") != test_sources:
            raise RuntimeError("the evaluate command decoded other texts than the test split's sources")
        test_predictions = captured["predictions"]
        extra["test"] = _score(task, test_sources, test_targets, test_predictions, readings, test_columns)
        print(f"test, with every valid reading: {json.dumps(extra['test'])}", flush=True)
        (pathlib.Path(args.zoo_dir) / "card.md").write_text(card_for(report), encoding="utf-8")
        zoo.write_manifest(args.zoo_dir)
        metrics["test_readings"] = extra["test"]
    metrics["zoo_megabytes"] = round(folder_megabytes(args.zoo_dir), 2)
    metrics["total_seconds"] = round(time.monotonic() - started, 1)
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps({k: v for k, v in metrics.items() if k not in ("epochs", "command_arguments")}), flush=True)
    return metrics


def _previous_stages(args):
    """The runs this one continues (`--initial-weights` of an earlier run's checkpoint), oldest first:
    their command, `fit` seconds and steps, from that run's `metrics.json`."""
    if not getattr(args, "initial_weights", None):
        return []
    metrics_path = pathlib.Path(args.initial_weights).resolve().parents[1] / "metrics.json"
    if not metrics_path.is_file():
        return [{"command": f"(unknown: no {metrics_path})", "initial_weights": args.initial_weights}]
    earlier = json.loads(metrics_path.read_text())
    stage = {
        "command": earlier["command"],
        "train_seconds": earlier["train_seconds"],
        "steps": sum(e["steps"] for e in earlier["epochs"]),
        "best_epoch": earlier["best_epoch"],
        "epochs_run": earlier["epochs_run"],
        "validation_exact_match": (earlier.get("validation") or {}).get("exact_match"),
    }
    return [*earlier.get("previous_stages", []), stage]


def _table_line(name, table):
    return f"By {name}: " + ", ".join(f"{k} {m / n:.4f} ({n:,})" for k, (m, n) in sorted(table.items())) + "."


def _card(task, args, argv, result, metrics, split_sizes, shown, report, extra):
    config = result.config
    decoding = metrics["decoding"]
    validation = metrics["validation"]
    steps = sum(e["steps"] for e in result.throughput.epochs) + sum(st.get("steps", 0) for st in metrics["previous_stages"])
    passes = steps / max(1, result.steps_per_pass)
    lines = [
        f"# {task.name}",
        "",
        f"{task.task}.",
        "",
        "| input | output | expected |",
        "|---|---|---|",
        *[f"| {source} | {output} | {expected}{'' if output == expected else ' (wrong)'} |" for source, output, expected in shown],
        "",
        "```bash",
        f"keras-transformer predict {task.name} \"{shown[0][0]}\"" if shown else f"keras-transformer predict {task.name} ...",
        "```",
        "",
        "## Data",
        "",
        task.describe_data(split_sizes),
        "",
        "## Model",
        "",
        f"Transformer ({'pre' if config.normalize_first else 'post'}-layer-norm, sinusoidal positions) with {config.num_encoder_layers} encoder and "
        f"{config.num_decoder_layers} decoder layers, d_model {config.d_model}, {config.num_heads} heads, "
        f"d_ff {config.d_ff}, dropout {config.dropout}, max_length {config.max_length}: "
        f"{result.parameters:,} parameters. Source: one token a character, lowercased "
        f"({config.source_vocab_size} ids with the 4 reserved); target: one token a character "
        f"({config.target_vocab_size} ids). Decoding: {decoding['strategy']}"
        + (f" (beam {decoding['beam_size']})" if decoding["strategy"] == "beam" else "")
        + f", at most {metrics['max_output_length']} output tokens (end included).",
        "",
        "## Training",
        "",
        "```bash",
        *[stage["command"] for stage in metrics["previous_stages"]],
        format_command(task.script, argv),
        "```",
        "",
        *(
            [
                "Trained in stages: each command after the first continues from the best checkpoint of the one "
                "before it (`--initial-weights`: weights and optimizer state, so the learning-rate schedule "
                "goes on from the step reached). Earlier stages: "
                + "; ".join(
                    f"{stage.get('steps', '?')} steps in {stage.get('train_seconds', 0) / 60:.1f} minutes of `fit`, "
                    + (f"validation exact match {stage['validation_exact_match']:.4f}"
                       if stage.get("validation_exact_match") is not None else "validation exact match not measured")
                    for stage in metrics["previous_stages"]
                )
                + f". Total `fit` time of all stages: "
                f"{(result.train_seconds + sum(st.get('train_seconds', 0) for st in metrics['previous_stages'])) / 60:.1f} "
                "minutes. This stage:",
                "",
            ]
            if metrics["previous_stages"]
            else []
        ),
        f"Seed {args.seed}; Adam (0.9, 0.98, 1e-9) with the paper's schedule (warmup {args.warmup_steps} steps, "
        f"scale {args.learning_rate_scale}), label smoothing {args.label_smoothing}, batches bucketed by length "
        f"with about {args.batch_tokens} padded positions, XLA {'on' if args.jit_compile else 'off'}. "
        + (f"A pass holds {metrics['training_examples_a_pass']:,} examples (rare kinds repeated, see Data). "
           if metrics["training_examples_a_pass"] != metrics["training_examples"] else "")
        + f"Validation loss on the first {metrics['monitored_validation_examples']:,} validation examples after each "
        f"epoch of {result.steps_per_epoch} steps; the best weights by validation loss are kept "
        f"(epoch {result.best_epoch} of {result.epochs_run}"
        + (", stopped by the time budget" if result.budget.spent else "")
        + f"). `fit` took {result.train_seconds / 60:.1f} minutes "
        f"({metrics['total_seconds_before_packaging'] / 60:.1f} minutes for the whole script up to packaging, "
        "reading data and scoring the validation split included) on 2 shared CPU cores (TensorFlow CPU), "
        f"about {passes:.2f} passes over the training data"
        + (" in all stages." if metrics["previous_stages"] else "."),
        "",
        "## Metrics",
        "",
        f"Validation split ({validation['examples']:,} examples, greedy): exact match "
        f"{validation['exact_match']:.4f} ({validation['wrong']} wrong).",
        "",
    ]
    for field, table in validation.get("breakdown", {}).items():
        lines += [_table_line(field, table), ""]
    if metrics.get("beam_comparison"):
        beam = metrics["beam_comparison"]
        lines += [
            f"Greedy against beam search (4) on the first {beam['examples']:,} validation examples: exact match "
            f"{beam['greedy_exact_match']:.4f} against {beam['beam4_exact_match']:.4f}"
            + (" (beam search is used)." if decoding["strategy"] == "beam" else " (greedy is used)."),
            "",
        ]
    if report is None:
        lines += ["Test split: not measured yet.", ""]
    else:
        lines += [
            f"Test split ({report['examples']:,} examples, {report['strategy']}), measured after packaging with "
            f"`keras-transformer evaluate {task.name}` (it took {report['seconds']:.0f} s on the same CPUs):",
            "",
            "```json",
            json.dumps({k: v for k, v in report.items() if k not in ("card", "seconds")}, indent=2),
            "```",
            "",
            "The test split was not looked at before: the checkpoint was chosen by validation loss.",
            "",
        ]
    if extra.get("test"):
        test = extra["test"]
        lines += [
            f"Ambiguous inputs: {test['ambiguous_inputs']:,} of the {test['examples']:,} test examples are texts that "
            "stand for more than one target in this data, so no model can get them all right from the text "
            f"alone. Same test predictions: exact match {test['exact_match']:.4f}; accepting any valid reading "
            f"{test['exact_match_any_reading']:.4f}; on the {test['examples'] - test['ambiguous_inputs']:,} "
            f"unambiguous inputs {test['exact_match_unambiguous']:.4f}.",
            "",
        ]
        for field, table in test.get("breakdown", {}).items():
            lines += ["Test " + _table_line(field, table)[0].lower() + _table_line(field, table)[1:], ""]
    if task.notes:
        lines += ["## Limitations", "", task.notes, ""]
    return "\n".join(lines)
