"""Is one fused Q/K/V projection faster than three on this CPU? Forward + backward of the self-attention
projections at the training benchmark's shape (batch 32, length 64, D=256, H=8), in TF graph mode:

    python benchmarks/fused_qkv.py

three: three `btd,dhk->bthk` einsums (what `keras_transformer.layers.MultiHeadAttention` does);
fused einsum: the three kernels stacked, one `btd,dnhk->btnhk` einsum, then split;
fused matmul: the kernels concatenated to (D, 3D), one matmul, then reshaped and sliced.
Prints the median ms of each over `--repeats` calls, interleaved so that drifts hit all three alike.
"""

import argparse
import statistics
import time

import tensorflow as tf

B, T, D, H = 32, 64, 256, 8
K = D // H


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()

    tf.random.set_seed(0)
    x = tf.random.normal((B, T, D))
    kernels = [tf.Variable(tf.random.normal((D, H, K)) * 0.05) for _ in range(3)]

    def gradients(project):
        @tf.function
        def run(x):
            with tf.GradientTape() as tape:
                q, k, v = project(x)
                loss = tf.reduce_sum(q * k * v)
            return tape.gradient(loss, kernels)

        return run

    def three(x):
        return [tf.einsum("btd,dhk->bthk", x, kernel) for kernel in kernels]

    def fused_einsum(x):
        return tf.unstack(tf.einsum("btd,dnhk->btnhk", x, tf.stack(kernels, axis=1)), axis=2)

    def fused_matmul(x):
        kernel = tf.concat([tf.reshape(k, (D, D)) for k in kernels], axis=1)
        qkv = tf.reshape(tf.matmul(tf.reshape(x, (-1, D)), kernel), (B, T, 3, H, K))
        return qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]

    variants = {name: gradients(f) for name, f in (("three", three), ("fused einsum", fused_einsum), ("fused matmul", fused_matmul))}
    times = {name: [] for name in variants}
    for run in variants.values():
        run(x)
    for _ in range(args.repeats):
        for name, run in variants.items():
            started = time.perf_counter()
            [g.numpy() for g in run(x)]
            times[name].append(time.perf_counter() - started)
    for name, values in times.items():
        print(f"{name}: {1000 * statistics.median(values):.1f} ms")


if __name__ == "__main__":
    main()
