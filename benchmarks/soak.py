"""Soak: many predictions through the zoo API in batches, watching memory.

    python benchmarks/soak.py g2p_en --count 10000 --batch-size 100

Prints the resident set size (RSS) at start (after loading and one warm-up batch), every
`--report-every` predictions, and at the end; a stable figure means no per-call leak.
"""

import argparse
import json
import random
import resource
import string
import time


def rss_mib():
    """Current resident set size in MiB (Linux /proc), or the peak where /proc is missing."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--report-every", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from keras_transformer import zoo

    pipeline = zoo.load(args.name)
    rng = random.Random(args.seed)

    def random_words(n):
        # Random lowercase words of 2-12 letters, so every batch has new texts and lengths.
        return ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 12))) for _ in range(n)]

    pipeline.predict(random_words(args.batch_size), batch_size=args.batch_size)
    start_rss, started = rss_mib(), time.perf_counter()
    readings = [(0, round(start_rss, 1))]
    done = 0
    while done < args.count:
        batch = random_words(min(args.batch_size, args.count - done))
        outputs = pipeline.predict(batch, batch_size=args.batch_size)
        assert len(outputs) == len(batch)
        done += len(batch)
        if done % args.report_every == 0 or done == args.count:
            readings.append((done, round(rss_mib(), 1)))
            print(f"{done} predictions, RSS {readings[-1][1]} MiB", flush=True)
    report = {
        "model": args.name,
        "predictions": done,
        "seconds": round(time.perf_counter() - started, 1),
        "rss_start_mib": readings[0][1],
        "rss_end_mib": readings[-1][1],
        "readings": readings,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
