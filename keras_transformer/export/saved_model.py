"""SavedModel export of a `TextPipeline`: text in, text out (with scores), decoded the way its settings say.

`serving_default` is the pipeline's own `texts_function`, the function `TextPipeline.predict` runs,
so the export and `predict` cannot disagree. The SavedModel needs only TensorFlow to run: no import
of this package, no tensorflow-text.
"""

import tensorflow as tf


class ServingModule(tf.Module):
    """What `export_saved_model` saves: the model's variables, both tokenizers and three functions.

    Signatures:
        `serving_default`: `texts` `(B,)` string -> `outputs` `(B,)` string, `scores` `(B,)`
            float32, `tokens` `(B, L)` int32 and `token_scores` `(B, L)` float32 (L the settings'
            `max_output_length`): the pipeline's `texts_function` (tokenize, truncate to the model's
            `max_length`, encode, decode with the cache as the pipeline's `DecodingSettings` say,
            detokenize), which gives each output its log probability (the beam's score for beam
            search), its ids (end id included, then 0s) and their log probabilities (then 0s). A
            blank text (empty or whitespace only) gives "" scored 0; a batch of zero gives zero outputs.
        `generate_ids`: `encoder_tokens` `(B, S)` int32 -> `tokens` `(B, L)` int32, `scores` `(B,)`
            and `token_scores` `(B, L)` float32, with the same settings; ids are checked first.
        `logits`: `encoder_tokens` `(B, S)`, `decoder_tokens` `(B, T)` int32 -> `logits` `(B, T, V)`.
    """

    def __init__(self, pipeline):
        super().__init__(name="keras_transformer_serving")
        # Tracked here so that the functions' captured variables and lookup tables are saved.
        self.model = pipeline.model
        self.source_tokenizer = pipeline.source_tokenizer
        self.target_tokenizer = pipeline.target_tokenizer
        config = pipeline.config
        decode_ids = pipeline.ids_function()
        self.serve_texts = pipeline.texts_function()

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="encoder_tokens")])
        def serve_ids(encoder_tokens):
            encoder_tokens = tf.ensure_shape(encoder_tokens, [None, None])  # rank first (see serve_texts)
            checks = [
                tf.debugging.assert_less_equal(
                    tf.shape(encoder_tokens)[1], config.max_length, message=f"encoder_tokens longer than max_length={config.max_length}"
                ),
                tf.debugging.assert_non_negative(encoder_tokens, message="encoder_tokens must be >= 0"),
                tf.debugging.assert_less(
                    encoder_tokens, config.source_vocab_size, message="encoder_tokens must be < the source vocabulary size"
                ),
            ]
            with tf.control_dependencies(checks):
                encoder_tokens = tf.identity(encoder_tokens)
            result = decode_ids(encoder_tokens)
            return {key: result[key] for key in ("tokens", "scores", "token_scores")}

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.int32, name="encoder_tokens"),
                tf.TensorSpec([None, None], tf.int32, name="decoder_tokens"),
            ]
        )
        def serve_logits(encoder_tokens, decoder_tokens):
            logits = self.model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens}, training=False)
            return {"logits": logits}

        self.serve_ids = serve_ids
        self.serve_logits = serve_logits

    def signatures(self):
        return {
            "serving_default": self.serve_texts.get_concrete_function(),
            "generate_ids": self.serve_ids.get_concrete_function(),
            "logits": self.serve_logits.get_concrete_function(),
        }


def export_saved_model(pipeline, path):
    """Write `pipeline` (a `TextPipeline`) as a SavedModel at `path` (see `ServingModule` for the
    signatures). Returns `path`."""
    module = ServingModule(pipeline)
    tf.saved_model.save(module, path, signatures=module.signatures())
    return path
