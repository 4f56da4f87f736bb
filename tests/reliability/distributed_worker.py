"""Train the same small Transformer from the same initial weights under a `tf.distribute` strategy;
started as subprocesses by `test_distributed.py`, which compares the result with single-device training.

    python distributed_worker.py mirrored OUT_DIR     # MirroredStrategy over 2 logical CPU devices
    unshare -rn python distributed_worker.py cluster OUT_DIR   # 2 MultiWorkerMirroredStrategy workers

`OUT_DIR` holds `initial.weights.h5` (written by the test); each process writes
`<mirrored|worker-i>-<case>.weights.h5` there, one file per case of `CASES`.
`cluster` must run in a private network namespace (`unshare -rn`): TensorFlow's gRPC server listens on
every interface of its namespace (`[::]:port`), so there the only interface is loopback. It brings
loopback up, picks free 127.0.0.1 ports, starts the workers, waits for them (killing both on a failure
or after a time limit) and exits with the first failing worker's status.
"""

import argparse
import fcntl
import json
import os
import pathlib
import socket
import struct
import subprocess
import sys
import time

# Kept in one place so the test's single-device reference trains exactly the same way.
CONFIG = {
    "source_vocab_size": 16,
    "target_vocab_size": 16,
    "d_model": 32,
    "num_heads": 2,
    "d_ff": 64,
    "num_encoder_layers": 1,
    "num_decoder_layers": 1,
    "dropout": 0.0,
    "max_length": 8,
}
GLOBAL_BATCH = 8
STEPS = 4
LEARNING_RATE = 0.1
WORKER_TIMEOUT = 240  # seconds


def build_model():
    import keras_transformer

    return keras_transformer.build_transformer(keras_transformer.TransformerConfig(**CONFIG))


def data(padded):
    """Deterministic reverse-task batches. Unpadded: every sequence has 6 symbols. Padded: 2 to 6
    symbols, so the two halves of a global batch hold different numbers of real tokens."""
    import numpy as np

    from keras_transformer import training

    rng = np.random.default_rng(0)
    count = GLOBAL_BATCH * STEPS
    lengths = rng.integers(2, 7, size=count) if padded else np.full(count, 6)
    sources = [rng.integers(3, CONFIG["source_vocab_size"], size=n).tolist() for n in lengths]
    return training.teacher_forcing(sources, [s[::-1] for s in sources], start_id=1, end_id=2)


def make_loss(case):
    import keras

    from keras_transformer import training

    if case == "keras_loss":  # Keras' own mean reduction, which Keras scales for tf.distribute
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return training.MaskedSparseCrossEntropy(label_smoothing=0.0)


# name -> (loss, padded data)
CASES = {"keras_loss": ("keras_loss", False), "masked_loss": ("masked_loss", True)}


def train(model, case, prepare=True, epochs=1, callbacks=()):
    """SGD, STEPS global batches an epoch, in order; the model's weights change in place. `prepare`
    calls `training.prepare_distributed_fit` first (needed under a strategy; harmless without one).
    Returns the `History`."""
    import keras

    from keras_transformer import training

    loss_name, padded = CASES[case]
    model.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE), loss=make_loss(loss_name), metrics=[training.MaskedAccuracy()]
    )
    inputs, labels = data(padded)
    if prepare:
        training.prepare_distributed_fit(model, {name: tokens[:2] for name, tokens in inputs.items()}, labels[:2])
    return model.fit(
        inputs, labels, batch_size=GLOBAL_BATCH, epochs=epochs, shuffle=False, verbose=0, callbacks=list(callbacks)
    )


def run_cases(strategy, out, tag):
    """Under `strategy`: a plain `fit` (reporting whether it works), then each case from the initial
    weights, saved as `<tag>-<case>.weights.h5`."""
    with strategy.scope():
        model = build_model()
        model.load_weights(out / "initial.weights.h5")
        try:
            train(model, "keras_loss", prepare=False)
            print(f"{tag} plain fit: ok", flush=True)
        except Exception as error:  # noqa: BLE001 - reported, whatever it is
            print(f"{tag} plain fit: {type(error).__name__}: {str(error).splitlines()[0]}", flush=True)
    for case in CASES:
        with strategy.scope():
            model = build_model()
            model.load_weights(out / "initial.weights.h5")
            train(model, case)
        model.save_weights(out / f"{tag}-{case}.weights.h5")
        print(f"{tag} {case}: trained", flush=True)


def run_checkpoint_rounds(strategy, directory, tag):
    """ResumableCheckpoint under `strategy`: train one epoch with it; a fresh model restores that
    state (and trains no further); another restores it and trains a second epoch."""
    import numpy as np

    from keras_transformer.training import ResumableCheckpoint

    def fresh():
        model = build_model()
        model.load_weights(directory.parent / "initial.weights.h5")
        return model

    with strategy.scope():
        first = fresh()
        train(first, "keras_loss", callbacks=[ResumableCheckpoint(directory, verbose=0)])
        restored = fresh()
        history = train(restored, "keras_loss", callbacks=[ResumableCheckpoint(directory, verbose=0)])
        equal = all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first.weights, restored.weights))
        print(f"{tag} checkpoint restored: epochs run {history.epoch}, weights equal {equal}", flush=True)
        continued = fresh()
        history = train(continued, "keras_loss", epochs=2, callbacks=[ResumableCheckpoint(directory, verbose=0)])
        print(f"{tag} checkpoint continued: epochs run {history.epoch}", flush=True)


def run_mirrored(out):
    import tensorflow as tf

    # Must precede anything that initializes TensorFlow's devices.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    strategy = tf.distribute.MirroredStrategy(devices)
    print(f"replicas in sync: {strategy.num_replicas_in_sync} on {devices}", flush=True)
    run_cases(strategy, out, "mirrored")
    run_checkpoint_rounds(strategy, out / "mirrored-checkpoints", "mirrored")


def run_worker(out):
    import tensorflow as tf

    from keras_transformer.training import is_chief

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    print(f"worker {index}: replicas in sync {strategy.num_replicas_in_sync}, chief {is_chief(strategy)}", flush=True)
    run_cases(strategy, out, f"worker-{index}")
    # One folder for the cluster, as on a shared file system: the chief writes, every worker reads.
    run_checkpoint_rounds(strategy, out / "cluster-checkpoints", f"worker-{index}")
    print(f"worker {index}: done", flush=True)


def bring_up_loopback():
    """`ip link set lo up` without needing `ip`: a new network namespace starts with loopback down."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as handle:
        request = struct.pack("16sh22x", b"lo", 0)
        flags = struct.unpack("16sh22x", fcntl.ioctl(handle, siocgifflags, request))[1]
        fcntl.ioctl(handle, siocsifflags, struct.pack("16sh22x", b"lo", flags | iff_up))


def free_loopback_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for handle in sockets:
            handle.bind(("127.0.0.1", 0))
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def only_loopback_interfaces():
    """The interfaces of this network namespace, from /proc (sysfs may still show the host's)."""
    lines = pathlib.Path("/proc/net/dev").read_text().splitlines()[2:]
    return sorted(line.split(":")[0].strip() for line in lines)


def run_cluster(out, workers=2):
    from keras_transformer.training import tf_config

    bring_up_loopback()
    interfaces = only_loopback_interfaces()
    if interfaces != ["lo"]:
        sys.exit(f"refusing to start: this network namespace has interfaces {interfaces}, not only loopback")
    addresses = [f"127.0.0.1:{port}" for port in free_loopback_ports(workers)]
    children = []
    for index in range(workers):
        environment = {**os.environ, "TF_CONFIG": tf_config(addresses, index)}
        children.append(subprocess.Popen([sys.executable, __file__, "worker", str(out)], env=environment))
    deadline = time.monotonic() + WORKER_TIMEOUT
    status = None
    try:
        while status is None and time.monotonic() < deadline:
            codes = [child.poll() for child in children]
            failed = [code for code in codes if code not in (None, 0)]
            if failed:
                status = failed[0]
            elif all(code == 0 for code in codes):
                status = 0
            time.sleep(0.1)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
    if status is None:
        sys.exit(f"workers ran past {WORKER_TIMEOUT} s")
    sys.exit(status)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["mirrored", "cluster", "worker"])
    parser.add_argument("out", type=pathlib.Path)
    args = parser.parse_args()
    {"mirrored": run_mirrored, "cluster": run_cluster, "worker": run_worker}[args.mode](args.out)


if __name__ == "__main__":
    main()
