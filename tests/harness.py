"""The shared layer test: every public layer goes through `run_layer_test`.

It checks what a Keras layer must do to be a good citizen: a config round trip, an eager and a symbolic
call with the expected shape, a `.keras` round trip with `safe_mode=True`, one `fit` step that changes
the weights, and the `mixed_float16` / `mixed_bfloat16` policies (compute dtype out, float32 weights,
finite values).
"""

import os
import tempfile

import keras
import numpy as np
from keras import ops


def _symbolic_inputs(arrays):
    return [
        keras.Input(shape=array.shape[1:], dtype=str(array.dtype), name=f"input_{i}")
        for i, array in enumerate(arrays)
    ]


def run_layer_test(
    layer_cls,
    init_kwargs,
    inputs,
    expected_output_shape,
    call_kwargs=None,
    expected_output_dtype_is_float=True,
    check_fit=True,
    check_mixed_precision=True,
):
    """Run the shared checks on `layer_cls(**init_kwargs)` called as `layer(*inputs, **call_kwargs)`.

    `inputs` is a list of NumPy arrays (batch first); `call_kwargs` holds non-tensor call options.
    """
    call_kwargs = call_kwargs or {}

    # Config round trip.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    restored = layer_cls.from_config(config)
    assert restored.get_config() == config

    # Eager call.
    eager_output = layer(*inputs, **call_kwargs)
    assert tuple(eager_output.shape) == tuple(expected_output_shape)
    assert np.all(np.isfinite(ops.convert_to_numpy(ops.cast(eager_output, "float32"))))

    # Symbolic call inside a functional model; batch size left open.
    symbolic_inputs = _symbolic_inputs(inputs)
    symbolic_output = layer(*symbolic_inputs, **call_kwargs)
    assert tuple(symbolic_output.shape)[1:] == tuple(expected_output_shape)[1:]
    model = keras.Model(symbolic_inputs, symbolic_output)
    before = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(before, ops.convert_to_numpy(eager_output), rtol=1e-5, atol=1e-5)

    # .keras round trip, loaded without custom_objects in safe mode.
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "layer.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(inputs, verbose=0), before, rtol=1e-6, atol=1e-6)

    # One fit step moves the weights and gives a finite loss.
    if check_fit and layer.trainable_weights:
        weights_before = [ops.convert_to_numpy(w) for w in layer.trainable_weights]
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        targets = np.random.default_rng(0).normal(size=tuple(eager_output.shape)).astype("float32")
        history = model.fit(inputs, targets, batch_size=len(inputs[0]), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        changed = [not np.allclose(a, ops.convert_to_numpy(w)) for a, w in zip(weights_before, layer.trainable_weights)]
        assert any(changed), "one fit step left every weight unchanged"

    # Mixed precision: compute in the low dtype, keep float32 variables, stay finite.
    if check_mixed_precision:
        for policy, compute_dtype in (("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16")):
            mixed = layer_cls(**init_kwargs, dtype=policy)
            output = mixed(*inputs, **call_kwargs)
            if expected_output_dtype_is_float:
                assert keras.backend.standardize_dtype(output.dtype) == compute_dtype, policy
            assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in mixed.weights)
            assert np.all(np.isfinite(ops.convert_to_numpy(ops.cast(output, "float32")))), policy
    return layer
