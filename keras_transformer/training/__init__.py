"""Training: `TrainingOptions`, the one recipe (`fit`: a model config and batches -> a `RunRecord`), the
batches it takes (`text_pair_batches`, `id_batches`), the run folder (`RunFolder`), and the pieces it is
made of: the paper's schedule and optimizer, the label-smoothed masked loss, masked accuracy,
teacher-forcing batches, a checkpoint callback that resumes interrupted training, checkpoint averaging,
deadline and throughput callbacks, multi-worker set-up.

Names are imported on first use, so `TrainingOptions` (and every `--help` built from it) loads no Keras.
"""

from keras_transformer import _lazy

_NAMES = {
    "Batches": ("keras_transformer.training.batches", "Batches"),
    "BucketedBatches": ("keras_transformer.training.batches", "BucketedBatches"),
    "Deadline": ("keras_transformer.training.progress", "Deadline"),
    "MaskedAccuracy": ("keras_transformer.training.metrics", "MaskedAccuracy"),
    "MaskedSparseCrossEntropy": ("keras_transformer.training.losses", "MaskedSparseCrossEntropy"),
    "ResumableCheckpoint": ("keras_transformer.training.callbacks", "ResumableCheckpoint"),
    "RunFolder": ("keras_transformer.training.run_folder", "RunFolder"),
    "RunRecord": ("keras_transformer.training.run_folder", "RunRecord"),
    "Throughput": ("keras_transformer.training.progress", "Throughput"),
    "TimeBudget": ("keras_transformer.training.progress", "TimeBudget"),
    "TrainingOptions": ("keras_transformer.training.options", "TrainingOptions"),
    "TransformerSchedule": ("keras_transformer.training.schedules", "TransformerSchedule"),
    "average_checkpoints": ("keras_transformer.training.averaging", "average_checkpoints"),
    "fit": ("keras_transformer.training.recipe", "fit"),
    "id_batches": ("keras_transformer.training.batches", "id_batches"),
    "is_chief": ("keras_transformer.training.distributed", "is_chief"),
    "paper_optimizer": ("keras_transformer.training.schedules", "paper_optimizer"),
    "prepare_distributed_fit": ("keras_transformer.training.distributed", "prepare_distributed_fit"),
    "read_epoch_seconds": ("keras_transformer.training.progress", "read_epoch_seconds"),
    "record_epoch_seconds": ("keras_transformer.training.progress", "record_epoch_seconds"),
    "teacher_forcing": ("keras_transformer.training.teacher_forcing", "teacher_forcing"),
    "text_pair_batches": ("keras_transformer.training.batches", "text_pair_batches"),
    "tf_config": ("keras_transformer.training.distributed", "tf_config"),
}
__getattr__, __dir__ = _lazy.attach(__name__, _NAMES)
__all__ = sorted(_NAMES)
