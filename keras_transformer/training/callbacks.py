"""`ResumableCheckpoint`: save the whole training state at each epoch end, atomically, and resume from it."""

import json
import os
import shutil
import tempfile
import uuid
import warnings

import keras

from keras_transformer import _validation
from keras_transformer._hashing import sha256_file

MANIFEST_NAME = "checkpoint.json"
_FORMAT = 1
_TEMPORARY_PREFIX = ".tmp-"
_WEIGHTS_PREFIX = "epoch-"
_WEIGHTS_SUFFIX = ".weights.h5"


class ResumableCheckpoint(keras.callbacks.Callback):
    """Checkpoint model weights, optimizer state and the epoch counter; resume `fit` where it stopped.

    At the end of every epoch the callback writes `epoch-<n>.weights.h5` (everything `save_weights`
    holds: the model's variables and the optimizer's, including its step counter, so learning-rate
    schedules and loss scaling continue) and then a small manifest, `checkpoint.json`, naming the
    newest complete checkpoints with their epoch, size and SHA-256. Both are written to a temporary
    file in the same directory, flushed to disk (`fsync`) and moved into place with `os.replace`, so
    a reader sees the previous manifest or the new one, never a partial file; the manifest is the
    commit point, and older checkpoints are only deleted after it. A process killed at any moment
    (`kill -9`, preemption, power loss on a file system that honours `fsync`) leaves a loadable
    checkpoint.

    On `on_train_begin` the callback loads the newest checkpoint whose size and checksum match
    (falling back to older kept ones) and makes `fit` continue with the next epoch, so rerunning the
    same command after a crash loses at most the epoch that was under way and ends after the planned
    number of epochs. A run that already finished trains no further epochs.

    The data order of the resumed epochs is not the one an uninterrupted run would have seen
    (`fit` reshuffles), so a resumed run is equivalent, not bit-identical. The state of other
    callbacks (an `EarlyStopping` patience counter, say) is not saved.

    Under `tf.distribute.MultiWorkerMirroredStrategy` every worker saves (reading variables may need
    all of them) but only the chief writes into `directory`; the others write to a private temporary
    folder and delete it. Every worker restores from `directory`, so it must be one shared folder
    (a network file system that supports atomic rename) that all workers see.

    Args:
        directory: the folder for this run's checkpoints (created if missing). Use one folder per
            training run: the callback deletes checkpoint files in it that its manifest does not name.
        max_to_keep: how many complete checkpoints to keep, >= 1. The default 2 keeps one to fall
            back to if the newest is damaged after it was written (a bad disk, a manual edit).
        write: whether this process writes checkpoints; None (default) means the chief only
            (see `keras_transformer.training.distributed.is_chief`).
        verbose: 1 prints a line when resuming and after each save; 0 is silent.

    Example:
    >>> import tempfile
    >>> import numpy as np
    >>> import keras
    >>> directory = tempfile.mkdtemp()
    >>> def make_model():
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    ...     model.compile(optimizer="adam", loss="mse")
    ...     return model
    >>> x, y = np.ones((8, 3)), np.zeros((8, 1))
    >>> _ = make_model().fit(x, y, epochs=2, verbose=0, callbacks=[ResumableCheckpoint(directory, verbose=0)])
    >>> # A new process (here: a new model) rerunning the same `fit` continues after epoch 2.
    >>> history = make_model().fit(x, y, epochs=5, verbose=0, callbacks=[ResumableCheckpoint(directory, verbose=0)])
    >>> history.epoch
    [2, 3, 4]
    >>> ResumableCheckpoint(directory).latest()["epoch"]
    5
    """

    def __init__(self, directory, max_to_keep=2, write=None, verbose=1):
        super().__init__()
        if not isinstance(directory, (str, os.PathLike)) or not str(directory):
            raise ValueError(f"`directory` must be a non-empty path. Received: directory={directory!r}")
        _validation.int_at_least("max_to_keep", max_to_keep, 1)
        if write not in (None, True, False):
            raise ValueError(f"`write` must be None, True or False. Received: write={write!r}")
        if verbose not in (0, 1):
            raise ValueError(f"`verbose` must be 0 or 1. Received: verbose={verbose!r}")
        self.directory = os.fspath(directory)
        self.max_to_keep = max_to_keep
        self.write = write
        self.verbose = verbose
        self.manifest_path = os.path.join(self.directory, MANIFEST_NAME)
        self.restored_path = None  # the weights file `restore` loaded last

    # ---------------------------------------------------------------- reading

    def checkpoints(self):
        """The complete checkpoints the manifest names, newest first.

        Returns:
            A list of dicts with `epoch` (epochs completed), `path`, `bytes`, `sha256` and `logs`
            (the epoch's metrics); empty when nothing was saved yet.
        """
        try:
            with open(self.manifest_path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            return []
        try:
            manifest = json.loads(text)
            entries = manifest["checkpoints"]
            if manifest.get("format") != _FORMAT or not isinstance(entries, list):
                raise ValueError(f"format={manifest.get('format')!r}")
            return [{**entry, "path": os.path.join(self.directory, entry["weights"])} for entry in entries]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{self.manifest_path} is not a ResumableCheckpoint manifest (format {_FORMAT}); it was edited "
                f"or written by something else. Delete the folder to start over. Received error: {error}"
            ) from None

    def latest(self):
        """The newest checkpoint's entry (see `checkpoints`), or None when there is none."""
        entries = self.checkpoints()
        return entries[0] if entries else None

    def restore(self, model=None):
        """Load the newest intact checkpoint into `model` (weights and optimizer state).

        A checkpoint whose size or SHA-256 differs from the manifest, or that fails to load, is
        skipped with a warning for the next older one.

        Args:
            model: a built, compiled model; by default the model this callback is attached to.

        Returns:
            The number of epochs the restored checkpoint had completed, or 0 when the folder holds
            no checkpoint.
        """
        model = model if model is not None else self.model
        if model is None:
            raise ValueError("`restore` needs a model: pass one or attach the callback to `fit`. Received: model=None")
        entries = self.checkpoints()
        if not entries:
            return 0
        if model.optimizer is not None and not model.optimizer.built:
            # The optimizer creates its variables lazily; they must exist before their values load.
            with _strategy_scope(model):
                model.optimizer.build(model.trainable_variables)
        failures = []
        for entry in entries:
            problem = _verify(entry)
            if problem is None:
                # h5py, Keras and TensorFlow raise many types for a damaged or mismatched file.
                try:
                    model.load_weights(entry["path"])
                except Exception as error:  # noqa: BLE001 - try the next checkpoint
                    problem = f"{type(error).__name__}: {error}"
            if problem is None:
                if failures:
                    warnings.warn(f"Skipped damaged checkpoints: {'; '.join(failures)}", stacklevel=2)
                self.restored_path = entry["path"]
                return int(entry["epoch"])
            failures.append(f"{entry['path']} ({problem})")
        raise RuntimeError(
            f"No checkpoint in {self.directory} could be loaded: {'; '.join(failures)}. "
            "Delete the folder to start over."
        )

    # ---------------------------------------------------------------- callback hooks

    def on_train_begin(self, logs=None):
        if self._writes():
            _remove_temporary_files(self.directory)
        epochs_done = self.restore()
        if epochs_done:
            # `fit` starts its epoch loop at `model._initial_epoch` when set; Keras' own
            # BackupAndRestore resumes the same way (there is no public hook for it).
            self.model._initial_epoch = epochs_done
            self._print(f"resumed from epoch {epochs_done} ({self.restored_path})")

    def on_epoch_end(self, epoch, logs=None):
        self._save(epoch + 1, logs or {})

    def on_train_end(self, logs=None):
        # Without this a later `fit` of the same model, without the callback, would skip epochs.
        self.model._initial_epoch = None

    # ---------------------------------------------------------------- writing

    def _writes(self):
        if self.write is not None:
            return self.write
        if keras.backend.backend() != "tensorflow":
            return True
        from keras_transformer.training.distributed import is_chief

        return is_chief(getattr(self.model, "distribute_strategy", None))

    def _save(self, epochs_done, logs):
        name = f"{_WEIGHTS_PREFIX}{epochs_done:06d}{_WEIGHTS_SUFFIX}"
        if not self._writes():
            # Non-chief workers still take part in the save, then throw their copy away.
            scratch = tempfile.mkdtemp(prefix="resumable-checkpoint-")
            try:
                self._write_weights(os.path.join(scratch, name))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            return
        os.makedirs(self.directory, exist_ok=True)
        temporary = os.path.join(self.directory, f"{_TEMPORARY_PREFIX}{uuid.uuid4().hex}-{name}")
        self._write_weights(temporary)
        size = os.path.getsize(temporary)
        digest = sha256_file(temporary)
        os.replace(temporary, os.path.join(self.directory, name))
        _fsync_directory(self.directory)
        entry = {
            "epoch": epochs_done,
            "weights": name,
            "bytes": size,
            "sha256": digest,
            "logs": {key: float(value) for key, value in logs.items() if _is_number(value)},
        }
        older = [
            {key: value for key, value in e.items() if key != "path"}
            for e in self.checkpoints()
            if e["epoch"] < epochs_done  # newer entries exist only after a fallback past damaged files
        ]
        self._commit_manifest({"format": _FORMAT, "checkpoints": [entry, *older][: self.max_to_keep]})
        self._remove_stale()
        self._print(f"saved epoch {epochs_done} ({os.path.join(self.directory, name)})")

    def _write_weights(self, path):
        self.model.save_weights(path)
        _fsync_file(path)

    def _commit_manifest(self, manifest):
        temporary = os.path.join(self.directory, f"{_TEMPORARY_PREFIX}{uuid.uuid4().hex}-{MANIFEST_NAME}")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.manifest_path)
        _fsync_directory(self.directory)

    def _remove_stale(self):
        """Delete checkpoint files the committed manifest no longer names."""
        named = {entry["weights"] for entry in self.checkpoints()}
        for filename in os.listdir(self.directory):
            if filename.startswith(_WEIGHTS_PREFIX) and filename.endswith(_WEIGHTS_SUFFIX) and filename not in named:
                _remove_quietly(os.path.join(self.directory, filename))

    def _print(self, message):
        if self.verbose and self._writes():
            print(f"ResumableCheckpoint: {message}", flush=True)


def _strategy_scope(model):
    strategy = getattr(model, "distribute_strategy", None)
    if strategy is None:
        import contextlib

        return contextlib.nullcontext()
    return strategy.scope()


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _verify(entry):
    """None if the file matches the manifest, else what is wrong."""
    try:
        size = os.path.getsize(entry["path"])
        if size != entry["bytes"]:
            return f"{size} bytes, the manifest says {entry['bytes']}"
        if sha256_file(entry["path"]) != entry["sha256"]:
            return "SHA-256 differs from the manifest"
    except OSError as error:
        return f"unreadable: {error}"
    return None


def _fsync_file(path):
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(path):
    """Make a rename durable. Some platforms (Windows) cannot open a directory; there it is skipped."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _remove_quietly(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _remove_temporary_files(directory):
    """Temporary files left by a process killed while saving; nothing refers to them."""
    if not os.path.isdir(directory):
        return
    for filename in os.listdir(directory):
        if filename.startswith(_TEMPORARY_PREFIX):
            _remove_quietly(os.path.join(directory, filename))
