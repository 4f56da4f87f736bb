"""The same weights on TensorFlow, JAX and PyTorch: files saved under one backend load under the others,
give the same logits (max abs difference <= 1e-4, the zoo models included) and the same `generate`
outputs token for token; a model trained on another backend exports on TensorFlow; what needs
TensorFlow's backend says so.

Each backend runs in a subprocess (`worker.py`: the backend is fixed at `import keras`). The test runs
once, from the TensorFlow run of the suite, and needs `pip install -e .[backends]`.
"""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKER = pathlib.Path(__file__).resolve().parent / "worker.py"
EXAMPLE = ROOT / "examples" / "export_from_another_backend.py"
BACKENDS = ("tensorflow", "jax", "torch")
OTHERS = ("jax", "torch")
SEARCHES = ("greedy", "beam", "sample")
LOGITS_TOLERANCE = 1e-4

pytestmark = [
    pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="run once, from the TensorFlow run"),
    pytest.mark.skipif(
        any(importlib.util.find_spec(module) is None for module in ("jax", "torch")),
        reason="needs the jax and torch backends: pip install -e .[backends]",
    ),
]


def run_phase(directory, runs, timeout=900):
    """Start every `(backend, script, arguments)` of `runs` at once, each under its backend; fail with the
    log of any that fails."""
    children = []
    for backend, script, arguments in runs:
        environment = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        log_path = directory / f"{backend}.{script.stem}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, str(script), *map(str, arguments)], stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=ROOT
            )
        children.append((backend, process, log_path))
    failures = []
    for backend, process, log_path in children:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.returncode != 0:
            failures.append(f"{backend} (rc={process.returncode}):\n" + log_path.read_text(errors="replace")[-3000:])
    assert not failures, "\n\n".join(failures)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("backends")
    example = directory / "example"
    # Phase 1: each backend trains and saves; TensorFlow also tokenizes the zoo inputs; the example
    # trains on torch.
    run_phase(directory, [
        ("tensorflow", WORKER, [directory, "save", "zoo"]),
        ("jax", WORKER, [directory, "save"]),
        ("torch", WORKER, [directory, "save"]),
        ("torch", EXAMPLE, ["train", example, "--steps", "40"]),
    ])  # fmt: skip
    # Phase 2: each backend loads the others' files; TensorFlow exports what JAX trained, and what the
    # example trained on torch.
    run_phase(directory, [
        ("tensorflow", WORKER, [directory, "load", "export:jax"]),
        ("jax", WORKER, [directory, "load", "zoo", "refusals"]),
        ("torch", WORKER, [directory, "load", "zoo", "refusals"]),
        ("tensorflow", EXAMPLE, ["export", example]),
    ])  # fmt: skip
    return directory


def assert_same_outputs(expected, got, what):
    logits_difference = np.abs(expected["logits"] - got["logits"]).max()
    assert logits_difference <= LOGITS_TOLERANCE, f"{what}: logits differ by {logits_difference}"
    for key in expected.files:
        if key == "logits":
            continue
        if "scores" in key:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-4, atol=1e-4, err_msg=f"{what}: {key}")
        else:
            np.testing.assert_array_equal(got[key], expected[key], err_msg=f"{what}: {key}")


@pytest.mark.parametrize("producer", BACKENDS)
@pytest.mark.parametrize("file_format", ["weights", "keras"])
def test_files_saved_on_one_backend_give_the_same_logits_and_tokens_on_the_others(runs, producer, file_format):
    expected = np.load(runs / f"{producer}.npz")
    assert {key.split(".")[0] for key in expected.files} == {"logits", *SEARCHES}
    for consumer in BACKENDS:
        if consumer != producer:
            got = np.load(runs / f"{producer}.{file_format}.on.{consumer}.npz")
            assert_same_outputs(expected, got, f"{producer} .{file_format} on {consumer}")


def test_zoo_models_give_the_same_logits_and_outputs_on_every_backend(runs):
    expected = np.load(runs / "zoo.tensorflow.npz")
    for backend in OTHERS:
        got = np.load(runs / f"zoo.{backend}.npz")
        assert sorted(got.files) == sorted(expected.files)
        for name in sorted({key.split(".")[0] for key in expected.files}):
            difference = np.abs(expected[f"{name}.logits"] - got[f"{name}.logits"]).max()
            assert difference <= LOGITS_TOLERANCE, f"{name} on {backend}: logits differ by {difference}"
            for key in (f"{name}.greedy.tokens", f"{name}.card.tokens", f"{name}.card.candidates"):
                np.testing.assert_array_equal(got[key], expected[key], err_msg=f"{key} on {backend}")


def test_a_model_trained_on_jax_exports_to_tflite_after_a_rebuild_on_tensorflow(runs):
    trained = np.load(runs / "jax.npz")
    exported = np.load(runs / "export.npz")
    assert np.abs(exported["logits"] - trained["logits"]).max() <= LOGITS_TOLERANCE
    # The generator decodes up to the model's max_length (16); jax's greedy run stopped at 12.
    np.testing.assert_array_equal(exported["tokens"][:, :12], trained["greedy.tokens"])


@pytest.mark.parametrize("backend", OTHERS)
def test_what_needs_tensorflow_says_so_naming_the_backend(runs, backend):
    messages = json.loads((runs / f"refusals.{backend}.json").read_text(encoding="utf-8"))
    assert set(messages) == {"TextPipeline", "export"}  # the training recipe runs on every backend
    for feature, message in messages.items():
        assert message is not None, f"{feature} ran on {backend}"
        assert f"'{backend}' backend" in message and "KERAS_BACKEND=tensorflow" in message, message


def test_the_example_trains_on_torch_and_exports_on_tensorflow(runs):
    example = runs / "example"
    assert (example / "tflite" / "forward.tflite").is_file() and (example / "tflite" / "generator.tflite").is_file()
    assert json.loads((example / "trained_on.json").read_text())["backend"] == "torch"
    log = (runs / "tensorflow.export_from_another_backend.log").read_text()
    assert "same greedy output as the trained model: True" in log, log[-2000:]
