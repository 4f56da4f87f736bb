"""`keras_transformer.load_model`: a compiled `.keras` file (our model, loss, metric and schedule) loads in
a fresh process after a bare `import keras_transformer`, which registers nothing by itself."""

import subprocess
import sys

import keras
import numpy as np

from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.training import TrainingOptions

CONFIG = TransformerConfig.from_name("tiny", source_vocab_size=20, target_vocab_size=20, max_length=8)


def test_a_compiled_model_loads_in_a_fresh_process(tmp_path):
    model = TrainingOptions(size="tiny", jit_compile=False).compile(build_transformer(CONFIG), d_model=CONFIG.d_model)
    ids = np.random.default_rng(0).integers(3, 20, size=(8, 5)).astype("int32")
    inputs = {"encoder_tokens": ids, "decoder_tokens": ids}
    model.fit(inputs, ids, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "ids.npy", ids)
    np.save(tmp_path / "expected.npy", keras.ops.convert_to_numpy(model(inputs)))
    script = f"""
import numpy as np, keras, keras_transformer
d = {str(tmp_path)!r}
model = keras_transformer.load_model(d + "/model.keras")
ids = np.load(d + "/ids.npy")
out = keras.ops.convert_to_numpy(model({{"encoder_tokens": ids, "decoder_tokens": ids}}))
np.testing.assert_allclose(out, np.load(d + "/expected.npy"), rtol=1e-6, atol=1e-6)
schedule = model.optimizer.get_config()["learning_rate"]
assert schedule["class_name"] == "TransformerSchedule", schedule
assert type(model.loss).__name__ == "MaskedSparseCrossEntropy", model.loss
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]
