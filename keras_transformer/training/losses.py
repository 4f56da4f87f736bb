"""Cross-entropy over token logits with label smoothing, ignoring padding."""

import keras
from keras import ops


def _global_count(count):
    """The number of real tokens in the whole global batch.

    Under a `tf.distribute` strategy each replica sees a slice of the batch and the replicas'
    gradients are summed, so each replica must divide its own loss sum by the count over all
    replicas: then the summed gradients are those of the global token mean, as on one device.
    """
    if keras.backend.backend() != "tensorflow":
        return count
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if not tf.distribute.has_strategy() or context is None or context.num_replicas_in_sync == 1:
        return count
    return context.all_reduce(tf.distribute.ReduceOp.SUM, count)


@keras.saving.register_keras_serializable(package="keras_transformer")
class MaskedSparseCrossEntropy(keras.losses.Loss):
    """Token-level cross-entropy with label smoothing, averaged over non-padding labels only.

    The smoothed target puts `1 - label_smoothing` on the true token plus `label_smoothing / V` on
    every token (the convention of `keras.losses.CategoricalCrossentropy(label_smoothing=...)`); the
    paper uses ε = 0.1. Labels equal to `padding_id` contribute nothing, and the mean divides by the
    number of real tokens in the batch, so batches with more padding are not down-weighted. Under a
    `tf.distribute` strategy the count is that of the global batch (summed over replicas).

    Args:
        label_smoothing: ε in [0, 1).
        padding_id: the label to ignore (0).
        from_logits: whether predictions are logits (True; the models here return logits).

    Call arguments:
        y_true: `(B, T)` integer labels. y_pred: `(B, T, V)` logits or probabilities.

    Example:
    >>> import numpy as np
    >>> loss = MaskedSparseCrossEntropy(label_smoothing=0.0)
    >>> labels = np.array([[2, 0]])
    >>> logits = np.log(np.array([[[0.25, 0.25, 0.5], [1, 0, 0]]], "float32") + 1e-12)
    >>> round(float(loss(labels, logits)), 4)  # -log(0.5); the padded position is ignored
    0.6931
    """

    def __init__(self, label_smoothing=0.1, padding_id=0, from_logits=True, name="masked_sparse_cross_entropy", **kwargs):
        kwargs.pop("reduction", None)
        super().__init__(name=name, reduction="sum", **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"`label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing}")
        self.label_smoothing = label_smoothing
        self.padding_id = padding_id
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        y_pred = ops.cast(y_pred, "float32")
        if not self.from_logits:
            y_pred = ops.log(ops.clip(y_pred, 1e-7, 1.0))
        # With log p = logits - logsumexp(logits), both terms need only (B, T) tensors, never the
        # (B, T, V) log-softmax: -log p(y) = lse - logit_y and mean_v(-log p(v)) = lse - mean_v(logit_v).
        log_normalizer = ops.logsumexp(y_pred, axis=-1)  # (B, T, V) -> (B, T)
        true_logit = ops.squeeze(ops.take_along_axis(y_pred, ops.expand_dims(y_true, -1), axis=-1), axis=-1)
        per_token = log_normalizer - true_logit
        if self.label_smoothing:
            uniform_nll = log_normalizer - ops.mean(y_pred, axis=-1)
            per_token = (1.0 - self.label_smoothing) * per_token + self.label_smoothing * uniform_nll
        weights = ops.cast(ops.not_equal(y_true, self.padding_id), "float32")
        return ops.sum(per_token * weights) / ops.maximum(_global_count(ops.sum(weights)), 1.0)

    def get_config(self):
        return {
            "name": self.name,
            "label_smoothing": self.label_smoothing,
            "padding_id": self.padding_id,
            "from_logits": self.from_logits,
        }
