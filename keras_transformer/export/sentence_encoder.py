"""Export of a `SentenceEncoder`: a SavedModel (strings in, unit vectors out) and TFLite (ids in,
vectors out, builtin ops only).

The SavedModel's `serving_default` is the encoder's own `texts_function`, the function `embed` runs,
so the two cannot disagree; it needs only TensorFlow to run.
"""

import os

import tensorflow as tf

from keras_transformer.export import tflite
from keras_transformer.layers import graph_checks_disabled


class SentenceServingModule(tf.Module):
    """What `export_saved_model` saves: the model's variables, the tokenizer and two functions.

    Signatures:
        `serving_default`: `texts` `(B,)` string -> `embeddings` `(B, D)` float32 (tokenize with
            `[CLS]`/`[SEP]`, truncate to the tokenizer's `max_length`, encode, pool, normalise).
        `embed_ids`: `token_ids` `(B, S)` int32 (0 = padding) -> `embeddings` `(B, D)`.
    """

    def __init__(self, encoder):
        super().__init__(name="keras_transformer_sentence_encoder")
        # Tracked here so that the functions' captured variables and lookup table are saved.
        self.model = encoder.model
        self.tokenizer = encoder.tokenizer
        self.serve_texts = encoder.texts_function()
        self.serve_ids = encoder.ids_function()

    def signatures(self):
        return {
            "serving_default": self.serve_texts.get_concrete_function(),
            "embed_ids": self.serve_ids.get_concrete_function(),
        }


def export_saved_model(encoder, path):
    """Write `encoder` (a `SentenceEncoder`) as a SavedModel at `path`. Returns `path`."""
    module = SentenceServingModule(encoder)
    tf.saved_model.save(module, path, signatures=module.signatures())
    return path


def embeddings_tflite(encoder, quantize=False):
    """Bytes of a TFLite model: `token_ids` `(B, S)` int32 (0 = padding, S at most the model's
    `max_length`; ids must be valid: TFLite has no assert to refuse them) -> `embeddings` `(B, D)`
    float32. Tokenize with the encoder's tokenizer (`encoder.tokenize`) before calling it."""
    ids_to_embeddings = encoder.ids_function()

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="token_ids")])
    def embed(token_ids):
        with graph_checks_disabled():
            return {"embeddings": ids_to_embeddings.python_function(token_ids)["embeddings"]}

    return tflite.convert(embed, quantize)


def _export_tflite(quantize):
    def run(encoder, path):
        os.makedirs(path, exist_ok=True)
        name = "embeddings_int8.tflite" if quantize else "embeddings.tflite"
        return {"embeddings": tflite.write(os.path.join(path, name), embeddings_tflite(encoder, quantize))}

    return run


EXPORTERS = {
    "saved_model": lambda encoder, path: {"saved_model": export_saved_model(encoder, path)},
    "tflite": _export_tflite(quantize=False),
    "tflite_int8": _export_tflite(quantize=True),
}


def export(encoder, format, path):
    """Export a `SentenceEncoder` to `path` as "saved_model", "tflite" or "tflite_int8" (int8
    dynamic-range weights). Returns a dict naming what was written."""
    if format not in EXPORTERS:
        raise ValueError(f"`format` must be one of {sorted(EXPORTERS)}. Received: format={format!r}")
    return EXPORTERS[format](encoder, path)
