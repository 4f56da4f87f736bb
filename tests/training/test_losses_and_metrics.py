import keras
import numpy as np
import pytest
from keras import ops

from keras_transformer.training import MaskedAccuracy, MaskedSparseCrossEntropy

rng = np.random.default_rng(2)


def reference_loss(labels, logits, smoothing):
    """Keras' CategoricalCrossentropy with label smoothing on one-hot labels, averaged over real tokens."""
    vocabulary = logits.shape[-1]
    per_token = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing, reduction=None)(
        np.eye(vocabulary)[labels], logits
    )
    per_token = ops.convert_to_numpy(per_token)
    real = labels != 0
    return per_token[real].mean()


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_matches_keras_categorical_cross_entropy_on_real_tokens(smoothing):
    labels = rng.integers(1, 11, size=(4, 6))
    labels[0, 3:] = 0
    labels[2, 1:] = 0
    logits = rng.normal(size=(4, 6, 11)).astype("float32") * 3
    loss = MaskedSparseCrossEntropy(label_smoothing=smoothing)(labels, logits)
    assert float(loss) == pytest.approx(reference_loss(labels, logits, smoothing), rel=1e-5)


def test_padding_labels_change_nothing():
    labels = np.array([[3, 4, 0, 0]])
    logits = rng.normal(size=(1, 4, 6)).astype("float32")
    other = logits.copy()
    other[0, 2:] = 100.0
    loss = MaskedSparseCrossEntropy()
    assert float(loss(labels, logits)) == pytest.approx(float(loss(labels, other)), rel=1e-6)


def test_all_padding_gives_zero_not_nan():
    assert float(MaskedSparseCrossEntropy()(np.zeros((2, 3), "int32"), np.zeros((2, 3, 5), "float32"))) == 0.0


def test_loss_serializes():
    loss = MaskedSparseCrossEntropy(label_smoothing=0.2)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert restored.label_smoothing == 0.2


def test_bad_smoothing():
    with pytest.raises(ValueError, match="label_smoothing=1.0"):
        MaskedSparseCrossEntropy(label_smoothing=1.0)


def test_masked_accuracy_counts_only_real_tokens_across_batches():
    metric = MaskedAccuracy()
    metric.update_state(np.array([[1, 2, 0, 0]]), np.eye(3)[[[1, 0, 0, 0]]])  # 1 of 2 right
    metric.update_state(np.array([[2, 2, 2, 0]]), np.eye(3)[[[2, 2, 2, 1]]])  # 3 of 3 right
    assert float(metric.result()) == pytest.approx(4 / 5)
    metric.reset_state()
    assert float(metric.result()) == 0.0
