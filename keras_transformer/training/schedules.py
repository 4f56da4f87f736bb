"""The paper's learning-rate schedule: linear warmup, then inverse square-root decay."""

import keras
from keras import ops

from keras_transformer import _validation


@keras.saving.register_keras_serializable(package="keras_transformer")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """lrate = scale · d_model^-0.5 · min(step^-0.5, step · warmup_steps^-1.5) (Vaswani et al., section 5.3).

    Steps count from 1 (Keras' optimizer iterations start at 0, so `step = iterations + 1`). Use with
    `keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9)`.

    Args:
        d_model: D.
        warmup_steps: 4000 in the paper.
        scale: a multiplier on the whole curve (1 in the paper).

    Example:
    >>> schedule = TransformerSchedule(d_model=512, warmup_steps=4000)
    >>> round(float(schedule(3999)), 7)  # the peak, at step 4000
    0.0006988
    """

    def __init__(self, d_model, warmup_steps=4000, scale=1.0):
        _validation.positive_int("d_model", d_model)
        _validation.positive_int("warmup_steps", warmup_steps)
        _validation.positive_number("scale", scale)
        self.d_model = d_model
        self.warmup_steps = warmup_steps
        self.scale = scale

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0
        decay = ops.minimum(ops.rsqrt(step), step * self.warmup_steps**-1.5)
        return self.scale * self.d_model**-0.5 * decay

    def get_config(self):
        return {"d_model": self.d_model, "warmup_steps": self.warmup_steps, "scale": self.scale}


def paper_optimizer(d_model, warmup_steps=4000, scale=1.0):
    """Adam(β1=0.9, β2=0.98, ε=1e-9) on `TransformerSchedule`, the paper's optimizer."""
    schedule = TransformerSchedule(d_model, warmup_steps=warmup_steps, scale=scale)
    return keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9)
