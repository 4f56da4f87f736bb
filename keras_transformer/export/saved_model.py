"""SavedModel export: text in, text out, with tokenization and cached greedy decoding inside the graph.

The SavedModel needs only TensorFlow to run: no import of this package, no tensorflow-text.
"""

import tensorflow as tf

from keras_transformer.decoding import search
from keras_transformer.decoding.incremental import IncrementalDecoder
from keras_transformer.layers import _checks


def _dense_ids(ragged_ids):
    """(B, None) ragged ids -> (B, S) int32 zero-padded, with S >= 1 so an all-empty batch still has a
    (fully masked) source position."""
    dense = tf.cast(ragged_ids.to_tensor(default_value=0), tf.int32)
    return tf.pad(dense, [[0, 0], [0, tf.maximum(1 - tf.shape(dense)[1], 0)]])


class ServingModule(tf.Module):
    """What `export_saved_model` saves: the model's variables, both tokenizers and three functions.

    Signatures:
        `serving_default`: `texts` `(B,)` string -> `outputs` `(B,)` string. Each text is tokenized,
            truncated to the model's `max_length` symbols, encoded, greedily decoded with the cache
            for at most `max_output_length` ids and detokenized. Empty strings are valid (an
            all-padding source); a batch of zero gives zero outputs.
        `logits`: `encoder_tokens` `(B, S)`, `decoder_tokens` `(B, T)` int32 -> `logits` `(B, T, V)`.
        `generate_ids`: `encoder_tokens` `(B, S)` int32 -> `tokens` `(B, max_output_length)` int32
            and `scores` `(B,)` float32.
    """

    def __init__(self, model, source_tokenizer, target_tokenizer, max_output_length):
        super().__init__(name="keras_transformer_serving")
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        decoder = IncrementalDecoder(model)
        start_id, end_id = target_tokenizer.start_id, target_tokenizer.end_id
        max_source_length = decoder.max_length

        def generate_ids(encoder_tokens):
            # Inputs reach this loop only through the tokenizer or the signature's int32 spec; the
            # value checks live in `serve_ids` below.
            with _checks.graph_checks_disabled():
                return search.greedy_search(decoder, encoder_tokens, max_output_length, start_id, end_id)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
        def serve_texts(texts):
            # A loaded signature does not enforce its TensorSpec's rank; ensure_shape does, and as a
            # data dependency it runs before anything that reads the input.
            texts = tf.ensure_shape(texts, [None])
            ids = _dense_ids(self.source_tokenizer.tokenize(texts, max_length=max_source_length))
            tokens, _ = generate_ids(ids)
            return {"outputs": self.target_tokenizer.detokenize(tokens)}

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="encoder_tokens")])
        def serve_ids(encoder_tokens):
            encoder_tokens = tf.ensure_shape(encoder_tokens, [None, None])  # rank first (see serve_texts)
            checks = [
                tf.debugging.assert_less_equal(
                    tf.shape(encoder_tokens)[1],
                    max_source_length,
                    message=f"encoder_tokens longer than max_length={max_source_length}",
                ),
                tf.debugging.assert_non_negative(encoder_tokens, message="encoder_tokens must be >= 0"),
                tf.debugging.assert_less(
                    encoder_tokens,
                    decoder.layers.source_embedding.vocabulary_size,
                    message="encoder_tokens must be < the source vocabulary size",
                ),
            ]
            with tf.control_dependencies(checks):
                encoder_tokens = tf.identity(encoder_tokens)
            tokens, scores = generate_ids(encoder_tokens)
            return {"tokens": tokens, "scores": scores}

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.int32, name="encoder_tokens"),
                tf.TensorSpec([None, None], tf.int32, name="decoder_tokens"),
            ]
        )
        def serve_logits(encoder_tokens, decoder_tokens):
            logits = self.model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens}, training=False)
            return {"logits": logits}

        self.serve_texts = serve_texts
        self.serve_ids = serve_ids
        self.serve_logits = serve_logits

    def signatures(self):
        return {
            "serving_default": self.serve_texts.get_concrete_function(),
            "generate_ids": self.serve_ids.get_concrete_function(),
            "logits": self.serve_logits.get_concrete_function(),
        }


def export_saved_model(model, path, source_tokenizer, target_tokenizer, max_output_length=None):
    """Write `model` with its tokenizers as a SavedModel at `path` (see `ServingModule` for signatures).

    Args:
        model: a model from `build_transformer`.
        path: the directory to write.
        source_tokenizer, target_tokenizer: `keras_transformer.text.Tokenizer`s; the target's start
            and end ids drive decoding.
        max_output_length: the most ids to generate; default the model's `max_length`.

    Returns:
        `path`.
    """
    decoder_max = IncrementalDecoder(model).max_length
    max_output_length = max_output_length or decoder_max
    if not isinstance(max_output_length, int) or not 0 < max_output_length <= decoder_max:
        raise ValueError(
            f"`max_output_length` must be an int in [1, {decoder_max}]. Received: max_output_length={max_output_length!r}"
        )
    module = ServingModule(model, source_tokenizer, target_tokenizer, max_output_length)
    tf.saved_model.save(module, path, signatures=module.signatures())
    return path
