"""Export a model to formats that run without this package: SavedModel (text in, text out) and TFLite.

`export(pipeline, format, path)` picks the exporter from a registry by name; a zoo model (`zoo.load`)
exports its TensorFlow runtime. Every export decodes the
way the pipeline's `DecodingSettings` say (beam search included), so it gives what `predict` gives.
A `SentenceEncoder` (texts -> vectors) has exporters of its own (`export.sentence_encoder`), picked
by the same call.
"""

import dataclasses
import os

from keras_transformer import _backend
from keras_transformer.decoding.incremental import IncrementalDecoder
from keras_transformer.decoding.settings import DecodingSettings
from keras_transformer.export import sentence_encoder, tflite
from keras_transformer.export.saved_model import ServingModule, export_saved_model
from keras_transformer.models import config_of
from keras_transformer.pipeline import TextPipeline
from keras_transformer.sentence_encoder import SentenceEncoder


def _export_saved_model(target, path):
    if target.pipeline is None:
        raise ValueError(
            "format='saved_model' puts tokenization in the graph and needs `source_tokenizer` and "
            "`target_tokenizer` (a TextPipeline or zoo model carries both). Received: a bare model without them."
        )
    export_saved_model(target.pipeline, path)
    return {"saved_model": path}


def _export_tflite(quantize):
    def run(target, path):
        os.makedirs(path, exist_ok=True)
        suffix = "_int8" if quantize else ""
        return {
            "forward": tflite.write(os.path.join(path, f"forward{suffix}.tflite"), tflite.forward_tflite(target.model, quantize)),
            "generator": tflite.write(
                os.path.join(path, f"generator{suffix}.tflite"),
                tflite.generator_tflite(target.decoder, target.settings, target.start_id, target.end_id, quantize=quantize),
            ),
        }

    return run


EXPORTERS = {
    "saved_model": _export_saved_model,
    "tflite": _export_tflite(quantize=False),
    "tflite_int8": _export_tflite(quantize=True),
}


@dataclasses.dataclass(frozen=True)
class _Target:
    """What an exporter writes: the model, its decoder and settings, and the pipeline when there are
    tokenizers (a bare model exports to TFLite with start id 1 and end id 2)."""

    model: object
    decoder: IncrementalDecoder
    settings: DecodingSettings
    start_id: int
    end_id: int
    pipeline: TextPipeline | None


def _target(pipeline, source_tokenizer, target_tokenizer, max_output_length, settings):
    if isinstance(pipeline, TextPipeline):
        settings = pipeline.settings if settings is None else settings
        model, source_tokenizer, target_tokenizer = pipeline.model, pipeline.source_tokenizer, pipeline.target_tokenizer
        name = pipeline.name
    else:
        model, name = pipeline, getattr(pipeline, "name", None)
        if (source_tokenizer is None) != (target_tokenizer is None):
            raise ValueError(
                "Give both `source_tokenizer` and `target_tokenizer`, or neither. Received: "
                f"source_tokenizer={source_tokenizer!r}, target_tokenizer={target_tokenizer!r}"
            )
    settings = (settings or DecodingSettings()).replace(max_output_length=max_output_length)
    if source_tokenizer is None:
        settings = settings.resolved(config_of(model).max_length)
        return _Target(model, IncrementalDecoder(model), settings, 1, 2, None)
    shortlist = getattr(pipeline, "shortlist", None) if isinstance(pipeline, TextPipeline) else None
    pipeline = TextPipeline(model, source_tokenizer, target_tokenizer, settings, name=name, shortlist=shortlist)
    ids = {"start_id": target_tokenizer.start_id, "end_id": target_tokenizer.end_id}
    return _Target(model, pipeline.decoder, pipeline.settings, pipeline=pipeline, **ids)


def _runtime(pipeline):
    """What a zoo model runs (export sits below the zoo and cannot import `ZooModel`: a zoo model is
    known by its `runtime`); anything else as it is."""
    runtime = getattr(pipeline, "runtime", None)
    if runtime is None:
        return pipeline
    if not isinstance(runtime, (TextPipeline, SentenceEncoder)):
        raise TypeError(
            f"export needs the TensorFlow runtime of {pipeline.name}: load it with zoo.load({pipeline.name!r}) "
            f"(runtime='tensorflow'). Received: a zoo model running a {type(runtime).__name__}"
        )
    return runtime


def export(pipeline, format, path, source_tokenizer=None, target_tokenizer=None, max_output_length=None, settings=None):
    """Export a `TextPipeline` (or a model from `build_transformer`) to `path`.

    Args:
        pipeline: a `TextPipeline`, a zoo model (`keras_transformer.zoo.load(name)`: its runtime
            is exported), or a Keras model from `build_transformer` with its tokenizers (required for
            "saved_model"; without them a TFLite generator uses start id 1 and end id 2).
        format: "saved_model" (signatures `serving_default` strings -> strings, `generate_ids`,
            `logits`), "tflite" (float32 `forward.tflite` and `generator.tflite`) or "tflite_int8"
            (the same with int8 dynamic-range weights).
        path: output directory.
        source_tokenizer, target_tokenizer: `keras_transformer.text.Tokenizer`s, with a bare model.
        max_output_length: the most ids generated, instead of the settings' `max_output_length`.
        settings: `DecodingSettings` to export with instead of the pipeline's (default greedy for a
            bare model). The generators decode as they say: greedy, beam search or sampling.

    Returns:
        A dict naming what was written.

    A `SentenceEncoder` (e.g. `zoo.load("minilm_l6")`) exports as "saved_model" (`serving_default`:
    texts -> embeddings) or "tflite"/"tflite_int8" (`embeddings.tflite`: token ids -> embeddings);
    see `export.sentence_encoder`. The decoding arguments do not apply to it.
    """
    _backend.require_tensorflow(f"export(format={format!r})")
    pipeline = _runtime(pipeline)
    if isinstance(pipeline, SentenceEncoder):
        return sentence_encoder.export(pipeline, format, path)
    if format not in EXPORTERS:
        raise ValueError(f"`format` must be one of {sorted(EXPORTERS)}. Received: format={format!r}")
    return EXPORTERS[format](_target(pipeline, source_tokenizer, target_tokenizer, max_output_length, settings), path)


__all__ = ["EXPORTERS", "ServingModule", "export", "export_saved_model", "sentence_encoder", "tflite"]
