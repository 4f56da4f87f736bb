"""Training throughput: target tokens/s over `model.fit` steps for ours and three peers, measured in one
run, with achieved GFLOP/s against this machine's fp32 matmul peak measured in the same run. Ours runs
on every Keras backend: TensorFlow (graph, and XLA with `jit_compile`), JAX (`jax.jit`) and PyTorch
(eager, and `torch.compile` with `jit_compile`).

    pip install -e ".[benchmark,backends]"
    python benchmarks/train_throughput.py                     # head to head: the "train" section of BENCHMARKS.md
    python benchmarks/train_throughput.py --smoke             # a tiny config, one round, to check that every runner runs
    python benchmarks/train_throughput.py --parts bucketing   # real-token tokens/s, padded vs bucketed batches
    python benchmarks/train_throughput.py --parts scaling     # tokens/s and peak RSS by length and size

Config (the issue's): V=8000, D=256, H=8, F=1024, 3+3 layers, batch 32, source and target length 64,
dropout 0, Adam. Each framework is timed in its own subprocess (clean memory, fair threads); the
first steps (tracing, compilation) are excluded and the median of the rest is kept. This shared
machine drifts by 10-20% over minutes, so the head-to-head and bucketing runs go round the frameworks
`--rounds` times and report medians, with ratios taken within each round.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

V, D, H, F, LAYERS, BATCH, LENGTH = 8000, 256, 8, 1024, 3, 32, 64
CONFIG = {"V": V, "D": D, "H": H, "F": F, "layers": LAYERS}
WARMUP, STEPS = 3, 12
SMOKE = {"V": 500, "D": 32, "H": 2, "F": 64, "layers": 1, "batch": 8, "length": 16, "warmup": 1, "steps": 3}
SCALING_STEPS = 5


def training_flops(batch, source, target, d_model, d_ff, layers, vocabulary):
    """Multiply-adds of one forward pass x 2 (FLOPs) x 3 (forward + backward), matmuls only."""
    encoder = source * (4 * d_model**2 + 2 * source * d_model + 2 * d_model * d_ff)
    decoder = target * (4 * d_model**2 + 2 * target * d_model)  # masked self-attention (full square)
    decoder += target * 2 * d_model**2 + source * 2 * d_model**2 + target * 2 * source * d_model  # source-target
    decoder += target * 2 * d_model * d_ff
    output = target * d_model * vocabulary
    return 2 * 3 * batch * (layers * (encoder + decoder) + output)


def synthetic_batches(steps, batch, length, vocabulary, seed=0):
    rng = np.random.default_rng(seed)
    source = rng.integers(3, vocabulary, size=(steps * batch, length)).astype("int32")
    target = rng.integers(3, vocabulary, size=(steps * batch, length + 1)).astype("int32")
    return source, target[:, :-1], target[:, 1:]


# Variable-length data for the real-token figures: batches of about BATCH x LENGTH positions, padded
# either to LENGTH (one shape) or to the smallest of these bucket widths that holds every example.
BUCKET_WIDTHS = (16, 24, 32, 48, 64)
MIXTURE_EXAMPLES = 1024


def length_mixture(count, max_length, seed=0):
    """Source and target lengths shaped like sentence pairs: target lengths from a gamma distribution
    (mean 28 tokens) clipped to [4, max_length - 1], source lengths 0.8-1.25x the target's."""
    rng = np.random.default_rng(seed)
    target = np.clip(np.round(rng.gamma(4.0, 7.0, count)), 4, max_length - 1).astype(int)
    source = np.clip(np.round(target * rng.uniform(0.8, 1.25, count)), 4, max_length).astype(int)
    return source, target


def variable_length_batches(bucketed, vocabulary, count=MIXTURE_EXAMPLES, batch_tokens=BATCH * LENGTH, seed=0):
    """Teacher-forcing batches `(source, decoder_in, labels)` over `length_mixture` examples, 0-padded.

    Unbucketed: every batch is BATCH examples padded to LENGTH. Bucketed: each example goes to the
    narrowest of BUCKET_WIDTHS that holds it (source, and target + the start/end id), and a batch of
    width w has `batch_tokens // w` examples (a multiple of 8). Last partial batches are dropped; the
    batch order is shuffled.
    """
    rng = np.random.default_rng(seed)
    source_lengths, target_lengths = length_mixture(count, LENGTH, seed)
    needed = np.maximum(source_lengths, target_lengths + 1)
    widths = np.array([min(w for w in BUCKET_WIDTHS if w >= n) for n in needed]) if bucketed else np.full(count, LENGTH)
    batches = []
    for width in np.unique(widths):
        members = rng.permutation(np.flatnonzero(widths == width))
        size = BATCH if not bucketed else max(8, batch_tokens // width // 8 * 8)
        for start in range(0, len(members) - size + 1, size):
            rows = members[start:start + size]
            source = np.zeros((size, width), "int32")
            decoder_in = np.zeros((size, width), "int32")
            labels = np.zeros((size, width), "int32")
            for row, example in enumerate(rows):
                n, t = source_lengths[example], target_lengths[example]
                source[row, :n] = rng.integers(3, vocabulary, n)
                tokens = rng.integers(3, vocabulary, t)
                decoder_in[row, :t + 1] = np.concatenate([[1], tokens])
                labels[row, :t + 1] = np.concatenate([tokens, [2]])
            batches.append((source, decoder_in, labels))
    return [batches[i] for i in rng.permutation(len(batches))]


class StepTimer:
    """Collects wall time per training step through Keras callbacks."""

    def __init__(self):
        import keras

        timer = self

        class Callback(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                timer.started = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                timer.times.append(time.perf_counter() - timer.started)

        self.times = []
        self.callback = Callback()


def compiled_model(builder, length, jit_compile, config):
    """`builder`'s model compiled as every Keras run here is: seed 0, Adam 1e-4, its own loss."""
    import keras

    keras.utils.set_random_seed(0)
    model, loss = builder(length, config)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=loss, jit_compile=jit_compile)
    return model


def real_tokens(batches):
    """Target tokens that are not padding (labels other than 0) in `(source, decoder_in, labels)` batches."""
    return sum(int((labels != 0).sum()) for _, _, labels in batches)


def run_keras(builder, length, batch, jit_compile, config):
    model = compiled_model(builder, length, jit_compile, config)
    source, decoder_in, labels = synthetic_batches(WARMUP + STEPS, batch, length, config["V"])
    print(json.dumps({"parameters": model.count_params()}), flush=True)
    timer = StepTimer()
    model.fit(
        {"encoder_tokens": source, "decoder_tokens": decoder_in},
        labels,
        batch_size=batch,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[timer.callback],
    )
    return timer.times[WARMUP:]


def run_keras_variable(builder, bucketed, jit_compile, config):
    """Two `fit` epochs over `variable_length_batches`: the first compiles every shape, the second is
    timed. Returns (seconds of the second epoch's steps, real target tokens in it)."""
    import tensorflow as tf

    model = compiled_model(builder, LENGTH, jit_compile, config)
    batches = variable_length_batches(bucketed, config["V"])

    def generate():
        for source, decoder_in, labels in batches:
            yield {"encoder_tokens": source, "decoder_tokens": decoder_in}, labels

    matrix = tf.TensorSpec((None, None), tf.int32)
    dataset = tf.data.Dataset.from_generator(
        generate, output_signature=({"encoder_tokens": matrix, "decoder_tokens": matrix}, matrix)
    ).prefetch(2)
    timer = StepTimer()
    model.fit(dataset, epochs=2, verbose=0, callbacks=[timer.callback])
    return sum(timer.times[len(batches):]), real_tokens(batches)


def build_ours(length, config):
    import keras_transformer
    from keras_transformer.training import MaskedSparseCrossEntropy

    shared = config.get("shared", False)  # the paper's layout: one embedding matrix, also the output
    model = keras_transformer.build_transformer(
        keras_transformer.TransformerConfig(
            source_vocab_size=config["V"], target_vocab_size=config["V"], d_model=config["D"],
            num_heads=config["H"], d_ff=config["F"], num_encoder_layers=config["layers"],
            num_decoder_layers=config["layers"], dropout=0.0, max_length=max(length, 64),
            share_embeddings=shared, tie_output=shared,
        )
    )
    return model, MaskedSparseCrossEntropy(label_smoothing=0.0)


def build_keras_hub(length, config):
    import keras
    import keras_hub

    encoder_tokens = keras.Input((None,), dtype="int32", name="encoder_tokens")
    decoder_tokens = keras.Input((None,), dtype="int32", name="decoder_tokens")
    x = keras_hub.layers.TokenAndPositionEmbedding(config["V"], length, config["D"], mask_zero=True)(encoder_tokens)
    for _ in range(config["layers"]):
        x = keras_hub.layers.TransformerEncoder(config["F"], config["H"], dropout=0.0)(x)
    y = keras_hub.layers.TokenAndPositionEmbedding(config["V"], length, config["D"], mask_zero=True)(decoder_tokens)
    for _ in range(config["layers"]):
        y = keras_hub.layers.TransformerDecoder(config["F"], config["H"], dropout=0.0)(y, x)
    logits = keras.layers.Dense(config["V"])(y)
    model = keras.Model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens}, logits)
    return model, keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)


def build_keras_mha_tutorial(length, config):
    """The TensorFlow Transformer tutorial's structure on `keras.layers.MultiHeadAttention`."""
    import keras
    from keras import layers, ops

    d_model, heads, d_ff = config["D"], config["H"], config["F"]

    def positional(tokens):
        x = layers.Embedding(config["V"], d_model, mask_zero=True)(tokens)
        angles = np.arange(length)[:, None] / np.power(10000, np.arange(0, d_model, 2)[None, :] / d_model)
        table = np.concatenate([np.sin(angles), np.cos(angles)], axis=-1).astype("float32")
        return x * np.sqrt(d_model).astype("float32") + table[None]

    def feed_forward(x):
        y = layers.Dense(d_ff, activation="relu")(x)
        return layers.LayerNormalization()(x + layers.Dense(d_model)(y))

    encoder_tokens = keras.Input((length,), dtype="int32", name="encoder_tokens")
    decoder_tokens = keras.Input((length,), dtype="int32", name="decoder_tokens")
    x = positional(encoder_tokens)
    for _ in range(config["layers"]):
        x = layers.LayerNormalization()(x + layers.MultiHeadAttention(heads, d_model // heads)(x, x))
        x = feed_forward(x)
    y = positional(decoder_tokens)
    for _ in range(config["layers"]):
        y = layers.LayerNormalization()(y + layers.MultiHeadAttention(heads, d_model // heads)(y, y, use_causal_mask=True))
        y = layers.LayerNormalization()(y + layers.MultiHeadAttention(heads, d_model // heads)(y, x))
        y = feed_forward(y)
    logits = layers.Dense(config["V"])(y)
    del ops
    model = keras.Model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens}, logits)
    return model, keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)


def torch_model(config):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.source_embedding = torch.nn.Embedding(config["V"], config["D"])
            self.target_embedding = torch.nn.Embedding(config["V"], config["D"])
            self.transformer = torch.nn.Transformer(
                d_model=config["D"], nhead=config["H"], num_encoder_layers=config["layers"],
                num_decoder_layers=config["layers"], dim_feedforward=config["F"], dropout=0.0, batch_first=True,
            )
            self.output = torch.nn.Linear(config["D"], config["V"])

        def forward(self, source, target, padded=False):
            causal = torch.nn.Transformer.generate_square_subsequent_mask(target.shape[1])
            # Padding masks (True = padding) only where batches hold padding, as ours masks it.
            source_padding = source == 0 if padded else None
            target_padding = target == 0 if padded else None
            decoded = self.transformer(
                self.source_embedding(source), self.target_embedding(target), tgt_mask=causal, tgt_is_causal=True,
                src_key_padding_mask=source_padding, tgt_key_padding_mask=target_padding,
                memory_key_padding_mask=source_padding,
            )
            return self.output(decoded)

    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=0)

    def step(source, decoder_in, labels, padded=False):
        optimizer.zero_grad()
        logits = model(source, decoder_in, padded)
        loss = loss_fn(logits.reshape(-1, config["V"]), labels.reshape(-1))
        loss.backward()
        optimizer.step()

    return step


def run_torch(length, batch, config):
    import torch

    step = torch_model(config)
    source, decoder_in, labels = (torch.from_numpy(a).long() for a in synthetic_batches(WARMUP + STEPS, batch, length, config["V"]))
    times = []
    for index in range(WARMUP + STEPS):
        rows = slice(index * batch, (index + 1) * batch)
        started = time.perf_counter()
        step(source[rows], decoder_in[rows], labels[rows])
        times.append(time.perf_counter() - started)
    return times[WARMUP:]


def run_torch_variable(bucketed, config):
    """As `run_keras_variable`: one warm-up pass over the batches, then a timed one."""
    import torch

    step = torch_model(config)
    batches = [tuple(torch.from_numpy(a).long() for a in batch) for batch in variable_length_batches(bucketed, config["V"])]
    for source, decoder_in, labels in batches:  # warm-up pass, untimed
        step(source, decoder_in, labels, padded=True)
    seconds = 0.0
    for source, decoder_in, labels in batches:
        started = time.perf_counter()
        step(source, decoder_in, labels, padded=True)
        seconds += time.perf_counter() - started
    return seconds, real_tokens(batches)


def _bfloat16(builder):
    """`builder` under the mixed_bfloat16 policy (bfloat16 compute, float32 variables)."""

    def build(length, config):
        import keras

        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        return builder(length, config)

    return build


def matmul_gflops(size=2048, repeats=10):
    """Best fp32 GFLOP/s of a size x size matmul through each library this benchmark uses: TensorFlow
    (graph kernels), TensorFlow under XLA, torch. The machine's peak is the best of them."""
    from matmul_shapes import library_gflops

    return {
        library: library_gflops(library, [(size, size, size)], repeats)[f"{size}x{size}x{size}"]
        for library in ("tf.matmul", "tf.matmul under XLA", "torch.mm")
    }


VARIABLE_RUNNERS = {
    "ours, jit_compile, padded to 64": lambda config: run_keras_variable(build_ours, False, True, config),
    "ours, jit_compile, bucketed": lambda config: run_keras_variable(build_ours, True, True, config),
    "ours, bucketed": lambda config: run_keras_variable(build_ours, True, False, config),
    "torch.nn.Transformer, padded to 64": lambda config: run_torch_variable(False, config),
    "torch.nn.Transformer, bucketed": lambda config: run_torch_variable(True, config),
}


RUNNERS = {
    "ours": lambda length, batch, config: run_keras(build_ours, length, batch, False, config),
    "ours, jit_compile": lambda length, batch, config: run_keras(build_ours, length, batch, True, config),
    # The same model and `fit` on the other Keras backends: JAX always compiles (jax.jit); torch runs
    # eagerly, or through torch.compile with jit_compile.
    "ours, jax": lambda length, batch, config: run_keras(build_ours, length, batch, True, config),
    "ours, torch": lambda length, batch, config: run_keras(build_ours, length, batch, False, config),
    "ours, torch, jit_compile": lambda length, batch, config: run_keras(build_ours, length, batch, True, config),
    "ours, mixed_bfloat16": lambda length, batch, config: run_keras(_bfloat16(build_ours), length, batch, False, config),
    "keras-hub": lambda length, batch, config: run_keras(build_keras_hub, length, batch, False, config),
    "keras MHA (tutorial style)": lambda length, batch, config: run_keras(build_keras_mha_tutorial, length, batch, False, config),
    "torch.nn.Transformer": lambda length, batch, config: run_torch(length, batch, config),
}


def child(name, length, batch, config):
    """Runs in a subprocess: time one framework and print a JSON line with its step times and peak RSS."""
    global WARMUP, STEPS
    WARMUP, STEPS = config.pop("warmup", WARMUP), config.pop("steps", STEPS)
    if RUNNER_BACKENDS.get(name) == "torch":
        import torch

        torch.set_num_threads(os.cpu_count())  # as torch.nn.Transformer's run does
    if name == "matmul peak":
        print(json.dumps(matmul_gflops()))
        return
    if name in VARIABLE_RUNNERS:
        seconds, tokens = VARIABLE_RUNNERS[name](config)
        print(json.dumps({"seconds": seconds, "real_tokens": tokens}))
        return
    times = RUNNERS[name](length, batch, config)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"times": times, "peak_rss_mib": peak_mib}))


# The Keras backend a runner's subprocess starts with (KERAS_BACKEND); the other runners use TensorFlow's
# (torch.nn.Transformer uses no Keras).
RUNNER_BACKENDS = {"ours, jax": "jax", "ours, torch": "torch", "ours, torch, jit_compile": "torch"}


def backend_of(name):
    return "PyTorch, no Keras" if name == "torch.nn.Transformer" else RUNNER_BACKENDS.get(name, "tensorflow")


def run_child(name, length=LENGTH, batch=BATCH, config=None):
    """The last JSON line `child` printed in its own subprocess, all JSON lines, or {"error": ...}."""
    config = config or CONFIG
    command = [sys.executable, __file__, "--child", name, "--length", str(length), "--batch", str(batch), "--config", json.dumps(config)]
    environment = dict(os.environ, KERAS_BACKEND=RUNNER_BACKENDS.get(name, "tensorflow"))
    result = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False, env=environment)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"}, []
    lines = [json.loads(line) for line in result.stdout.strip().splitlines() if line.startswith("{")]
    return lines[-1], lines


def measure(name, length=LENGTH, batch=BATCH, config=None):
    config = config or CONFIG
    report, lines = run_child(name, length, batch, config)
    if "error" in report:
        return report
    parameters = next((line["parameters"] for line in lines if "parameters" in line), None)
    step = statistics.median(report["times"])
    flops = training_flops(batch, length, length, config["D"], config["F"], config["layers"], config["V"])
    return {
        "step_seconds": step, "tokens_per_second": batch * length / step, "gflops": flops / step / 1e9,
        "peak_rss_mib": report["peak_rss_mib"], "parameters": parameters,
    }


def in_rounds(names, rounds, run):
    """`run(name)` for every name, the whole list `rounds` times over (interleaved, so that a slow
    spell of this shared machine hits every framework alike). Returns {name: [result of each round]}."""
    results = {name: [] for name in names}
    for index in range(rounds):
        for name in names:
            results[name].append(run(name))
            print(f"round {index + 1}", name, results[name][-1], flush=True)
    return results


def ratio_cell(rounds_of_value, rounds_of_reference):
    """The median over rounds of value / reference, each pair from the same round, and its range."""
    ratios = [v / r for v, r in zip(rounds_of_value, rounds_of_reference) if v and r]
    if not ratios:
        return "n/a"
    middle = f"{statistics.median(ratios):.2f}"
    return middle if len(ratios) == 1 else f"{middle} ({min(ratios):.2f}-{max(ratios):.2f})"


def table_rows(results, columns, cells):
    """A Markdown row a framework: its name and `cells(runs)`, or its first error over `columns` cells."""
    rows = []
    for name, runs in results.items():
        errors = [r["error"] for r in runs if "error" in r]
        row = [f"error: {errors[0][:80]}"] + [""] * (columns - 1) if errors else cells(name, runs)
        rows.append("| " + " | ".join([name, *row]) + " |")
    return rows


def head_to_head_section(names, rounds, length=LENGTH, batch=BATCH, config=CONFIG):
    peaks = [run_child("matmul peak")[0] for _ in range(rounds)]
    if any("error" in p for p in peaks):
        raise SystemExit(f"measuring the matmul peak failed: {peaks}")
    best = {library: max(p[library] for p in peaks) for library in peaks[0]}
    peak_library, peak = max(best.items(), key=lambda item: item[1])
    results = in_rounds(names, rounds, lambda name: measure(name, length, batch, config))

    def rates(name):
        return [r.get("tokens_per_second") for r in results.get(name, [])]

    sizes = f"V={config['V']}, D={config['D']}, H={config['H']}, F={config['F']}, {config['layers']}+{config['layers']} layers"
    steps, warmup = config.get("steps", STEPS), config.get("warmup", WARMUP)

    lines = [
        "## Training throughput (`benchmarks/train_throughput.py`)",
        "",
        f"`python benchmarks/train_throughput.py --rounds {rounds}` on {platform.machine()}, {os.cpu_count()} cores. "
        f"{sizes}, batch {batch}, source and target length {length}, "
        f"dropout 0, Adam. Each framework in its own process (ours under the Keras backend named; torch "
        f"threads set to the core count); a run times {steps} `fit` steps after {warmup} "
        f"warm-up steps and keeps their median; the frameworks run one after another, {rounds} rounds over, "
        "and the table gives the median over rounds (ratios: the median of the ratios within each round, "
        "their range in brackets). fp32 matmul peak, the best of three libraries on a 2048x2048 matmul in "
        f"the same run: {peak:.0f} GFLOP/s ({peak_library}; "
        + ", ".join(f"{library} {rate:.0f}" for library, rate in best.items()) + ").",
        "",
        "| model | backend | ms/step | target tokens/s | x torch | x keras-hub | GFLOP/s | % of matmul peak | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def cells(name, runs):
        gflops = statistics.median(r["gflops"] for r in runs)
        return [
            backend_of(name),
            f"{1000 * statistics.median(r['step_seconds'] for r in runs):.0f}", f"{statistics.median(rates(name)):.0f}",
            ratio_cell(rates(name), rates("torch.nn.Transformer")), ratio_cell(rates(name), rates("keras-hub")),
            f"{gflops:.0f}", f"{100 * gflops / peak:.0f}%", f"{max(r['peak_rss_mib'] for r in runs):.0f}",
        ]

    return lines + table_rows(results, 8, cells)


def bucketing_section(names, rounds):
    """Real target tokens/s over `variable_length_batches`, padded to 64 and bucketed, ours and torch."""
    results = in_rounds(names, rounds, lambda name: run_child(name)[0])

    def rates(name):
        return [r["real_tokens"] / r["seconds"] if r.get("seconds") else None for r in results.get(name, [])]

    widths = ", ".join(str(w) for w in BUCKET_WIDTHS)
    lines = [
        "## Training on real tokens: variable-length data, padded or bucketed (`benchmarks/train_throughput.py --parts bucketing`)",
        "",
        f"`python benchmarks/train_throughput.py --parts bucketing --rounds {rounds}`. The head-to-head model "
        f"and config on {MIXTURE_EXAMPLES} synthetic sentence pairs whose lengths vary as real ones do (target "
        "lengths gamma-distributed, mean 28 tokens, 4..63; source 0.8-1.25x the target), the padding masked "
        "(ours: padding masks from the token ids and the masked loss; torch: key padding masks, "
        f"`ignore_index=0`). *Padded to 64*: batches of {BATCH} examples of width {LENGTH} (45% of the target "
        f"positions are real tokens). *Bucketed*: each example in the narrowest of the widths {widths} that "
        f"holds it, batches of about {BATCH * LENGTH} positions (81% real). Two `fit` epochs (two loops for "
        "torch): the first compiles every shape, the second is timed; tokens/s counts real target tokens "
        f"(labels other than padding) only. {rounds} rounds, interleaved; medians and ratios as in the "
        "head-to-head table.",
        "",
        "| model | real target tokens | seconds | real target tokens/s | x torch, padded | x torch, bucketed |",
        "|---|---|---|---|---|---|",
    ]

    def cells(name, runs):
        return [
            f"{runs[0]['real_tokens']:,}", f"{statistics.median(r['seconds'] for r in runs):.1f}",
            f"{statistics.median(rates(name)):.0f}", ratio_cell(rates(name), rates("torch.nn.Transformer, padded to 64")),
            ratio_cell(rates(name), rates("torch.nn.Transformer, bucketed")),
        ]

    return lines + table_rows(results, 5, cells)


def scaling_section():
    # Fewer steps than the head-to-head table: base at length 512 takes many seconds a step.
    few = {"warmup": 2, "steps": SCALING_STEPS}
    sizes = {
        "tiny": {"V": V, "D": 32, "H": 2, "F": 64, "layers": 1},
        "small": {"V": V, "D": 256, "H": 4, "F": 1024, "layers": 3},
        "base": {"V": V, "D": 512, "H": 8, "F": 2048, "layers": 6},
    }
    lines = [
        "## Training cost by length and size (`benchmarks/train_throughput.py --parts scaling`)",
        "",
        "`python benchmarks/train_throughput.py --parts scaling`: ours, default compile (TF graph), batch 32, "
        f"median of {SCALING_STEPS} steps after 2 warm-up steps. Sizes as `TransformerConfig.from_name` "
        f"(tiny: D 32, 1+1 layers; small: D 256, 3+3; base: D 512, 6+6), V={V}, untied output.",
        "",
        "| size | length | target tokens/s | peak RSS MiB |",
        "|---|---|---|---|",
    ]
    for size, config in sizes.items():
        for length in (32, 64, 128, 256, 512):
            r = measure("ours", length=length, config={**config, **few})
            cell = f"error: {r['error'][:60]} |" if "error" in r else f"{r['tokens_per_second']:.0f} | {r['peak_rss_mib']:.0f}"
            lines.append(f"| {size} | {length} | {cell} |")
            print(size, length, r, flush=True)
    paper = {"V": 37000, "D": 512, "H": 8, "F": 2048, "layers": 6, "shared": True, **few}
    r = measure("ours", length=128, config=paper)
    print("paper base", r, flush=True)
    return lines + ["", (
        f"The paper's `base` (V=37,000 shared source/target vocabulary, tied output, "
        f"{r.get('parameters') or 0:,} parameters) at batch 32 x length 128: "
        + (f"error: {r['error']}" if "error" in r else
           f"peak RSS {r['peak_rss_mib'] / 1024:.2f} GiB (limit 8 GiB), {r['tokens_per_second']:.0f} target tokens/s.")
    )]


PARTS = {"head-to-head": "train", "bucketing": "train_bucketing", "scaling": "train_scaling"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child")
    parser.add_argument("--length", type=int, default=LENGTH)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--config")
    parser.add_argument("--parts", nargs="+", choices=sorted(PARTS), default=["head-to-head"],
                        help="which tables to measure, each its own section of BENCHMARKS.md")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the head-to-head and bucketing runs")
    parser.add_argument("--only", nargs="*", help="frameworks to run (default all)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help=f"head to head on a tiny config ({SMOKE}), one round, nothing written: checks every runner")
    args = parser.parse_args()
    if args.child:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        child(args.child, args.length, args.batch, json.loads(args.config))
        return
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1. Received: --rounds {args.rounds}")

    from _report import publish

    names = [n for n in args.only or RUNNERS if n in RUNNERS]
    if args.smoke:
        config = {key: SMOKE[key] for key in CONFIG} | {"warmup": SMOKE["warmup"], "steps": SMOKE["steps"]}
        publish(PARTS["head-to-head"], "\n".join(head_to_head_section(names, 1, SMOKE["length"], SMOKE["batch"], config)), write=False)
        return
    for part in args.parts:
        if part == "head-to-head":
            lines = head_to_head_section(names, args.rounds)
        elif part == "bucketing":
            lines = bucketing_section([n for n in args.only or VARIABLE_RUNNERS if n in VARIABLE_RUNNERS], args.rounds)
        else:
            lines = scaling_section()
        publish(PARTS[part], "\n".join(lines), write=not args.no_write)


if __name__ == "__main__":
    main()
