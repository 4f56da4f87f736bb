"""The `keras-transformer` command: use, evaluate, train, export and look at zoo models.

    keras-transformer zoo list
    keras-transformer predict g2p_en transformer attention         # its TFLite generator: no TensorFlow
    keras-transformer embed minilm_l6 "A man is eating food."      # sentence vectors, JSON lines
    keras-transformer pronounce "I read 3 books."                  # a line a token: token, ARPAbet, source
    echo -e "one\\ntwo" | keras-transformer predict g2p_en          # one input a line, in batches
    keras-transformer predict dates_iso "May 3, 2021" --scores --flag   # how sure, and ? when likely wrong
    keras-transformer evaluate g2p_en [--limit 500]
    keras-transformer beam g2p_en --input 'words/*.txt' --output out/g2p   # Apache Beam, JSON lines
    keras-transformer train reverse [--epochs 1 --output-dir runs/reverse ...]
    keras-transformer export g2p_en --format tflite --out out/
    keras-transformer plot-attention g2p_en transformer --out attention.png
    keras-transformer plot-pe --length 64 --d-model 128 --out pe.png

Exit status: 0 on success; 2 for a usage error or a `keras_transformer.errors.UserError` (a bad option
or argument, an unknown model, a bad data file, a missing extra), printed as one line,
`keras-transformer <command>: <message>`; 1 with a traceback for anything else (a bug).
"""

import argparse
import contextlib
import json
import logging
import os
import sys
import warnings

from keras_transformer import _modules
from keras_transformer._json import json_line as _json_line
from keras_transformer.errors import UserError

# Inputs at least this many show a progress bar (on a terminal, unless --quiet).
PROGRESS_MIN_TEXTS = 512


class CommandError(UserError):
    """A user error that only the command line has (no texts given, a model of the other kind)."""


# What each kind of zoo model is for, in the command's terms.
_KIND_COMMANDS = {"seq2seq": "predict", "translation": "predict", "sentence_encoder": "embed"}


def _load(name, kind=None, runtime="tensorflow", decoding=None, report=None):
    """Zoo model `name` (a `zoo.ZooModel`), refused (before TensorFlow loads) when it is not of `kind`."""
    from keras_transformer import zoo

    try:
        actual = zoo.model_kind(name)
        same = actual == kind or {actual, kind} <= {"seq2seq", "translation"}  # both texts to texts
        if kind is not None and not same:
            raise CommandError(
                f"{name} is a {actual.replace('_', ' ')} model: use `keras-transformer {_KIND_COMMANDS[actual]} {name} ...`"
            )
        return zoo.load(name, runtime=runtime, decoding=decoding, report=report)
    except zoo.RuntimeUnavailable as error:
        raise CommandError(f"{error.reason}; --runtime tensorflow runs any settings") from None
    except zoo.ZooError as error:
        raise CommandError(str(error)) from None


def _read_texts(args, what):
    """The command's texts: its arguments, else one a line from standard input."""
    return [text for _, chunk in _text_chunks(args, what, sys.maxsize) for text in chunk]


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

    if args.action == "prepare":
        if not args.name:
            raise CommandError("`keras-transformer zoo prepare` needs the model's name, e.g. pt_en")
        if zoo.model_kind(args.name) != zoo.TRANSLATION:
            raise CommandError(f"{args.name} is a {zoo.model_kind(args.name)} model: only translation models are prepared")
        from keras_transformer.zoo import prepared

        print(prepared.prepare(zoo.model_dir(args.name), report=lambda line: print(line, file=sys.stderr)))
        return 0
    names = zoo.list_models(kind=args.kind)
    if not names:
        print("no zoo models found in: " + ", ".join(str(d) for d in zoo.zoo_dirs()), file=sys.stderr)
    for name in names:
        print(f"{name}\t{zoo.describe(name)}")
    return 0


def cmd_predict(args):
    texts = _read_texts(args, "predict")
    # The zoo picks the runtime: by default (--runtime auto) the folder's TFLite generator in ai-edge-litert
    # (no TensorFlow import: it answers in about a second) when it can decode with these options.
    decoding = {"strategy": args.strategy, "beam_size": args.beam_size}
    report = (lambda line: print(f"keras-transformer predict: {line}", file=sys.stderr)) if args.verbose else None
    if args.runtime == "auto":
        _prepare_once(args.name)
    model = _load(args.name, kind="seq2seq", runtime=args.runtime, decoding=decoding, report=report)
    if args.flag:
        try:
            _ = model.confidence  # refused before decoding when the folder has no calibration
        except UserError as error:
            raise CommandError(str(error)) from None
    progress = _progress_bar(len(texts), enabled=not args.quiet)
    # Without --batch-size each runtime takes its own default (LiteRT decodes fastest in small batches).
    outputs = model.predict(
        texts, batch_size=args.batch_size, progress=progress, return_scores=args.scores, flag=args.flag
    )
    for text, output in zip(texts, outputs):
        print(_prediction_line(text, output, args))
    return 0


def _prediction_line(text, output, args):
    """One output line of `predict`: the input and its output, tab-separated, then with `--scores` the
    output's log probability and with `--flag` a `?` column (`?` for a likely wrong output, else
    empty) and the reason; with `--json`, a JSON object with the same fields."""
    if args.json:
        values = {"input": text, "output": output if isinstance(output, str) else output.text}
        if args.scores:
            values.update(score=round(output.score, 6), token_scores=[round(value, 6) for value in output.token_scores])
        if args.flag:
            values.update(flagged=output.flagged, reason=output.reason)
        return _json_line(values)
    if isinstance(output, str):
        return f"{text}\t{output}"
    columns = [text, output.text]
    if args.scores:
        columns.append(f"{output.score:.4f}")
    if args.flag:
        columns += ["?" if output.flagged else "", output.reason or ""]
    return "\t".join(columns)


# Standard-input lines pronounced at once: the model's words of a chunk go in one batch, and output streams.
PRONOUNCE_CHUNK_LINES = 2000


def cmd_pronounce(args):
    from keras_transformer import g2p

    pronouncer = g2p.Pronouncer(lexicon=args.lexicon, model=args.model, runtime=args.runtime)
    for start, texts in _text_chunks(args, "pronounce", PRONOUNCE_CHUNK_LINES):
        for index, tokens in enumerate(pronouncer.pronounce(texts), start=start):
            if args.json:
                print(_json_line([token.to_dict() for token in tokens]))
                continue
            if index:
                print()
            for token in tokens:
                print(f"{_printable(token.token)}\t{token.phonemes}\t{token.source}")
    return 0


def _text_chunks(args, what, size):
    """`(index of the first, texts)` for the command's texts in chunks of `size`: its arguments, else
    standard input's lines as they arrive."""
    if args.texts:
        yield 0, args.texts
        return
    if sys.stdin is None or sys.stdin.isatty():
        raise CommandError("give texts as arguments or one per line on standard input")
    with contextlib.suppress(AttributeError, ValueError):  # UTF-8; other bytes are kept, as surrogates
        sys.stdin.reconfigure(encoding="utf-8", errors="surrogateescape")
    chunk, start = [], 0
    for line in sys.stdin:
        chunk.append(line.rstrip("\r\n"))
        if len(chunk) == size:
            yield start, chunk
            chunk, start = [], start + size
    if not chunk and not start:
        raise CommandError(f"standard input was empty: nothing to {what}")
    if chunk:
        yield start, chunk


def _printable(token):
    """`token` with control characters (tabs, a lone carriage return) shown as escapes, so each line
    stays one token."""
    return token if token.isprintable() else token.encode("unicode_escape").decode("ascii")


def _prepare_once(name):
    """A translation model's first `predict` builds its LiteRT runtime into the cache (`zoo.prepared`,
    about 20 s, said on stderr), so later ones start in about half a second without TensorFlow.
    Skipped when ai-edge-litert or sentencepiece is missing, or the cache cannot be written."""
    import importlib.util

    from keras_transformer import zoo

    try:
        if zoo.model_kind(name) != zoo.TRANSLATION:
            return
        from keras_transformer.zoo import prepared, translation

        directory = zoo.model_dir(name)
        if prepared.find(directory, translation.read_info(directory)) is not None:
            return
    except zoo.ZooError:
        return  # `_load` says what is wrong
    if not all(importlib.util.find_spec(module) for module in ("ai_edge_litert", "sentencepiece")):
        return
    print(f"keras-transformer predict: preparing {name}'s LiteRT runtime once (about 20 s)", file=sys.stderr)
    try:
        prepared.prepare(directory)
    except OSError as error:
        print(f"keras-transformer predict: could not write the prepared runtime ({error})", file=sys.stderr)


def cmd_embed(args):
    texts = _read_texts(args, "embed")
    encoder = _load(args.name, kind="sentence_encoder")
    vectors = encoder.embed(texts, batch_size=args.batch_size, progress=_progress_bar(len(texts), enabled=not args.quiet))
    for text, vector in zip(texts, vectors):
        values = [round(float(value), args.decimals) for value in vector]
        print(json.dumps({"text": text, "embedding": values}, ensure_ascii=False))
    return 0


def cmd_beam(args):
    _modules.require("keras-transformer beam", "beam", ["apache_beam"])
    import pathlib

    if not args.verbose:  # Beam (on import, and its workers) logs warnings through the root logger
        logging.getLogger().setLevel(logging.ERROR)
    from keras_transformer import beam

    sizes = {"min_batch_size": args.min_batch_size, "max_batch_size": args.max_batch_size}
    if (pathlib.Path(args.name) / "saved_model.pb").is_file():
        if args.task not in (None, "predict", "embed") or args.runtime or args.flag or args.strategy or args.beam_size:
            raise CommandError("a SavedModel folder runs its serving_default: --task, --runtime, --flag and --strategy do not apply")
        handler = beam.SavedModelHandler(args.name, scores=args.scores, **sizes)
    else:
        decoding = {key: value for key, value in (("strategy", args.strategy), ("beam_size", args.beam_size)) if value}
        handler = beam.ZooModelHandler(
            args.name, task=args.task, runtime=args.runtime, decoding=decoding or None, scores=args.scores, flag=args.flag, **sizes
        )
    counters = beam.run(handler, args.input, args.output, args.key_column, args.text_column, args.format, args.beam_args)
    suffix = ".parquet" if args.format == "parquet" else ".jsonl"
    # Counts where the runner reports its counters (None where it does not).
    summary = {
        "lines": counters.get("lines"),
        "outputs": {"files": f"{args.output}-*{suffix}", "count": counters.get("outputs")},
        "dead_letter": {"files": f"{args.output}-dead-letter-*.jsonl", "count": counters.get("dead_letter", 0 if counters else None)},
    }
    print(json.dumps(summary))
    return 0


def cmd_evaluate(args):
    from keras_transformer.evaluation import evaluate

    model = _load(args.name, kind="seq2seq")
    bars = []

    def progress(done, total):  # the bar is made on the first batch, once the split's size is known
        if not bars:
            bars.append(_progress_bar(total, enabled=not args.quiet))
        if bars[0] is not None:
            bars[0](done, total)

    result = evaluate(model, args.split, args.limit, batch_size=args.batch_size, progress=progress, strategy=args.strategy)
    print(json.dumps(result.report, indent=2))
    return 0


def cmd_train(args):
    from keras_transformer.zoo import tasks

    if args.task not in tasks.task_names():
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
    _modules.require("plot-attention", "plot", ["matplotlib"])
    from keras_transformer import viz

    entry = _load(args.name, kind="seq2seq")
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
    _modules.require("plot-pe", "plot", ["matplotlib"])
    from keras_transformer import viz

    viz.plot_positional_encoding(args.length, args.d_model, save_path=args.out)
    print(args.out)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-transformer", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true",
                        help="let TensorFlow's log lines and warnings through (anywhere on the line)")  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)

    zoo_parser = commands.add_parser("zoo", help="the model zoo")
    zoo_parser.add_argument("action", choices=["list", "prepare"],
                            help="list the models; prepare NAME: build a translation model's LiteRT runtime once, "
                                 "so that later runs start without TensorFlow")  # fmt: skip
    zoo_parser.add_argument("name", nargs="?", help="the model to prepare")
    zoo_parser.add_argument("--kind", choices=["seq2seq", "sentence_encoder", "translation"], default=None,
                            help="only models of this kind: text to text (predict) or text to vectors (embed)")  # fmt: skip
    zoo_parser.set_defaults(run=cmd_zoo)

    predict = commands.add_parser("predict", help="run a zoo model on texts (arguments or stdin lines)")
    predict.add_argument("name")
    predict.add_argument("texts", nargs="*")
    predict.add_argument("--batch-size", type=int,
                         help="texts decoded at once (default: 8 with the LiteRT generator, 64 in TensorFlow)")  # fmt: skip
    predict.add_argument("--strategy", choices=["greedy", "beam"], default=None)
    predict.add_argument("--beam-size", type=int, default=None)
    predict.add_argument("--quiet", action="store_true", help="no progress bar")
    predict.add_argument("--runtime", choices=["auto", "litert", "ctranslate2", "tensorflow"], default="auto",
                         help="auto (default): the folder's TFLite generator in ai-edge-litert when it has one "
                              "and the options keep its decoding settings, else TensorFlow")  # fmt: skip
    predict.add_argument("--scores", action="store_true",
                         help="add each output's log probability (closer to 0: surer); with --json also each token's")  # fmt: skip
    predict.add_argument("--flag", action="store_true",
                         help="add a column holding ? for an output that is likely wrong, and why (the model's "
                              "calibrated threshold and its task's checks: see the README)")  # fmt: skip
    predict.add_argument("--json", action="store_true",
                         help='one JSON object a line: {"input", "output"}, with "score" and "token_scores" '
                              '(--scores), "flagged" and "reason" (--flag)')  # fmt: skip
    predict.set_defaults(run=cmd_predict)

    pronounce = commands.add_parser(
        "pronounce", help="English text -> ARPAbet, a line a token: CMUdict first, numbers read aloud, the model for the rest"
    )
    pronounce.add_argument("texts", nargs="*", help="texts (default: one a line from standard input)")
    pronounce.add_argument("--json", action="store_true",
                           help='one JSON line a text: [{"token", "phonemes", "source"}, ...]')  # fmt: skip
    pronounce.add_argument("--lexicon", metavar="FILE", default=None,
                           help="your own lexicon in CMUdict's format (word PH1 PH2 ...), looked up before CMUdict")  # fmt: skip
    pronounce.add_argument("--model", default="g2p_en", help="the zoo model (name or folder) for unlisted words")
    pronounce.add_argument("--runtime", choices=["ctranslate2", "auto", "litert", "tensorflow"], default=None,
                           help="what runs the model (default: CTranslate2 when it can decode with the model's "
                                "settings, else auto: its TFLite generator; neither imports TensorFlow)")  # fmt: skip
    pronounce.set_defaults(run=cmd_pronounce)

    embed = commands.add_parser(
        "embed", help="sentence vectors from a sentence-encoder zoo model (minilm_l6), one JSON line a text"
    )
    embed.add_argument("name")
    embed.add_argument("texts", nargs="*")
    embed.add_argument("--batch-size", type=int, default=32)
    embed.add_argument("--decimals", type=int, default=7, help="digits after the point in each value (default 7)")
    embed.add_argument("--quiet", action="store_true", help="no progress bar")
    embed.set_defaults(run=cmd_embed)

    beam_parser = commands.add_parser(
        "beam",
        help="run a zoo model (or an exported SavedModel folder) over files with Apache Beam: JSON lines out, "
        "unusable lines to a dead letter (the beam extra); other options go to Beam's PipelineOptions",
    )
    beam_parser.add_argument("name", help="a zoo model name or folder, or a SavedModel folder that `export` wrote")
    beam_parser.add_argument("--input", required=True, metavar="GLOB", help="the input files: a text a line, or TSV with --key-column")
    beam_parser.add_argument("--output", required=True, metavar="PREFIX",
                             help="writes PREFIX-SSSSS-of-NNNNN.jsonl and PREFIX-dead-letter-SSSSS-of-NNNNN.jsonl")  # fmt: skip
    beam_parser.add_argument("--key-column", default=None, metavar="NAME",
                             help="read TSV whose first line names the columns; NAME holds each row's key")  # fmt: skip
    beam_parser.add_argument("--text-column", default="text", metavar="NAME", help="the TSV column of the texts (default: text)")
    beam_parser.add_argument("--task", choices=["predict", "embed", "pronounce"], default=None,
                             help="default: embed for a sentence encoder, else predict; pronounce: the G2P tool over English text")  # fmt: skip
    beam_parser.add_argument("--runtime", choices=["auto", "litert", "ctranslate2", "tensorflow"], default=None,
                             help="what runs the model (default: auto; for pronounce, the G2P tool's default)")  # fmt: skip
    beam_parser.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl", help="parquet: embeddings only")
    beam_parser.add_argument("--scores", action="store_true", help="add each output's log probability and each token's")
    beam_parser.add_argument("--flag", action="store_true", help="add whether each output is likely wrong, and why")
    beam_parser.add_argument("--strategy", choices=["greedy", "beam"], default=None)
    beam_parser.add_argument("--beam-size", type=int, default=None)
    beam_parser.add_argument("--min-batch-size", type=int, default=8)
    beam_parser.add_argument("--max-batch-size", type=int, default=64)
    beam_parser.set_defaults(run=cmd_beam)

    evaluate = commands.add_parser("evaluate", help="measure a zoo model on its test split")
    evaluate.add_argument("name")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N examples")
    evaluate.add_argument("--strategy", choices=["greedy", "beam"], default=None)
    evaluate.add_argument("--batch-size", type=int, default=128)
    evaluate.add_argument("--quiet", action="store_true")
    evaluate.set_defaults(run=cmd_evaluate)

    train = commands.add_parser("train", help="train a zoo task's model (`train TASK --help` lists its options)")
    from keras_transformer.zoo.tasks import DECLARATIONS  # the declarations' names: no TensorFlow

    train.add_argument("task", help=f"one of {', '.join(DECLARATIONS)}, or another registered task")
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
    return parser, commands.choices


def parse_arguments(argv=None):
    """The command line as users type it: `--verbose` anywhere (before a `--`), and each command's
    options before, between or after its positional arguments (`predict g2p_en --strategy beam cat`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    end = argv.index("--") if "--" in argv else len(argv)
    verbose = "--verbose" in argv[:end]
    argv = [word for index, word in enumerate(argv) if index >= end or word != "--verbose"]
    parser, commands = build_parser()
    command = next((index for index, word in enumerate(argv) if not word.startswith("-")), None)
    if command is None or argv[command] not in commands or argv[command] == "train" or command > 0:
        # Help, a mistyped command or a global option argparse should explain; `train` hands the rest
        # of the line to the task's own parser (its options have no positionals to mix with).
        args = parser.parse_args(argv)
    elif argv[command] == "beam":
        # The options this parser does not know are Beam's (--runner, --direct_num_workers, Dataflow's, ...).
        args, beam_args = commands["beam"].parse_known_args(argv[command + 1 :])
        args.beam_args = beam_args
        args.command = "beam"
    else:
        args = commands[argv[command]].parse_intermixed_args(argv[command + 1 :])
        args.command = argv[command]
    args.verbose = verbose
    return args


def main(argv=None):
    """Run the command line `argv` (default `sys.argv[1:]`); returns the exit status. A `UserError`
    becomes one line on standard error and status 2; any other exception propagates (a bug: its
    traceback is what a report needs)."""
    args = parse_arguments(argv)
    # UTF-8 whatever the locale; standard input's bytes that are not UTF-8 arrive as surrogates
    # (`_text_chunks`) and print back as the same bytes, never a UnicodeEncodeError.
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(encoding="utf-8", errors="surrogateescape")
    with _quiet_tensorflow(args.verbose):
        try:
            return args.run(args)
        except UserError as error:
            print(f"keras-transformer {args.command}: {error}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
