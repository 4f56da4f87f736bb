"""Keras on JAX or PyTorch without TensorFlow: `keras_transformer` imports (lazily, the TensorFlow-only
names left out of `__all__`) and `fit_arrays` trains. A subprocess makes `tensorflow` and `tensorflow_datasets`
unimportable (`sys.modules[name] = None`) before anything imports them.

It runs once, from the TensorFlow run of the suite (or from any run where TensorFlow is not installed)."""

import importlib.util
import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import pytest

from keras_transformer import _modules

ROOT = pathlib.Path(__file__).resolve().parents[2]
BACKEND = next((name for name in ("jax", "torch") if importlib.util.find_spec(name) is not None), None)

pytestmark = [
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow" and _modules.installed("tensorflow"),
        reason="run once, from the TensorFlow run",
    ),
    pytest.mark.skipif(BACKEND is None, reason="needs jax or torch: pip install -e .[backends]"),
]

SCRIPT = textwrap.dedent(
    """
    import sys

    sys.modules["tensorflow"] = None
    sys.modules["tensorflow_datasets"] = None

    import keras_transformer

    assert "keras" not in sys.modules  # the package imports its names on first use
    assert "TextPipeline" not in keras_transformer.__all__ and "SentenceEncoder" not in keras_transformer.__all__
    from keras_transformer.training.arrays import fit_arrays

    import keras
    import numpy as np
    from keras_transformer import data, _modules
    from keras_transformer.training.options import TrainingOptions

    assert keras.backend.backend() == sys.argv[1], keras.backend.backend()
    assert not _modules.installed("tensorflow") and not _modules.installed("tensorflow_datasets")
    assert sys.modules["tensorflow"] is None and sys.modules["tensorflow_datasets"] is None  # never imported
    assert data.BUILDERS == {} and "TextPipeline" not in vars(keras_transformer)
    try:  # a TensorFlow-only name fails when used
        keras_transformer.TextPipeline
    except ImportError as error:
        assert "tensorflow" in str(error), error
    else:
        raise AssertionError("keras_transformer.TextPipeline imported without tensorflow")
    assert keras_transformer.build_transformer and data.LengthBuckets

    rng = np.random.default_rng(0)
    sources = [rng.integers(3, 10, size=n).tolist() for n in rng.integers(1, 6, size=48)]
    token_data = {"train": (sources, sources), "validation": (sources[:16], sources[:16]), "source_vocab_size": 10,
                  "target_vocab_size": 10, "start_id": 1, "end_id": 2, "bounds": (4,)}
    # XLA on JAX (its usual path, and faster here than running op by op).
    options = TrainingOptions(size="tiny", max_length=8, batch_tokens=64, epochs=1, jit_compile=sys.argv[1] == "jax",
                              log_every=0)
    record = fit_arrays(options, token_data, sys.argv[2], name="copier")
    assert record.backend == sys.argv[1] and len(record.history["loss"]) == 1, record
    assert sys.modules["tensorflow"] is None
    print("OK without tensorflow")
    """
)


def test_imports_and_trains_without_tensorflow(tmp_path):
    environment = dict(os.environ, KERAS_BACKEND=BACKEND, PYTHONUNBUFFERED="1")
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    process = subprocess.run(
        [sys.executable, "-c", SCRIPT, BACKEND, str(tmp_path / "run")],
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert "OK without tensorflow" in process.stdout


@pytest.mark.parametrize("package", ["keras_transformer", "keras_transformer.data"])
def test_star_imports_without_tensorflow(package):
    script = 'import sys; sys.modules["tensorflow"] = sys.modules["tensorflow_datasets"] = None; '
    script += f"from {package} import *"
    environment = dict(os.environ, KERAS_BACKEND=BACKEND)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    process = subprocess.run([sys.executable, "-c", script], env=environment, cwd=ROOT, capture_output=True, text=True,
                             timeout=300)  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
