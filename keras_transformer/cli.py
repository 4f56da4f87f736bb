"""The `keras-transformer` command: use, evaluate, train, export and look at zoo models.

    keras-transformer zoo list
    keras-transformer predict g2p_en transformer attention
    echo -e "one\\ntwo" | keras-transformer predict g2p_en          # one input a line, in batches
    keras-transformer evaluate g2p_en [--limit 500]
    keras-transformer train reverse [script arguments...]
    keras-transformer export g2p_en --format tflite --out out/
    keras-transformer plot-attention g2p_en transformer --out attention.png
    keras-transformer plot-pe --length 64 --d-model 128 --out pe.png
"""

import argparse
import json
import logging
import os
import sys
import warnings

# Inputs at least this many show a progress bar (on a terminal, unless --quiet).
PROGRESS_MIN_TEXTS = 512


class CommandError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _load(name):
    from keras_transformer import zoo

    try:
        return zoo.load(name)
    except zoo.ZooError as error:
        raise CommandError(str(error)) from None


def _quiet_tensorflow(verbose):
    """Keep TensorFlow's, absl's and Python's warnings off the terminal unless `--verbose`. Runs
    before anything imports TensorFlow (the C++ log level is read at import)."""
    if verbose:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    for name in ("tensorflow", "absl", "keras", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def _progress_bar(total, enabled):
    if not enabled or total < PROGRESS_MIN_TEXTS or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, file=sys.stderr, unit="text", leave=False)

    def update(done, _total):
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def cmd_zoo(args):
    from keras_transformer import zoo

    names = zoo.list_models()
    if not names:
        print("no zoo models found in: " + ", ".join(str(d) for d in zoo.zoo_dirs()), file=sys.stderr)
    for name in names:
        print(f"{name}\t{zoo.describe(name)}")
    return 0


def cmd_predict(args):
    texts = args.texts
    if not texts:
        if sys.stdin is None or sys.stdin.isatty():
            raise CommandError("give texts as arguments or one per line on standard input")
        texts = [line.rstrip("\r\n") for line in sys.stdin]
        if not texts:
            raise CommandError("standard input was empty: nothing to predict")
    pipeline = _load(args.name)
    progress = _progress_bar(len(texts), enabled=not args.quiet)
    outputs = pipeline.predict(
        texts, batch_size=args.batch_size, strategy=args.strategy, beam_size=args.beam_size, progress=progress
    )
    for text, output in zip(texts, outputs):
        print(f"{text}\t{output}")
    return 0


def cmd_evaluate(args):
    from keras_transformer import evaluation
    from keras_transformer.data import load_split

    entry = _load(args.name)
    settings = entry.settings
    split = args.split if args.limit is None else f"{args.split}[:{args.limit}]"
    dataset = load_split(settings["dataset"], split, config=settings.get("dataset_config"))
    sources, references = [], []
    for example in dataset.as_numpy_iterator():
        sources.append(example[settings["source_field"]].decode("utf-8"))
        field = settings.get("references_field") or settings["target_field"]
        value = example[field]
        if isinstance(value, (bytes, str)):
            references.append([value.decode("utf-8") if isinstance(value, bytes) else value])
        else:
            references.append([v.decode("utf-8") for v in value])
    progress = _progress_bar(len(sources), enabled=not args.quiet)
    predictions = entry.predict(sources, batch_size=args.batch_size, strategy=args.strategy, progress=progress)
    measured = {
        metric: round(getattr(evaluation, metric)(predictions, references), 4) for metric in settings["metrics"]
    }
    report = {"model": args.name, "split": split, "examples": len(sources), "strategy": args.strategy or settings.get("decoding", {}).get("strategy", "greedy"), "measured": measured, "card": settings.get("card_metrics", {})}
    print(json.dumps(report, indent=2))
    return 0


def cmd_train(args):
    script = EXAMPLES / f"train_{args.recipe}.py"
    if not script.is_file():
        known = sorted(p.stem[len("train_") :] for p in EXAMPLES.glob("train_*.py")) if EXAMPLES.is_dir() else []
        raise CommandError(
            f"no training recipe {args.recipe!r} (looked for {script}); known: {known}. "
            "Training recipes live in the repository's examples/ folder."
        )
    import runpy

    sys.argv = [str(script), *args.script_args]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def cmd_export(args):
    from keras_transformer.export import export

    entry = _load(args.name)
    written = export(entry, args.format, args.out, max_output_length=args.max_output_length)
    print(json.dumps({k: str(v) for k, v in written.items()}, indent=2))
    return 0


def cmd_plot_attention(args):
    from keras_transformer import viz

    entry = _load(args.name)
    viz.plot_attention(
        entry.model,
        args.text,
        kind=args.kind,
        layer=args.layer,
        head=args.head,
        source_tokenizer=entry.source_tokenizer,
        target_tokenizer=entry.target_tokenizer,
        save_path=args.out,
    )
    print(args.out)
    return 0


def cmd_plot_pe(args):
    from keras_transformer import viz

    viz.plot_positional_encoding(args.length, args.d_model, save_path=args.out)
    print(args.out)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-transformer", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="let TensorFlow's log lines and warnings through")
    commands = parser.add_subparsers(dest="command", required=True)

    zoo_parser = commands.add_parser("zoo", help="the model zoo")
    zoo_parser.add_argument("action", choices=["list"])
    zoo_parser.set_defaults(run=cmd_zoo)

    predict = commands.add_parser("predict", help="run a zoo model on texts (arguments or stdin lines)")
    predict.add_argument("name")
    predict.add_argument("texts", nargs="*")
    predict.add_argument("--batch-size", type=int, default=64)
    predict.add_argument("--strategy", choices=["greedy", "beam"], default=None)
    predict.add_argument("--beam-size", type=int, default=None)
    predict.add_argument("--quiet", action="store_true", help="no progress bar")
    predict.set_defaults(run=cmd_predict)

    evaluate = commands.add_parser("evaluate", help="measure a zoo model on its test split")
    evaluate.add_argument("name")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N examples")
    evaluate.add_argument("--strategy", choices=["greedy", "beam"], default=None)
    evaluate.add_argument("--batch-size", type=int, default=128)
    evaluate.add_argument("--quiet", action="store_true")
    evaluate.set_defaults(run=cmd_evaluate)

    train = commands.add_parser("train", help="run a training recipe from examples/ (train_<recipe>.py)")
    train.add_argument("recipe")
    train.add_argument("script_args", nargs=argparse.REMAINDER)
    train.set_defaults(run=cmd_train)

    export = commands.add_parser("export", help="export a zoo model")
    export.add_argument("name")
    export.add_argument("--format", choices=["saved_model", "tflite", "tflite_int8"], required=True)
    export.add_argument("--out", required=True)
    export.add_argument("--max-output-length", type=int, default=None)
    export.set_defaults(run=cmd_export)

    plot = commands.add_parser("plot-attention", help="heatmaps of a zoo model's attention on one input")
    plot.add_argument("name")
    plot.add_argument("text")
    plot.add_argument("--kind", choices=["source_target", "encoder_self", "decoder_masked_self"], default="source_target")
    plot.add_argument("--layer", type=int, default=-1)
    plot.add_argument("--head", type=int, default=None, help="one head; all heads in a grid when omitted")
    plot.add_argument("--out", required=True)
    plot.set_defaults(run=cmd_plot_attention)

    pe = commands.add_parser("plot-pe", help="plot the sinusoidal positional encoding")
    pe.add_argument("--length", type=int, default=64)
    pe.add_argument("--d-model", type=int, default=128)
    pe.add_argument("--out", required=True)
    pe.set_defaults(run=cmd_plot_pe)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    _quiet_tensorflow(args.verbose)
    try:
        return args.run(args)
    except CommandError as error:
        print(f"keras-transformer {args.command}: {error}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as error:
        print(f"keras-transformer {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
