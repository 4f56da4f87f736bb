"""TFLite export with builtin ops only: the forward model (ids -> logits) and a generator (encoder +
cached decoding loop in one model, greedy or beam search), in float32, with int8 dynamic-range weights,
or with float16 weights (half the file; computed in float32 on the weights' float16 values).

Run the files with `ai_edge_litert.interpreter.Interpreter`; no Flex delegate is needed.
"""

import numpy as np
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
    "float16" (weights stored as float16, widened to float32 when the model loads: the outputs are
    the float32 model's with its weights rounded to float16, which a zoo folder stores anyway; every
    other constant, the positional table say, stays float32: `_float16_constants`).

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
    frozen = _frozen(concrete, round_to_float16=quantize == "float16")
    # Freezing flattens the outputs to a list in tf.nest order (sorted keys); wrap it so the TFLite
    # signature keeps their names.
    flat_names = sorted(concrete.structured_outputs)

    @tf.function(input_signature=function.input_signature)
    def named(*inputs):
        return dict(zip(flat_names, frozen(*inputs)))

    converter = tf.lite.TFLiteConverter.from_concrete_functions([named.get_concrete_function()], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "float16":
        return _float16_constants(converter.convert())
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # int8 weights, float activations
    return converter.convert()


def _frozen(concrete, round_to_float16=False):
    """`concrete` with its variables frozen into constants; with `round_to_float16`, their values
    rounded to float16 first (and restored after)."""
    if not round_to_float16:
        return convert_variables_to_constants_v2(concrete)
    variables = [variable for variable in concrete.variables if variable.dtype == tf.float32]
    values = [variable.numpy() for variable in variables]
    try:
        for variable, value in zip(variables, values):
            variable.assign(value.astype(np.float16).astype(np.float32))
        return convert_variables_to_constants_v2(concrete)
    finally:
        for variable, value in zip(variables, values):
            variable.assign(value)


def _float16_constants(data, min_elements=1024):
    """`data`, a float32 TFLite model's bytes, with each float32 constant of at least `min_elements`
    values that float16 holds exactly (every weight, once rounded) stored as float16 and widened back
    by a DEQUANTIZE op, which the interpreter runs once, at load: the model computes what it computed,
    from about half the bytes.

    The converter's own float16 mode rounds every float constant, the positional table and scalars
    such as the layer-norm ε included: its outputs' log probabilities drifted from Keras's by up to
    3e-3 (g2p_en), where these agree to 1e-5.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    opcode = schema.OperatorCodeT()
    opcode.builtinCode = opcode.deprecatedBuiltinCode = schema.BuiltinOperator.DEQUANTIZE
    opcode.version = 3  # float16 input, the version the converter writes for it
    model.operatorCodes.append(opcode)
    halves = {}  # a float32 buffer's index -> its float16 copy's index (subgraphs share buffers)
    for subgraph in model.subgraphs:
        widenings = []
        for index, tensor in enumerate(list(subgraph.tensors)):
            content = model.buffers[tensor.buffer].data if tensor.buffer else None
            if tensor.type != schema.TensorType.FLOAT32 or content is None or len(content) < 4 * min_elements:
                continue
            values = np.frombuffer(np.asarray(content, np.uint8).tobytes(), "<f4")
            if tensor.buffer not in halves:
                if not np.array_equal(values.astype(np.float16).astype(np.float32), values, equal_nan=True):
                    continue
                half = schema.BufferT()
                half.data = np.frombuffer(values.astype("<f2").tobytes(), np.uint8)
                halves[tensor.buffer] = len(model.buffers)
                model.buffers.append(half)
            stored = schema.TensorT()
            stored.shape, stored.type, stored.buffer = tensor.shape, schema.TensorType.FLOAT16, halves[tensor.buffer]
            stored.name = tensor.name + b"/float16"
            widen = schema.OperatorT()
            widen.opcodeIndex = len(model.operatorCodes) - 1
            widen.inputs, widen.outputs = [len(subgraph.tensors)], [index]
            subgraph.tensors.append(stored)
            widenings.append(widen)
            tensor.buffer = 0  # buffer 0 is the empty one: the tensor is now the DEQUANTIZE's output
        subgraph.operators[:0] = widenings  # constants in, so they can run first
    read = {tensor.buffer for subgraph in model.subgraphs for tensor in subgraph.tensors}
    for index in set(halves) - read:  # float32 copies no tensor reads any more
        model.buffers[index].data = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


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
    valid: TFLite has no assert to refuse them). Outputs, L being `max_output_length`: `tokens`
    `(B, L)` int32 (the fixed-size buffer: ids up to and including the end id, then 0s), `lengths`
    `(B,)` int32 (ids before the end id), and `decode`'s `scores` `(B,)` float32 (the output's log
    probability; the beam's score for beam search) and `token_scores` `(B, L)` float32 (each id's log
    probability, end id included, then 0s). A row of padding only decodes to nothing, scored 0.
    """

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="encoder_tokens")])
    def generate(encoder_tokens):
        with graph_checks_disabled():
            result = decode(decoder, encoder_tokens, settings, start_id, end_id)
        tokens = result["tokens"]
        # Count the ids before the first end id (or 0): cumulative "still going" flags.
        going = tf.cast(tf.cumsum(tf.cast((tokens == end_id) | (tokens == 0), tf.int32), axis=1) == 0, tf.int32)
        return {
            "tokens": tokens,
            "lengths": tf.reduce_sum(going, axis=1),
            "scores": result["scores"],
            "token_scores": result["token_scores"],
        }

    return convert(generate, quantize)


def write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
    return path
