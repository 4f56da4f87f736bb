"""The `pairs` task: train a model on your own text pairs, or fine-tune a zoo model on them.

    keras-transformer train pairs --data my.tsv --symbols characters --zoo-dir ./my_model
    keras-transformer train pairs --data words.txt --target-file phonemes.txt \\
        --source-symbols characters --target-symbols whitespace --zoo-dir ./my_g2p
    keras-transformer train pairs --data new_words.tsv --from-zoo g2p_en --zoo-dir ./my_g2p
    keras-transformer train pairs --data pt_en.tsv --from-zoo pt_en --zoo-dir ./my_pt_en
    keras-transformer predict ./my_model "some text"

The data is read by `keras_transformer.data.text_pairs` (a TSV of `source<TAB>target` lines with no
header, or two line-aligned files; errors name the file and line) and split into train, validation
and test parts by a stable hash of the source (every pair with the same source on one side). The
run is the shared zoo-task run (`zoo.tasks.run`): the same recipe, validation scoring, packaging,
test measurement and card as the zoo's own models; `PairsTask.prepare` reads the files into a task.
`--validation-data` / `--test-data` give the held-out parts as files of their own instead.

Fine-tuning a translation model (`--from-zoo pt_en`, a folder of kind "translation", or a folder this
task wrote from one) keeps its SentencePiece vocabulary: the text is not split into characters or
words (`--symbols` and `--lowercase` do not apply, and no symbol can be missing: a character the
vocabulary lacks reads as the unknown piece), lengths are counted in pieces, training starts from the
converted weights (written into the run folder as `base/model.weights.h5`), and the model decodes as
its base does (greedy, at most `max_length_factor` × the source's length) over the whole vocabulary:
the base's lexical shortlist is not kept (it lists the words the base translates each source word to,
which fine-tuning changes, and neither the zoo folder nor its TFLite generator holds one).
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
    LineTooLongError,
    PairSplits,
    TextPairs,
    read_pairs,
    split_key,
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
# How a model fine-tuned with its SentencePiece vocabulary splits text (the task's `source_split`).
SENTENCEPIECE = "sentencepiece"
# Texts tokenized at once when counting SentencePiece lengths.
_CHUNK = 2048
# Fine-tuning options for a model with a SentencePiece vocabulary, unless given (`_sentencepiece_defaults`):
# no label smoothing, and the schedule that fine-tuned pt_en on 15,000 Bible verses (peak learning
# rate 1.9e-4 at step 100, 6e-5 at step 1000) where the recipe's (1.6e-3 at step 1500) is for training
# from scratch.
SENTENCEPIECE_DEFAULTS = {"label_smoothing": 0.0, "warmup_steps": 100, "learning_rate_scale": 0.03}


class FineTuneError(DataError):
    """A zoo model cannot be fine-tuned on the data or with the options given (the message says why)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class PairsTask(Task):
    """The generic task over a user's files. The registered instance holds no data; `run` reads the
    files and runs a copy that holds them (`prepare`).

    Args (beside `Task`'s, set by `prepare`):
        splits: the `PairSplits` of the data.
        base: the zoo `TextPipeline` being fine-tuned, or None.
        base_weights: where `before_training` writes the base's weights (a base without a weights
            file: a translation model, converted on load), or None.
        argv: the run's command line, for the card.
    """

    source: object = None
    splits: PairSplits | None = None
    base: object = None
    base_weights: str | None = None
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
                               "counts): refuse the file (error) or cut the text (truncate) (default: %(default)s); "
                               "SentencePiece pieces for a translation model, the source's end id included")  # fmt: skip
        data.add_argument("--validation-data", metavar="FILE",
                          help="a TSV of held-out pairs for validation (early stopping, the kept epoch, the decoding), "
                               "instead of --validation-fraction of --data; training pairs with one of its sources "
                               "are left out")  # fmt: skip
        data.add_argument("--test-data", metavar="FILE",
                          help="a TSV of held-out pairs for the test figures, instead of --test-fraction of --data; "
                               "training pairs with one of its sources are left out")  # fmt: skip
        data.add_argument("--validation-fraction", type=float, default=0.05,
                          help="the share of distinct sources held out for validation (default: %(default)s)")  # fmt: skip
        data.add_argument("--test-fraction", type=float, default=0.05,
                          help="the share of distinct sources held out for the test figures (default: %(default)s)")  # fmt: skip
        model = parser.add_argument_group("your model")
        model.add_argument("--name",
                           help=f"the model's name (default: the --zoo-dir folder's name, else {DEFAULT_MODEL_NAME})")  # fmt: skip
        model.add_argument("--description", help="one line on what the model does, for its card and `zoo list`")
        model.add_argument("--from-zoo", metavar="MODEL",
                           help="fine-tune this zoo model (a name such as g2p_en or pt_en, or a path to a zoo folder): "
                                "start from its weights with its tokenizers and configuration; the optimizer starts "
                                "afresh (consider a lower --learning-rate-scale and --warmup-steps). A translation "
                                "model keeps its SentencePiece vocabulary and decodes as it does (greedy)")  # fmt: skip

    # ---------------------------------------------------------------- preparing a run

    def prepare(self, args, argv):
        """Read and split the data, resolve the options (from the zoo model with `--from-zoo`) and
        return the task that runs on them. Updates `args` in place."""
        if not args.data:
            raise InvalidArgumentError(
                "`keras-transformer train pairs` needs --data FILE: a TSV of source<TAB>target lines, or the "
                "source file with --target-file FILE."
            )
        base = base_weights = None
        given = _given_options(self.parser(), argv, ARCHITECTURE_OPTIONS + _HELD_OUT_OPTIONS
                               + tuple(SENTENCEPIECE_DEFAULTS) + ("dropout", "compare_beam_examples", "jit_compile"))  # fmt: skip
        if args.from_zoo:
            if args.initial_weights:
                raise FineTuneError("Give --from-zoo or --initial-weights, not both.")
            from keras_transformer import zoo

            base = zoo.load(args.from_zoo)
            _adopt_zoo_config(base, args, given)
            _check_jit_compile(base, args, given)
            weights = pathlib.Path(base.path) / "model.weights.h5"
            if not weights.is_file():  # converted on load: `before_training` writes its weights
                weights = base_weights = pathlib.Path(args.output_dir) / "base" / "model.weights.h5"
            args.initial_weights = str(weights)
        sentencepiece = _has_sentencepiece(base)
        if sentencepiece:
            _check_sentencepiece_options(base, args, given)
            _sentencepiece_defaults(base, args, given)
            pieces = _Pieces(base)
        source_split, target_split, lowercase = _resolve_symbols(args, base)
        options = TrainingOptions.from_args(args)  # checks the options before the data is read

        def read(path, target_path=None):
            if sentencepiece:  # lengths in pieces, counted by the tokenizers (`_fit_sentencepiece`)
                pairs = read_pairs(path, target_path, symbols="whitespace")
                return _fit_sentencepiece(pieces, pairs, (path, target_path or path), options.max_length, args.on_long)
            return read_pairs(
                path,
                target_path,
                symbols=source_split,
                target_symbols=target_split,
                max_source_length=options.max_length,
                max_target_length=options.max_length - 1,  # the decoder's start or end id takes a position
                on_long=args.on_long,
            )

        pairs = read(args.data, args.target_file)
        held_out_files = {}
        for part in ("validation", "test"):
            path = getattr(args, f"{part}_data")
            if path and f"{part}_fraction" in given:
                raise InvalidArgumentError(f"Give --{part}-data or --{part}-fraction, not both.")
            if path:
                held_out_files[part] = read(path)
        held_out = [
            0.0 if part in held_out_files else _validation.fraction(f"{part}_fraction", getattr(args, f"{part}_fraction"))
            for part in ("validation", "test")
        ]
        if sum(held_out) >= 1:
            raise InvalidArgumentError(
                "--validation-fraction and --test-fraction must leave some data for training. Received: "
                f"validation_fraction={held_out[0]}, test_fraction={held_out[1]}"
            )
        fractions = (1 - sum(held_out), *held_out)
        split_symbols_of = "characters" if sentencepiece else source_split
        splits = split_pairs(pairs, fractions, symbols=split_symbols_of, lowercase=lowercase)
        splits, left_out = _use_held_out_files(splits, held_out_files, split_symbols_of, lowercase)
        if base is not None and not sentencepiece:
            for checked in (pairs, *held_out_files.values()):
                _check_vocabularies(base, checked, args.from_zoo)
        if sentencepiece:
            _report_unknown_pieces(pieces, (pairs, *held_out_files.values()))
        if "compare_beam_examples" not in given and sentencepiece:
            args.compare_beam_examples = 0  # decode as the base does: no sweep (it ranks by exact match)
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
            if sentencepiece:
                lengths = pieces.lengths(splits.train)
            else:
                lengths = ([symbol_count(t, source_split) for t in splits.train.sources],
                           [symbol_count(t, target_split) for t in splits.train.targets])  # fmt: skip
            args.batch_tokens = _batch_tokens_for(splits.train, options, *lengths)

        name = args.name or (pathlib.Path(args.zoo_dir).resolve().name if args.zoo_dir else DEFAULT_MODEL_NAME)
        name = _model_name(name)
        files = [pathlib.Path(args.data).name] + ([pathlib.Path(args.target_file).name] if args.target_file else [])
        description = args.description or f"Text pairs from {' and '.join(files)}"
        if sentencepiece and not args.description:
            description = f"{base.info.task.split(' (')[0]}, fine-tuned on {' and '.join(files)}"
        held_out_names = {part: pathlib.Path(path).name for part, path in
                          (("validation", args.validation_data), ("test", args.test_data)) if path}  # fmt: skip
        extra = {}
        if sentencepiece:
            settings = base.settings
            extra = dict(
                decoding={**settings.to_dict(), "shortlist": False},
                max_output_length=settings.max_output_length or options.max_length,
            )
        return dataclasses.replace(
            self,
            name=name,
            description=description,
            describe_data=lambda sizes: _describe_data(pairs, splits, fractions, base, args.from_zoo,
                                                       held_out_names, left_out, sentencepiece),  # fmt: skip
            source_split=source_split,
            target_split=target_split,
            source_lowercase=lowercase,
            examples=tuple(zip(splits.test.sources[:3], splits.test.targets[:3])),
            notes=(_sentencepiece_notes(base, args.from_zoo, options.max_length) if sentencepiece
                   else _notes(source_split, target_split, options.max_length)),  # fmt: skip
            splits=splits,
            base=base,
            base_weights=str(base_weights) if base_weights else None,
            argv=tuple(argv),
            **extra,
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

    def model_config(self, options, source_vocab_size, target_vocab_size):
        """A fine-tuned model keeps its configuration (`_adopt_zoo_config` refused options that differ);
        only the dropout may change."""
        if self.base is not None:
            return dataclasses.replace(self.base.config, dropout=options.dropout)
        return super().model_config(options, source_vocab_size, target_vocab_size)

    def before_training(self, folder):
        """Write the weights of a base that has no weights file (a translation model, converted on
        load) where `--initial-weights` points."""
        if self.base_weights:
            path = pathlib.Path(self.base_weights)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.base.model.save_weights(str(path))
            print(f"wrote {self.base.name}'s weights to {path}: training starts from them", flush=True)

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
        if self.source_split == SENTENCEPIECE:
            card = re.sub(
                r"Source: one token .*?\((\d+) ids, 4 of them reserved\); target: .*?\((\d+) ids\)\.",
                lambda match: (f"Source and target: {self.base.name}'s SentencePiece vocabulary ({match.group(1)} ids: "
                               "its pieces, 0 for padding and the decoder's start id; the source ends with the end "
                               "id)."),  # fmt: skip
                card,
            )
        return card.replace(f"`keras-transformer evaluate {self.name}`", "`keras_transformer.evaluation.evaluate`")


def _path_argument(directory):
    """`directory` as `zoo.load` and `keras-transformer predict` take a path: with a separator, so it is
    not read as a zoo name."""
    text = str(directory)
    return text if pathlib.Path(text).is_absolute() or "/" in text else f"./{text}"


def _batch_tokens_for(train, options, source_lengths, target_lengths):
    """`options.batch_tokens`, or less for a small training part: halved (down to
    `SMALLEST_BATCH_TOKENS`) until a pass over the data holds `MIN_STEPS_A_PASS` batches, as the
    recipe batches them (full batches of a length bucket only). `source_lengths`, `target_lengths`:
    the ids of each training pair as the tokenizers give them."""
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
    same_layers = config.num_encoder_layers == config.num_decoder_layers
    wanted = {
        "d_model": config.d_model,
        "num_heads": config.num_heads,
        "d_ff": config.d_ff,
        "num_layers": config.num_encoder_layers if same_layers else None,
        "max_length": config.max_length,
        "normalize_first": config.normalize_first,
        "dropout": config.dropout,
    }
    described = {"num_layers": f"{config.num_encoder_layers} encoder and {config.num_decoder_layers} decoder layers"}
    conflicts = [
        f"--{name.replace('_', '-')} {getattr(args, name)} (the model has {described.get(name, value)})"
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
    if not (args.save_token_arrays or args.trained_run):
        return  # the run trains the model's own configuration (`PairsTask.model_config`)
    # `training.arrays` builds the recipe's configuration from the options: it must be the model's.
    built = TrainingOptions.from_args(args).transformer_config(config.source_vocab_size, config.target_vocab_size)
    differences = [
        f"{field.name}={getattr(config, field.name)!r} (the recipe builds {getattr(built, field.name)!r})"
        for field in dataclasses.fields(config)
        if field.name != "dropout" and getattr(config, field.name) != getattr(built, field.name)
    ]
    if differences:
        raise FineTuneError(
            f"Cannot fine-tune {base.name} through --save-token-arrays or --trained-run: "
            "`python -m keras_transformer.training.arrays` builds the recipe's configuration from the options, and it "
            f"cannot build this model's: {', '.join(differences)}. Leave those options out to train in this run."
        )


def _resolve_symbols(args, base):
    """`(source split, target split, lowercase)` from the options, or the zoo model's tokenizers
    (`FineTuneError` when an explicit option contradicts them)."""
    source = args.source_symbols or args.symbols
    target = args.target_symbols or args.symbols
    if base is None:
        return source or "characters", target or "characters", bool(args.lowercase)
    if _has_sentencepiece(base):
        return SENTENCEPIECE, SENTENCEPIECE, False  # `_check_sentencepiece_options` refused other options
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


_HELD_OUT_OPTIONS = ("validation_fraction", "test_fraction")


def _has_sentencepiece(base):
    """Whether the zoo model `base` (or None) reads text with SentencePiece tokenizers (a translation
    model, or one fine-tuned from it)."""
    if base is None:
        return False
    from keras_transformer.text.sentencepiece import SentencePieceTokenizer

    return isinstance(base.source_tokenizer, SentencePieceTokenizer)


def _check_sentencepiece_options(base, args, given):
    """`FineTuneError` for the options that cannot apply to a model with a SentencePiece vocabulary."""
    problems = [
        f"--{name.replace('_', '-')} {getattr(args, name)}"
        for name in ("symbols", "source_symbols", "target_symbols")
        if getattr(args, name) is not None
    ]
    if args.lowercase:
        problems.append("--lowercase")
    if problems:
        raise FineTuneError(
            f"Cannot fine-tune {base.name} with {', '.join(problems)}: it reads text with its own SentencePiece "
            "vocabulary (subword pieces of the text as it is written, case kept), not characters or whitespace "
            "symbols. Leave --symbols, --source-symbols, --target-symbols and --lowercase out."
        )
    if "compare_beam_examples" in given and args.compare_beam_examples:
        raise FineTuneError(
            f"Cannot fine-tune {base.name} with --compare-beam-examples {args.compare_beam_examples}: the decoding "
            "sweep ranks settings by exact match, which does not rank translations; the fine-tuned model decodes as "
            f"{base.name} does ({base.settings.strategy}). Leave --compare-beam-examples out (or give 0)."
        )


def _check_jit_compile(base, args, given):
    """A model with an SSRU decoder trains without XLA (`--no-jit-compile` unless given; `FineTuneError`
    for `--jit-compile`): XLA cannot compile the gradient of its recurrence's `tf.while_loop`."""
    if base.config.decoder_self_attention != "ssru" or not args.jit_compile:
        return
    if "jit_compile" in given:
        raise FineTuneError(
            f"Cannot fine-tune {base.name} with --jit-compile: XLA cannot compile the training step of its SSRU "
            "decoder (the gradient of its recurrence's loop). Leave --jit-compile out."
        )
    args.jit_compile = False
    print(f"fine-tuning {base.name} with --no-jit-compile: XLA cannot compile its SSRU decoder's training step",
          flush=True)  # fmt: skip


def _sentencepiece_defaults(base, args, given):
    """Fine-tuning defaults for a model with a SentencePiece vocabulary, set in `args` unless given
    (`SENTENCEPIECE_DEFAULTS`): a fine-tuning learning rate; no label smoothing (the output bias of a
    converted translation model holds -1e9 for the padding and start ids, which no output may take:
    smoothing over them adds about 0.1 × 2e9 / V, some 6,250, to every loss figure); and for a
    translation model as converted, no dropout (its
    `transformer-dropout` is not in the file, and the Firefox Translations students were trained
    without: with the config's 0.1, pt_en's teacher-forced token accuracy in training mode falls from
    73% to 12% on Bible verses, and training would first have to undo that)."""
    from keras_transformer.zoo.registry import TRANSLATION

    defaults = dict(SENTENCEPIECE_DEFAULTS, **({"dropout": 0.0} if base.kind == TRANSLATION else {}))
    changed = []
    for name, value in defaults.items():
        if name not in given and getattr(args, name) != value:
            setattr(args, name, value)
            changed.append(f"--{name.replace('_', '-')} {value:g}")
    if changed:
        print(f"fine-tuning {base.name} with {', '.join(changed)} (give them to choose)", flush=True)


class _Pieces:
    """The SentencePiece ids of a zoo model's tokenizers for texts, each text tokenized once a side."""

    def __init__(self, base):
        self.name = base.name
        self.tokenizers = {"source": base.source_tokenizer, "target": base.target_tokenizer}
        self._ids = {"source": {}, "target": {}}

    def ids(self, side, texts):
        """Lists of ids of `texts` on `side` ("source": the end id included; "target")."""
        known = self._ids[side]
        missing = list(dict.fromkeys(text for text in texts if text not in known))
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            known.update(zip(chunk, self.tokenizers[side].tokenize(chunk).to_list()))
        return [known[text] for text in texts]

    def lengths(self, pairs):
        """`(source lengths, target lengths)` of `pairs` in ids, as the recipe gets them (the source's
        end id included; the target without its start or end id)."""
        return tuple([len(row) for row in self.ids(side, texts)]
                     for side, texts in (("source", pairs.sources), ("target", pairs.targets)))  # fmt: skip


def _fit_sentencepiece(pieces, pairs, paths, max_length, on_long):
    """`pairs` whose sources fit `max_length` SentencePiece ids (the end id included) and targets
    `max_length - 1` (the start or end id takes a position): with `on_long="error"` a
    `LineTooLongError` naming the first line that does not; with "truncate" such texts cut to their
    first pieces (decoded back to text)."""
    limits = {"source": max_length, "target": max_length - 1}
    texts = {"source": list(pairs.sources), "target": list(pairs.targets)}
    truncated = set()
    for side, path in zip(("source", "target"), paths):
        tokenizer = pieces.tokenizers[side]
        for index, row in enumerate(pieces.ids(side, texts[side])):
            if len(row) <= limits[side]:
                continue
            if on_long == "error":
                end = " (its end id included)" if tokenizer.add_end else ""
                raise LineTooLongError(
                    path,
                    pairs.lines[index],
                    f"the {side} has {len(row)} SentencePiece ids{end}, over the limit of {limits[side]} "
                    "(shorten or remove the line, or truncate long lines)",
                )
            kept = row[: limits[side] - tokenizer.add_end]
            texts[side][index] = tokenizer.detokenize([kept]).numpy()[0].decode("utf-8")
            truncated.add(index)
    if not truncated:
        return pairs
    return TextPairs(tuple(texts["source"]), tuple(texts["target"]), pairs.lines, pairs.path, len(truncated))


def _report_unknown_pieces(pieces, parts):
    """Print how many texts hold characters the SentencePiece vocabulary lacks (they read as its
    unknown piece: the model cannot learn to read or write them)."""
    for side in ("source", "target"):
        count, first, unknown_id = 0, None, pieces.tokenizers[side].unknown_id
        for pairs in parts:
            texts = pairs.sources if side == "source" else pairs.targets
            for index, row in enumerate(pieces.ids(side, texts)):
                if unknown_id in row:
                    count += 1
                    first = first or f"{pairs.path} line {pairs.lines[index]}"
        if count:
            print(f"{count} {side}s hold characters {pieces.name}'s SentencePiece vocabulary lacks (read as its "
                  f"unknown piece; the first at {first})", flush=True)  # fmt: skip


def _use_held_out_files(splits, files, symbols, lowercase):
    """`splits` with the parts read from `--validation-data` / `--test-data` (`files`, `{part:
    TextPairs}`) in place, and training pairs whose source is one of theirs left out. Returns
    `(splits, how many training pairs were left out)`."""
    if not files:
        return splits, 0
    held = {split_key(source, symbols, lowercase) for pairs in files.values() for source in pairs.sources}
    kept = [index for index, source in enumerate(splits.train.sources) if split_key(source, symbols, lowercase) not in held]
    left_out = len(splits.train) - len(kept)
    if left_out:
        print(f"left out {left_out} training pairs whose source is in --validation-data or --test-data", flush=True)
    parts = {"validation": splits.validation, "test": splits.test, **files}
    return PairSplits(train=splits.train.subset(kept), **parts), left_out


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


def _describe_data(pairs, splits, fractions, base, model_name, held_out_names=None, left_out=0, sentencepiece=False):
    sizes = splits.sizes()
    held_out_names = held_out_names or {}
    truncated = f" {pairs.truncated:,} of them truncated to the length limit." if pairs.truncated else ""
    hashed = [part for part in ("validation", "test") if part not in held_out_names]
    shares = " / ".join(f"{fraction:.0%}" for part, fraction in zip(("train", "validation", "test"), fractions)
                        if part == "train" or part in hashed)  # fmt: skip
    split = (
        f"Split by a stable hash of the source text (SHA-1; {shares} of the distinct sources into "
        f"{' / '.join(['train', *hashed])}), every pair with the same source on one side"
        if hashed
        else "All of them for training"
    )
    files = "".join(f" The {part} pairs were read from `{name}`." for part, name in held_out_names.items())
    if left_out:
        files += f" {left_out:,} pairs whose source is in those files were left out of training."
    text = (
        # The file's name alone: a card names no path of the machine it was trained on.
        f"Your pairs, read from `{pathlib.Path(pairs.path).name}`: {len(pairs):,} pairs.{truncated} "
        f"{split}.{files} No test source was seen in training: train "
        f"{sizes['train']:,}, validation {sizes['validation']:,}, test {sizes['test']:,} pairs. A prediction is right "
        "if it equals any target the data gives its source."
    )
    if base is not None:
        text += (
            f" Fine-tuned from the zoo model `{model_name}` ({base.path}): its tokenizers, configuration and weights "
            "were the start; the optimizer and its learning-rate schedule started afresh."
        )
    if sentencepiece:
        text += (
            f" Lengths are counted in `{model_name}`'s SentencePiece pieces; exact match and character error rate "
            "are strict for translations (BLEU and chrF are the usual figures: `sacrebleu` on the outputs)."
        )
    return text


def _sentencepiece_notes(base, model_name, max_length):
    settings = base.settings
    factor = f", at most {settings.max_length_factor:g} × the source's ids" if settings.max_length_factor else ""
    return (
        f"Fine-tuned from `{model_name}` with its SentencePiece vocabulary: characters the vocabulary lacks read as "
        f"its unknown piece. It decodes as {base.name} does ({settings.strategy}{factor}) but over the whole "
        f"vocabulary: {base.name}'s lexical shortlist is not kept (it lists the target words the base translates "
        f"each source word to, which fine-tuning changes). Sources longer than {max_length} ids are truncated."
    )


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
