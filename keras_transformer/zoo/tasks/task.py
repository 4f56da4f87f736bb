"""What a zoo task is, as data: `Task` (its data source, fields, tokenizers, metrics, decoding sweep,
card text and targets) and the data sources it reads (`DatasetSource`, `ReverseSource`), plus the
task's command line (`parser`). Nothing here imports TensorFlow: `keras-transformer train TASK --help`
is built from these alone. Running a task is `zoo.tasks.run`.
"""

import argparse
import dataclasses

import numpy as np

from keras_transformer.training.options import TrainingOptions
from keras_transformer.zoo import sweep
from keras_transformer.zoo.info import WEIGHTS_DTYPES, ZooInfo


@dataclasses.dataclass(frozen=True)
class Split:
    """One split of a task's data.

    Args:
        sources, targets: lists of str, one pair an example.
        references: the acceptable outputs of each source (a list of str each); default `[target]`.
        groups: `{field: values}`, one value an example, that scores are broken down by.
    """

    sources: list
    targets: list
    references: list | None = None
    groups: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.references is None:
            object.__setattr__(self, "references", [[target] for target in self.targets])
        lengths = {len(self.sources), len(self.targets), len(self.references), *map(len, self.groups.values())}
        if len(lengths) != 1:
            raise ValueError(
                f"Every column of a split must have one value an example. Received lengths: {sorted(lengths)}"
            )

    def __len__(self):
        return len(self.sources)

    def head(self, count):
        """The first `count` examples (all of them for None)."""
        if count is None:
            return self
        return Split(self.sources[:count], self.targets[:count], self.references[:count],
                     {field: values[:count] for field, values in self.groups.items()})  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True)
class DatasetSource:
    """A task's data from one of the `keras_transformer.data` datasets: one text field -> another.

    Args:
        dataset, config: the builder and its config name.
        source_field, target_field: the text fields the model maps.
        references_field: a field listing every acceptable output (validation and test).
        group_fields: fields the exact match is broken down by.
    """

    dataset: str
    config: str | None = None
    source_field: str
    target_field: str
    references_field: str | None = None
    group_fields: tuple = ()

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", help="TFDS data dir (default: keras_transformer.data.default_data_dir())")

    def read(self, split, args, max_examples=None):
        from keras_transformer.data.batching import read_columns

        references = self.references_field if split != "train" else None
        fields = [self.source_field, self.target_field, *([references] if references else []), *self.group_fields]
        columns = read_columns(self.dataset, split, fields, data_dir=args.data_dir, config=self.config,
                               max_examples=max_examples)  # fmt: skip
        return Split(columns[self.source_field], columns[self.target_field],
                     columns[references] if references else None,
                     {field: columns[field] for field in self.group_fields})  # fmt: skip

    def split_sizes(self, args):
        from keras_transformer.data import get_builder

        builder = get_builder(self.dataset, data_dir=args.data_dir, config=self.config)
        return {name: info.num_examples for name, info in builder.info.splits.items()}

    def info_fields(self):
        """What the zoo folder's `zoo.json` says about the data (`evaluate` reads the test split by it)."""
        return {
            "dataset": self.dataset,
            "dataset_config": self.config,
            "source_field": self.source_field,
            "target_field": self.target_field,
            "references_field": self.references_field,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReverseSource:
    """Strings of random letters and their reverse, generated from the seed: nothing to download."""

    held_out_examples: int = 1000
    shortest: int = 3

    def add_arguments(self, parser):
        parser.add_argument("--examples", type=int, default=20000, help="training examples (default: %(default)s)")
        parser.add_argument("--symbols", type=int, default=16, help="distinct letters, 2..26 (default: %(default)s)")
        parser.add_argument("--longest", type=int, default=12, help="longest string (default: %(default)s)")

    def read(self, split, args, max_examples=None):
        count = args.examples if split == "train" else self.held_out_examples
        count = min(count, max_examples or count)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"[: args.symbols]))
        rng = np.random.default_rng([args.seed, ("train", "validation", "test").index(split)])
        lengths = rng.integers(self.shortest, args.longest + 1, size=count)
        sources = ["".join(rng.choice(letters, size=n)) for n in lengths]
        return Split(sources, [source[::-1] for source in sources])

    def split_sizes(self, args):
        return {"train": args.examples, "validation": self.held_out_examples, "test": self.held_out_examples}

    def info_fields(self):
        return {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Task:
    """A trainable zoo task, declared.

    Args:
        name: the task, zoo folder and Keras model name.
        description: one line for `zoo list` and the card, e.g. "English word -> ARPAbet phonemes".
        source: where the data comes from (`DatasetSource`, `ReverseSource`, or any object with
            `add_arguments(parser)`, `read(split, args, max_examples)`, `split_sizes(args)` and
            `info_fields()`).
        describe_data: `describe_data(split_sizes)` returns the card's Markdown about the data, its
            licence and its split.
        defaults: option defaults (`TrainingOptions` fields and the task options, by dest name).
        source_split, source_lowercase, target_split: how the tokenizers split text ("characters" or
            "whitespace") and whether the source is lowercased.
        metrics: `keras_transformer.evaluation` metrics the card and `evaluate` report.
        bounds: fixed length-bucket bounds; None: quantiles of the training lengths.
        max_output_length: the packaged decoding limit; None: the longest training target + 3 (its
            end id and 2 to spare).
        decoding: `DecodingSettings` fields the packaged decoding starts from (before any sweep),
            over greedy and `max_output_length`; e.g. a fine-tuned translation model's base settings.
        test_strategies: decoding strategies measured on the test split; () for the chosen one.
        examples: `(source, expected)` pairs shown in the card with the model's outputs.
        notes: the card's limitations, Markdown, or `notes(figures)` returning it.
        group_names: `{group field: {value: name}}` for breakdowns of class-label fields.
        oversample: `oversample(split, index)` -> times training example `index` is used a pass.
        ambiguous_inputs: some sources have several targets in the data: also score any valid reading.
        output_check: the name of a `zoo.confidence.CHECKS` entry every right output passes (e.g.
            "iso_date"): `predict(..., flag=True)` flags outputs that fail it. None: no check.
        out_of_domain: the `zoo.out_of_domain` kinds the task's inputs are never like: the confidence
            calibration's target (most of them flagged) counts these; it measures the others too.
    """

    name: str
    description: str
    source: object
    describe_data: object
    defaults: dict = dataclasses.field(default_factory=dict)
    source_split: str = "characters"
    source_lowercase: bool = True
    target_split: str = "characters"
    metrics: tuple = ("exact_match", "character_error_rate")
    bounds: tuple | None = None
    max_output_length: int | None = None
    decoding: dict = dataclasses.field(default_factory=dict)
    test_strategies: tuple = ()
    examples: tuple = ()
    notes: object = ""
    group_names: dict = dataclasses.field(default_factory=dict)
    oversample: object = None
    ambiguous_inputs: bool = False
    output_check: str | None = None
    out_of_domain: tuple = ("sentences", "random_letters", "other_scripts", "words")

    def read(self, split, args, max_examples=None):
        """The `Split` named `split` ("train", "validation" or "test")."""
        return self.source.read(split, args, max_examples)

    def split_sizes(self, args):
        return self.source.split_sizes(args)

    def info(self):
        """The `ZooInfo` of the packaged folder."""
        return ZooInfo(task=self.description, metrics=self.metrics, **self.source.info_fields())

    def add_arguments(self, parser):
        """The task's own options (beside the recipe's and the packaging ones)."""
        self.source.add_arguments(parser)

    def parser(self):
        """The task's command line: the recipe's options, the run's and packaging's, the task's own."""
        parser = argparse.ArgumentParser(
            prog=f"keras-transformer train {self.name}",
            description=f"Train the {self.name} zoo model: {self.description}.",
        )
        TrainingOptions.add_arguments(parser)
        run = parser.add_argument_group("run and packaging")
        run.add_argument("--output-dir", default=f"runs/{self.name}", help="the run's folder (default: %(default)s)")
        run.add_argument("--zoo-dir", help="where the zoo folder is written (default: <output-dir>/<task name>)")
        run.add_argument("--validation-examples", type=int,
                         help="validation examples scored at each epoch end (default: all; the whole split is decoded at the end)")  # fmt: skip
        run.add_argument("--compare-beam-examples", type=int, default=2000,
                         help="validation examples the decoding is chosen on: decoded greedily and with each beam "
                              "size and length penalty below (0: skip, decode greedily; default: %(default)s)")  # fmt: skip
        run.add_argument("--beam-sizes", type=int, nargs="+", default=list(sweep.BEAM_SIZES),
                         help="beam sizes the decoding sweep tries (default: %(default)s)")  # fmt: skip
        run.add_argument("--length-penalties", type=float, nargs="+", default=list(sweep.LENGTH_PENALTIES),
                         help="length penalties the decoding sweep tries with each beam size (default: %(default)s)")  # fmt: skip
        run.add_argument(
            "--decode-batch-size", type=int, default=256, help="texts decoded at once (default: %(default)s)"
        )
        run.add_argument("--weights-dtype", choices=WEIGHTS_DTYPES, default="float32",
                         help="how the zoo folder stores the weights and its TFLite generator's: float16 halves "
                              "both, and the folder is measured on the rounded weights (default: %(default)s)")  # fmt: skip
        run.add_argument("--no-package", action="store_true", help="train and score, write no zoo folder")
        run.add_argument("--trained-run", metavar="DIR",
                         help="package a run trained with `python -m keras_transformer.training.arrays` (on any "
                              "backend or machine) instead of training: score, choose the decoding, package; the "
                              "run's own options are recorded and --output-dir is this folder")  # fmt: skip
        run.add_argument("--save-token-arrays", metavar="FILE",
                         help="write the tokenized training and validation pairs to this .npz file (for "
                              "`python -m keras_transformer.training.arrays`, on any backend) and the "
                              "vocabularies beside it, then stop")  # fmt: skip
        self.add_arguments(parser)
        unknown = sorted(set(self.defaults) - set(vars(parser.parse_args([]))))
        if unknown:
            raise ValueError(f"Task {self.name!r} has defaults for unknown options {unknown}")
        parser.set_defaults(**self.defaults)
        return parser

    def prepare(self, args, argv):
        """The task that runs on `args` (itself; a task over a user's files reads them here)."""
        return self

    def tokenizers(self, split):
        """`(source, target)` tokenizers built from the training split."""
        from keras_transformer.text import Tokenizer

        source = Tokenizer.from_corpus(split.sources, split=self.source_split, lowercase=self.source_lowercase)
        return source, Tokenizer.from_corpus(split.targets, split=self.target_split)

    def model_config(self, options, source_vocab_size, target_vocab_size):
        """The `TransformerConfig` the run trains: the recipe's (`options.transformer_config`) by
        default; a fine-tuned model keeps its own."""
        return options.transformer_config(source_vocab_size, target_vocab_size)

    def before_training(self, folder):
        """Called with the run's `RunFolder` before `fit` (not for a run trained elsewhere): write what
        training reads from it. Nothing by default; a fine-tuned translation model writes the weights it
        starts from."""

    def figure_overrides(self):
        """Figures the task states itself rather than the run (none by default; a user's task names its
        own command)."""
        return {}

    def finish_card(self, card, zoo_dir):
        """The card's Markdown as the task wants it in `zoo_dir` (unchanged by default)."""
        return card

    def measure(self, pipeline, args, strategy):
        """`evaluation.evaluate` of `pipeline` on the test split with `strategy`: what
        `keras-transformer evaluate <name> --strategy <strategy>` measures for a dataset task."""
        from keras_transformer import evaluation

        if isinstance(self.source, DatasetSource):
            return evaluation.evaluate(pipeline, "test", data_dir=args.data_dir, strategy=strategy)
        test = self.read("test", args)
        return evaluation.evaluate(pipeline, "test", sources=test.sources, references=test.references,
                                   metrics=self.metrics, strategy=strategy)  # fmt: skip
