"""The model card of a zoo task's run, written from the figures the run measured (its `metrics.json`):
examples, data, model, training, validation and test metrics, limitations."""

import json


def model_card(task, figures):
    """The Markdown card of a packaged run.

    Args:
        task: the `zoo.tasks.Task` that ran (name, description, data text, notes).
        figures: the run's measured figures (what `Task.run` writes to `metrics.json`); `figures["test"]`
            is empty before the test split is measured.

    Returns:
        A str.
    """
    shown = figures["shown"]
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
        f'keras-transformer predict {task.name} "{shown[0][0]}"'
        if shown
        else f"keras-transformer predict {task.name} ...",
        "```",
        "",
        "## Data",
        "",
        task.describe_data(figures["split_sizes"]),
        "",
        "## Model",
        "",
        _model_text(task, figures),
        "",
        "## Training",
        "",
        "```bash",
        *[stage["command"] for stage in figures["previous_stages"]],
        figures["command"],
        "```",
        "",
        *_stages_lines(figures),
        _training_text(figures),
        "",
        "## Metrics",
        "",
        *_metrics_lines(task, figures),
    ]
    notes = task.notes(figures) if callable(task.notes) else task.notes
    if notes:
        lines += ["## Limitations", "", notes, ""]
    return "\n".join(lines)


def _symbols(split, lowercase):
    unit = "a character" if split == "characters" else "a space-separated symbol"
    return f"one token {unit}" + (", lowercased" if lowercase else "")


def _model_text(task, figures):
    config, decoding = figures["config"], figures["decoding"]
    return (
        f"Transformer ({'pre' if config['normalize_first'] else 'post'}-layer-norm, sinusoidal positions) with "
        f"{config['num_encoder_layers']} encoder and {config['num_decoder_layers']} decoder layers, d_model "
        f"{config['d_model']}, {config['num_heads']} heads, d_ff {config['d_ff']}, dropout {config['dropout']}, "
        f"max_length {config['max_length']}: {figures['parameters']:,} parameters. "
        f"Source: {_symbols(task.source_split, task.source_lowercase)} ({config['source_vocab_size']} ids, 4 of them "
        f"reserved); target: {_symbols(task.target_split, False)} ({config['target_vocab_size']} ids). "
        f"Decoding: {decoding['strategy']}"
        + (f" (beam {decoding['beam_size']})" if decoding["strategy"] == "beam" else "")
        + f", at most {decoding['max_output_length']} output tokens (end included)."
    )


def _stages_lines(figures):
    stages = figures["previous_stages"]
    if not stages:
        return []
    earlier = "; ".join(
        f"{stage.get('steps', '?')} steps in {stage.get('train_seconds', 0) / 60:.1f} minutes of `fit`, "
        + (
            f"validation exact match {stage['validation_exact_match']:.4f}"
            if stage.get("validation_exact_match") is not None
            else "validation exact match not measured"
        )
        for stage in stages
    )
    total = (figures["train_seconds"] + sum(stage.get("train_seconds", 0) for stage in stages)) / 60
    return [
        "Trained in stages: each command after the first continues from the best checkpoint of the one before it "
        "(`--initial-weights`: weights and optimizer state, so the learning-rate schedule goes on from the step "
        f"reached). Earlier stages: {earlier}. Total `fit` time of all stages: {total:.1f} minutes. This stage:",
        "",
    ]


def _training_text(figures):
    options, resumed = figures["options"], figures["initial_epoch"]
    passes = figures["optimizer_steps"] / max(1, figures["steps_per_pass"])  # the steps of every stage
    if figures["averaged_epochs"]:
        kept = f"the average of the checkpoints of epochs {figures['averaged_epochs']} is kept (a lower validation loss than the best epoch's)"
    else:
        kept = f"the best weights by validation loss are kept (epoch {figures['best_epoch']} of {figures['epochs_run']}"
        kept += ", stopped by the time budget)" if figures["stopped_by_time_budget"] else ")"
    return (
        f"Seed {options['seed']}; Adam (0.9, 0.98, 1e-9) with the paper's schedule (warmup {options['warmup_steps']} "
        f"steps, scale {options['learning_rate_scale']}), label smoothing {options['label_smoothing']}, batches bucketed "
        f"by length with about {options['batch_tokens']} padded positions, XLA {'on' if options['jit_compile'] else 'off'}. "
        + (
            f"A pass holds {figures['training_examples_a_pass']:,} examples (rare kinds repeated, see Data). "
            if figures["training_examples_a_pass"] != figures["training_examples"]
            else ""
        )
        + f"Validation loss on the first {figures['monitored_validation_examples']:,} validation examples after each "
        f"epoch of {figures['steps_per_epoch']} steps; {kept}. "
        + (f"The run was resumed after epoch {resumed} from its epoch checkpoints. " if resumed else "")
        + f"`fit` took {figures['train_seconds'] / 60:.1f} minutes{' in the last session' if resumed else ''} "
        f"({figures['total_seconds_before_packaging'] / 60:.1f} minutes for the whole run up to packaging, reading data "
        f"and scoring the validation split included) on {figures['device']}, about {passes:.2f} passes over the "
        "training data" + (" in all stages." if figures["previous_stages"] else ".")
    )


def _table_line(name, table):
    return f"By {name}: " + ", ".join(f"{k} {m / n:.4f} ({n:,})" for k, (m, n) in sorted(table.items())) + "."


def _metrics_lines(task, figures):
    validation, decoding = figures["validation"], figures["decoding"]
    extra = "".join(
        f", {name.replace('_', ' ')} {validation[name]:.4f}" for name in task.metrics if name != "exact_match"
    )
    lines = [
        f"Validation split ({validation['examples']:,} examples, greedy): exact match {validation['exact_match']:.4f} "
        f"({validation['wrong']} wrong){extra}.",
        "",
    ]
    for field, table in validation.get("breakdown", {}).items():
        lines += [_table_line(field, table), ""]
    beam = figures.get("beam_comparison")
    if beam:
        lines += [
            f"Greedy against beam search ({decoding['beam_size']}) on the first {beam['examples']:,} validation "
            f"examples: exact match {beam['greedy_exact_match']:.4f} against {beam['beam_exact_match']:.4f}"
            + (" (beam search is used)." if decoding["strategy"] == "beam" else " (greedy is used)."),
            "",
        ]
    reports = figures["test"]
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
            "| decoding | " + " | ".join(name.replace("_", " ") for name in names) + " | examples | evaluation time |",
            "|---|" + "---|" * (len(names) + 2),
            *[
                f"| {r['strategy']} | "
                + " | ".join(f"{100 * r['measured'][n]:.2f}%" for n in names)
                + f" | {r['examples']:,} | {r['seconds']:.0f} s |"
                for r in reports
            ],
            "",
        ]
    lines += ["The test split was not looked at before: the checkpoint was chosen by validation loss.", ""]
    test = figures.get("test_readings")
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
