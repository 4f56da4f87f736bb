"""A short training run with `ResumableCheckpoint`, started (and killed) as a subprocess by the
fault-tolerance tests.

    python tests/reliability/checkpoint_worker.py DIRECTORY --epochs 6
    python tests/reliability/checkpoint_worker.py DIRECTORY --epochs 6 --pause-in manifest --pause-epoch 2

`--pause-in PHASE` stops the save of epoch `--pause-epoch` inside PHASE, creates the file
`DIRECTORY.PHASE-<epoch>` and sleeps, so that the test can kill the process at that exact point:

- `weights`: the new weights file is half written (a temporary file, truncated to half its size);
- `manifest`: the new weights file is in place, the manifest does not name it yet;
- `cleanup`: the manifest names the new checkpoint, the oldest file is not deleted yet.

The pauses live here, in a subclass, so the library holds no test hooks.
"""

import argparse
import os
import time

import keras
import numpy as np

import keras_transformer
from keras_transformer import training


class PausingCheckpoint(training.ResumableCheckpoint):
    """`ResumableCheckpoint` that sleeps in one phase of one epoch's save."""

    def __init__(self, directory, pause_in, pause_epoch, **kwargs):
        super().__init__(directory, **kwargs)
        self.pause_in = pause_in
        self.pause_epoch = pause_epoch
        self._saving_epoch = None

    def _pause(self, phase):
        if phase == self.pause_in and self._saving_epoch == self.pause_epoch:
            with open(f"{self.directory}.{phase}-{self._saving_epoch}", "w"):
                pass
            time.sleep(600)

    def _save(self, epochs_done, logs):
        self._saving_epoch = epochs_done
        super()._save(epochs_done, logs)

    def _write_weights(self, path):
        super()._write_weights(path)
        if self.pause_in == "weights" and self._saving_epoch == self.pause_epoch:
            with open(path, "rb+") as handle:
                handle.truncate(os.path.getsize(path) // 2)
        self._pause("weights")

    def _commit_manifest(self, manifest):
        self._pause("manifest")
        super()._commit_manifest(manifest)

    def _remove_stale(self):
        self._pause("cleanup")
        super()._remove_stale()


class StepReporter(keras.callbacks.Callback):
    """Prints the optimizer's step counter when training begins (after any restore)."""

    def on_train_begin(self, logs=None):
        print(f"optimizer step at start: {int(self.model.optimizer.iterations)}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=12, help="batches per epoch")
    parser.add_argument("--pause-in", choices=["weights", "manifest", "cleanup"])
    parser.add_argument("--pause-epoch", type=int, default=2)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    config = keras_transformer.TransformerConfig.from_name("tiny", source_vocab_size=12, target_vocab_size=12)
    model = keras_transformer.build_transformer(config)
    model.compile(
        optimizer=training.paper_optimizer(config.d_model, warmup_steps=50),
        loss=training.MaskedSparseCrossEntropy(label_smoothing=0.0),
    )
    rng = np.random.default_rng(0)
    sources = rng.integers(3, 12, size=(16 * args.steps, 5)).tolist()
    inputs, labels = training.teacher_forcing(sources, [s[::-1] for s in sources], start_id=1, end_id=2)
    if args.pause_in:
        checkpoint = PausingCheckpoint(args.directory, args.pause_in, args.pause_epoch)
    else:
        checkpoint = training.ResumableCheckpoint(args.directory)
    history = model.fit(
        inputs, labels, batch_size=16, epochs=args.epochs, callbacks=[checkpoint, StepReporter()], verbose=2
    )
    print(f"trained epochs {[epoch + 1 for epoch in history.epoch]}", flush=True)


if __name__ == "__main__":
    main()
