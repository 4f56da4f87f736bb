"""The training recipe: ONE function, `fit`, from a model config and batches to a run record, on every
Keras backend and every kind of batches (`tf.data`, a `keras.utils.PyDataset`, NumPy arrays).

A `TransformerConfig` trains the encoder-decoder on teacher-forcing batches; an `EncoderConfig` trains
the encoder with a token head (a vocabulary-sized projection of each position's state: tagging, or
masked-token prediction) on batches of `({input name: ids}, labels)`.

It builds and compiles the model (the paper's optimizer and schedule, the label-smoothed masked
loss), fits it with the best-epoch checkpoint, early stopping, resumable epoch checkpoints and a
time budget, keeps the best epoch's weights (or the average of the last epochs' when that is better)
and writes every file of the run through `training.run_folder`.

    options = TrainingOptions(size="tiny", epochs=2)
    batches = text_pair_batches(options, source_tokenizer, target_tokenizer, train_pairs, validation_pairs)
    config = options.transformer_config(source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size)
    record = fit(config, options, batches, "runs/my_model", name="my_model")
    record.weights, record.best_epoch, record.validation_loss
"""

import importlib.util
import json
import os
import time

import keras
import numpy as np

from keras_transformer.errors import DataError, InvalidArgumentError
from keras_transformer import _backend
from keras_transformer.models import EncoderConfig, TransformerConfig, build_encoder, build_transformer
from keras_transformer.training.averaging import average_checkpoints
from keras_transformer.training.batches import Batches
from keras_transformer.training.callbacks import ResumableCheckpoint
from keras_transformer.training.options import TrainingOptions
from keras_transformer.training.progress import Deadline, Throughput
from keras_transformer.training.run_folder import RunFolder, RunRecord


def fit(config, options, batches, run_dir, name="transformer", deadline=None):
    """Build, compile and fit the model of `config`; keep the best weights by validation loss.

    Args:
        config: a `TransformerConfig` (the encoder-decoder), or an `EncoderConfig` (the encoder with a
            token head, `build_model`).
        options: `TrainingOptions` (the fit-loop, optimizer and loss fields; the batching fields
            were read by whoever built `batches`).
        batches: a `training.batches.Batches` (`text_pair_batches`, `id_batches`), or
            `(train, validation)`: two `tf.data.Dataset`s, two `keras.utils.PyDataset`s, or two
            `(inputs, labels)` tuples of NumPy arrays (`inputs` = {"encoder_tokens", "decoder_tokens"}),
            batched here by `options.batch_tokens` padded positions.
        run_dir: the run's folder (created if missing; see `training.run_folder`).
        name: the Keras model's name (checkpoints record layer names under it).
        deadline: also stop before an epoch that would end after this `time.time()` value.

    With `options.checkpoint_dir` every epoch is saved there and rerunning the same call resumes after
    the last saved epoch (the history, the epoch times and the best checkpoint carry on); a rerun whose
    `epochs` are all done trains nothing and keeps the weights again.

    Returns:
        The `RunRecord` (also written to `run.json`).

    Raises:
        ValueError: an option that cannot apply to these batches (`steps_per_epoch` with batches that
            are not `tf.data`, `max_examples` with batches given as they are), or batches of another kind.
    """
    if not isinstance(config, (TransformerConfig, EncoderConfig)):
        raise TypeError(f"`config` must be a TransformerConfig or an EncoderConfig. Received: config={config!r}")
    if not isinstance(options, TrainingOptions):
        raise TypeError(f"`options` must be TrainingOptions. Received: options={options!r}")
    batches = _as_batches(batches, options)
    folder = RunFolder(run_dir).create()
    keras.utils.set_random_seed(options.seed)
    train, validation, steps_per_epoch, tokens_per_epoch = _fit_data(batches, options)
    print(f"{batches.steps_per_pass} steps and {batches.target_tokens_per_pass} target tokens a pass, "
          f"{steps_per_epoch} steps an epoch; batches {json.dumps(batches.description)}; backend {_backend.name()}",
          flush=True)  # fmt: skip

    folder.write_config(config)
    model = options.compile(build_model(config, name=name), d_model=config.d_model)
    if options.initial_weights:
        model.optimizer.build(model.trainable_variables)
        model.load_weights(options.initial_weights)
        print(f"continuing from {options.initial_weights} at optimizer step {int(model.optimizer.iterations)}",
              flush=True)  # fmt: skip
    print(f"{model.count_params()} parameters; config {json.dumps(config.to_dict(), sort_keys=True)}", flush=True)

    callbacks, throughput, stop = _callbacks(options, folder, steps_per_epoch, tokens_per_epoch, deadline)
    if hasattr(batches.train, "start_at_epoch"):  # a resumed run does not repeat an earlier epoch's order
        batches.train.start_at_epoch(len(folder.history().get("val_loss", [])) if options.checkpoint_dir else 0)
    started = time.monotonic()
    history = model.fit(train, validation_data=validation, epochs=options.epochs,
                        steps_per_epoch=options.steps_per_epoch, callbacks=callbacks, verbose=2,
                        shuffle=False)  # fmt: skip  (the batches come shuffled, each epoch anew)
    train_seconds = time.monotonic() - started

    if not folder.best_checkpoint.is_file():
        raise RuntimeError(f"No epoch was trained and there is no earlier best checkpoint at {folder.best_checkpoint}.")
    run_history = folder.history() or history.history
    optimizer_steps = int(model.optimizer.iterations)
    average_checkpoints(model, [folder.best_checkpoint])  # the model's weights only; the optimizer state stays
    loss, accuracy = model.evaluate(validation, verbose=0)
    averaged = ()
    if options.average_last and options.average_last > 1:
        averaged, loss, accuracy = _try_average(model, validation, options, loss, accuracy)

    # The checkpoints hold the optimizer state too; the kept weights are the model's only.
    inference_model = build_model(config, name=name)
    inference_model.set_weights(model.get_weights())
    inference_model.save_weights(str(folder.weights))
    val_losses = run_history.get("val_loss", [])
    record = RunRecord(
        name=name,
        weights=str(folder.weights),
        history=run_history,
        best_epoch=int(np.argmin(val_losses)) + 1 if val_losses else None,
        averaged_epochs=averaged,
        initial_epoch=history.epoch[0] if history.epoch else len(val_losses),
        optimizer_steps=optimizer_steps,
        steps_per_epoch=steps_per_epoch,
        steps_per_pass=batches.steps_per_pass,
        target_tokens_per_epoch=tokens_per_epoch,
        train_seconds=round(train_seconds, 1),
        epoch_seconds=folder.epoch_seconds(),
        throughput=throughput.epochs,
        validation_loss=float(loss),
        validation_accuracy=float(accuracy),
        stopped_by_time_budget=stop.spent,
        parameters=model.count_params(),
        device=device_description(),
        backend=_backend.name(),
        options=options.to_dict(),
        batches=batches.description,
    )
    folder.write_record(record)
    print(f"kept {list(averaged) or [record.best_epoch]}: validation loss {loss:.4f}, accuracy {accuracy:.4f}",
          flush=True)  # fmt: skip
    return record


def build_model(config, name="transformer"):
    """The model `fit` trains for `config`: `build_transformer(config)` for a `TransformerConfig`; for an
    `EncoderConfig`, `build_encoder(config)` with a token head, a Dense projection of each position's
    state to `config.vocabulary_size` logits (`(B, S) ids -> (B, S, V)`), so that the masked loss and
    accuracy apply as for the decoder."""
    if isinstance(config, TransformerConfig):
        return build_transformer(config, name=name)
    inputs = {key: keras.Input(shape=(None,), dtype="int32", name=key) for key in config.input_names}
    states = build_encoder(config, name=f"{name}_encoder")(inputs)["sequence_output"]  # (B, S, D)
    logits = keras.layers.Dense(config.vocabulary_size, name="token_logits")(states)  # (B, S, V)
    return keras.Model(inputs, logits, name=name)


def _as_batches(batches, options):
    """`batches` as `Batches`: given so, or made from a `(train, validation)` pair."""
    if isinstance(batches, Batches):
        return batches
    if not (isinstance(batches, tuple) and len(batches) == 2):
        raise InvalidArgumentError(
            "`batches` must be training.batches.Batches or a (train, validation) pair of tf.data.Dataset, "
            f"keras.utils.PyDataset or (inputs, labels) NumPy arrays. Received: batches={type(batches).__name__}"
        )
    if options.max_examples is not None:
        raise InvalidArgumentError(
            "`max_examples` is read where the recipe builds the batches (text_pair_batches, id_batches); "
            f"batches given as they are cannot apply it: slice them instead. Received: max_examples={options.max_examples}"
        )
    train, validation = (_as_dataset(data, options, shuffle=index == 0) for index, data in enumerate(batches))
    steps = _cardinality(train)
    tokens = sum(int((np.asarray(labels) > 0).sum()) for _, labels in _peek_all(train)) if steps is not None else 0
    return Batches(train, validation, steps or 0, tokens, {"given": type(batches[0]).__name__})


def _as_dataset(data, options, shuffle):
    """A `PyDataset` of `(inputs, labels)` NumPy arrays (batched by `options.batch_tokens`), or `data`
    when it is a `tf.data.Dataset` or a `PyDataset`."""
    if isinstance(data, keras.utils.PyDataset) or type(data).__module__.startswith("tensorflow"):
        return data
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], dict):
        return _ArrayBatches(*data, batch_tokens=options.batch_tokens, seed=options.seed if shuffle else None)
    raise InvalidArgumentError(
        "Training data must be a tf.data.Dataset, a keras.utils.PyDataset or an (inputs, labels) tuple of NumPy "
        f"arrays. Received: {type(data).__name__}"
    )


class _ArrayBatches(keras.utils.PyDataset):
    """Padded NumPy arrays in batches of about `batch_tokens` positions, reshuffled each epoch."""

    def __init__(self, inputs, labels, batch_tokens, seed=None):
        super().__init__()
        self.inputs = {k: np.asarray(v, "int32") for k, v in inputs.items()}
        self.labels = np.asarray(labels, "int32")
        self.size = max(1, batch_tokens // max(1, self.labels.shape[1]))
        self.seed, self.epoch = seed, 0
        self.order = np.arange(len(self.labels))

    def __len__(self):
        return -(-len(self.labels) // self.size)

    def __getitem__(self, index):
        rows = self.order[index * self.size : (index + 1) * self.size]
        return {k: v[rows] for k, v in self.inputs.items()}, self.labels[rows]

    def on_epoch_end(self):
        self.epoch += 1
        if self.seed is not None:
            self.order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.labels))


def _cardinality(data):
    if isinstance(data, keras.utils.PyDataset):
        return len(data)
    steps = int(data.cardinality())
    return steps if steps >= 0 else None


def _peek_all(data):
    if isinstance(data, keras.utils.PyDataset):
        return (data[index] for index in range(len(data)))
    return data.as_numpy_iterator()


def _fit_data(batches, options):
    """What `fit` gets, and the steps and target tokens of an epoch."""
    steps, tokens = batches.steps_per_pass, batches.target_tokens_per_pass
    train, validation = batches.train, batches.validation
    if options.steps_per_epoch:
        if isinstance(train, keras.utils.PyDataset):
            raise InvalidArgumentError(
                "`steps_per_epoch` repeats tf.data batches; a PyDataset's epoch is one pass over it (give "
                f"steps_per_epoch=None). Received: steps_per_epoch={options.steps_per_epoch}"
            )
        tokens = int(tokens * options.steps_per_epoch / max(1, steps))
        return train.repeat(), validation, options.steps_per_epoch, tokens
    if not steps:
        raise DataError("The training batches are empty (or of unknown length: give steps_per_epoch).")
    return _tf_input(train), _tf_input(validation), steps, tokens


def _tf_input(batches):
    """On TensorFlow, a `PyDataset` goes through a `tf.data` pipeline with free batch and length
    dimensions (Keras would fix the length to that of the first batches it looks at); it reshuffles
    after each pass as the `PyDataset` does. Elsewhere, and for `tf.data`, the batches themselves."""
    if _backend.name() != "tensorflow" or not isinstance(batches, keras.utils.PyDataset):
        return batches
    import tensorflow as tf

    def generate():
        yield from (batches[index] for index in range(len(batches)))
        batches.on_epoch_end()

    ids = tf.TensorSpec((None, None), tf.int32)
    signature = ({name: ids for name in batches[0][0]}, ids)  # the inputs the batches name
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(2)


def _callbacks(options, folder, steps_per_epoch, tokens_per_epoch, deadline):
    """Throughput, the deadline (the time budget's or the caller's, whichever comes first), the best
    checkpoint by validation loss, early stopping, the CSV history, the resumable epoch checkpoints
    and TensorBoard (when installed). Returns `(callbacks, throughput, deadline callback)`."""
    resumes = bool(options.checkpoint_dir)
    # A resumed run keeps the best checkpoint of the calls before it unless an epoch beats it.
    earlier = folder.history().get("val_loss", []) if resumes and folder.best_checkpoint.is_file() else []
    if not resumes:
        # A run that does not resume starts its history afresh (CSVLogger overwrites), so do its times.
        folder.epoch_seconds_file.unlink(missing_ok=True)
    if options.time_budget_minutes is not None:
        budget_end = time.time() + options.time_budget_minutes * 60
        deadline = budget_end if deadline is None else min(deadline, budget_end)
    throughput = Throughput(steps_per_epoch, tokens_per_epoch, every=options.log_every,
                            seconds_path=folder.epoch_seconds_file)  # fmt: skip
    stop = Deadline(deadline)
    callbacks = [
        throughput,
        stop,
        keras.callbacks.ModelCheckpoint(str(folder.best_checkpoint), monitor="val_loss", save_best_only=True,
                                        save_weights_only=True, initial_value_threshold=min(earlier, default=None)),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=options.patience),
        # A resumed run adds its epochs to the history of the run it continues.
        keras.callbacks.CSVLogger(str(folder.history_file), append=resumes),
    ]  # fmt: skip
    if resumes:
        callbacks.append(ResumableCheckpoint(options.checkpoint_dir, max_to_keep=options.keep_checkpoints))
    if importlib.util.find_spec("tensorboard") is not None and _backend.name() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(folder / "logs")))
    return callbacks, throughput, stop


def _try_average(model, validation, options, best_loss, best_accuracy):
    """Average the last `options.average_last` epoch checkpoints into `model` when that lowers the
    validation loss; otherwise leave the best weights. Returns `(averaged epochs or (), loss, accuracy)`."""
    entries = ResumableCheckpoint(options.checkpoint_dir).checkpoints()[: options.average_last]
    if len(entries) < 2:
        return (), best_loss, best_accuracy
    best_weights = model.get_weights()
    average_checkpoints(model, [entry["path"] for entry in entries])
    loss, accuracy = model.evaluate(validation, verbose=0)
    epochs = tuple(sorted(int(entry["epoch"]) for entry in entries))
    print(f"average of epochs {list(epochs)}: validation loss {loss:.4f} against {best_loss:.4f} for the best epoch",
          flush=True)  # fmt: skip
    if loss < best_loss:
        return epochs, loss, accuracy
    model.set_weights(best_weights)
    return (), best_loss, best_accuracy


def device_description():
    """What this process trains on, for the card: the accelerator the backend uses, else the CPU cores."""
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
            names = {tf.config.experimental.get_device_details(gpu).get("device_name", "GPU") for gpu in gpus}
            accelerator = f"{len(gpus)} GPU ({', '.join(sorted(names))}), Keras {keras.__version__} on TensorFlow"
    if accelerator:
        return accelerator
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} CPU cores, Keras {keras.__version__} on {backend}"


__all__ = ["TrainingOptions", "build_model", "device_description", "fit"]
