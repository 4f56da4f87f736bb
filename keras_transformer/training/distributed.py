"""Helpers for training under `tf.distribute`: which process is the chief, TF_CONFIG for a cluster, and
the preparation `fit` needs under a strategy."""

import json


def is_chief(strategy=None):
    """Whether this process should write shared files (checkpoints, logs) for its cluster.

    A single process (no strategy, `MirroredStrategy`, `OneDeviceStrategy`, a single-client
    `TPUStrategy`) is always the chief. Under `MultiWorkerMirroredStrategy` the chief is the task of
    type "chief" when the cluster has one, else worker 0, following TensorFlow's convention.

    Args:
        strategy: a `tf.distribute.Strategy`; by default the one in scope
            (`tf.distribute.get_strategy()`).

    Returns:
        A Python bool.

    Example:
    >>> is_chief()  # no cluster: this process is the chief
    True
    """
    import tensorflow as tf

    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return True
    cluster = resolver.cluster_spec().as_dict()
    if not cluster or resolver.task_type is None:
        return True
    if "chief" in cluster:
        return resolver.task_type == "chief"
    return resolver.task_type == "worker" and (resolver.task_id or 0) == 0


def tf_config(workers, index):
    """The TF_CONFIG value (a JSON string) for one worker of a multi-worker cluster.

    Every process of the cluster gets the same `cluster` and its own `task`; set it as the environment
    variable `TF_CONFIG` before creating `tf.distribute.MultiWorkerMirroredStrategy`. Worker 0 is the
    chief (it writes the checkpoints).

    Args:
        workers: the `"host:port"` addresses of the workers, the same list in the same order on every
            process.
        index: this process's position in `workers`.

    Returns:
        A JSON string: `{"cluster": {"worker": [...]}, "task": {"type": "worker", "index": index}}`.

    Example:
    >>> tf_config(["127.0.0.1:12345", "127.0.0.1:12346"], index=1)
    '{"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:12346"]}, "task": {"type": "worker", "index": 1}}'
    """
    if isinstance(workers, str) or not workers or not all(isinstance(w, str) and ":" in w for w in workers):
        raise ValueError(f'`workers` must be a non-empty list of "host:port" strings. Received: workers={workers!r}')
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(workers):
        raise ValueError(f"`index` must be an int in [0, {len(workers)}). Received: index={index!r}")
    return json.dumps({"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": index}})


def prepare_distributed_fit(model, x, y):
    """Make a compiled model ready for `fit` under a `tf.distribute` strategy, working around faults
    of Keras 3 (seen in 3.15) there.

    1. Under any strategy, `fit` first averages a batch across replicas (`strategy.reduce("MEAN")`) to
       build the compiled loss and metrics symbolically; the average turns int32 token ids into
       float64, which the models of `build_transformer` refuse as token ids.
    2. Under `MultiWorkerMirroredStrategy` with more than one worker, that reduce fails outright on
       any nested batch ("Attempt to convert a value (PerReplica...) with an unsupported type to a
       Tensor", keras-team/keras#20585).
    3. There, `fit` also averages each step's scalar logs with `strategy.reduce("MEAN", v, axis=0)`,
       which fails ("Invalid reduction dimension 0 for input with 0 dimensions").

    This function builds the model, compiled loss, metrics and optimizer from a real batch and turns
    that first build step off for this model (it had nothing left to do), which settles 1 and 2. For 3,
    under a multi-worker strategy, it makes this model's `compute_metrics` return its scalars with
    shape (1,), which that reduce averages to scalars again. Training itself is untouched.

    Call it inside `strategy.scope()`, after `compile`, before `fit`, on every worker (variables are
    created collectively).

    Args:
        model: a compiled Keras model created under the strategy's scope.
        x: one batch of model inputs (e.g. `{"encoder_tokens": ..., "decoder_tokens": ...}`), of any
            batch size; it only fixes shapes and dtypes and is not trained on.
        y: the matching labels.

    Returns:
        The model, ready for `fit`.

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> import keras
    >>> strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    >>> with strategy.scope():
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    ...     model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    ...     model = prepare_distributed_fit(model, np.ones((2, 3)), np.zeros((2, 1)))
    >>> model.optimizer.built
    True
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError(f"`model` must be compiled before prepare_distributed_fit. Received: model={model!r}")
    import keras

    if keras.backend.backend() != "tensorflow":
        return model
    import tensorflow as tf

    strategy = model.distribute_strategy
    with strategy.scope():
        y_pred = model(x, training=False)
        model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
        model.compute_metrics(x, y, y_pred)
        model.reset_metrics()  # the batch above only built the metrics; it must not count
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    # Private Keras method, replaced on this instance only: with everything built above, all it
    # still does is the cross-replica reduce of faults 1 and 2.
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and _task_count(strategy) > 1:
        model.compute_metrics = _logs_with_a_batch_axis(model.compute_metrics)  # fault 3
    return model


def _logs_with_a_batch_axis(compute_metrics):
    from keras import ops

    def compute_metrics_with_a_batch_axis(x, y, y_pred, sample_weight=None):
        logs = compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        return {name: ops.reshape(value, (1,)) if len(value.shape) == 0 else value for name, value in logs.items()}

    return compute_metrics_with_a_batch_axis


def _task_count(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    cluster = resolver.cluster_spec().as_dict()
    return sum(len(tasks) for job, tasks in cluster.items() if job in ("chief", "worker")) or 1
