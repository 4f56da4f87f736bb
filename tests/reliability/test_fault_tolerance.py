"""Training killed with SIGKILL resumes from its last checkpoint; a kill during a save never leaves a
corrupt latest checkpoint. The training runs are subprocesses (see `checkpoint_worker.py`)."""

import doctest
import hashlib
import json
import os
import pathlib
import re
import warnings

import h5py
import keras
import numpy as np
import pytest

from keras_transformer.training import ResumableCheckpoint, callbacks
from tests.reliability._processes import HERE, ROOT, Child

WORKER = HERE / "checkpoint_worker.py"
EPOCHS = 6
STEPS = 12  # batches per epoch in checkpoint_worker.py
CHILD_TIMEOUT = 240  # seconds; a loaded 2-core machine needs about 40


def epochs_started(output):
    return [int(n) for n in re.findall(rf"^Epoch (\d+)/{EPOCHS}$", output, flags=re.MULTILINE)]


def epoch_losses(output):
    """{epoch: loss} from the `verbose=2` lines, which follow their `Epoch n/N` line."""
    losses, current = {}, None
    for line in output.splitlines():
        started = re.match(rf"Epoch (\d+)/{EPOCHS}$", line)
        if started:
            current = int(started.group(1))
        logged = re.search(r" - loss: ([0-9.]+)", line)
        if logged and current is not None:
            losses[current] = float(logged.group(1))
    return losses


def assert_intact(directory):
    """Every checkpoint the manifest names exists, matches its size and SHA-256, and opens as HDF5 with
    the model's and the optimizer's variables."""
    entries = ResumableCheckpoint(directory).checkpoints()
    assert entries, f"no checkpoint in {directory}: {os.listdir(directory)}"
    for entry in entries:
        data = pathlib.Path(entry["path"]).read_bytes()
        assert len(data) == entry["bytes"], entry
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry
        with h5py.File(entry["path"], "r") as weights:
            assert "optimizer" in weights and "layers" in weights, list(weights)
    return entries


def rerun_and_check_resume(directory, log_path, expected_epoch):
    """Rerun the same command; it must resume after `expected_epoch` and end at epoch EPOCHS."""
    with Child([WORKER, directory, "--epochs", EPOCHS], log_path) as child:
        output = child.finish(CHILD_TIMEOUT)
    assert f"resumed from epoch {expected_epoch} " in output, output
    assert f"optimizer step at start: {expected_epoch * STEPS}" in output, output
    assert epochs_started(output) == list(range(expected_epoch + 1, EPOCHS + 1)), output
    assert f"trained epochs {list(range(expected_epoch + 1, EPOCHS + 1))}" in output, output
    entries = assert_intact(directory)
    assert entries[0]["epoch"] == EPOCHS
    leftovers = [name for name in os.listdir(directory) if name.startswith(".tmp-")]
    assert not leftovers, leftovers
    return output


def test_killed_training_resumes_from_its_last_checkpoint(tmp_path):
    directory = tmp_path / "checkpoints"
    with Child([WORKER, directory, "--epochs", EPOCHS], tmp_path / "first.log") as child:
        # "Epoch 3/6" is printed after epoch 2 was saved: a checkpoint exists and epoch 3 is under way.
        child.wait_until(lambda: 3 in epochs_started(child.output()), CHILD_TIMEOUT, "epoch 3 to start")
        child.kill()
        first = child.output()
    under_way = max(epochs_started(first))
    saved = ResumableCheckpoint(directory).latest()
    assert saved is not None and saved["epoch"] >= under_way - 1, (saved, under_way)  # at most one epoch lost
    assert saved["epoch"] < EPOCHS, "the kill came too late to test resuming"
    assert_intact(directory)

    second = rerun_and_check_resume(directory, tmp_path / "second.log", saved["epoch"])

    # The resumed run continues the loss curve; a run from scratch would start near epoch 1's loss.
    first_loss = epoch_losses(first)[1]
    last_loss_before_kill = saved["logs"]["loss"]
    resumed_loss = epoch_losses(second)[saved["epoch"] + 1]
    assert last_loss_before_kill < first_loss - 0.2, (first_loss, last_loss_before_kill)
    assert abs(resumed_loss - last_loss_before_kill) < abs(resumed_loss - first_loss), (
        first_loss,
        last_loss_before_kill,
        resumed_loss,
    )


def kill_in_phase(directory, log_path, phase, epoch):
    """Run the worker until the save of `epoch` pauses in `phase`, then SIGKILL it."""
    marker = f"{directory}.{phase}-{epoch}"
    arguments = [WORKER, directory, "--epochs", EPOCHS, "--pause-in", phase, "--pause-epoch", epoch]
    with Child(arguments, log_path) as child:
        child.wait_until(lambda: os.path.exists(marker), CHILD_TIMEOUT, f"the save of epoch {epoch} to reach {phase}")
        child.kill()


def test_kill_while_writing_weights_leaves_the_previous_checkpoint_loadable(tmp_path):
    directory = tmp_path / "checkpoints"
    kill_in_phase(directory, tmp_path / "first.log", "weights", epoch=2)
    half_written = [name for name in os.listdir(directory) if name.startswith(".tmp-")]
    assert half_written, os.listdir(directory)  # the kill did land inside the save
    entries = assert_intact(directory)
    assert [entry["epoch"] for entry in entries] == [1]
    rerun_and_check_resume(directory, tmp_path / "second.log", expected_epoch=1)


@pytest.mark.slow
def test_kill_in_every_later_phase_of_a_save(tmp_path):
    directory = tmp_path / "checkpoints"
    # The new weights file is in place but not committed: the manifest still names epoch 1.
    kill_in_phase(directory, tmp_path / "first.log", "manifest", epoch=2)
    assert os.path.exists(directory / "epoch-000002.weights.h5")
    assert [entry["epoch"] for entry in assert_intact(directory)] == [1]
    # Resume from 1, then die after committing epoch 4 but before deleting the oldest file.
    with Child(
        [WORKER, directory, "--epochs", EPOCHS, "--pause-in", "cleanup", "--pause-epoch", 4], tmp_path / "second.log"
    ) as child:
        child.wait_until(lambda: os.path.exists(f"{directory}.cleanup-4"), CHILD_TIMEOUT, "the cleanup of epoch 4")
        child.kill()
        assert "resumed from epoch 1 " in child.output()
    assert [entry["epoch"] for entry in assert_intact(directory)] == [4, 3]
    rerun_and_check_resume(directory, tmp_path / "third.log", expected_epoch=4)
    assert sorted(name for name in os.listdir(directory) if name.endswith(".h5")) == [
        "epoch-000005.weights.h5",
        "epoch-000006.weights.h5",
    ]


@pytest.mark.slow
def test_reverse_example_resumes_after_sigkill(tmp_path):
    directory = tmp_path / "checkpoints"
    command = [
        ROOT / "examples" / "train_reverse.py",
        "--examples", 2000, "--epochs", 5, "--validation-examples", 64,
        "--max-length", 6, "--vocabulary-size", 12, "--checkpoint-dir", directory,
    ]  # fmt: skip
    with Child(command, tmp_path / "first.log") as child:
        child.wait_until(lambda: "Epoch 3/5" in child.output(), 2 * CHILD_TIMEOUT, "epoch 3 to start")
        child.kill()
    saved = ResumableCheckpoint(directory).latest()
    assert saved["epoch"] in (2, 3), saved
    with Child(command, tmp_path / "second.log") as child:
        output = child.finish(2 * CHILD_TIMEOUT)
    assert f"resumed from epoch {saved['epoch']} " in output
    assert re.findall(r"^Epoch (\d+)/5$", output, flags=re.MULTILINE) == [str(n) for n in range(saved["epoch"] + 1, 6)]
    assert ResumableCheckpoint(directory).latest()["epoch"] == 5
    assert '"validation_token_accuracy"' in output


# ---------------------------------------------------------------- in-process checks of the callback


def small_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


def fit(model, directory, epochs, **kwargs):
    x = np.linspace(0, 1, 24, dtype="float32").reshape(8, 3)
    y = x.sum(axis=1, keepdims=True)
    callback = ResumableCheckpoint(directory, verbose=0, **kwargs)
    return model.fit(x, y, epochs=epochs, batch_size=4, shuffle=False, verbose=0, callbacks=[callback])


def test_restore_brings_back_weights_optimizer_state_and_epoch(tmp_path):
    trained = small_model()
    fit(trained, tmp_path, epochs=3)
    fresh = small_model()
    assert ResumableCheckpoint(tmp_path).restore(fresh) == 3
    assert int(fresh.optimizer.iterations) == 6
    for saved, loaded in zip(
        trained.variables + trained.optimizer.variables, fresh.variables + fresh.optimizer.variables
    ):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(loaded))
    assert fresh._initial_epoch is None  # `restore` alone does not change how a later `fit` counts


def test_restore_brings_back_the_loss_scale_of_mixed_float16(tmp_path):
    keras.config.set_dtype_policy("mixed_float16")  # conftest restores float32
    trained = small_model()
    assert isinstance(trained.optimizer, keras.optimizers.LossScaleOptimizer)
    fit(trained, tmp_path, epochs=2)
    trained.optimizer.dynamic_scale.assign(1024.0)  # a value no fresh optimizer starts with
    callback = ResumableCheckpoint(tmp_path, verbose=0)
    callback.set_model(trained)
    callback.on_epoch_end(2)  # saves "3 epochs done"
    fresh = small_model()
    assert ResumableCheckpoint(tmp_path).restore(fresh) == 3
    assert float(fresh.optimizer.dynamic_scale) == 1024.0
    assert int(fresh.optimizer.iterations) == int(trained.optimizer.iterations) > 0


def test_only_the_newest_checkpoints_are_kept(tmp_path):
    fit(small_model(), tmp_path, epochs=4, max_to_keep=2)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.json", "epoch-000003.weights.h5", "epoch-000004.weights.h5"]
    assert [entry["epoch"] for entry in ResumableCheckpoint(tmp_path).checkpoints()] == [4, 3]


def test_a_process_that_does_not_write_leaves_the_folder_alone(tmp_path, capsys):
    directory = tmp_path / "checkpoints"
    history = fit(small_model(), directory, epochs=2, write=False)
    assert history.epoch == [0, 1]
    assert not directory.exists()


def test_a_finished_run_trains_no_further(tmp_path):
    fit(small_model(), tmp_path, epochs=2)
    history = fit(small_model(), tmp_path, epochs=2)
    assert history.epoch == []


def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    fit(small_model(), tmp_path, epochs=3)
    newest = tmp_path / "epoch-000003.weights.h5"
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: h5py might not notice, the checksum does
    newest.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="epoch-000003.weights.h5 .SHA-256 differs"):
        history = fit(small_model(), tmp_path, epochs=5)
    assert history.epoch == [2, 3, 4]
    assert [entry["epoch"] for entry in assert_intact(tmp_path)] == [5, 4]


def test_no_loadable_checkpoint_is_an_error_not_a_silent_restart(tmp_path):
    fit(small_model(), tmp_path, epochs=2)
    for name in ("epoch-000001.weights.h5", "epoch-000002.weights.h5"):
        (tmp_path / name).write_bytes(b"not hdf5")
    with pytest.raises(RuntimeError, match="No checkpoint in .* could be loaded"):
        fit(small_model(), tmp_path, epochs=3)


def test_a_foreign_manifest_is_refused(tmp_path):
    (tmp_path / "checkpoint.json").write_text(json.dumps({"epoch": 3}))
    with pytest.raises(ValueError, match="is not a ResumableCheckpoint manifest"):
        ResumableCheckpoint(tmp_path).latest()


def test_a_checkpoint_of_another_model_is_refused(tmp_path):
    fit(small_model(), tmp_path, epochs=1)
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5), keras.layers.Dense(1)])
    other.compile(optimizer="adam", loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="could be loaded"):
            ResumableCheckpoint(tmp_path).restore(other)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"directory": ""}, "`directory` must be a non-empty path. Received: directory=''"),
        ({"directory": "x", "max_to_keep": 0}, "`max_to_keep` must be an int >= 1. Received: max_to_keep=0"),
        ({"directory": "x", "write": "yes"}, "`write` must be None, True or False. Received: write='yes'"),
        ({"directory": "x", "verbose": 2}, "`verbose` must be 0 or 1. Received: verbose=2"),
    ],
)
def test_bad_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ResumableCheckpoint(**arguments)


def test_docstring_example_runs():
    result = doctest.testmod(callbacks, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0 and result.failed == 0
