"""The training recipe on any Keras backend, from token ids in NumPy arrays.

`train` (in `training.recipe`) tokenizes text with TensorFlow ops, batches with `tf.data` and hands
back a `TextPipeline`, so it runs on TensorFlow only. `fit_token_arrays` is the same recipe (model
sizes, the paper's optimizer and schedule, label-smoothed loss, length buckets, epoch checkpoints,
the average of the last epochs) for ids tokenized beforehand, on TensorFlow, JAX or PyTorch: train
where the accelerator is (JAX on a GPU, say), then package on TensorFlow
(`keras-transformer train TASK --trained-run DIR`).

    python -m keras_transformer.training.arrays ids.npz --output-dir runs/gpu --size small --epochs 60

`ids.npz` is written by `save_token_arrays` (`keras-transformer train TASK --save-token-arrays ids.npz`
writes a task's). The run folder gets what `train` writes: `config.json`, `history.csv`,
`epoch_seconds.json`, `model.weights.h5` (the kept weights), and `run.json` (what `TrainResult`
reports: steps, the best epoch, the averaged epochs, the validation loss).
"""

import argparse
import json
import pathlib
import shlex
import sys
import time

import keras
import numpy as np

from keras_transformer import _backend, _validation
from keras_transformer.data.batching import LengthBuckets
from keras_transformer.models import build_transformer
from keras_transformer.training.averaging import average_checkpoints
from keras_transformer.training.callbacks import ResumableCheckpoint
from keras_transformer.training.progress import Throughput, read_epoch_seconds
from keras_transformer.training.recipe import EPOCH_SECONDS_FILE, TrainingOptions

RUN_FILE = "run.json"
_SPLITS = ("train", "validation")
_SIDES = ("source", "target")


def save_token_arrays(path, token_ids, source_vocab_size, target_vocab_size, start_id, end_id, bounds=None):
    """Write tokenized text pairs to a `.npz` file `fit_token_arrays` reads.

    Args:
        path: the file.
        token_ids: `{"train": (source ids, target ids), "validation": (...)}`, each a list of id lists.
        source_vocab_size, target_vocab_size, start_id, end_id: of the tokenizers.
        bounds: the task's length-bucket bounds, or None.
    """
    arrays = {
        "source_vocab_size": source_vocab_size,
        "target_vocab_size": target_vocab_size,
        "start_id": start_id,
        "end_id": end_id,
        "bounds": np.asarray(bounds if bounds is not None else [], np.int32),
    }
    for split in _SPLITS:
        for side, sequences in zip(_SIDES, token_ids[split]):
            arrays[f"{split}_{side}_ids"] = np.asarray([i for s in sequences for i in s], np.int32)
            arrays[f"{split}_{side}_lengths"] = np.asarray([len(s) for s in sequences], np.int32)
    np.savez_compressed(path, **arrays)


def load_token_arrays(path):
    """Read a `save_token_arrays` file: a dict with `"train"` and `"validation"` (source and target
    id lists), the vocabulary sizes, `start_id`, `end_id` and `bounds` (a tuple, or None)."""
    with np.load(path) as data:
        missing = [k for k in ("source_vocab_size", "train_source_ids", "validation_target_lengths") if k not in data]
        if missing:
            raise ValueError(f"{path} is not a save_token_arrays file: it lacks {missing}")
        result = {key: int(data[key]) for key in ("source_vocab_size", "target_vocab_size", "start_id", "end_id")}
        result["bounds"] = tuple(int(b) for b in data["bounds"]) or None
        for split in _SPLITS:
            sides = []
            for side in _SIDES:
                ids, lengths = data[f"{split}_{side}_ids"], data[f"{split}_{side}_lengths"]
                ends = np.cumsum(lengths)
                sides.append([ids[end - length : end].tolist() for end, length in zip(ends, lengths)])
            result[split] = tuple(sides)
    return result


class BucketedBatches(keras.utils.PyDataset):
    """`LengthBuckets.array_batches` as a Keras `PyDataset`: training batches are reshuffled each
    epoch (seeded by `shuffle_seed` and the epoch), evaluation batches (`shuffle_seed=None`) stay."""

    def __init__(self, buckets, source_ids, target_ids, start_id, end_id, shuffle_seed=None):
        super().__init__()
        self._make = lambda seed: buckets.array_batches(source_ids, target_ids, start_id, end_id, shuffle_seed=seed)
        self._seed = shuffle_seed
        self._epoch = 0
        self._batches = self._make(shuffle_seed)
        if not self._batches:
            raise ValueError(
                f"No batch: {len(source_ids)} examples fill no batch of batch_tokens={buckets.batch_tokens}"
            )

    def __len__(self):
        return len(self._batches)

    def __getitem__(self, index):
        return self._batches[index]

    def on_epoch_end(self):
        self.start_at_epoch(self._epoch + 1)

    def start_at_epoch(self, epoch):
        """Shuffle as for epoch `epoch` (from 0) of the run, so a resumed run does not repeat an order."""
        self._epoch = epoch
        if self._seed is not None:
            self._batches = self._make(self._seed + 1000003 * epoch if epoch else self._seed)


def _fit_input(batches):
    """What `fit` gets: the `BucketedBatches` itself on JAX and PyTorch. On TensorFlow a `tf.data`
    pipeline over it with free batch and length dimensions, since Keras would fix the length to that of
    the first batches it looks at; it reshuffles after each pass as the `PyDataset` does."""
    if _backend.name() != "tensorflow":
        return batches
    import tensorflow as tf

    def generate():
        yield from (batches[index] for index in range(len(batches)))
        batches.on_epoch_end()

    ids = tf.TensorSpec((None, None), tf.int32)
    signature = ({"encoder_tokens": ids, "decoder_tokens": ids}, ids)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(2)


class StopBefore(keras.callbacks.Callback):
    """Stop `fit` after the epoch when the next one would end after `deadline` (a `time.time()`
    value), judged by the longest epoch of this `fit` call so far, not counting its first (which
    includes compiling the step); stop mid-epoch only once the deadline has passed (that partial
    epoch is then checkpointed as done, like any epoch `fit` ends)."""

    def __init__(self, deadline):
        super().__init__()
        self.deadline = float(deadline)
        self.longest = 0.0
        self.stopped_epoch = None
        self._first = True

    def on_train_begin(self, logs=None):
        self._first = True

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if time.time() > self.deadline:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self._first:
            self._first = False
        else:
            self.longest = max(self.longest, time.time() - self.started)
        if time.time() + self.longest > self.deadline:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True


def fit_token_arrays(options, data, output_dir, name, deadline=None):
    """Build, compile and fit the recipe's model on `load_token_arrays` data on any backend.

    Every epoch is checkpointed to `options.checkpoint_dir` (default `output_dir/resumable`), so
    rerunning resumes; the best epoch by validation loss is saved to `output_dir/checkpoints/best.weights.h5`.
    At the end the weights of the best epoch are kept, or the average of the last `options.average_last`
    epochs' when its validation loss is lower.

    Args:
        options: `TrainingOptions` (the tokenization options and `time_budget_minutes` do not apply;
            use `deadline`).
        data: what `load_token_arrays` returns.
        output_dir: the run's folder.
        name: the Keras model's name.
        deadline: stop before the epoch that would end after this `time.time()`; None: no limit.

    Returns:
        The run's summary (also written to `run.json`).
    """
    if not isinstance(options, TrainingOptions):
        raise TypeError(f"`options` must be TrainingOptions. Received: options={options!r}")
    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_dir = options.checkpoint_dir or str(output_dir / "resumable")
    keras.utils.set_random_seed(options.seed)
    if options.max_examples:
        data = {**data, **{split: tuple(side[: options.max_examples] for side in data[split]) for split in _SPLITS}}
    bounds = data["bounds"]
    buckets = LengthBuckets(options.batch_tokens, options.max_length, bounds) if bounds else None
    if buckets is None:
        lengths = [max(len(s), len(t) + 1) for s, t in zip(*data["train"])]
        buckets = LengthBuckets.from_lengths(lengths, options.batch_tokens, options.max_length, options.length_buckets)
    ids = {"start_id": data["start_id"], "end_id": data["end_id"]}
    train_data = BucketedBatches(buckets, *data["train"], **ids, shuffle_seed=options.seed)
    val_data = BucketedBatches(buckets, *data["validation"], **ids)
    steps = len(train_data)
    tokens = sum(int((labels > 0).sum()) for _, labels in train_data._batches)
    print(f"{len(data['train'][0])} training examples ({steps} steps, {tokens} target tokens a pass), "
          f"{len(data['validation'][0])} validation examples; buckets {list(buckets.boundaries)}; "
          f"backend {_backend.name()}", flush=True)  # fmt: skip

    config = options.transformer_config(data["source_vocab_size"], data["target_vocab_size"])
    (output_dir / "config.json").write_text(config.to_json() + "\n")
    model = options.compile(build_transformer(config, name=name))
    print(f"{model.count_params()} parameters; config {json.dumps(config.to_dict(), sort_keys=True)}", flush=True)
    throughput = Throughput(steps, tokens, every=options.log_every, seconds_path=output_dir / EPOCH_SECONDS_FILE)
    stop = StopBefore(deadline if deadline is not None else float("inf"))
    history_path = output_dir / "history.csv"
    earlier = _column(history_path, "val_loss") if history_path.is_file() else []
    best_path = output_dir / "checkpoints" / "best.weights.h5"
    best_path.parent.mkdir(exist_ok=True)
    callbacks = [
        throughput,
        stop,
        keras.callbacks.CSVLogger(str(history_path), append=True),
        # The best epoch by validation loss, whichever epoch checkpoints are kept; a resumed run keeps
        # the earlier calls' best unless an epoch beats it.
        keras.callbacks.ModelCheckpoint(str(best_path), monitor="val_loss", save_best_only=True, save_weights_only=True,
                                        initial_value_threshold=min(earlier) if earlier and best_path.is_file() else None),
        ResumableCheckpoint(checkpoint_dir, max_to_keep=max(options.keep_checkpoints, options.average_last or 1)),
    ]  # fmt: skip
    train_data.start_at_epoch(len(earlier))
    started = time.monotonic()
    # The batches are shuffled already (within buckets, and the batch order), each epoch anew.
    history = model.fit(_fit_input(train_data), validation_data=_fit_input(val_data), epochs=options.epochs,
                        callbacks=callbacks, verbose=2, shuffle=False)  # fmt: skip
    train_seconds = time.monotonic() - started
    entries = ResumableCheckpoint(checkpoint_dir).checkpoints()
    if not entries:
        raise RuntimeError(f"No epoch was trained and {checkpoint_dir} holds no checkpoint.")
    val_losses = _column(history_path, "val_loss")
    best_epoch = int(np.argmin(val_losses)) + 1
    if not best_path.is_file():
        raise RuntimeError(f"No best checkpoint at {best_path}: the run in {output_dir} was not written by this version.")
    average_checkpoints(model, [best_path])  # the model's weights only; the optimizer state stays
    loss, accuracy = model.evaluate(_fit_input(val_data), verbose=0)
    kept_epochs = [best_epoch]
    averaged = []
    if options.average_last and options.average_last > 1 and len(entries) >= 2:
        last = entries[: options.average_last]
        best_weights = model.get_weights()
        average_checkpoints(model, [entry["path"] for entry in last])
        average_loss, average_accuracy = model.evaluate(_fit_input(val_data), verbose=0)
        epochs = sorted(int(entry["epoch"]) for entry in last)
        print(f"average of epochs {epochs}: validation loss {average_loss:.4f} against {loss:.4f} "
              f"(epoch {kept_epochs[0]})", flush=True)  # fmt: skip
        if average_loss < loss:
            loss, accuracy, averaged, kept_epochs = average_loss, average_accuracy, epochs, epochs
        else:
            model.set_weights(best_weights)
    inference_model = build_transformer(config, name=name)
    inference_model.set_weights(model.get_weights())
    inference_model.save_weights(str(output_dir / "model.weights.h5"))
    epoch_seconds = read_epoch_seconds(output_dir / EPOCH_SECONDS_FILE)
    summary = {
        "backend": _backend.name(),
        "device": device_description(),
        "epochs_run": len(val_losses),
        "epochs_this_call": len(history.epoch),
        "optimizer_steps": int(model.optimizer.iterations),
        "steps_per_epoch": steps,
        "target_tokens_per_epoch": tokens,
        "train_seconds_this_call": round(train_seconds, 1),
        "best_epoch": best_epoch,
        "averaged_epochs": averaged,
        "kept_epochs": kept_epochs,
        "validation_loss": float(loss),
        "validation_accuracy": float(accuracy),
        "stopped_by_deadline": stop.stopped_epoch is not None,
        "parameters": model.count_params(),
        "buckets": list(buckets.bounds),
        "batch_tokens": buckets.batch_tokens,
        "longest_target": max(len(t) for t in data["train"][1]),
        "training_hours": round(sum(epoch_seconds.values()) / 3600, 3),
        "options": options.to_dict(),
    }
    (output_dir / RUN_FILE).write_text(json.dumps(summary, indent=1) + "\n")
    print(f"kept epochs {kept_epochs}: validation loss {loss:.4f}, accuracy {accuracy:.4f}", flush=True)
    return summary


def device_description():
    """What this process trains on, for the card: the accelerator the backend uses, else the CPU cores."""
    import os

    backend = _backend.name()
    accelerator = None
    if backend == "jax":
        import jax

        devices = [d for d in jax.devices() if d.platform != "cpu"]
        if devices:
            accelerator = f"{len(devices)} GPU ({devices[0].device_kind}), Keras {keras.__version__} on JAX {jax.__version__}"
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            accelerator = (f"{torch.cuda.device_count()} GPU ({torch.cuda.get_device_name(0)}), "
                           f"Keras {keras.__version__} on PyTorch {torch.__version__}")  # fmt: skip
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            accelerator = f"{len(gpus)} GPU, Keras {keras.__version__} on TensorFlow {tf.__version__}"
    if accelerator:
        return accelerator
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} CPU cores, Keras {keras.__version__} on {backend}"


def _column(csv_path, name):
    import csv

    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    # A resumed run appends; a repeated epoch (a rerun of an interrupted one) takes its last row.
    by_epoch = {int(row["epoch"]): float(row[name]) for row in rows}
    return [by_epoch[epoch] for epoch in sorted(by_epoch)]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_transformer.training.arrays",
        description="Train the recipe's Transformer on token ids (a save_token_arrays .npz) on any Keras backend.",
    )
    parser.add_argument("data", help="the .npz file of token ids (save_token_arrays)")
    parser.add_argument("--output-dir", required=True, help="the run's folder")
    parser.add_argument("--name", default="transformer", help="the Keras model's name (default: %(default)s)")
    parser.add_argument("--stop-at", type=float,
                        help="a Unix time: stop before the epoch that would end after it")  # fmt: skip
    TrainingOptions.add_arguments(parser)
    args = parser.parse_args(argv)
    args.checkpoint_dir = args.checkpoint_dir or str(pathlib.Path(args.output_dir) / "resumable")
    options = TrainingOptions.from_args(args)
    # Every call's command, oldest first, for the card (a resumed run is the same command again).
    output_dir = pathlib.Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    with open(output_dir / "commands.txt", "a", encoding="utf-8") as handle:
        handle.write(" ".join(["python -m keras_transformer.training.arrays", *map(shlex.quote, argv or sys.argv[1:])]) + "\n")
    if args.stop_at is not None:
        _validation.positive_number("stop_at", args.stop_at)
    fit_token_arrays(options, load_token_arrays(args.data), args.output_dir, args.name, deadline=args.stop_at)
    return 0


if __name__ == "__main__":
    sys.exit(main())
