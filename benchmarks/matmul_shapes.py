"""How fast each library multiplies the matrices a training step of the benchmark model is made of.

    python benchmarks/matmul_shapes.py        # writes the "matmul" section of BENCHMARKS.md

The step of `train_throughput.py` (batch 32 x length 64 = 2048 tokens, D=256, F=1024, V=8000) is
almost all matmuls of these shapes; this measures fp32 GFLOP/s of each shape through TensorFlow's
graph kernels, TensorFlow under XLA (plain, and with XLA's XNNPACK dot fusion switched on by
`XLA_FLAGS`), and torch, each library in its own process, best of `--repeats` calls. It tells how much
of the gap between the frameworks is the matmul kernels themselves.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

SHAPES = {  # (M, K, N): what it is in the model
    (2048, 2048, 2048): "square (the peak)",
    (2048, 256, 256): "Q/K/V/output projections",
    (2048, 256, 1024): "feed-forward in",
    (2048, 1024, 256): "feed-forward out",
    (2048, 256, 8000): "output projection to V",
    (2048, 8000, 256): "its gradient for the states",
}
XNN_FLAGS = "--xla_cpu_experimental_xnn_fusion_type=dot"
LIBRARIES = {
    "tf.matmul": {},
    "tf.matmul under XLA": {},
    "XLA + XNNPACK dot fusion": {"XLA_FLAGS": XNN_FLAGS},
    "torch.mm": {},
}


def best_seconds(multiply, repeats):
    multiply()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        multiply()
        best = min(best, time.perf_counter() - started)
    return best


def library_gflops(library, shapes, repeats):
    """{"MxKxN": best fp32 GFLOP/s} of `library` ("torch.mm", "tf.matmul" or an XLA one) on `shapes`."""
    rates = {}
    if library == "torch.mm":
        import torch

        torch.set_num_threads(os.cpu_count())
        for m, k, n in shapes:
            a, b = torch.randn(m, k), torch.randn(k, n)
            rates[f"{m}x{k}x{n}"] = 2 * m * k * n / best_seconds(lambda: torch.mm(a, b), repeats) / 1e9
    else:
        import tensorflow as tf

        xla = library != "tf.matmul"
        multiply = tf.function(tf.matmul, jit_compile=True, autograph=False) if xla else tf.matmul
        for m, k, n in shapes:
            a, b = tf.random.normal((m, k)), tf.random.normal((k, n))
            rates[f"{m}x{k}x{n}"] = 2 * m * k * n / best_seconds(lambda: multiply(a, b).numpy(), repeats) / 1e9
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(library_gflops(args.child, SHAPES, args.repeats)))
        return

    results = {}
    for library, environment in LIBRARIES.items():
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **environment}
        command = [sys.executable, __file__, "--child", library, "--repeats", str(args.repeats)]
        run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, check=False)
        if run.returncode != 0:
            raise SystemExit(f"{library} failed: {run.stderr.strip().splitlines()[-1:]}")
        results[library] = json.loads(run.stdout.strip().splitlines()[-1])
        print(library, results[library], flush=True)

    lines = [
        "## Matmul kernels at the model's shapes (`benchmarks/matmul_shapes.py`)",
        "",
        f"`python benchmarks/matmul_shapes.py` on {platform.machine()}, {os.cpu_count()} cores: fp32 GFLOP/s of one "
        f"M x K x N matmul, best of {args.repeats} calls, each library in its own process. XNNPACK dot fusion "
        f"is XLA's `XLA_FLAGS={XNN_FLAGS}`.",
        "",
        "| M x K x N | in the model | " + " | ".join(LIBRARIES) + " |",
        "|---|---|" + "---|" * len(LIBRARIES),
    ]
    for (m, k, n), role in SHAPES.items():
        key = f"{m}x{k}x{n}"
        lines.append(f"| {key} | {role} | " + " | ".join(f"{results[library][key]:.0f}" for library in LIBRARIES) + " |")
    from _report import publish

    publish("matmul", "\n".join(lines), write=not args.no_write)


if __name__ == "__main__":
    main()
