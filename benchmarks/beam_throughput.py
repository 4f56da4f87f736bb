"""Batch inference on Apache Beam against a plain `predict` loop: inputs/s of `keras-transformer beam`'s
job (`keras_transformer.beam.run`) on the DirectRunner in multi-processing mode with 1 and 2 worker
processes, and of `zoo.load(name).predict(texts)` in this one process, measured in the same run; the
scaling efficiency is the 2-worker rate over twice the 1-worker rate.

The inputs are CMUdict's first words (letters and apostrophes only), one a line in 2 files. A Beam
figure is the job's wall time: workers started, the model loaded in each, the files read, shuffled,
decoded and written. The loop is timed twice: with the model's load, and decoding alone.

    pip install -e ".[beam]"
    python benchmarks/beam_throughput.py                  # writes the "beam_throughput" section of BENCHMARKS.md
    python benchmarks/beam_throughput.py --inputs 2000 --no-write
"""

import argparse
import os
import pathlib
import platform
import tempfile
import time

from _report import publish

from keras_transformer import beam, zoo
from keras_transformer.g2p import Lexicon

WORKERS = (1, 2)


def words(count):
    """CMUdict's first `count` words made of the letters a-z and apostrophes, in its order."""
    letters = set("abcdefghijklmnopqrstuvwxyz'")
    return [word for word in Lexicon.cmudict().words() if set(word) <= letters][:count]


def write_files(directory, texts, files=2):
    for index in range(files):
        (directory / f"part-{index}.txt").write_text(
            "".join(f"{text}\n" for text in texts[index::files]), encoding="utf-8"
        )
    return str(directory / "part-*.txt")


def time_loop(name, runtime, texts):
    """(seconds with the load, seconds decoding alone) of one process's `predict`."""
    started = time.perf_counter()
    model = zoo.load(name, runtime=runtime)
    loaded = time.perf_counter()
    outputs = model.predict(texts)
    finished = time.perf_counter()
    assert len(outputs) == len(texts)
    return finished - started, finished - loaded


def time_beam(name, runtime, pattern, prefix, workers):
    handler = beam.ZooModelHandler(name, runtime=runtime)
    options = [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    started = time.perf_counter()
    counters = beam.run(handler, pattern, prefix, beam_args=options)
    return time.perf_counter() - started, counters


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="g2p_en", help="a seq2seq zoo model (default g2p_en)")
    parser.add_argument("--runtime", default="auto", help="zoo.load's runtime, the same in both (default auto)")
    parser.add_argument("--inputs", type=int, default=10_000, help="words decoded (default 10,000)")
    parser.add_argument("--no-write", action="store_true", help="print the section; leave BENCHMARKS.md")
    args = parser.parse_args()
    texts = words(args.inputs)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        pattern = write_files(scratch, texts)
        zoo.load(args.model, runtime=args.runtime).predict(texts[:64])  # a warm file cache for every run
        with_load, decoding = time_loop(args.model, args.runtime, texts)
        rows.append(("`predict` loop, 1 process, model load included", with_load))
        rows.append(("`predict` loop, 1 process, decoding only", decoding))
        rates = {}
        for workers in WORKERS:
            seconds, counters = time_beam(
                args.model, args.runtime, pattern, str(scratch / f"out{workers}" / "out"), workers
            )
            if counters.get("outputs", len(texts)) != len(texts):
                raise RuntimeError(f"the job wrote {counters.get('outputs')} outputs for {len(texts)} inputs")
            rates[workers] = len(texts) / seconds
            rows.append((f"Beam DirectRunner, {workers} worker process{'es' if workers > 1 else ''}", seconds))
    loop_rate = len(texts) / with_load
    lines = [
        f"### Beam batch inference: {args.model} ({args.runtime} runtime), {len(texts):,} words",
        "",
        (
            f"`python benchmarks/beam_throughput.py --inputs {args.inputs}` on {platform.machine()}, {os.cpu_count()} CPU cores, "
            f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} at the end; measured {time.strftime('%Y-%m-%d')}."
        ),
        "",
        "| run | seconds | inputs/s | vs the loop with its load |",
        "|---|---:|---:|---:|",
    ]
    for label, seconds in rows:
        rate = len(texts) / seconds
        lines.append(f"| {label} | {seconds:.1f} | {rate:,.0f} | {rate / loop_rate:.2f}x |")
    efficiency = rates[2] / (2 * rates[1])
    lines += [
        "",
        f"Scaling efficiency, 2 workers against 1: {rates[2]:,.0f} / (2 x {rates[1]:,.0f}) = {efficiency:.0%}.",
    ]
    publish("beam_throughput", "\n".join(lines), write=not args.no_write)


if __name__ == "__main__":
    main()
