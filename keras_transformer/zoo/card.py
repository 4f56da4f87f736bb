"""The model card of a zoo task's run, written from the figures the run measured (its `metrics.json`):
examples, data, model, training (with the per-epoch history), the decoding chosen on validation,
validation and test metrics, limitations."""

import json
import pathlib
import re

from keras_transformer.zoo.figures import Figures


def model_card(task, figures):
    """The Markdown card of a packaged run.

    Args:
        task: the `zoo.tasks.Task` that ran (name, description, data text, notes).
        figures: the run's measured figures, a `zoo.figures.Figures` (what `Task.run` writes to
            `metrics.json`); `figures.test` is empty before the test split is measured.

    Returns:
        A str.

    Raises:
        TypeError: `figures` is not a `Figures`.
    """
    if not isinstance(figures, Figures):
        raise TypeError(f"`figures` must be a zoo.figures.Figures. Received: figures={type(figures).__name__}")
    shown = figures.shown
    lines = [
        f"# {task.name}",
        "",
        f"{task.description}.",
        "",
        "| input | output | expected |",
        "|---|---|---|",
        *[
            f"| {source} | {output} | {expected}{'' if output == expected else ' (wrong)'} |"
            for source, output, expected in shown
        ],
        "",
        "```bash",
        f"keras-transformer predict {_model_argument(task, figures)} " + (f'"{shown[0][0]}"' if shown else "..."),
        "```",
        "",
        "## Data",
        "",
        task.describe_data(figures.split_sizes),
        "",
        "## Model",
        "",
        _model_text(task, figures),
        "",
        "## Training",
        "",
        "```bash",
        *_commands_lines(
            [
                portable_command(command, figures.run_folder)
                for command in [
                    *[stage["command"] for stage in figures.previous_stages],
                    # A run resumed from its --checkpoint-dir lists every command it was run with, oldest first.
                    *(figures.resumed_commands or []),
                    figures.command,
                ]
            ]
        ),
        "```",
        "",
        *_stages_lines(figures),
        _training_text(figures),
        "",
        *_epoch_lines(figures),
        "## Metrics",
        "",
        *_metrics_lines(task, figures),
    ]
    notes = task.notes(figures) if callable(task.notes) else task.notes
    if notes:
        lines += ["## Limitations", "", notes, ""]
    return "\n".join(lines)


def _commands_lines(commands):
    """The card's commands, after a note on `RUN` when a path is written relative to the run folder."""
    if any(re.search(r"(^|[ =])RUN(/|$| )", command) for command in commands):
        return ["# RUN: the run's folder (--output-dir, or --trained-run where it was packaged)", *commands]
    return commands


def _model_argument(task, figures):
    """How `keras-transformer predict` names the packaged folder: by name for a model the zoo ships,
    else by the folder's path as the run was given it (`./reverse_model`)."""
    from keras_transformer.zoo import registry

    if task.name in registry.list_models():
        return task.name
    folder = figures.zoo_dir
    if not folder:
        return task.name
    folder = portable_command(folder, figures.run_folder)
    return folder if "/" in folder else f"./{folder}"


def portable_command(command, run_folder=None):
    """`command` as a card shows it: no path of the machine it ran on. A path inside the run folder
    is written `RUN/...` (the run folder itself `RUN`); another absolute path, or one through a hidden
    folder, is written by its last part alone; other relative paths stay as typed.

    Example:
    >>> portable_command("keras-transformer train g2p_en --trained-run /root/gpu/run --zoo-dir /root/gpu/zoo", "/root/gpu/run")
    'keras-transformer train g2p_en --trained-run RUN --zoo-dir zoo'
    >>> portable_command('python -m x .gpu/ids.npz --output-dir runs/a --stop-at "$(( 1 + 2 ))"')
    'python -m x ids.npz --output-dir runs/a --stop-at "$(( 1 + 2 ))"'
    """
    run = pathlib.PurePath(run_folder) if run_folder else None
    words = command.split(" ")
    for index, word in enumerate(words):
        option, equals, value = word.rpartition("=") if word.startswith("--") and "=" in word else ("", "", word)
        if "/" not in value or value.startswith(("-", "$", '"', "'", "http")):
            continue
        path = pathlib.PurePath(value)
        hidden = any(part.startswith(".") and part not in (".", "..") for part in path.parts)
        if run is not None and path.is_absolute() and (path == run or run in path.parents):
            value = "RUN" if path == run else f"RUN/{path.relative_to(run)}"
        elif path.is_absolute() or hidden:
            value = path.name
        words[index] = option + equals + value
    return " ".join(words)


def _symbols(split, lowercase):
    unit = "a character" if split == "characters" else "a space-separated symbol"
    return f"one token {unit}" + (", lowercased" if lowercase else "")


def _model_text(task, figures):
    config, decoding = figures.config, figures.decoding
    return (
        f"Transformer ({'pre' if config['normalize_first'] else 'post'}-layer-norm, sinusoidal positions) with "
        f"{config['num_encoder_layers']} encoder and {config['num_decoder_layers']} decoder layers, d_model "
        f"{config['d_model']}, {config['num_heads']} heads, d_ff {config['d_ff']}, dropout {config['dropout']}, "
        f"max_length {config['max_length']}: {figures.parameters:,} parameters. "
        f"Source: {_symbols(task.source_split, task.source_lowercase)} ({config['source_vocab_size']} ids, 4 of them "
        f"reserved); target: {_symbols(task.target_split, False)} ({config['target_vocab_size']} ids). "
        f"Decoding: {_decoding_name(decoding, decoding['strategy'])}"
        + (", chosen on validation (see Metrics)" if figures.decoding_sweep else "")
        + f", at most {decoding['max_output_length']} output tokens (end included)."
        + (
            " Weights stored as float16 values (the model and its TFLite generator compute in float32 on the "
            "rounded weights; every figure below is measured on the stored weights)."
            if figures.weights_dtype == "float16"
            else ""
        )
    )


def _decoding_name(decoding, strategy):
    """"greedy", or "beam (beam 4, length penalty 0.6)" with `decoding`'s beam fields."""
    if strategy != "beam":
        return strategy
    penalty = decoding.get("length_penalty")
    return f"beam (beam {decoding['beam_size']}" + ("" if penalty is None else f", length penalty {penalty}") + ")"


def _metric_name(name):
    """`word_error_rate_no_stress` -> "word error rate, stress ignored"."""
    if name.endswith("_no_stress"):
        return name[: -len("_no_stress")].replace("_", " ") + ", stress ignored"
    return name.replace("_", " ")


def _epoch_lines(figures):
    """The per-epoch table (training and validation loss, validation token accuracy, seconds) and the
    training time, from `figures.epoch_history`; nothing for figures without it."""
    rows = figures.epoch_history
    if not rows:
        return []

    def number(value, text):
        return "—" if value is None else text.format(value)

    timed = [row["seconds"] for row in rows if row["seconds"] is not None]
    hours = sum(timed) / 3600
    if not timed:
        total = "Training time: no epoch's wall time was recorded."
    elif len(timed) == len(rows):
        total = (
            f"Training time: {hours:.2f} hours over the {len(rows)} epochs (each epoch's wall time, training and "
            "validation)."
        )
    else:
        missing = [row["epoch"] for row in rows if row["seconds"] is None]
        total = (
            f"Training time: {hours:.2f} hours, the total of the {len(timed)} of {len(rows)} epochs with a recorded "
            f"wall time (training and validation); {_epoch_ranges(missing)} no time was recorded (—), so the "
            "whole run took longer."
        )
    return [
        "Per epoch (training loss with label smoothing and dropout; validation loss and token accuracy on the "
        "monitored validation examples):",
        "",
        "| epoch | training loss | validation loss | validation token accuracy | seconds |",
        "|---|---|---|---|---|",
        *[
            f"| {row['epoch']} | {number(row['loss'], '{:.4f}')} | {number(row['val_loss'], '{:.4f}')} | "
            f"{number(row['val_accuracy'], '{:.2%}')} | {number(row['seconds'], '{:.0f}')} |"
            for row in rows
        ],
        "",
        total,
        "",
    ]


def _epoch_ranges(epochs):
    """[1, 2, 3, 7] -> "for epochs 1-3 and 7"; [4] -> "for epoch 4"."""
    runs = []
    for epoch in epochs:
        if runs and epoch == runs[-1][1] + 1:
            runs[-1][1] = epoch
        else:
            runs.append([epoch, epoch])
    parts = [f"{first}" if first == last else f"{first}-{last}" for first, last in runs]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"for epoch{'s' if len(epochs) > 1 else ''} {text}"


def _sweep_lines(figures):
    """The decoding sweep on validation as a table, the chosen setting marked."""
    sweep = figures.decoding_sweep
    if not sweep:
        return []
    rows = []
    for index, result in enumerate(sweep["results"]):
        beam = result["strategy"] == "beam"
        rows.append(
            f"| {result['strategy']} | {result['beam_size'] if beam else '—'} | "
            f"{result['length_penalty'] if beam else '—'} | {100 * result['exact_match']:.2f}% | "
            f"{result['seconds']:.0f} s | {'used' if index == sweep['chosen'] else ''} |"
        )
    return [
        f"Decoding chosen on validation: the first {sweep['examples']:,} validation examples were decoded with each "
        "setting below. The one used has the best exact match, or is the cheapest setting within "
        f"{100 * sweep['margin']:.1f} points of it (greedy before beam search, a smaller beam before a larger one, "
        "length penalty 0 first). The test split played no part in the choice.",
        "",
        "| decoding | beam size | length penalty | exact match | seconds | |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def _stages_lines(figures):
    stages = figures.previous_stages
    if not stages:
        return []
    zoo_stage = next((stage for stage in stages if stage.get("zoo_folder")), None)
    if zoo_stage is not None:
        minutes = zoo_stage.get("train_seconds")
        return [
            f"The first {len(stages)} command{'s' if len(stages) > 1 else ''} trained the zoo model "
            f"`{zoo_stage['zoo_folder']}` as it was before this run (its earlier card, in the repository's history, "
            "has their figures" + (f"; {minutes / 60:.1f} minutes of `fit` in all" if minutes else "")
            + "); the rest are this run, which continues from its weights (`--initial-weights`, weights only: the "
            "optimizer and its warmup start afresh). This run:",
            "",
        ]
    earlier = "; ".join(
        f"{stage.get('steps', '?')} steps in {stage.get('train_seconds', 0) / 60:.1f} minutes of `fit`, "
        + (
            f"validation exact match {stage['validation_exact_match']:.4f}"
            if stage.get("validation_exact_match") is not None
            else "validation exact match not measured"
        )
        for stage in stages
    )
    total = (figures.train_seconds + sum(stage.get("train_seconds", 0) for stage in stages)) / 60
    return [
        "Trained in stages: each command after the first continues from the best checkpoint of the one before it "
        "(`--initial-weights`: weights and optimizer state, so the learning-rate schedule goes on from the step "
        f"reached). Earlier stages: {earlier}. Total `fit` time of all stages: {total:.1f} minutes. This stage:",
        "",
    ]


def _training_text(figures):
    options, resumed = figures.options, figures.initial_epoch
    passes = figures.optimizer_steps / max(1, figures.steps_per_pass)  # the steps of every stage
    if figures.averaged_epochs:
        kept = f"the average of the checkpoints of epochs {figures.averaged_epochs} is kept (a lower validation loss than the best epoch's)"
    else:
        kept = f"the best weights by validation loss are kept (epoch {figures.best_epoch} of {figures.epochs_run}"
        kept += ", stopped by the time budget)" if figures.stopped_by_time_budget else ")"
    return (
        f"Seed {options['seed']}; Adam (0.9, 0.98, 1e-9) with the paper's schedule (warmup {options['warmup_steps']} "
        f"steps, scale {options['learning_rate_scale']}), label smoothing {options['label_smoothing']}, batches bucketed "
        f"by length with about {options['batch_tokens']} padded positions, XLA {'on' if options['jit_compile'] else 'off'}. "
        + (
            f"A pass holds {figures.training_examples_a_pass:,} examples (rare kinds repeated, see Data). "
            if figures.training_examples_a_pass != figures.training_examples
            else ""
        )
        + f"Validation loss on the first {figures.monitored_validation_examples:,} validation examples after each "
        f"epoch of {figures.steps_per_epoch} steps; {kept}. "
        + (f"The run was resumed after epoch {resumed} from its epoch checkpoints. "
           if resumed and not figures.trained_backend else "")
        + (
            f"Trained with `python -m keras_transformer.training.arrays` (the same recipe on token ids, any Keras "
            f"backend) on Keras's {figures.trained_backend} backend, then packaged on TensorFlow with "
            "`--trained-run`; the epochs' `fit` took "
            if figures.trained_backend
            else "`fit` took "
        )
        + f"{figures.train_seconds / 60:.1f} minutes{' in the last session' if resumed and not figures.trained_backend else ''} "
        + (
            ""
            if figures.trained_backend
            else f"({figures.total_seconds_before_packaging / 60:.1f} minutes for the whole run up to packaging, "
            "reading data and scoring the validation split included) "
        )
        + f"on {figures.device}, about {passes:.2f} passes over the "
        "training data" + (" in all stages." if figures.previous_stages else ".")
    )


def _table_line(name, table):
    return f"By {name}: " + ", ".join(f"{k} {m / n:.4f} ({n:,})" for k, (m, n) in sorted(table.items())) + "."


def _metrics_lines(task, figures):
    validation, decoding = figures.validation, figures.decoding
    extra = "".join(
        f", {_metric_name(name)} {validation[name]:.4f}" for name in task.metrics if name != "exact_match"
    )
    lines = [
        f"Validation split ({validation['examples']:,} examples, greedy): exact match {validation['exact_match']:.4f} "
        f"({validation['wrong']} wrong){extra}.",
        "",
    ]
    for field, table in validation.get("breakdown", {}).items():
        lines += [_table_line(field, table), ""]
    lines += _sweep_lines(figures)
    reports = figures.test
    command = (
        f"keras-transformer evaluate {task.name}" if task.info().dataset else "keras_transformer.evaluation.evaluate"
    )
    if not reports:
        return lines + ["Test split: not measured yet.", ""]
    if len(reports) == 1:
        report = reports[0]
        lines += [
            f"Test split ({report['examples']:,} examples, {report['strategy']}), measured after packaging with "
            f"`{command}` (it took {report['seconds']:.0f} s on the same machine):",
            "",
            "```json",
            json.dumps({k: v for k, v in report.items() if k not in ("card", "seconds")}, indent=2),
            "```",
            "",
        ]
    else:
        names = list(reports[0]["measured"])
        lines += [
            f"Test split, measured after packaging with `{command}` for each decoding strategy:",
            "",
            "| decoding | " + " | ".join(map(_metric_name, names)) + " | examples | evaluation time |",
            "|---|" + "---|" * (len(names) + 2),
            *[
                f"| {_decoding_name(decoding, r['strategy'])}"
                + (" (default) | " if r["strategy"] == decoding["strategy"] else " | ")
                + " | ".join(f"{100 * r['measured'][n]:.2f}%" for n in names)
                + f" | {r['examples']:,} | {r['seconds']:.0f} s |"
                for r in reports
            ],
            "",
        ]
    lines += [
        "The test split was not looked at before: the checkpoint was chosen by validation loss"
        + (", the decoding by validation exact match." if figures.decoding_sweep else "."),
        "",
    ]
    for field, table in (figures.test_breakdown or {}).items():
        line = _table_line(field, table)
        lines += ["Test " + line[0].lower() + line[1:], ""]
    test = figures.test_readings
    if test:
        lines += [
            f"Ambiguous inputs: {test['ambiguous_inputs']:,} of the {test['examples']:,} test examples are texts that "
            "stand for more than one target in this data, so no model can get them all right from the text "
            f"alone. Same test predictions: exact match {test['exact_match']:.4f}; accepting any valid reading "
            f"{test['exact_match_any_reading']:.4f}; on the {test['examples'] - test['ambiguous_inputs']:,} "
            f"unambiguous inputs {test['exact_match_unambiguous']:.4f}.",
            "",
        ]
        for field, table in test.get("breakdown", {}).items():
            line = _table_line(field, table)
            lines += ["Test " + line[0].lower() + line[1:], ""]
    return lines


def with_section(card, heading, body):
    r"""`card` (Markdown) with its level-2 section `heading` (e.g. "## Confidence") holding `body`:
    the section's old text replaced, up to the next level-2 heading or the end; appended when the card
    has no such section. What a script that measures one thing after packaging rewrites, leaving the rest.

    Example:
    >>> with_section("# m\n\n## A\n\nold\n\n## B\n\nkept\n", "## A", "new")
    '# m\n\n## A\n\nnew\n\n## B\n\nkept\n'
    """
    section = f"{heading}\n\n{body.strip()}\n"
    match = re.search(rf"^{re.escape(heading)}[ \t]*$", card, re.MULTILINE)
    if match is None:
        return card.rstrip("\n") + "\n\n" + section
    following = re.search(r"^## ", card[match.end() :], re.MULTILINE)
    after = "" if following is None else card[match.end() + following.start() :]
    return card[: match.start()] + section + ("\n" + after if after else "")


def card_stages(zoo_dir):
    """The stages of the zoo folder a run continues from, as its card tells them: every command of its
    Training block, the last one carrying the card's total `fit` minutes."""
    card = (pathlib.Path(zoo_dir) / "card.md").read_text(encoding="utf-8")
    training = card.split("## Training", 1)[-1]
    block = training.split("```bash", 1)[-1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    total = re.search(r"Total `fit` time of all stages: ([\d.]+) minutes", training) or re.search(
        r"`fit` took ([\d.]+) minutes", training
    )
    stages = [{"command": command} for command in commands]
    if stages:
        stages[-1].update(zoo_folder=pathlib.Path(zoo_dir).name, train_seconds=float(total[1]) * 60 if total else None)
    return stages
