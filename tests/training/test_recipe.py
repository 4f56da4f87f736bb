"""`training.recipe.fit`: the one recipe, on a tiny text task through tf.data (best weights, resume,
averaging) and on NumPy arrays and PyDatasets (any backend); `TrainingOptions`; the run folder's files."""

import argparse
import csv

import keras
import numpy as np
import pytest

from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.training.batches import id_batches
from keras_transformer.training.options import TrainingOptions
from keras_transformer.training.progress import read_epoch_seconds
from keras_transformer.training.recipe import fit
from keras_transformer.training.run_folder import RunFolder, read_history
from keras_transformer.zoo.figures import epoch_history

TINY = {"size": "tiny", "max_length": 12, "batch_tokens": 128, "warmup_steps": 10, "jit_compile": False, "log_every": 0}
# The tests that run on every backend compile the step on JAX (op by op, a fit there takes a minute).
ANY_BACKEND = {**TINY, "jit_compile": keras.backend.backend() == "jax"}


def reverse_pairs(count, seed):
    rng = np.random.default_rng(seed)
    sources = ["".join(rng.choice(list("abcdefgh"), size=n)) for n in rng.integers(2, 9, size=count)]
    return sources, [source[::-1] for source in sources]


@pytest.fixture(scope="module")
def data():
    from keras_transformer.text import Tokenizer

    train_pairs, validation_pairs = reverse_pairs(400, 0), reverse_pairs(64, 1)
    tokenizer = Tokenizer.from_corpus(train_pairs[0])
    return tokenizer, train_pairs, validation_pairs


def train(options, source_tokenizer, target_tokenizer, train_pairs, validation_pairs, name, output_dir):
    """The text path as the zoo tasks take it: tf.data batches of text pairs, then `fit`."""
    from keras_transformer.training.batches import text_pair_batches

    batches = text_pair_batches(options, source_tokenizer, target_tokenizer, train_pairs, validation_pairs)
    config = options.transformer_config(source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size)
    return fit(config, options, batches, output_dir, name=name)


def kept_model(record):
    model = build_transformer(RunFolder(record.weights.rsplit("/", 1)[0]).read_config(), name=record.name)
    model.load_weights(record.weights)
    return model


def test_options_parse_from_a_command_line_with_task_defaults():
    parser = TrainingOptions.add_arguments(argparse.ArgumentParser(), size="small", patience=3)
    options = TrainingOptions.from_args(parser.parse_args(["--d-model", "64", "--no-jit-compile", "--epochs", "2"]))
    assert (options.size, options.patience, options.d_model, options.jit_compile, options.epochs) == (
        "small",
        3,
        64,
        False,
        2,
    )
    config = options.transformer_config(source_vocab_size=20, target_vocab_size=30)
    small = TransformerConfig.from_name("small", source_vocab_size=20, target_vocab_size=30)
    assert (config.d_model, config.num_heads, config.num_encoder_layers) == (64, small.num_heads, 3)
    assert TrainingOptions.from_args(parser.parse_args([])) == TrainingOptions(size="small", patience=3)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"size": "huge"}, "size"),
        ({"epochs": 0}, "epochs"),
        ({"dropout": 1.0}, "dropout"),
        ({"jit_compile": 1}, "jit_compile"),
        ({"average_last": 3}, "checkpoint_dir"),
        ({"average_last": 3, "checkpoint_dir": "x", "keep_checkpoints": 2}, "keep_checkpoints >= average_last"),
    ],
)
def test_bad_options_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainingOptions(**changes)


def test_epoch_history_rows_join_the_history_and_the_recorded_seconds():
    history = {"loss": [2.5, 1.5, 1.25], "masked_accuracy": [0.4, 0.7, 0.8], "val_loss": [1.5, 1.25, 1.125],
               "val_masked_accuracy": [0.75, 0.8, 0.85]}  # fmt: skip
    rows = epoch_history(history, {2: 901.2, 3: 880.0, 9: 1.0})  # epoch 1 unrecorded; 9 is not in the history
    assert rows == [
        {"epoch": 1, "loss": 2.5, "val_loss": 1.5, "val_accuracy": 0.75, "seconds": None},
        {"epoch": 2, "loss": 1.5, "val_loss": 1.25, "val_accuracy": 0.8, "seconds": 901.2},
        {"epoch": 3, "loss": 1.25, "val_loss": 1.125, "val_accuracy": 0.85, "seconds": 880.0},
    ]
    assert epoch_history({"loss": [1.0]}, {})[0]["val_loss"] is None and epoch_history({}, {1: 3.0}) == []


def test_unknown_option_defaults_are_refused():
    with pytest.raises(ValueError, match="Unknown training options"):
        TrainingOptions.add_arguments(argparse.ArgumentParser(), sise="tiny")


@pytest.mark.tensorflow_only  # text pairs are tokenized and batched with tf.data
def test_train_keeps_the_best_weights_and_resumes_from_its_checkpoints(data, tmp_path):
    tokenizer, train_pairs, validation_pairs = data
    options = TrainingOptions(**TINY, epochs=2, checkpoint_dir=str(tmp_path / "epochs"), keep_checkpoints=3)
    result = train(
        options, tokenizer, tokenizer, train_pairs, validation_pairs, name="reverser", output_dir=tmp_path / "run"
    )
    assert result.name == "reverser" and result.epochs_run == 2 and result.initial_epoch == 0
    assert result.best_epoch == int(np.argmin(result.history["val_loss"])) + 1
    assert result.validation_loss == pytest.approx(min(result.history["val_loss"]), rel=1e-4)
    assert result.optimizer_steps == 2 * result.steps_per_epoch
    assert result.backend == "tensorflow" and result.options == options.to_dict()
    assert RunFolder(tmp_path / "run").read_record() == result  # run.json holds the record
    for name in (
        "config.json",
        "run.json",
        "history.csv",
        "model.weights.h5",
        "checkpoints/best.weights.h5",
    ):
        assert (tmp_path / "run" / name).is_file(), name

    # Each epoch's wall seconds are kept beside the history.
    seconds_path = tmp_path / "run" / "epoch_seconds.json"
    assert list(result.epoch_seconds) == [1, 2] and result.epoch_seconds == read_epoch_seconds(seconds_path)
    assert [row["seconds"] for row in epoch_history(result.history, result.epoch_seconds)] == [
        r["seconds"] for r in result.throughput
    ]

    # Rerunning with more epochs continues after epoch 2: history, optimizer steps and epoch times carry on
    # (here epoch 1's time was replaced by hand, as when seeding the file from an older run's logs).
    seconds_path.write_text('{"1": 922.7, "2": %s}' % result.epoch_seconds[2])
    more = train(options.replace(epochs=3), tokenizer, tokenizer, train_pairs, validation_pairs, name="reverser",
                 output_dir=tmp_path / "run")  # fmt: skip
    assert more.initial_epoch == 2 and more.epochs_run == 3 and len(more.throughput) == 1
    assert more.optimizer_steps == 3 * result.steps_per_epoch
    with open(tmp_path / "run" / "history.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1", "2"]
    assert more.epoch_seconds == {1: 922.7, 2: result.epoch_seconds[2], 3: more.throughput[0]["seconds"]}
    rows = epoch_history(more.history, more.epoch_seconds)
    assert [row["epoch"] for row in rows] == [1, 2, 3] and rows[0]["seconds"] == 922.7
    assert [row["val_loss"] for row in rows] == [round(v, 4) for v in more.history["val_loss"]]

    # All epochs done: a rerun trains nothing and hands back the kept weights, history and times (packaging).
    again = train(options.replace(epochs=3), tokenizer, tokenizer, train_pairs, validation_pairs, name="reverser",
                  output_dir=tmp_path / "run")  # fmt: skip
    assert again.throughput == [] and again.initial_epoch == 3 and again.epochs_run == 3
    assert again.epoch_seconds == more.epoch_seconds and again.optimizer_steps == more.optimizer_steps
    assert again.validation_loss == pytest.approx(more.validation_loss, rel=1e-5)


@pytest.mark.tensorflow_only  # text pairs are tokenized and batched with tf.data
def test_train_keeps_the_average_of_the_last_epochs_when_it_is_better(data, tmp_path):
    import keras_transformer
    from keras_transformer.training import ResumableCheckpoint

    tokenizer, train_pairs, validation_pairs = data
    options = TrainingOptions(
        **TINY, epochs=3, checkpoint_dir=str(tmp_path / "epochs"), keep_checkpoints=3, average_last=3
    )
    result = train(
        options, tokenizer, tokenizer, train_pairs, validation_pairs, name="reverser", output_dir=tmp_path / "run"
    )
    assert result.averaged_epochs in ((), (1, 2, 3))
    assert result.validation_loss <= min(result.history["val_loss"]) + 1e-4  # the kept weights are never worse

    # The kept weights are the mean of the three epochs' weights, or the best epoch's.
    def weights(path):
        model = keras_transformer.models.build_transformer(RunFolder(tmp_path / "run").read_config())
        model.load_weights(str(path))
        return model.get_weights()

    if result.averaged_epochs:
        runs = [weights(entry["path"]) for entry in ResumableCheckpoint(options.checkpoint_dir).checkpoints()]
        expected = [np.mean(values, axis=0) for values in zip(*runs)]
    else:
        expected = weights(tmp_path / "run" / "checkpoints" / "best.weights.h5")
    for got, want in zip(kept_model(result).get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.tensorflow_only  # text pairs are tokenized and batched with tf.data
def test_train_refuses_data_longer_than_max_length(data, tmp_path):
    tokenizer, train_pairs, validation_pairs = data
    with pytest.raises(ValueError, match="longer than max_length=5"):
        train(TrainingOptions(**{**TINY, "max_length": 5}), tokenizer, tokenizer, train_pairs, validation_pairs,
              name="reverser", output_dir=tmp_path)  # fmt: skip


def copy_ids(count, seed):
    rng = np.random.default_rng(seed)
    sources = [rng.integers(3, 20, size=n).tolist() for n in rng.integers(2, 9, size=count)]
    return sources, [list(source) for source in sources]


def test_fit_on_token_arrays_runs_on_any_backend_and_records_what_applied(tmp_path):
    options = TrainingOptions(**ANY_BACKEND, epochs=2, patience=1, checkpoint_dir=str(tmp_path / "run" / "resumable"))
    batches = id_batches(options, copy_ids(200, 0), copy_ids(40, 1), start_id=1, end_id=2)
    config = options.transformer_config(20, 20)
    record = fit(config, options, batches, tmp_path / "run", name="copier")
    assert record.epochs_run == 2 and record.steps_per_epoch == batches.steps_per_pass == len(batches.train)
    assert record.batches["training_examples"] == 200 and record.best_epoch in (1, 2)
    assert RunFolder(tmp_path / "run").read_record().optimizer_steps == record.optimizer_steps
    assert kept_model(record).count_params() == record.parameters


def test_fit_on_numpy_arrays(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(3, 20, size=(64, 6)).astype("int32")
    inputs = {"encoder_tokens": ids, "decoder_tokens": np.concatenate([np.ones((64, 1), "int32"), ids[:, :-1]], 1)}
    options = TrainingOptions(**{**ANY_BACKEND, "batch_tokens": 96}, epochs=1)
    record = fit(TransformerConfig.from_name("tiny", max_length=12), options, ((inputs, ids), (inputs, ids)),
                 tmp_path, name="arrays")  # fmt: skip
    assert record.steps_per_pass == 4 and record.epochs_run == 1  # 96 positions / 6 a row = 16 rows a batch


def test_options_that_cannot_apply_are_refused(tmp_path):
    options = TrainingOptions(**TINY, steps_per_epoch=3)
    batches = id_batches(options, copy_ids(100, 0), copy_ids(20, 1), start_id=1, end_id=2)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        fit(options.transformer_config(20, 20), options, batches, tmp_path)
    with pytest.raises(ValueError, match="batches"):
        fit(options.transformer_config(20, 20), options, [1, 2, 3], tmp_path)
    ids = np.ones((8, 4), "int32")
    given = (({"encoder_tokens": ids, "decoder_tokens": ids}, ids),) * 2
    with pytest.raises(ValueError, match="max_examples"):
        fit(options.transformer_config(20, 20), TrainingOptions(**TINY, max_examples=4), given, tmp_path)


def test_a_repeated_epoch_row_counts_once_with_its_last_values(tmp_path):
    (tmp_path / "history.csv").write_text("epoch,loss,val_loss\n0,3.0,2.0\n1,2.0,1.5\n1,1.8,1.4\n2,1.0,1.0\n")
    assert read_history(tmp_path) == {"loss": [3.0, 1.8, 1.0], "val_loss": [2.0, 1.4, 1.0]}
    assert RunFolder(tmp_path).history() == read_history(tmp_path / "history.csv")
    assert read_history(tmp_path / "missing") == {}


def test_fit_trains_an_encoder_config_with_a_token_head(tmp_path):
    from keras_transformer.models import EncoderConfig
    from keras_transformer.training.recipe import build_model

    rng = np.random.default_rng(0)
    ids = rng.integers(3, 16, size=(256, 6)).astype("int32")
    labels = np.where(ids % 2 == 0, ids, 0).astype("int32")  # tag the even ids; 0 = not scored
    config = EncoderConfig(vocabulary_size=16, d_model=32, num_heads=2, d_ff=64, num_layers=1, max_length=12)
    options = TrainingOptions(**{**ANY_BACKEND, "batch_tokens": 192, "warmup_steps": 4}, epochs=3,
                              learning_rate_scale=3.0)  # fmt: skip
    record = fit(config, options, (({"token_ids": ids}, labels), ({"token_ids": ids[:64]}, labels[:64])), tmp_path,
                 name="tagger")  # fmt: skip
    assert record.epochs_run == 3 and RunFolder(tmp_path).read_config() == config
    history = record.history
    assert history["val_loss"][-1] < history["val_loss"][0]  # it learns
    model = build_model(config, name="tagger")
    model.load_weights(record.weights)  # the kept weights, without optimizer state, load into a fresh model
    assert model.predict({"token_ids": ids[:2]}, verbose=0).shape == (2, 6, 16)
