"""Where one training step of ours spends its time: forward + backward of each part of the model,
timed on its own, against the whole `train_on_batch` step.

    python benchmarks/train_profile.py                  # writes the "profile" section of BENCHMARKS.md
    python benchmarks/train_profile.py --jit-compile    # the same under XLA: the "profile_xla" section

Same config as `train_throughput.py` (V=8000, D=256, H=8, F=1024, 3+3 layers, batch 32, source and
target length 64, dropout 0, Adam). Each part runs in its own `tf.function` (graph mode, as `fit`
on CPU) on random inputs of the shape it sees in the model; the median of `--repeats` calls after a
warm-up. The parts times their count should add up to about the whole step; what is left is the
step's own overhead (Keras' train step, metrics, the variable updates' bookkeeping).
"""

import argparse
import os
import platform
import statistics
import sys
import time

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(__file__))

from train_throughput import (
    BATCH,
    CONFIG,
    LAYERS,
    LENGTH,
    D,
    F,
    H,
    V,
    build_ours,
    synthetic_batches,
)


def median_ms(function, *args, repeats):
    function(*args)  # trace
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy(), function(*args), expand_composites=True)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def gradient_function(forward, variables, jit_compile=False):
    """A tf.function computing `forward(*inputs)`'s sum and its gradients for `variables` and the
    float inputs (what backpropagation through that part costs inside the model)."""

    @tf.function(jit_compile=jit_compile)
    def run(*inputs):
        with tf.GradientTape() as tape:
            floats = [x for x in inputs if x.dtype.is_floating]
            tape.watch(floats)
            loss = tf.reduce_sum(tf.cast(forward(*inputs), tf.float32))
        return tape.gradient(loss, [*variables, *floats])

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--jit-compile", action="store_true", help="compile every part and the step with XLA")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    jit = args.jit_compile

    keras.utils.set_random_seed(0)
    model, loss = build_ours(LENGTH, CONFIG)
    optimizer = keras.optimizers.Adam(1e-4)
    model.compile(optimizer=optimizer, loss=loss, jit_compile=jit)
    source, decoder_in, labels = synthetic_batches(1, BATCH, LENGTH, V)
    batch = {"encoder_tokens": source, "decoder_tokens": decoder_in}
    model.train_on_batch(batch, labels)  # builds the optimizer and the train function

    rng = np.random.default_rng(0)
    states = tf.constant(rng.normal(size=(BATCH, LENGTH, D)).astype("float32"))
    mask = tf.ones((BATCH, LENGTH), tf.bool)
    source_embedding = model.get_layer("source_embedding")
    target_embedding = model.get_layer("target_embedding")
    positional = model.get_layer("positional_encoding")
    encoder_block = model.get_layer("encoder").blocks[0]
    decoder_block = model.get_layer("decoder").blocks[0]
    projection = model.get_layer("output_projection")

    parts = []  # (name, count, ms, matmul FLOPs of one forward + backward or None)
    tokens = BATCH * LENGTH
    attention = 4 * D * D + 2 * LENGTH * D  # multiply-adds a token: Q/K/V/output projections, QK^T and AV
    feed_forward = 2 * D * F

    def embed(source_ids, target_ids):
        return positional(source_embedding(source_ids)) + positional(target_embedding(target_ids))

    run = gradient_function(embed, source_embedding.trainable_variables + target_embedding.trainable_variables, jit)
    parts.append(("embeddings + positional encoding (source and target)", 1,
                  median_ms(run, tf.constant(source), tf.constant(decoder_in), repeats=args.repeats), None))

    run = gradient_function(lambda x, m: encoder_block(x, mask=m), encoder_block.trainable_variables, jit)
    parts.append(("encoder block (self-attention + feed-forward)", LAYERS,
                  median_ms(run, states, mask, repeats=args.repeats), 6 * tokens * (attention + feed_forward)))

    run = gradient_function(
        lambda y, x, m: decoder_block(y, x, decoder_sequence_mask=m, encoder_sequence_mask=m),
        decoder_block.trainable_variables,
        jit,
    )
    parts.append(("decoder block (masked self-, source-target attention + feed-forward)", LAYERS,
                  median_ms(run, states, states, mask, repeats=args.repeats), 6 * tokens * (2 * attention + feed_forward)))

    label_tensor = tf.constant(labels)
    run = gradient_function(lambda y: loss(label_tensor, projection(y)), projection.trainable_variables, jit)
    parts.append((f"output projection to V={V} + loss", 1, median_ms(run, states, repeats=args.repeats), 6 * tokens * D * V))

    variables = model.trainable_variables
    gradients = [tf.constant(rng.normal(size=v.shape).astype("float32") * 1e-3) for v in variables]

    @tf.function(jit_compile=jit)
    def adam_update(*gradients):
        optimizer.apply(list(gradients), variables)
        return tf.constant(0)

    parts.append(("Adam update of every variable", 1, median_ms(adam_update, *gradients, repeats=args.repeats), None))

    def whole_step():
        return model.train_on_batch(batch, labels, return_dict=True)["loss"]

    step_ms = median_ms(lambda: tf.constant(whole_step()), repeats=args.repeats)
    parameters = model.count_params()
    accounted = sum(count * ms for _, count, ms, _ in parts)

    mode = "XLA, `jit_compile=True`" if jit else "graph mode, as `fit` on CPU by default"
    lines = [
        f"## Where a training step goes{' under XLA' if jit else ''} (`benchmarks/train_profile.py{' --jit-compile' if jit else ''}`)",
        "",
        f"`python benchmarks/train_profile.py{' --jit-compile' if jit else ''}` on {platform.machine()}, {os.cpu_count()} cores, "
        f"TensorFlow {tf.__version__}: ours, V={V}, D={D}, H={H}, F={F}, {LAYERS}+{LAYERS} layers ({parameters:,} "
        f"parameters), batch {BATCH}, lengths {LENGTH}; forward + backward of each part on its own ({mode}), median "
        f"of {args.repeats} calls, against one whole `train_on_batch` step. GFLOP/s counts the matmuls only.",
        "",
        "| part | ms once | count | ms in a step | share of the step | GFLOP/s |",
        "|---|---|---|---|---|---|",
    ]
    for name, count, ms, flops in parts:
        rate = f"{flops / ms / 1e6:.0f}" if flops else ""
        lines.append(f"| {name} | {ms:.1f} | {count} | {count * ms:.1f} | {100 * count * ms / step_ms:.0f}% | {rate} |")
    lines += [
        f"| the parts together | | | {accounted:.1f} | {100 * accounted / step_ms:.0f}% | |",
        f"| whole `train_on_batch` step | | | {step_ms:.1f} | 100% | |",
    ]
    markdown = "\n".join(lines)
    from _report import publish

    publish("profile_xla" if jit else "profile", markdown, write=not args.no_write)


if __name__ == "__main__":
    main()
