"""Running a zoo task: four steps, `read` -> `train` -> `choose_decoding` -> `package`, each a small
function over the task's declaration (`zoo.tasks.task.Task`), with one typed record of figures
(`Figures`) flowing from the first to the model card.

    figures = run(get_task("reverse"), parser.parse_args(argv), argv)
"""

import dataclasses
import json
import pathlib
import shlex
import time

from keras_transformer.errors import DataError, InvalidArgumentError
from keras_transformer import evaluation
from keras_transformer.decoding.settings import DecodingSettings
from keras_transformer.training.options import TrainingOptions
from keras_transformer.training.run_folder import RunFolder
from keras_transformer.zoo import sweep
from keras_transformer.zoo.figures import Figures, training_figures
from keras_transformer.zoo.tasks.task import Split


@dataclasses.dataclass
class Reading:
    """What `read` hands to the later steps."""

    options: TrainingOptions
    folder: RunFolder
    training: Split
    validation: Split
    monitored: Split
    train_pairs: tuple  # (sources, targets) a pass, after oversampling
    tokenizers: tuple
    trained_elsewhere: bool
    readings: dict | None  # source -> every target in the data (all splits), for tasks with ambiguous inputs


def run(task, args, argv):
    """Read, train, choose the decoding and package; returns the `Figures` (also `metrics.json`)."""
    started = time.monotonic()
    task = task.prepare(args, argv)
    reading, figures = read(task, args, argv)
    if args.save_token_arrays:
        return save_token_arrays(task, reading, args.save_token_arrays)
    record = train(task, reading)
    figures = dataclasses.replace(figures, **training_figures(record))
    pipeline = choose_decoding(task, reading, record, figures, args)
    if not args.no_package:
        figures.split_sizes = task.split_sizes(args)
        figures.total_seconds_before_packaging = round(time.monotonic() - started, 1)
        package(task, pipeline, record.history, figures, args, reading.readings)
    figures.total_seconds = round(time.monotonic() - started, 1)
    reading.folder.write_metrics(figures.to_dict())
    shown = {k: v for k, v in figures.to_dict().items() if k not in ("epochs", "options", "arguments", "validation_losses")}
    print(json.dumps(shown), flush=True)
    return figures


# ---------------------------------------------------------------------------------------- 1. read


def read(task, args, argv):
    """The options that apply, the run folder, the splits and the tokenizers. Returns `(Reading, Figures)`."""
    started = time.monotonic()
    options = TrainingOptions.from_args(args)
    command = command_line(task.name, argv)
    trained_elsewhere = bool(args.trained_run)
    if trained_elsewhere:
        # Trained elsewhere (`python -m keras_transformer.training.arrays`, any backend): package that run,
        # with the options it recorded.
        folder = RunFolder(args.trained_run)
        if not folder.has_record():
            raise InvalidArgumentError(f"`--trained-run` must be a keras_transformer.training.arrays run folder; "
                             f"{folder / 'run.json'} does not exist. Received: trained_run={args.trained_run!r}")  # fmt: skip
        options = TrainingOptions(**folder.read_record().options)
        if args.max_examples is not None:
            # The token arrays were written from the first --max-examples pairs: read the same pairs, so
            # that the tokenizers match the run's vocabularies.
            options = dataclasses.replace(options, max_examples=args.max_examples)
        earlier_commands = folder.commands()
    else:
        folder = RunFolder(args.output_dir)
        # Recorded before training, so that a stage stopped midway is still listed by the next one.
        earlier_commands = folder.record_command(command, resumes=bool(options.checkpoint_dir))
    training = task.read("train", args, options.max_examples)
    validation = task.read("validation", args, options.max_examples)
    print(f"read {len(training)} training and {len(validation)} validation examples "
          f"in {time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
    sources, targets = training.sources, training.targets
    if task.oversample is not None:
        repeats = [task.oversample(training, index) for index in range(len(training))]
        sources = [s for s, n in zip(sources, repeats) for _ in range(n)]
        targets = [t for t, n in zip(targets, repeats) for _ in range(n)]
        print(f"oversampled: {len(sources)} training examples a pass", flush=True)
    reading = Reading(options, folder, training, validation, validation.head(args.validation_examples),
                      (sources, targets), task.tokenizers(training), trained_elsewhere,
                      task_readings(task, args) if task.ambiguous_inputs else None)  # fmt: skip
    figures = Figures(
        task=task.name,
        command=command,
        run_folder=str(folder.path.resolve()),
        resumed_commands=earlier_commands,
        previous_stages=previous_stages(options.initial_weights),
        options=options.to_dict(),
        arguments={k: v for k, v in vars(args).items() if k not in options.to_dict()},
        seed=options.seed,
        training_examples=len(training),
        training_examples_a_pass=len(sources),
        monitored_validation_examples=len(reading.monitored),
    )
    return reading, dataclasses.replace(figures, **task.figure_overrides())


def save_token_arrays(task, reading, path):
    """Write the tokenized training and validation pairs (`training.arrays`) and the vocabularies beside them."""
    from keras_transformer.training.arrays import save_token_arrays as save

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    source_tokenizer, target_tokenizer = reading.tokenizers
    token_ids = {
        "train": tuple(t.tokenize(texts).to_list() for t, texts in zip(reading.tokenizers, reading.train_pairs)),
        "validation": (source_tokenizer.tokenize(reading.monitored.sources).to_list(),
                       target_tokenizer.tokenize(reading.monitored.targets).to_list()),
    }  # fmt: skip
    save(path, token_ids, source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size,
         target_tokenizer.start_id, target_tokenizer.end_id, bounds=task.bounds)  # fmt: skip
    source_tokenizer.save(path.parent / "source_vocabulary.json")
    target_tokenizer.save(path.parent / "target_vocabulary.json")
    print(f"wrote {path}: {len(reading.train_pairs[0])} training and {len(reading.monitored)} validation pairs",
          flush=True)  # fmt: skip
    return {"token_arrays": str(path)}


# ---------------------------------------------------------------------------------------- 2. train


def train(task, reading):
    """`training.recipe.fit` on the task's text pairs, or the record of a run trained elsewhere.
    Returns the `RunRecord`."""
    from keras_transformer.training.batches import text_pair_batches
    from keras_transformer.training.recipe import fit

    source_tokenizer, target_tokenizer = reading.tokenizers
    if reading.trained_elsewhere:
        record = reading.folder.read_record()
        config = reading.folder.read_config()
        sizes = (source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size)
        if sizes != (config.source_vocab_size, config.target_vocab_size):
            raise DataError(
                f"The run in {reading.folder.path} was trained with vocabularies of {config.source_vocab_size} and "
                f"{config.target_vocab_size} ids; the tokenizers have {sizes[0]} and {sizes[1]}: it was not trained "
                "on ids from these tokenizers"
            )
        return record
    options = reading.options
    source_tokenizer.save(reading.folder / "source_vocabulary.json")
    target_tokenizer.save(reading.folder / "target_vocabulary.json")
    batches = text_pair_batches(options, source_tokenizer, target_tokenizer, reading.train_pairs,
                                (reading.monitored.sources, reading.monitored.targets), bounds=task.bounds)  # fmt: skip
    config = task.model_config(options, source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size)
    task.before_training(reading.folder)
    return fit(config, options, batches, reading.folder.path, name=task.name)


# ------------------------------------------------------------------------------ 3. choose decoding


def choose_decoding(task, reading, record, figures, args):
    """Score the validation split greedily, then sweep beam settings on its first
    `--compare-beam-examples` and keep the best (`sweep.choose_decoding`). Fills the figures'
    validation and decoding fields; returns the `TextPipeline` with the chosen settings."""
    from keras_transformer.models import build_transformer
    from keras_transformer.pipeline import TextPipeline

    config = reading.folder.read_config()
    model = build_transformer(config, name=task.name)
    model.load_weights(str(reading.folder.weights))
    figures.config = config.to_dict()
    longest_target = record.batches.get("longest_target", config.max_length)
    max_output_length = task.max_output_length or min(longest_target + 3, config.max_length)
    settings = DecodingSettings(**{"strategy": "greedy", "beam_size": 4, "max_output_length": max_output_length,
                                   **task.decoding})  # fmt: skip
    pipeline = TextPipeline(model, *reading.tokenizers, settings, name=task.name)
    validation = reading.validation
    started = time.monotonic()
    predictions = pipeline.predict(validation.sources, batch_size=args.decode_batch_size)
    figures.validation_decode_seconds = round(time.monotonic() - started, 1)
    figures.validation = score(task, validation, predictions, reading.readings)
    print(f"validation (greedy, decoded in {figures.validation_decode_seconds:.0f} s): "
          f"{json.dumps(figures.validation)}", flush=True)  # fmt: skip
    wrong = [(s, p, r) for s, p, r in zip(validation.sources, predictions, validation.references) if p not in r]
    for source, prediction, references in wrong[:20]:
        print(f"  wrong: {source!r} -> {prediction!r}, expected {' | '.join(references)!r}")
    count = min(args.compare_beam_examples or 0, len(validation))
    if count:
        grid = sweep.decoding_grid(args.beam_sizes, args.length_penalties)
        print(f"choosing the decoding on the first {count} validation examples ({len(grid)} settings)", flush=True)
        # Beam search holds beam_size rows a text: half the batch of texts.
        results = sweep.sweep_decoding(pipeline, validation.sources[:count], validation.references[:count], grid,
                                       batch_size=max(1, args.decode_batch_size // 2))  # fmt: skip
        chosen = results.index(sweep.choose_decoding(results))
        print(f"decoding chosen on validation: {json.dumps(results[chosen])}", flush=True)
        figures.decoding_sweep = {"examples": count, "margin": sweep.MARGIN, "results": results, "chosen": chosen}
        # The best beam setting is stored even when greedy is chosen: `strategy="beam"` (the card's
        # beam row, a user's override) then decodes the way validation preferred.
        best_beam = sweep.choose_decoding([r for r in results if r["strategy"] == "beam"])
        settings = settings.replace(strategy=results[chosen]["strategy"], beam_size=best_beam["beam_size"],
                                    length_penalty=best_beam["length_penalty"])  # fmt: skip
        pipeline = TextPipeline(model, *reading.tokenizers, settings, name=task.name)
    figures.decoding = pipeline.settings.to_dict()
    return pipeline


def task_readings(task, args):
    """Source text -> every target it has anywhere in the task's data (all splits)."""
    readings = {}
    for name in ("train", "validation", "test"):
        split = task.read(name, args)
        for source, target in zip(split.sources, split.targets):
            readings.setdefault(source, set()).add(target)
    return readings


def score(task, split, predictions, readings=None):
    """Exact match against any reference, the task's other metrics, a breakdown by group and,
    with `readings` (source -> every target in the data), exact match accepting any valid reading
    and on the unambiguous inputs alone."""
    correct = [p in refs for p, refs in zip(predictions, split.references)]
    scores = {
        "examples": len(correct),
        "exact_match": round(sum(correct) / len(correct), 4),
        "wrong": len(correct) - sum(correct),
    }
    for name in task.metrics:
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
            field: _breakdown(correct, [task.group_names.get(field, {}).get(v, v) for v in values])
            for field, values in split.groups.items()
        }
    return scores


def _breakdown(correct, groups):
    """Exact match a group value: `{value: [matches, count]}`."""
    table = {}
    for right, group in zip(correct, groups):
        counts = table.setdefault(str(group), [0, 0])
        counts[0] += int(right)
        counts[1] += 1
    return table


# ---------------------------------------------------------------------------------------- 4. package


def package(task, pipeline, history, figures, args, readings=None):
    """Write the zoo folder, measure it on the test split (loaded back from disk, as users get it),
    and rewrite its card and `card_metrics` with the measured figures. `readings` (`task_readings`)
    score a task with ambiguous inputs against any valid reading."""
    from keras_transformer import zoo
    from keras_transformer.zoo import folder, litert
    from keras_transformer.zoo.card import model_card
    from keras_transformer.zoo.manifest import write_manifest

    zoo_dir = pathlib.Path(args.zoo_dir or pathlib.Path(figures.run_folder) / task.name)
    figures.zoo_dir = str(zoo_dir)
    figures.weights_dtype = args.weights_dtype
    examples = [source for source, _ in task.examples]
    outputs = pipeline.predict(examples) if examples else []
    figures.shown = [(source, output, expected) for (source, expected), output in zip(task.examples, outputs)]
    info = task.info()
    folder.save(zoo_dir, pipeline, info, task.finish_card(model_card(task, figures), zoo_dir), history=history, generator=True,
                weights_dtype=args.weights_dtype)  # fmt: skip
    packaged = zoo.load(str(zoo_dir.resolve()))  # a ZooModel: what users get
    evaluations = [task.measure(packaged, args, strategy)
                   for strategy in task.test_strategies or (pipeline.settings.strategy,)]  # fmt: skip
    figures.test = [{**e.report, "seconds": e.seconds} for e in evaluations]
    for report in figures.test:
        print(f"test ({report['strategy']}): {json.dumps(report['measured'])} in {report['seconds']:.0f} s", flush=True)
    own = next((e for e in evaluations if e.report["strategy"] == pipeline.settings.strategy), None)
    if own is not None and (zoo_dir / litert.GENERATOR).is_file():
        figures.litert_parity = litert_parity(zoo_dir, own.sources, own.predictions)
        print(f"LiteRT generator vs Keras on the test split: {json.dumps(figures.litert_parity)}", flush=True)
    if len(evaluations) == 1:
        card_metrics = dict(evaluations[0].report["measured"])
    else:
        card_metrics = {f"{e.report['strategy']}_{k}": v for e in evaluations for k, v in e.report["measured"].items()}
    if task.ambiguous_inputs:
        chosen = own or evaluations[0]
        test = Split(chosen.sources, [r[0] for r in chosen.references], chosen.references)
        figures.test_readings = score(task, test, chosen.predictions, readings)
    elif own is not None:
        test = task.read("test", args)
        if test.groups and len(test) == len(own.predictions):
            figures.test_breakdown = score(task, test, own.predictions)["breakdown"]
    folder.write_settings(zoo_dir, info.replace(card_metrics=card_metrics), pipeline.settings)
    (zoo_dir / "card.md").write_text(task.finish_card(model_card(task, figures), zoo_dir), encoding="utf-8")
    write_manifest(zoo_dir)
    figures.zoo_megabytes = round(sum(p.stat().st_size for p in zoo_dir.iterdir() if p.is_file()) / 1e6, 2)


def litert_parity(zoo_dir, sources, predictions, limit=1000):
    """How many of the first `limit` `sources` the folder's LiteRT generator decodes exactly as the
    Keras pipeline did (`predictions`): `{"examples", "equal", "seconds"}`."""
    from keras_transformer.zoo import litert

    started = time.monotonic()
    sources, predictions = sources[:limit], predictions[:limit]
    outputs = litert.load(str(pathlib.Path(zoo_dir).resolve())).predict(sources, batch_size=128)
    equal = sum(output == prediction for output, prediction in zip(outputs, predictions))
    return {"examples": len(sources), "equal": equal, "seconds": round(time.monotonic() - started, 1)}


# ---------------------------------------------------------------------------------------- the run's history


def command_line(name, argv):
    """The command that reproduces a run, for model cards."""
    return " ".join(["keras-transformer", "train", name, *map(shlex.quote, argv)])


def previous_stages(initial_weights):
    """The runs a run continues (`--initial-weights` of an earlier run's checkpoint, or of a zoo folder's
    weights), oldest first: their command, `fit` seconds and steps, from that run's `metrics.json`, or
    the commands and total `fit` minutes that the zoo folder's card lists."""
    from keras_transformer.zoo.card import card_stages

    if not initial_weights:
        return []
    weights = pathlib.Path(initial_weights).resolve()
    if (weights.parent / "zoo.json").is_file() and (weights.parent / "card.md").is_file():
        return card_stages(weights.parent)
    earlier = RunFolder(weights.parents[1]).read_metrics()
    if earlier is None:
        return [{"command": f"(unknown: {initial_weights} has no metrics.json two folders up)",
                 "initial_weights": initial_weights}]  # fmt: skip
    stage = {
        "command": earlier["command"],
        "train_seconds": earlier["train_seconds"],
        "steps": sum(e["steps"] for e in earlier["epochs"]),
        "best_epoch": earlier["best_epoch"],
        "epochs_run": earlier["epochs_run"],
        "validation_exact_match": (earlier.get("validation") or {}).get("exact_match"),
    }
    return [*earlier.get("previous_stages", []), stage]
