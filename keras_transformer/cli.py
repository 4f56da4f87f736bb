"""The `keras-transformer` command: use, evaluate, train, export and look at zoo models.

    keras-transformer zoo list
    keras-transformer predict g2p_en transformer attention
    echo -e "one\\ntwo" | keras-transformer predict g2p_en          # one input a line, in batches
    keras-transformer evaluate g2p_en [--limit 500]
    keras-transformer train reverse [--epochs 1 --output-dir runs/reverse ...]
    keras-transformer export g2p_en --format tflite --out out/
    keras-transformer plot-attention g2p_en transformer --out attention.png
    keras-transformer plot-pe --length 64 --d-model 128 --out pe.png
"""

import argparse
import contextlib
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


@contextlib.contextmanager
def _quiet_tensorflow(verbose):
    """Keep TensorFlow's, absl's and Python's log lines and warnings off the terminal unless `--verbose`.

    TensorFlow's C++ code writes to file descriptor 2 whatever TF_CPP_MIN_LOG_LEVEL says (absl lines
    before `InitializeLog`, CUDA probes on a CPU machine), so while the command runs descriptor 2
    points at /dev/null and Python's `sys.stderr` (our messages, progress bars, tracebacks) at a copy
    of the real one. Both are put back afterwards.
    """
    if verbose:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("tensorflow", "absl", "keras", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    saved_stderr, terminal = sys.stderr, None
    try:
        sys.stderr.flush()
        terminal = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        sys.stderr = open(terminal, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    except (OSError, ValueError, AttributeError):  # no real descriptor 2 (an embedding host): leave it
        terminal = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if terminal is not None:
            sys.stderr.flush()
            sys.stderr = saved_stderr
            os.dup2(terminal, 2)
            os.close(terminal)


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
    from keras_transformer.evaluation import evaluate

    pipeline = _load(args.name)
    bars = []

    def progress(done, total):  # the bar is made on the first batch, once the split's size is known
        if not bars:
            bars.append(_progress_bar(total, enabled=not args.quiet))
        if bars[0] is not None:
            bars[0](done, total)

    result = evaluate(pipeline, args.split, args.limit, batch_size=args.batch_size, progress=progress, strategy=args.strategy)
    print(json.dumps(result.report, indent=2))
    return 0


def cmd_train(args):
    from keras_transformer.zoo import tasks

    if args.task not in tasks.TASKS:
        raise CommandError(f"no training task {args.task!r}; known: {tasks.task_names()}")
    tasks.run_task(args.task, args.task_args)
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

    train = commands.add_parser("train", help="train a zoo task's model (`train TASK --help` lists its options)")
    train.add_argument("task", help="reverse, g2p_en, itn_numbers, dates_iso, or another registered task")
    train.add_argument("task_args", nargs=argparse.REMAINDER, help="the task's options")
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
    with _quiet_tensorflow(args.verbose):
        try:
            return args.run(args)
        except (CommandError, ValueError, TypeError) as error:
            print(f"keras-transformer {args.command}: {error}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
