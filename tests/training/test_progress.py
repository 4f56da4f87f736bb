"""`training.TimeBudget`, `training.Throughput` and its epoch-seconds file."""

import json

import keras
import numpy as np
import pytest

from keras_transformer import training


def fit(callbacks, epochs=2):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model.fit(np.ones((32, 3)), np.zeros((32, 1)), batch_size=8, epochs=epochs, verbose=0, callbacks=callbacks)


def test_time_budget_stops_after_the_batch_that_spends_it(capsys):
    budget = training.TimeBudget(minutes=1e-9)
    history = fit([budget], epochs=5)
    assert budget.spent and len(history.epoch) == 1
    assert "Time budget" in capsys.readouterr().out


def test_no_budget_never_stops():
    budget = training.TimeBudget()
    assert len(fit([budget], epochs=3).epoch) == 3 and not budget.spent


def test_throughput_records_each_epoch(capsys):
    throughput = training.Throughput(steps_per_epoch=4, tokens_per_epoch=400, every=2)
    fit([throughput])
    assert [record["epoch"] for record in throughput.epochs] == [1, 2]
    assert all(record["steps"] == 4 and record["target_tokens_per_second"] > 0 for record in throughput.epochs)
    assert "epoch 1 step 2/4" in capsys.readouterr().out


def test_throughput_merges_each_epochs_seconds_into_its_file(tmp_path):
    path = tmp_path / "epoch_seconds.json"
    path.write_text('{"1": 922.7, "7": 5.0}')  # earlier epochs, e.g. seeded from an older run's logs
    throughput = training.Throughput(steps_per_epoch=4, tokens_per_epoch=400, every=0, seconds_path=path)
    fit([throughput], epochs=2)  # epochs 1 and 2 of this fit: 1 takes the new time, 7 is kept
    recorded = training.read_epoch_seconds(path)
    assert list(recorded) == [1, 2, 7] and recorded[7] == 5.0
    assert [recorded[1], recorded[2]] == [record["seconds"] for record in throughput.epochs]
    assert set(json.loads(path.read_text())) == {"1", "2", "7"}
    assert [p.name for p in tmp_path.iterdir()] == ["epoch_seconds.json"]  # no temporary file left


def test_record_and_read_epoch_seconds(tmp_path):
    path = tmp_path / "seconds.json"
    assert training.read_epoch_seconds(path) == {}
    assert training.record_epoch_seconds(path, 3, 10.04) == {3: 10.0}
    assert training.record_epoch_seconds(path, 1, 2) == {1: 2.0, 3: 10.0}
    with pytest.raises(ValueError, match="`epoch` must be a positive int. Received: epoch=0"):
        training.record_epoch_seconds(path, 0, 1.0)
    with pytest.raises(ValueError, match="`seconds` must be a number >= 0. Received: seconds=-1"):
        training.record_epoch_seconds(path, 1, -1)
    for text in ("[1, 2]", '{"one": 3}', '{"0": 3}', "{"):
        path.write_text(text)
        with pytest.raises(ValueError, match="seconds.json must hold"):
            training.read_epoch_seconds(path)
    with pytest.raises(ValueError, match="`seconds_path` must be None or a path. Received: seconds_path=3"):
        training.Throughput(steps_per_epoch=4, tokens_per_epoch=400, seconds_path=3)


@pytest.mark.parametrize("arguments", [{"minutes": 0}, {"minutes": True}])
def test_time_budget_refuses_a_non_positive_budget(arguments):
    with pytest.raises(ValueError, match="minutes"):
        training.TimeBudget(**arguments)
