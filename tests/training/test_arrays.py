"""`training.arrays`: token ids in `.npz` files, `BucketedBatches`, the `Deadline` callback and the recipe
on token arrays (`fit_arrays`, any backend: run files, kept weights, resuming, the deadline, the CLI).

Keras and NumPy only: this folder runs on every backend."""

import csv
import json
import time
import types

import keras
import numpy as np
import pytest

from keras_transformer.data.batching import LengthBuckets
from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.training import progress
from keras_transformer.training.arrays import fit_arrays, load_token_arrays, main, save_token_arrays
from keras_transformer.training.averaging import average_checkpoints
from keras_transformer.training.batches import BucketedBatches
from keras_transformer.training.callbacks import ResumableCheckpoint
from keras_transformer.training.options import TrainingOptions
from keras_transformer.training.progress import Deadline, read_epoch_seconds
from keras_transformer.training.run_folder import RECORD as RUN_FILE
from keras_transformer.training.run_folder import RunFolder

START, END, VOCAB = 1, 2, 12
# XLA on JAX: far faster there than running op by op, even with the compilation.
JIT = keras.backend.backend() == "jax"
TINY = {"size": "tiny", "max_length": 12, "batch_tokens": 128, "warmup_steps": 10, "jit_compile": JIT, "log_every": 0}


def copy_task(count, seed):
    """`count` random id sequences (ids 3..11, 1 to 8 long) as sources, and the same as targets."""
    rng = np.random.default_rng(seed)
    sources = [rng.integers(3, VOCAB, size=n).tolist() for n in rng.integers(1, 9, size=count)]
    return sources, [list(source) for source in sources]


def token_data(bounds=(5,)):
    return {
        "train": copy_task(100, 0),
        "validation": copy_task(24, 1),
        "source_vocab_size": VOCAB,
        "target_vocab_size": VOCAB,
        "start_id": START,
        "end_id": END,
        "bounds": bounds,
    }


def summarize(record):
    """The run record's figures under the names these tests check."""
    return {
        "backend": record.backend,
        "epochs_run": record.epochs_run,
        "epochs_this_call": len(record.throughput),
        "optimizer_steps": record.optimizer_steps,
        "steps_per_epoch": record.steps_per_epoch,
        "best_epoch": record.best_epoch,
        "averaged_epochs": list(record.averaged_epochs),
        "kept_epochs": list(record.averaged_epochs) or [record.best_epoch],
        "validation_loss": record.validation_loss,
        "validation_accuracy": record.validation_accuracy,
        "stopped_by_deadline": record.stopped_by_time_budget,
        "options": record.options,
        **{key: record.batches[key] for key in ("buckets", "batch_tokens", "longest_target")},
    }


def history_epochs(output_dir):
    with open(output_dir / "history.csv", newline="") as handle:
        return [row["epoch"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize("bounds", [None, (4, 7, 30)])
def test_token_arrays_round_trip(tmp_path, bounds):
    token_ids = {
        "train": ([[5, 6, 7], [], [8]], [[9], [10, 11], [12, 13, 14, 15]]),
        "validation": ([[300000]], [[]]),
    }
    path = tmp_path / "ids.npz"
    save_token_arrays(path, token_ids, 301, 17, start_id=1, end_id=2, bounds=bounds)
    data = load_token_arrays(path)
    assert data == {
        "train": token_ids["train"],
        "validation": token_ids["validation"],
        "source_vocab_size": 301,
        "target_vocab_size": 17,
        "start_id": 1,
        "end_id": 2,
        "bounds": bounds,
    }
    assert all(type(i) is int for side in data["train"] for ids in side for i in ids)


def test_loading_another_npz_file_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a save_token_arrays file"):
        load_token_arrays(path)


def test_bucketed_batches_reshuffle_each_epoch_and_evaluation_batches_stay():
    sources, targets = copy_task(200, 0)
    buckets = LengthBuckets(128, 12, (4, 7))
    training = BucketedBatches(buckets, sources, targets, START, END, shuffle_seed=3)
    first = [training[i][1] for i in range(len(training))]
    assert len(training) == len(buckets.array_batches(sources, targets, START, END, shuffle_seed=3))
    assert all(np.array_equal(a, b) for a, (_, b) in zip(first, buckets.array_batches(sources, targets, START, END, 3)))
    training.on_epoch_end()  # the next epoch: another shuffle
    second = [training[i][1] for i in range(len(training))]
    assert len(second) == len(first)
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, second))

    evaluation = BucketedBatches(buckets, sources, targets, START, END)
    before = [evaluation[i][1] for i in range(len(evaluation))]
    evaluation.on_epoch_end()
    assert all(np.array_equal(a, evaluation[i][1]) for i, a in enumerate(before))
    with pytest.raises(ValueError, match="No batch"):
        BucketedBatches(buckets, sources[:3], targets[:3], START, END, shuffle_seed=0)  # 3 examples fill no batch


class FakeClock:
    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


def stop_before(monkeypatch, deadline):
    clock = FakeClock()
    monkeypatch.setattr(progress.time, "time", clock)
    callback = Deadline(deadline)
    callback.set_model(types.SimpleNamespace(stop_training=False))
    callback.on_train_begin()
    return callback, clock


def run_epoch(callback, clock, epoch, seconds, batches=2):
    callback.on_epoch_begin(epoch)
    for batch in range(batches):
        clock.now += seconds / batches
        callback.on_train_batch_end(batch)
    callback.on_epoch_end(epoch)
    return callback.model.stop_training


def test_deadline_stops_after_the_epoch_that_the_next_would_overrun(monkeypatch):
    callback, clock = stop_before(monkeypatch, deadline=1000)
    assert not run_epoch(callback, clock, 0, 500)  # the first epoch (compilation) does not count: 500 + 0 < 1000
    assert not run_epoch(callback, clock, 1, 200)  # 700 + 200 < 1000
    assert not callback.spent and callback.longest == 200
    assert run_epoch(callback, clock, 2, 200)  # 900 + 200 > 1000: epoch 4 would end after the deadline
    assert callback.spent


def test_deadline_stops_mid_epoch_once_the_deadline_has_passed(monkeypatch):
    callback, clock = stop_before(monkeypatch, deadline=100)
    callback.on_epoch_begin(0)
    clock.now = 100
    callback.on_train_batch_end(0)
    assert not callback.model.stop_training  # not passed yet
    clock.now = 100.5
    callback.on_train_batch_end(1)
    assert callback.model.stop_training
    callback.on_epoch_end(0)
    assert callback.spent


def test_deadline_without_a_deadline_never_stops(monkeypatch):
    callback, clock = stop_before(monkeypatch, deadline=None)
    assert not any(run_epoch(callback, clock, epoch, 1e6) for epoch in range(4))
    assert not callback.spent


def test_deadline_judges_by_the_longest_epoch_so_far(monkeypatch):
    callback, clock = stop_before(monkeypatch, deadline=450)
    assert not run_epoch(callback, clock, 0, 10)
    assert not run_epoch(callback, clock, 1, 200)  # 210 + 200 < 450
    # A shorter epoch: the next may take as long as the longest so far, 260 + 200 > 450.
    assert run_epoch(callback, clock, 2, 50) and callback.longest == 200 and callback.spent


def test_fit_arrays_writes_the_run_and_resumes(tmp_path):
    data = token_data()
    options = TrainingOptions(**TINY, epochs=2, average_last=2, keep_checkpoints=3,
                              checkpoint_dir=str(tmp_path / "epochs"))  # fmt: skip
    output_dir = tmp_path / "run"
    record = fit_arrays(options, data, output_dir, name="copier")
    summary = summarize(record)
    for file in ("config.json", "history.csv", "epoch_seconds.json", "model.weights.h5", RUN_FILE):
        assert (output_dir / file).is_file(), file
    assert RunFolder(output_dir).read_record() == record
    assert summary["backend"] == keras.backend.backend()
    assert summary["epochs_run"] == summary["epochs_this_call"] == 2 and history_epochs(output_dir) == ["0", "1"]
    assert summary["optimizer_steps"] == 2 * summary["steps_per_epoch"]
    assert summary["steps_per_epoch"] == len(LengthBuckets(128, 12, (5,)).array_batches(*data["train"], START, END, 0))
    assert summary["buckets"] == [5] and summary["batch_tokens"] == 128 and summary["longest_target"] == 8
    assert not summary["stopped_by_deadline"] and summary["options"] == options.to_dict()
    assert list(read_epoch_seconds(output_dir / "epoch_seconds.json")) == [1, 2]
    with open(output_dir / "history.csv", newline="") as handle:
        val_losses = [float(row["val_loss"]) for row in csv.DictReader(handle)]
    assert summary["best_epoch"] == int(np.argmin(val_losses)) + 1
    if summary["averaged_epochs"]:
        assert summary["averaged_epochs"] == summary["kept_epochs"] == [1, 2]
        assert summary["validation_loss"] <= min(val_losses) + 1e-4  # kept as it is lower than the best epoch's
    else:
        assert summary["kept_epochs"] == [summary["best_epoch"]]
        assert summary["validation_loss"] == pytest.approx(min(val_losses), abs=1e-4)

    # model.weights.h5 holds the kept weights: a fresh model with them gives the reported validation loss.
    config = TransformerConfig.from_json((output_dir / "config.json").read_text())
    assert config == options.transformer_config(VOCAB, VOCAB)
    model = build_transformer(config, name="copier")
    model.load_weights(str(output_dir / "model.weights.h5"))
    options.compile(model)
    validation = BucketedBatches(LengthBuckets(128, 12, (5,)), *data["validation"], START, END)
    loss, accuracy = model.evaluate(validation, verbose=0)
    assert loss == pytest.approx(summary["validation_loss"], abs=1e-4)
    assert accuracy == pytest.approx(summary["validation_accuracy"], abs=1e-4)
    entries = ResumableCheckpoint(options.checkpoint_dir).checkpoints()
    kept = [entry["path"] for entry in entries if entry["epoch"] in summary["kept_epochs"]]
    expected = build_transformer(config)
    average_checkpoints(expected, kept)
    for got, want in zip(model.get_weights(), expected.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    # Rerunning with more epochs continues after epoch 2.
    more = summarize(fit_arrays(options.replace(epochs=3), data, output_dir, name="copier"))
    assert more["epochs_run"] == 3 and more["epochs_this_call"] == 1 and history_epochs(output_dir) == ["0", "1", "2"]
    assert more["optimizer_steps"] == 3 * summary["steps_per_epoch"]
    assert list(read_epoch_seconds(output_dir / "epoch_seconds.json")) == [1, 2, 3]
    assert [entry["epoch"] for entry in ResumableCheckpoint(options.checkpoint_dir).checkpoints()] == [3, 2, 1]
    assert more["averaged_epochs"] in ([], [2, 3]) and more["best_epoch"] in (1, 2, 3)


def test_the_command_line_stops_at_a_deadline_already_past(tmp_path):
    path = tmp_path / "ids.npz"
    data = token_data(bounds=None)  # bounds from the training lengths' quantiles
    save_token_arrays(path, {split: data[split] for split in ("train", "validation")}, VOCAB, VOCAB, START, END)
    output_dir = tmp_path / "run"
    arguments = [str(path), "--output-dir", str(output_dir), "--name", "copier", "--size", "tiny",
                 "--max-length", "12", "--batch-tokens", "128", "--jit-compile" if JIT else "--no-jit-compile",
                 "--log-every", "0", "--epochs", "3", "--max-examples", "64", "--length-buckets", "2",
                 "--average-last", "2", "--keep-checkpoints", "2", "--stop-at", str(time.time() - 1)]  # fmt: skip
    assert main(arguments) == 0
    summary = summarize(RunFolder(output_dir).read_record())
    assert summary["stopped_by_deadline"] and summary["epochs_run"] == summary["epochs_this_call"] == 1
    assert summary["optimizer_steps"] == 1  # stopped after the first batch
    assert summary["kept_epochs"] == [1] and summary["averaged_epochs"] == []
    assert summary["options"]["max_examples"] == 64
    assert summary["options"]["checkpoint_dir"] == str(output_dir / "resumable")  # the default
    lengths = [len(source) + 1 for source in data["train"][0][:64]]  # copies: the target + its start or end id
    assert summary["buckets"] == list(LengthBuckets.from_lengths(lengths, 128, 12, buckets=2).bounds)
    assert [entry["epoch"] for entry in ResumableCheckpoint(output_dir / "resumable").checkpoints()] == [1]
    assert (output_dir / "model.weights.h5").is_file() and history_epochs(output_dir) == ["0"]


def test_fit_arrays_refuses_other_options(tmp_path):
    with pytest.raises(AttributeError):
        fit_arrays({"size": "tiny"}, token_data(), tmp_path, name="copier")


def test_the_best_epoch_is_kept_when_its_epoch_checkpoint_was_deleted(tmp_path):
    # Two good epochs, then two with a learning rate far too high (a resumed call with other options):
    # the best epoch is an early one, and keep_checkpoints=1 has deleted its epoch checkpoint; its
    # weights come from checkpoints/best.weights.h5 and give its validation loss from the history.
    data = token_data()
    options = TrainingOptions(**TINY, epochs=2, keep_checkpoints=1, checkpoint_dir=str(tmp_path / "epochs"))
    fit_arrays(options, data, tmp_path / "run", name="copier")
    summary = summarize(fit_arrays(options.replace(epochs=4, learning_rate_scale=3000.0), data, tmp_path / "run",
                                   name="copier"))  # fmt: skip
    with open(tmp_path / "run" / "history.csv", newline="") as handle:
        val_losses = [float(row["val_loss"]) for row in csv.DictReader(handle)]
    assert len(val_losses) == 4 and max(val_losses[2:]) > max(val_losses[:2])  # the high rate made it worse
    assert summary["best_epoch"] <= 2 and summary["kept_epochs"] == [summary["best_epoch"]]
    assert summary["validation_loss"] == pytest.approx(min(val_losses), abs=1e-4)
    assert [entry["epoch"] for entry in ResumableCheckpoint(tmp_path / "epochs").checkpoints()] == [4]
