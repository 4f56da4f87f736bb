"""Training utilities: the paper's schedule and optimizer, the label-smoothed masked loss, masked accuracy,
teacher-forcing batches, a checkpoint callback that resumes interrupted training, checkpoint averaging,
and time-budget and throughput callbacks. The whole recipe (`train`) is in `training.recipe`."""

from keras_transformer.training.averaging import average_checkpoints
from keras_transformer.training.callbacks import ResumableCheckpoint
from keras_transformer.training.distributed import (
    is_chief,
    prepare_distributed_fit,
    tf_config,
)
from keras_transformer.training.losses import MaskedSparseCrossEntropy
from keras_transformer.training.metrics import MaskedAccuracy
from keras_transformer.training.progress import Throughput, TimeBudget, read_epoch_seconds, record_epoch_seconds
from keras_transformer.training.schedules import TransformerSchedule, paper_optimizer
from keras_transformer.training.teacher_forcing import teacher_forcing

__all__ = [
    "MaskedAccuracy",
    "MaskedSparseCrossEntropy",
    "ResumableCheckpoint",
    "Throughput",
    "TimeBudget",
    "TransformerSchedule",
    "average_checkpoints",
    "is_chief",
    "paper_optimizer",
    "prepare_distributed_fit",
    "read_epoch_seconds",
    "record_epoch_seconds",
    "teacher_forcing",
    "tf_config",
]
