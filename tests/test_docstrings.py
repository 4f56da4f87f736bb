"""The Example sections of public docstrings run as written."""

import doctest
import importlib

import pytest

MODULES = [
    "keras_transformer.layers.positional_encoding",
    "keras_transformer.layers.embedding",
    "keras_transformer.layers.scaled_dot_product_attention",
    "keras_transformer.layers.multi_head_attention",
    "keras_transformer.layers.feed_forward",
    "keras_transformer.layers.encoder",
    "keras_transformer.layers.decoder",
    "keras_transformer.models.config",
    "keras_transformer.models.transformer",
    "keras_transformer.training.schedules",
    "keras_transformer.training.losses",
    "keras_transformer.training.metrics",
    "keras_transformer.training.teacher_forcing",
    "keras_transformer.decoding.incremental",
    "keras_transformer.decoding.generation",
    "keras_transformer.decoding.prediction",
    "keras_transformer.text.tokenizer",
    "keras_transformer.text.python_tokenizer",
    "keras_transformer.evaluation.metrics",
    "keras_transformer.data.batching",
    "keras_transformer.training.averaging",
    "keras_transformer.training.options",
    "keras_transformer.training.run_folder",
    "keras_transformer.zoo.figures",
    "keras_transformer.training.progress",
    "keras_transformer.zoo.card",
    "keras_transformer.zoo.sweep",
    "keras_transformer.zoo.model",
    "keras_transformer.training.callbacks",
    "keras_transformer.training.distributed",
    "keras_transformer._hashing",
    "keras_transformer._json",
    "keras_transformer._modules",
    "keras_transformer._lazy",
    "keras_transformer.errors",
    "keras_transformer._validation",
    "keras_transformer.pipeline",
    "keras_transformer.decoding.settings",
    "keras_transformer.models.encoder",
    "keras_transformer.text.wordpiece",
    "keras_transformer.convert.safetensors",
    "keras_transformer.sentence_encoder",
    "keras_transformer.data.labels",
    "keras_transformer.zoo.confidence",
    "keras_transformer.zoo.out_of_domain",
    "keras_transformer.zoo.calibrate",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
