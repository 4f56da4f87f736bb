"""Export a model to formats that run without this package: SavedModel (text in, text out) and TFLite.

`export(pipeline, format, path)` picks the exporter from a registry by name. Every export decodes the
way the pipeline's `DecodingSettings` say (beam search included), so it gives what `predict` gives.
"""

import os

from keras_transformer.decoding.settings import DecodingSettings
from keras_transformer.export import tflite
from keras_transformer.export.saved_model import ServingModule, export_saved_model
from keras_transformer.pipeline import TextPipeline


def _export_saved_model(pipeline, path):
    export_saved_model(pipeline, path)
    return {"saved_model": path}


def _export_tflite(quantize):
    def run(pipeline, path):
        os.makedirs(path, exist_ok=True)
        suffix = "_int8" if quantize else ""
        ids = {"start_id": pipeline.target_tokenizer.start_id, "end_id": pipeline.target_tokenizer.end_id}
        return {
            "forward": tflite.write(
                os.path.join(path, f"forward{suffix}.tflite"), tflite.forward_tflite(pipeline.model, quantize)
            ),
            "generator": tflite.write(
                os.path.join(path, f"generator{suffix}.tflite"),
                tflite.generator_tflite(pipeline.decoder, pipeline.settings, quantize=quantize, **ids),
            ),
        }

    return run


EXPORTERS = {
    "saved_model": _export_saved_model,
    "tflite": _export_tflite(quantize=False),
    "tflite_int8": _export_tflite(quantize=True),
}


def export(pipeline, format, path, source_tokenizer=None, target_tokenizer=None, max_output_length=None, settings=None):
    """Export a `TextPipeline` (or a model from `build_transformer` with its tokenizers) to `path`.

    Args:
        pipeline: a `TextPipeline` (what `keras_transformer.zoo.load` returns), or a Keras model from
            `build_transformer`, in which case `source_tokenizer` and `target_tokenizer` are required.
        format: "saved_model" (signatures `serving_default` strings -> strings, `generate_ids`,
            `logits`), "tflite" (float32 `forward.tflite` and `generator.tflite`) or "tflite_int8"
            (the same with int8 dynamic-range weights).
        path: output directory.
        source_tokenizer, target_tokenizer: `keras_transformer.text.Tokenizer`s, with a bare model.
        max_output_length: the most ids generated, instead of the settings' `max_output_length`.
        settings: `DecodingSettings` to export with instead of the pipeline's (default greedy for a
            bare model).

    Returns:
        A dict naming what was written.
    """
    if format not in EXPORTERS:
        raise ValueError(f"`format` must be one of {sorted(EXPORTERS)}. Received: format={format!r}")
    if not isinstance(pipeline, TextPipeline):
        if source_tokenizer is None or target_tokenizer is None:
            raise ValueError(
                "Exporting a bare model needs `source_tokenizer` and `target_tokenizer` (the target's start and "
                "end ids drive decoding; a TextPipeline or zoo model carries both). Received: "
                f"source_tokenizer={source_tokenizer!r}, target_tokenizer={target_tokenizer!r}"
            )
        pipeline = TextPipeline(pipeline, source_tokenizer, target_tokenizer, settings or DecodingSettings())
    elif settings is not None:
        pipeline = TextPipeline(
            pipeline.model, pipeline.source_tokenizer, pipeline.target_tokenizer, settings, name=pipeline.name
        )
    if max_output_length is not None:
        settings = pipeline.with_settings(max_output_length=max_output_length)
        pipeline = TextPipeline(
            pipeline.model, pipeline.source_tokenizer, pipeline.target_tokenizer, settings, name=pipeline.name
        )
    return EXPORTERS[format](pipeline, path)


__all__ = ["EXPORTERS", "ServingModule", "export", "export_saved_model", "tflite"]
