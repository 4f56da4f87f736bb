"""Batch inference with Apache Beam (the `beam` extra): RunInference model handlers for zoo models and
exported SavedModel folders (`handlers`), and the job `keras-transformer beam` runs (`pipeline`)."""

from keras_transformer import _modules

_modules.require("keras_transformer.beam", "beam", ["apache_beam"])

from keras_transformer.beam.handlers import TASKS, SavedModelHandler, ZooModelHandler
from keras_transformer.beam.pipeline import (
    FORMATS,
    Infer,
    ReadTexts,
    WriteOutputs,
    record,
    run,
)

__all__ = [
    "FORMATS",
    "TASKS",
    "Infer",
    "ReadTexts",
    "SavedModelHandler",
    "WriteOutputs",
    "ZooModelHandler",
    "record",
    "run",
]
