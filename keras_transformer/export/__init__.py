"""Export a model to formats that run without this package: SavedModel (text in, text out) and TFLite.

`export(model_or_entry, format, path)` picks the exporter from a registry by name.
"""

import os

from keras_transformer.export import tflite
from keras_transformer.export.saved_model import ServingModule, export_saved_model


def _parts(model_or_entry, source_tokenizer, target_tokenizer):
    """A Keras model, or anything with `.model` and `.source_tokenizer` / `.target_tokenizer` (a zoo
    entry), -> (model, source_tokenizer, target_tokenizer)."""
    model = getattr(model_or_entry, "model", model_or_entry)
    source_tokenizer = source_tokenizer or getattr(model_or_entry, "source_tokenizer", None)
    target_tokenizer = target_tokenizer or getattr(model_or_entry, "target_tokenizer", None)
    return model, source_tokenizer, target_tokenizer


def _export_saved_model(model, path, source_tokenizer, target_tokenizer, max_output_length):
    if source_tokenizer is None or target_tokenizer is None:
        raise ValueError(
            "format='saved_model' puts tokenization in the graph and needs `source_tokenizer` and "
            "`target_tokenizer` (a zoo entry carries both). Received: "
            f"source_tokenizer={source_tokenizer!r}, target_tokenizer={target_tokenizer!r}"
        )
    export_saved_model(model, path, source_tokenizer, target_tokenizer, max_output_length)
    return {"saved_model": path}


def _export_tflite(quantize):
    def run(model, path, source_tokenizer, target_tokenizer, max_output_length):
        os.makedirs(path, exist_ok=True)
        suffix = "_int8" if quantize else ""
        start_id = target_tokenizer.start_id if target_tokenizer is not None else 1
        end_id = target_tokenizer.end_id if target_tokenizer is not None else 2
        max_output_length = max_output_length or model.get_layer("positional_encoding").max_length
        return {
            "forward": tflite.write(os.path.join(path, f"forward{suffix}.tflite"), tflite.forward_tflite(model, quantize)),
            "generator": tflite.write(
                os.path.join(path, f"generator{suffix}.tflite"),
                tflite.generator_tflite(model, max_output_length, start_id, end_id, quantize),
            ),
        }

    return run


EXPORTERS = {
    "saved_model": _export_saved_model,
    "tflite": _export_tflite(quantize=False),
    "tflite_int8": _export_tflite(quantize=True),
}


def export(model_or_entry, format, path, source_tokenizer=None, target_tokenizer=None, max_output_length=None):
    """Export a model built by `build_transformer` (or a zoo entry) to `path`.

    Args:
        model_or_entry: a Keras model, or an object with `.model`, `.source_tokenizer` and
            `.target_tokenizer` (what `keras_transformer.zoo.load` returns).
        format: "saved_model" (signatures `serving_default` strings -> strings, `logits`,
            `generate_ids`), "tflite" (float32 `forward.tflite` and `generator.tflite`) or
            "tflite_int8" (the same with int8 dynamic-range weights).
        path: output directory.
        source_tokenizer, target_tokenizer: `keras_transformer.text.Tokenizer`s (required for
            "saved_model" unless the entry has them; their start/end ids drive decoding).
        max_output_length: most ids generated; default the model's `max_length`.

    Returns:
        A dict naming what was written.
    """
    if format not in EXPORTERS:
        raise ValueError(f"`format` must be one of {sorted(EXPORTERS)}. Received: format={format!r}")
    model, source_tokenizer, target_tokenizer = _parts(model_or_entry, source_tokenizer, target_tokenizer)
    return EXPORTERS[format](model, path, source_tokenizer, target_tokenizer, max_output_length)


__all__ = ["EXPORTERS", "ServingModule", "export", "export_saved_model", "tflite"]
