"""The `pairs` task: train a model on your own text pairs, or fine-tune a zoo model on them.

    keras-transformer train pairs --data my.tsv --symbols characters --zoo-dir ./my_model
    keras-transformer train pairs --data words.txt --target-file phonemes.txt \\
        --source-symbols characters --target-symbols whitespace --zoo-dir ./my_g2p
    keras-transformer train pairs --data new_words.tsv --from-zoo g2p_en --zoo-dir ./my_g2p
    keras-transformer predict ./my_model "some text"

The data is read by `keras_transformer.data.text_pairs` (a TSV of `source<TAB>target` lines with no
header, or two line-aligned files; errors name the file and line) and split into train, validation
and test parts by a stable hash of the source (every pair with the same source on one side). The
run is the shared zoo-task run (`zoo.tasks.run`): the same recipe, validation scoring, packaging,
test measurement and card as the zoo's own models; `PairsTask.prepare` reads the files into a task.
"""

import argparse
import dataclasses
import pathlib
import re

from keras_transformer.errors import DataError, InvalidArgumentError
from keras_transformer import _validation
from keras_transformer.data.batching import LengthBuckets
from keras_transformer.data.text_pairs import (
    ON_LONG,
    SYMBOLS,
    PairSplits,
    read_pairs,
    split_pairs,
    split_symbols,
    symbol_count,
)
from keras_transformer.training.options import TrainingOptions
from keras_transformer.zoo.info import ZooInfo
from keras_transformer.zoo.tasks.task import Split, Task

TASK_NAME = "pairs"
DEFAULT_MODEL_NAME = "my_model"
# Options that fix the shape of the network: with --from-zoo they come from the zoo model's config,
# and an explicit value that differs is an error. Dropout changes no weight, so it may be given.
ARCHITECTURE_OPTIONS = ("d_model", "num_heads", "d_ff", "num_layers", "max_length", "normalize_first")
MAX_LISTED_SYMBOLS = 20
# Without --batch-tokens, a small training part gets smaller batches: at least this many a pass.
MIN_STEPS_A_PASS = 20
SMALLEST_BATCH_TOKENS = 64


class FineTuneError(DataError):
    """A zoo model cannot be fine-tuned on the data or with the options given (the message says why)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class PairsTask(Task):
    """The generic task over a user's files. The registered instance holds no data; `run` reads the
    files and runs a copy that holds them (`prepare`).

    Args (beside `Task`'s, set by `prepare`):
        splits: the `PairSplits` of the data.
        base: the zoo `TextPipeline` being fine-tuned, or None.
        argv: the run's command line, for the card.
    """

    source: object = None
    splits: PairSplits | None = None
    base: object = None
    argv: tuple = ()

    def add_arguments(self, parser):
        data = parser.add_argument_group("your data")
        data.add_argument("--data", metavar="FILE",
                          help="a TSV file of source<TAB>target lines, UTF-8, no header line; with --target-file, the "
                               "source file (required)")  # fmt: skip
        data.add_argument("--target-file", metavar="FILE", help="the target file, line-aligned with --data")
        data.add_argument("--symbols", choices=SYMBOLS,
                          help="how text splits into tokens, both sides: characters or whitespace-separated symbols "
                               "(default: characters, or the --from-zoo model's)")  # fmt: skip
        data.add_argument("--source-symbols", choices=SYMBOLS, help="the source side's, when it differs from --symbols")
        data.add_argument("--target-symbols", choices=SYMBOLS, help="the target side's, when it differs from --symbols")
        data.add_argument("--lowercase", action=argparse.BooleanOptionalAction,
                          help="lowercase the source (default: no, or as the --from-zoo model does)")  # fmt: skip
        data.add_argument("--on-long", choices=ON_LONG, default="error",
                          help="a source over --max-length symbols, or a target over --max-length - 1 (its end id "
                               "counts): refuse the file (error) or cut the text (truncate) (default: %(default)s)")  # fmt: skip
        data.add_argument("--validation-fraction", type=float, default=0.05,
                          help="the share of distinct sources held out for validation (default: %(default)s)")  # fmt: skip
        data.add_argument("--test-fraction", type=float, default=0.05,
                          help="the share of distinct sources held out for the test figures (default: %(default)s)")  # fmt: skip
        model = parser.add_argument_group("your model")
        model.add_argument("--name",
                           help=f"the model's name (default: the --zoo-dir folder's name, else {DEFAULT_MODEL_NAME})")  # fmt: skip
        model.add_argument("--description", help="one line on what the model does, for its card and `zoo list`")
        model.add_argument("--from-zoo", metavar="MODEL",
                           help="fine-tune this zoo model (a name such as g2p_en, or a path to a zoo folder): start from "
                                "its weights with its tokenizers and configuration; the optimizer starts afresh "
                                "(consider a lower --learning-rate-scale)")  # fmt: skip

    # ---------------------------------------------------------------- preparing a run

    def prepare(self, args, argv):
        """Read and split the data, resolve the options (from the zoo model with `--from-zoo`) and
        return the task that runs on them. Updates `args` in place."""
        if not args.data:
            raise InvalidArgumentError(
                "`keras-transformer train pairs` needs --data FILE: a TSV of source<TAB>target lines, or the "
                "source file with --target-file FILE."
            )
        base = None
        if args.from_zoo:
            if args.initial_weights:
                raise FineTuneError("Give --from-zoo or --initial-weights, not both.")
            from keras_transformer import zoo

            base = zoo.load(args.from_zoo)
            _adopt_zoo_config(base, args, _given_options(self.parser(), argv, ARCHITECTURE_OPTIONS + ("dropout",)))
            args.initial_weights = str(pathlib.Path(base.path) / "model.weights.h5")
        source_split, target_split, lowercase = _resolve_symbols(args, base)
        options = TrainingOptions.from_args(args)  # checks the options before the data is read

        pairs = read_pairs(
            args.data,
            args.target_file,
            symbols=source_split,
            target_symbols=target_split,
            max_source_length=options.max_length,
            max_target_length=options.max_length - 1,  # the decoder's start or end id takes a position
            on_long=args.on_long,
        )
        held_out = [
            _validation.fraction(name, getattr(args, name)) for name in ("validation_fraction", "test_fraction")
        ]
        if sum(held_out) >= 1:
            raise InvalidArgumentError(
                "--validation-fraction and --test-fraction must leave some data for training. Received: "
                f"validation_fraction={held_out[0]}, test_fraction={held_out[1]}"
            )
        fractions = (1 - sum(held_out), *held_out)
        splits = split_pairs(pairs, fractions, symbols=source_split, lowercase=lowercase)
        if base is not None:
            _check_vocabularies(base, pairs, args.from_zoo)
        for part, size in splits.sizes().items():
            if not size:
                larger = (
                    "smaller --validation-fraction and --test-fraction"
                    if part == "train"
                    else f"a larger --{part}-fraction"
                )
                raise DataError(
                    f"{pairs.path}: the {part} part is empty ({len(pairs)} pairs, {len(set(pairs.sources))} distinct "
                    f"sources, fractions {fractions}): give more pairs or {larger}."
                )
        if "batch_tokens" not in _given_options(self.parser(), argv, ("batch_tokens",)):
            args.batch_tokens = _batch_tokens_for(splits.train, options, source_split, target_split)

        name = args.name or (pathlib.Path(args.zoo_dir).resolve().name if args.zoo_dir else DEFAULT_MODEL_NAME)
        name = _model_name(name)
        files = [pathlib.Path(args.data).name] + ([pathlib.Path(args.target_file).name] if args.target_file else [])
        description = args.description or f"Text pairs from {' and '.join(files)}"
        return dataclasses.replace(
            self,
            name=name,
            description=description,
            describe_data=lambda sizes: _describe_data(pairs, splits, fractions, base, args.from_zoo),
            source_split=source_split,
            target_split=target_split,
            source_lowercase=lowercase,
            examples=tuple(zip(splits.test.sources[:3], splits.test.targets[:3])),
            notes=_notes(source_split, target_split, options.max_length),
            splits=splits,
            base=base,
            argv=tuple(argv),
        )

    # ---------------------------------------------------------------- what the shared run asks for

    def read(self, split, args, max_examples=None):
        part = getattr(self.splits, split)
        # A source's every target in the data (all on this side of the split) is a right answer.
        readings = {}
        for source, target in zip(part.sources, part.targets):
            targets = readings.setdefault(source, [])
            if target not in targets:
                targets.append(target)
        references = [
            [target, *(t for t in readings[source] if t != target)]
            for source, target in zip(part.sources, part.targets)
        ]
        return Split(list(part.sources), list(part.targets), references).head(max_examples)

    def split_sizes(self, args):
        return self.splits.sizes()

    def info(self):
        return ZooInfo(task=self.description, metrics=self.metrics)

    def tokenizers(self, split):
        if self.base is not None:
            return self.base.source_tokenizer, self.base.target_tokenizer
        return super().tokenizers(split)

    def figure_overrides(self):
        """The card shows how to rerun this task (`train pairs ...`), and a fine-tuned model's origin."""
        from keras_transformer.zoo.tasks.run import command_line

        overrides = {"command": command_line(TASK_NAME, self.argv)}
        if self.base is not None:
            # The run started from the zoo model's weights (not from an earlier run of this recipe).
            overrides.update(previous_stages=[], fine_tuned_from=str(self.base.path))
        return overrides

    def finish_card(self, card, zoo_dir):
        """A user's folder is loaded by its path, and `evaluate` runs on the zoo's datasets only."""
        card = card.replace(
            f"keras-transformer predict {self.name} ", f"keras-transformer predict {_path_argument(zoo_dir)} "
        )
        return card.replace(f"`keras-transformer evaluate {self.name}`", "`keras_transformer.evaluation.evaluate`")


def _path_argument(directory):
    """`directory` as `zoo.load` and `keras-transformer predict` take a path: with a separator, so it is
    not read as a zoo name."""
    text = str(directory)
    return text if pathlib.Path(text).is_absolute() or "/" in text else f"./{text}"


def _batch_tokens_for(train, options, source_split, target_split):
    """`options.batch_tokens`, or less for a small training part: halved (down to
    `SMALLEST_BATCH_TOKENS`) until a pass over the data holds `MIN_STEPS_A_PASS` batches, as the
    recipe batches them (full batches of a length bucket only)."""
    # Lengths as the tokenizers will count them: they split the same way.
    source_lengths = [symbol_count(text, source_split) for text in train.sources]
    target_lengths = [symbol_count(text, target_split) for text in train.targets]
    # Stand-in ids of the right lengths: `array_batches` counts the batches a pass the recipe makes.
    source_ids = [[1] * n for n in source_lengths]
    target_ids = [[1] * n for n in target_lengths]
    lengths = [max(s, t + 1) for s, t in zip(source_lengths, target_lengths)]
    batch_tokens = options.batch_tokens
    while True:
        buckets = LengthBuckets.from_lengths(lengths, batch_tokens, options.max_length, options.length_buckets)
        steps = len(buckets.array_batches(source_ids, target_ids, 1, 2, shuffle_seed=0))
        if steps >= MIN_STEPS_A_PASS or batch_tokens // 2 < SMALLEST_BATCH_TOKENS:
            break
        batch_tokens //= 2
    if batch_tokens != options.batch_tokens:
        print(f"{len(train)} training pairs: --batch-tokens {batch_tokens} (not {options.batch_tokens}), so that a pass "
              f"holds {steps} batches; give --batch-tokens to choose", flush=True)  # fmt: skip
    return batch_tokens


def _given_options(parser, argv, names):
    """The options among `names` that `argv` sets explicitly (whatever spelling argparse accepts)."""
    unset = object()
    saved = {name: parser.get_default(name) for name in names}
    parser.set_defaults(**dict.fromkeys(names, unset))
    try:
        parsed = parser.parse_args(argv)
    finally:
        parser.set_defaults(**saved)
    return {name for name in names if getattr(parsed, name) is not unset}


def _adopt_zoo_config(base, args, given):
    """Set the architecture options in `args` to the zoo model's config; `FineTuneError` when an
    explicit option differs or the recipe cannot build that config."""
    config = base.config
    if config.num_encoder_layers != config.num_decoder_layers:
        raise FineTuneError(
            f"Cannot fine-tune {base.name}: it has {config.num_encoder_layers} encoder and {config.num_decoder_layers} "
            "decoder layers, and the recipe builds as many of each."
        )
    wanted = {
        "d_model": config.d_model,
        "num_heads": config.num_heads,
        "d_ff": config.d_ff,
        "num_layers": config.num_encoder_layers,
        "max_length": config.max_length,
        "normalize_first": config.normalize_first,
        "dropout": config.dropout,
    }
    conflicts = [
        f"--{name.replace('_', '-')} {getattr(args, name)} (the model has {value})"
        for name, value in wanted.items()
        if name in given and name in ARCHITECTURE_OPTIONS and getattr(args, name) != value
    ]
    if conflicts:
        raise FineTuneError(
            f"Cannot fine-tune {base.name}: its configuration differs from the options given: {', '.join(conflicts)}. "
            "Leave these options out to use the model's."
        )
    for name, value in wanted.items():
        if name not in given:
            setattr(args, name, value)
    built = TrainingOptions.from_args(args).transformer_config(config.source_vocab_size, config.target_vocab_size)
    differences = [
        f"{field.name}={getattr(config, field.name)!r} (the recipe builds {getattr(built, field.name)!r})"
        for field in dataclasses.fields(config)
        if field.name != "dropout" and getattr(config, field.name) != getattr(built, field.name)
    ]
    if differences:
        raise FineTuneError(
            f"Cannot fine-tune {base.name}: the training recipe cannot build its configuration: {', '.join(differences)}."
        )


def _resolve_symbols(args, base):
    """`(source split, target split, lowercase)` from the options, or the zoo model's tokenizers
    (`FineTuneError` when an explicit option contradicts them)."""
    source = args.source_symbols or args.symbols
    target = args.target_symbols or args.symbols
    if base is None:
        return source or "characters", target or "characters", bool(args.lowercase)
    given = {"source symbols": source, "target symbols": target, "source lowercasing": args.lowercase}
    model = {
        "source symbols": base.source_tokenizer.split,
        "target symbols": base.target_tokenizer.split,
        "source lowercasing": base.source_tokenizer.lowercase,
    }
    conflicts = [
        f"{what}: {given[what]} given, the model's {model[what]}"
        for what in model
        if given[what] not in (None, model[what])
    ]
    if conflicts:
        raise FineTuneError(
            f"Cannot fine-tune {base.name} with its own tokenizers: {'; '.join(conflicts)}. Leave --symbols, "
            "--source-symbols, --target-symbols and --lowercase out to use the model's."
        )
    return model["source symbols"], model["target symbols"], model["source lowercasing"]


def _check_vocabularies(base, pairs, model_name):
    """`FineTuneError` naming the symbols of `pairs` that the zoo model's vocabularies lack, with the
    first line each is on."""
    from keras_transformer.text import Tokenizer

    problems = []
    for side, texts, tokenizer in (
        ("source", pairs.sources, base.source_tokenizer),
        ("target", pairs.targets, base.target_tokenizer),
    ):
        # Split exactly as the tokenizer splits (the same TensorFlow ops).
        found = Tokenizer.from_corpus(texts, split=tokenizer.split, lowercase=tokenizer.lowercase).vocabulary
        missing = sorted(set(found) - set(tokenizer.vocabulary))
        if not missing:
            continue
        first_lines = _first_lines(missing, texts, pairs.lines, tokenizer)
        listed = ", ".join(
            f"{symbol!r} (line {first_lines[symbol]})" if symbol in first_lines else repr(symbol)
            for symbol in missing[:MAX_LISTED_SYMBOLS]
        )
        more = f" and {len(missing) - MAX_LISTED_SYMBOLS} more" if len(missing) > MAX_LISTED_SYMBOLS else ""
        how = tokenizer.split + (", lowercased" if tokenizer.lowercase else "")
        problems.append(f"the {side} vocabulary ({how}) lacks {len(missing)} symbols of the data: {listed}{more}")
    if problems:
        raise FineTuneError(
            f"Cannot fine-tune {model_name} on {pairs.path}: {'; '.join(problems)}. The model has no embedding for a "
            "symbol it never saw: remove or rewrite those pairs, or train a new model (leave out --from-zoo)."
        )


def _first_lines(symbols, texts, lines, tokenizer):
    """`{symbol: the first line whose text holds it}` (Python's splitting; the tokenizer's own ops
    found the symbols, this only points at them)."""
    wanted, found = set(symbols), {}
    for text, line in zip(texts, lines):
        text = text.lower() if tokenizer.lowercase else text
        for piece in set(split_symbols(text, tokenizer.split)) & wanted:
            found.setdefault(piece, line)
        if len(found) == len(wanted):
            break
    return found


def _model_name(name):
    """A name Keras accepts (no path separators) for the model and its zoo folder."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return cleaned or DEFAULT_MODEL_NAME


def _describe_data(pairs, splits, fractions, base, model_name):
    sizes = splits.sizes()
    truncated = f" {pairs.truncated:,} of them truncated to the length limit." if pairs.truncated else ""
    text = (
        # The file's name alone: a card names no path of the machine it was trained on.
        f"Your pairs, read from `{pathlib.Path(pairs.path).name}`: {len(pairs):,} pairs.{truncated} "
        "Split by a stable hash of the "
        f"source text (SHA-1; {fractions[0]:.0%} / {fractions[1]:.0%} / {fractions[2]:.0%} of the distinct sources), "
        f"every pair with the same source on one side, so no test source was seen in training: train "
        f"{sizes['train']:,}, validation {sizes['validation']:,}, test {sizes['test']:,} pairs. A prediction is right "
        "if it equals any target the data gives its source."
    )
    if base is not None:
        text += (
            f" Fine-tuned from the zoo model `{model_name}` ({base.path}): its tokenizers, configuration and weights "
            "were the start; the optimizer and its learning-rate schedule started afresh."
        )
    return text


def _notes(source_split, target_split, max_length):
    unit = {"characters": "characters", "whitespace": "whitespace-separated symbols"}
    return (
        f"Trained on your data only. The source is read as {unit[source_split]} and the output written as "
        f"{unit[target_split]}; symbols the training part never had map to the unknown id. Sources longer than "
        f"{max_length} symbols are truncated."
    )


def _describe_registered(sizes):
    return "Your own pairs (see `keras-transformer train pairs --help`)."


TASK = PairsTask(
    name=TASK_NAME,
    description="Your own text pairs: a TSV of source<TAB>target lines, or two line-aligned files",
    describe_data=_describe_registered,
    source_lowercase=False,
)
