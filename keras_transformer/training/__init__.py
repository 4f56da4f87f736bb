"""Training utilities: the paper's schedule and optimizer, the label-smoothed masked loss, masked accuracy,
and teacher-forcing batches."""

from keras_transformer.training.losses import MaskedSparseCrossEntropy
from keras_transformer.training.metrics import MaskedAccuracy
from keras_transformer.training.schedules import TransformerSchedule, paper_optimizer
from keras_transformer.training.teacher_forcing import teacher_forcing

__all__ = [
    "MaskedAccuracy",
    "MaskedSparseCrossEntropy",
    "TransformerSchedule",
    "paper_optimizer",
    "teacher_forcing",
]
