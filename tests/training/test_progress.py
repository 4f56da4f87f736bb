"""`training.TimeBudget` and `training.Throughput`."""

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


@pytest.mark.parametrize("arguments", [{"minutes": 0}, {"minutes": True}])
def test_time_budget_refuses_a_non_positive_budget(arguments):
    with pytest.raises(ValueError, match="minutes"):
        training.TimeBudget(**arguments)
