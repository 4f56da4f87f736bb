import keras
import numpy as np
import pytest

from keras_transformer.training import TransformerSchedule, paper_optimizer


@pytest.mark.parametrize("step", [1, 10, 3999, 4000, 4001, 100000])
def test_matches_the_paper_formula(step):
    schedule = TransformerSchedule(d_model=512, warmup_steps=4000)
    expected = 512**-0.5 * min(step**-0.5, step * 4000**-1.5)
    # Keras counts optimizer iterations from 0: iteration step - 1 is the paper's step `step`.
    assert float(schedule(step - 1)) == pytest.approx(expected, rel=1e-5)


def test_peak_is_at_warmup_and_scale_multiplies():
    schedule = TransformerSchedule(d_model=256, warmup_steps=100, scale=2.0)
    rates = np.array([float(schedule(i)) for i in range(400)])
    assert rates.argmax() == 99
    assert rates.max() == pytest.approx(2.0 * 256**-0.5 * 100**-0.5, rel=1e-5)


def test_serializes_and_drives_adam_as_in_the_paper():
    schedule = TransformerSchedule(d_model=64, warmup_steps=10)
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(restored, TransformerSchedule) and restored.get_config() == schedule.get_config()
    optimizer = paper_optimizer(64, warmup_steps=10)
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.9, 0.98, 1e-9)
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert float(clone.learning_rate) == pytest.approx(float(schedule(0)), rel=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="warmup_steps=0"):
        TransformerSchedule(64, warmup_steps=0)
    with pytest.raises(ValueError, match="d_model=-1"):
        TransformerSchedule(-1)
