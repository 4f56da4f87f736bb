"""Zoo folders that store float16 weights (`zoo.save(..., weights_dtype="float16")`): half the bytes,
and the Keras pipeline, the weights file and the TFLite generator all hold the same rounded values."""

import h5py
import numpy as np
import pytest

from keras_transformer import zoo
from keras_transformer.export import tflite
from keras_transformer.zoo import folder
from tests.zoo.test_litert import TEXTS, tiny_pipeline


def dataset_dtypes(path):
    dtypes = set()
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda _, item: dtypes.add(str(item.dtype)) if isinstance(item, h5py.Dataset) else None)
    return dtypes


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The same beam-search pipeline saved in float32 and in float16, with generators."""
    root = tmp_path_factory.mktemp("float16")
    full = tiny_pipeline("beam")
    original = [w.copy() for w in full.model.get_weights()]
    zoo.save(root / "float32", full, zoo.ZooInfo(task="tiny"), "# card\n", generator=True)
    half = tiny_pipeline("beam")
    zoo.save(root / "float16", half, zoo.ZooInfo(task="tiny"), "# card\n", generator=True, weights_dtype="float16")
    return root, original, half


def test_the_file_holds_float16_and_loads_as_the_rounded_float32_values(saved):
    root, original, half = saved
    path = root / "float16" / "model.weights.h5"
    assert dataset_dtypes(path) == {"float16"}
    assert dataset_dtypes(root / "float32" / "model.weights.h5") == {"float32"}
    assert folder.stored_weights_dtype(path) == "float16"
    assert folder.stored_weights_dtype(root / "float32" / "model.weights.h5") == "float32"
    loaded = zoo.load(str(root / "float16")).model.get_weights()
    for weight, before, in_memory in zip(loaded, original, half.model.get_weights()):
        assert weight.dtype == np.float32
        # The rounding, written independently of the code: through NumPy's float16.
        np.testing.assert_array_equal(weight, before.astype(np.float16).astype(np.float32))
        np.testing.assert_array_equal(in_memory, weight)  # save rounded the pipeline's own model too
    assert any(not np.array_equal(w, o) for w, o in zip(loaded, original))  # the rounding did change values


def weight_bytes(path):
    sizes = []
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda _, item: sizes.append(item.nbytes) if isinstance(item, h5py.Dataset) else None)
    return sum(sizes)


def test_float16_folders_store_half_the_weight_bytes(saved):
    root = saved[0]
    full, half = (weight_bytes(root / kind / "model.weights.h5") for kind in ("float32", "float16"))
    assert half * 2 == full
    # The generator saves 2 bytes a parameter of its large tensors (small ones stay float32).
    generator_full, generator_half = ((root / kind / "generator.tflite").stat().st_size for kind in ("float32", "float16"))
    assert generator_full - generator_half > 0.2 * full, (generator_full, generator_half, full)


def test_the_generator_decodes_as_the_keras_pipeline_of_the_stored_weights(saved):
    root = saved[0]
    keras_outputs = zoo.load(str(root / "float16")).predict(TEXTS, batch_size=3)
    assert zoo.load(str(root / "float16"), runtime="litert").predict(TEXTS, batch_size=3) == keras_outputs
    # A generator rebuilt later (e.g. by write_generator) keeps float16: it follows the weights file.
    pipeline = zoo.load(str(root / "float16"))
    size = (root / "float16" / "generator.tflite").stat().st_size
    folder.write_generator(root / "float16", pipeline.runtime)
    assert (root / "float16" / "generator.tflite").stat().st_size == size


def test_the_float16_generator_scores_as_the_keras_pipeline(saved):
    """Only the weights are float16 in the generator: the positional table and the other constants
    stay float32, so the scores are Keras's to float32 rounding (rounding them all drifted by 3e-3)."""
    root = saved[0]
    expected = zoo.load(str(root / "float16")).predict(TEXTS, return_scores=True)
    got = zoo.load(str(root / "float16"), runtime="litert").predict(TEXTS, return_scores=True)
    assert [p.text for p in got] == [p.text for p in expected]
    for mine, theirs in zip(got, expected):
        assert mine.score == pytest.approx(theirs.score, abs=1e-5)
        np.testing.assert_allclose(mine.token_scores, theirs.token_scores, atol=1e-5)


def test_bad_dtypes_are_refused_naming_the_argument(tmp_path):
    pipeline = tiny_pipeline("greedy")
    with pytest.raises(ValueError, match=r"weights_dtype.*'bfloat16'"):
        zoo.save(tmp_path / "x", pipeline, zoo.ZooInfo(task="tiny"), "# card\n", weights_dtype="bfloat16")
    with pytest.raises(ValueError, match=r"quantize.*'float8'"):
        tflite.forward_tflite(pipeline.model, quantize="float8")
