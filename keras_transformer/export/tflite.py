"""TFLite export with builtin ops only: the forward model (ids -> logits) and a generator (encoder +
cached decoding loop in one model, greedy or beam search), in float32, with int8 dynamic-range weights,
or with float16 weights (half the file; computed in float32 on the weights' float16 values).

Run the files with `ai_edge_litert.interpreter.Interpreter`; no Flex delegate is needed.
"""

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from keras_transformer import _backend
from keras_transformer.decoding.dispatch import decode
from keras_transformer.layers import graph_checks_disabled


QUANTIZATIONS = (False, True, "int8", "float16")


def convert(function, quantize=False):
    """Bytes of a TFLite model (builtin ops only) computing `function`: a `tf.function` with an
    `input_signature` that returns a dict of tensors; the model's signature keeps the dict's keys as
    its output names and the signature's tensor names as its input names.

    `quantize`: False (float32), True or "int8" (dynamic-range int8 weights, float activations), or
    "float16" (weights stored as float16, dequantized to float32 when the model loads: the outputs are
    the float32 model's with its weights rounded to float16, which a zoo folder stores anyway).

    Variables are frozen into constants first: the converter's while-loop lowering fails on
    resource variables read inside the loop body.

    Example:
    >>> @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    ... def double(x):
    ...     return {"doubled": 2.0 * x}
    >>> data = convert(double)
    >>> data[4:8]  # the TFLite file identifier
    b'TFL3'
    """
    _backend.require_tensorflow("TFLite export")
    if not any(quantize is option for option in QUANTIZATIONS[:2]) and quantize not in QUANTIZATIONS[2:]:
        raise ValueError(f"`quantize` must be one of {QUANTIZATIONS}. Received: quantize={quantize!r}")
    if getattr(function, "input_signature", None) is None:
        raise TypeError(f"`function` must be a tf.function with an input_signature. Received: function={function!r}")
    concrete = function.get_concrete_function()
    if not isinstance(concrete.structured_outputs, dict):
        raise TypeError(
            "`function` must return a dict of tensors (its keys name the outputs). "
            f"Received: outputs={concrete.structured_outputs!r}"
        )
    frozen = convert_variables_to_constants_v2(concrete)
    # Freezing flattens the outputs to a list in tf.nest order (sorted keys); wrap it so the TFLite
    # signature keeps their names.
    flat_names = sorted(concrete.structured_outputs)

    @tf.function(input_signature=function.input_signature)
    def named(*inputs):
        return dict(zip(flat_names, frozen(*inputs)))

    converter = tf.lite.TFLiteConverter.from_concrete_functions([named.get_concrete_function()], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize:
        # Dynamic-range quantization (int8 weights, float activations), or float16 weights.
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def forward_tflite(model, quantize=False):
    """Bytes of a TFLite model: `encoder_tokens` `(B, S)`, `decoder_tokens` `(B, T)` int32 -> `logits`
    `(B, T, V)` float32."""

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.int32, name="encoder_tokens"),
            tf.TensorSpec([None, None], tf.int32, name="decoder_tokens"),
        ]
    )
    def forward(encoder_tokens, decoder_tokens):
        with graph_checks_disabled():
            logits = model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens}, training=False)
        return {"logits": logits}

    return convert(forward, quantize)


def generator_tflite(decoder, settings, start_id=1, end_id=2, quantize=False):
    """Bytes of a TFLite model that encodes and decodes with the key/value cache in one call, the way
    `settings` (a resolved `DecodingSettings`) say: greedy, beam search or sampling, with builtin ops.

    Input `encoder_tokens` `(B, S)` int32 (S dynamic, at most the model's `max_length`; ids must be
    valid: TFLite has no assert to refuse them). Outputs `tokens` `(B, max_output_length)` int32 (the
    fixed-size buffer: ids up to and including the end id, then 0s) and `lengths` `(B,)` int32 (ids
    before the end id).
    """

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="encoder_tokens")])
    def generate(encoder_tokens):
        with graph_checks_disabled():
            tokens = decode(decoder, encoder_tokens, settings, start_id, end_id)["tokens"]
        # Count the ids before the first end id (or 0): cumulative "still going" flags.
        going = tf.cast(tf.cumsum(tf.cast((tokens == end_id) | (tokens == 0), tf.int32), axis=1) == 0, tf.int32)
        return {"tokens": tokens, "lengths": tf.reduce_sum(going, axis=1)}

    return convert(generate, quantize)


def write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
    return path
