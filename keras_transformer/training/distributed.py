"""Helpers for training under `tf.distribute`: which process is the chief, and TF_CONFIG for a cluster."""

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
