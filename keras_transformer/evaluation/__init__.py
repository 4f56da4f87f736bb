"""Evaluation: metrics for generated text (`metrics`, plain Python) and `evaluate`, which scores a zoo
model (or a `TextPipeline`) on a split of its dataset (`run`)."""

from keras_transformer.evaluation.metrics import (
    METRICS,
    character_error_rate,
    edit_distance,
    exact_match,
    phoneme_error_rate,
    phoneme_error_rate_no_stress,
    strip_stress,
    word_error_rate,
    word_error_rate_no_stress,
)
from keras_transformer.evaluation.run import Evaluation, evaluate

__all__ = [
    "METRICS",
    "Evaluation",
    "character_error_rate",
    "edit_distance",
    "evaluate",
    "exact_match",
    "phoneme_error_rate",
    "phoneme_error_rate_no_stress",
    "strip_stress",
    "word_error_rate",
    "word_error_rate_no_stress",
]
