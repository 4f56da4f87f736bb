"""`zoo.tasks`: the registry behind `keras-transformer train TASK`, the tasks' options, and tiny end-to-end runs
(train, score, package, measure on the test split, card, manifest, load)."""

import json

import pytest

from keras_transformer import cli, zoo
from keras_transformer.zoo import tasks
from keras_transformer.zoo.card import portable_command
from keras_transformer.zoo.tasks import itn_numbers
from keras_transformer.zoo.tasks.run import run

TINY = ["--size", "tiny", "--no-jit-compile", "--log-every", "0", "--compare-beam-examples", "16", "--beam-sizes", "2",
        "--length-penalties", "0", "0.6"]  # fmt: skip


def test_the_zoo_tasks_are_registered():
    assert {"reverse", "g2p_en", "itn_numbers", "dates_iso"} <= set(tasks.task_names())
    with pytest.raises(ValueError, match="Unknown task. Known: .*'reverse'"):
        tasks.get_task("nope")
    with pytest.raises(ValueError, match="registered already"):
        tasks.register_task(tasks.get_task("reverse"))
    with pytest.raises(TypeError, match="must be a Task"):
        tasks.register_task("reverse")


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        tasks.run_task("reverse", ["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "keras-transformer train reverse" in text
    assert all(
        option in text for option in ("--epochs", "--checkpoint-dir", "--average-last", "--zoo-dir", "--examples")
    )


def test_option_defaults_of_the_tasks():
    g2p = tasks.get_task("g2p_en").parser().parse_args([])
    # The g2p_en recipe as it always was (a run in progress resumes with these options).
    assert (g2p.size, g2p.batch_tokens, g2p.warmup_steps, g2p.epochs, g2p.patience, g2p.max_length) == (
        "compact", 1024, 1500, 100, 6, 64,
    )  # fmt: skip
    assert g2p.jit_compile and g2p.steps_per_epoch is None and g2p.validation_examples is None
    assert tasks.get_task("g2p_en").bounds == (7, 9, 11, 14, 18, 30)
    itn = tasks.get_task("itn_numbers").parser().parse_args(["--epochs", "3"])
    assert (itn.num_layers, itn.normalize_first, itn.steps_per_epoch, itn.validation_examples, itn.epochs) == (
        2,
        True,
        300,
        4000,
        3,
    )


def test_itn_repeats_years_and_numbers_below_a_thousand():
    year, cardinal, ordinal = (itn_numbers.ITN_KINDS.index(k) for k in ("year", "cardinal", "ordinal"))
    split = tasks.Split(
        ["x"] * 7,
        ["1999年", "8", "999", "21番目", "1000th", "42107", "0th"],
        groups={"kind": [year, cardinal, cardinal, ordinal, ordinal, cardinal, ordinal]},
    )
    got = [itn_numbers.itn_repeats(split, index) for index in range(len(split))]
    below_10, below_100 = itn_numbers.ITN_SHORT_REPEATS[10], itn_numbers.ITN_SHORT_REPEATS[100]
    assert got == [itn_numbers.ITN_YEAR_REPEATS, below_10, itn_numbers.ITN_SMALL_REPEATS, below_100, 1, 1, below_10]


def test_train_reverse_from_the_command_line_packages_a_loadable_zoo_folder(tmp_path):
    argv = ["--examples", "400", "--epochs", "1", "--d-model", "32", "--num-heads", "2", "--d-ff", "64",
            "--num-layers", "1", "--output-dir", str(tmp_path / "run"), *TINY]  # fmt: skip
    assert cli.main(["train", "reverse", *argv]) == 0
    figures = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert figures["zoo_dir"] == str(tmp_path / "run" / "reverse") and figures["epochs_run"] == 1

    pipeline = zoo.load(str(tmp_path / "run" / "reverse"))  # checks the manifest
    assert pipeline.name == "reverse" and len(pipeline.predict(["abc", "fed"])) == 2
    (report,) = figures["test"]
    assert report["examples"] == 1000 and pipeline.info.card_metrics == report["measured"]
    assert json.dumps(report["measured"], indent=2).splitlines()[1].strip() in pipeline.card
    # The card shows the command with the run folder written RUN (no path of this machine), and says so.
    assert portable_command(figures["command"], figures["run_folder"]) in pipeline.card
    assert "--output-dir RUN " in pipeline.card and "# RUN: the run's folder" in pipeline.card
    assert str(tmp_path) not in pipeline.card
    # The decoding was chosen on validation among greedy and beam 2 with two length penalties, cheapest first.
    sweep = figures["decoding_sweep"]
    assert [(r["strategy"], r.get("beam_size"), r.get("length_penalty")) for r in sweep["results"]] == [
        ("greedy", None, None), ("beam", 2, 0.0), ("beam", 2, 0.6),
    ]  # fmt: skip
    assert sweep["examples"] == 16 and all(r["seconds"] >= 0 for r in sweep["results"])
    assert figures["decoding"]["strategy"] == sweep["results"][sweep["chosen"]]["strategy"]
    assert "Decoding chosen on validation: the first 16 validation examples" in pipeline.card
    # The per-epoch history and the epoch's recorded time.
    (row,) = figures["epoch_history"]
    assert row["epoch"] == 1 and row["seconds"] > 0
    assert row["val_loss"] == pytest.approx(figures["validation_losses"][0], abs=1e-4)
    assert figures["training_hours"] == round(row["seconds"] / 3600, 2)
    assert "| epoch | training loss | validation loss | validation token accuracy | seconds |" in pipeline.card
    assert "hours over the 1 epochs" in pipeline.card
    # The packaging step writes the TFLite generator, checksummed, and checks it against Keras.
    assert "generator.tflite" in zoo.read_manifest(tmp_path / "run" / "reverse")
    assert figures["litert_parity"]["equal"] == figures["litert_parity"]["examples"] == 1000


def test_an_unknown_task_is_a_one_line_error(capfd):
    assert cli.main(["train", "nope"]) == 2
    assert "no training task 'nope'" in capfd.readouterr().err  # the CLI writes to descriptor 2's copy


@pytest.mark.slow  # about a minute on 2 shared CPU cores
def test_a_dataset_task_end_to_end_in_two_stages(tmp_path, monkeypatch):
    """Train a tiny model for a few steps on the small num2words config, continue it in a second stage
    (`--initial-weights`), package it, measure it and load it back: the pipeline works (the model is
    not expected to be good)."""
    monkeypatch.setenv("KERAS_TRANSFORMER_DATA_DIR", str(tmp_path / "tfds"))
    task = tasks.Task(
        name="recipe_smoke",
        description="smoke test",
        describe_data=lambda sizes: f"small config: {sizes}",
        source=tasks.DatasetSource(dataset="num2words_itn", config="small", source_field="text", target_field="digits",
                                   group_fields=("language", "kind")),
        group_names={"kind": dict(enumerate(itn_numbers.ITN_KINDS))},
        oversample=lambda split, index: 2 if split.groups["kind"][index] == 2 else 1,
        ambiguous_inputs=True,
        defaults={"max_length": 48, "batch_tokens": 512, "warmup_steps": 10},
        examples=(("twenty-one", "21"), ("二十一", "21")),
        notes="none",
    )
    common = ["--max-examples", "600", "--steps-per-epoch", "4", "--validation-examples", "64", *TINY]
    argv = ["--output-dir", str(tmp_path / "run1"), "--epochs", "1", "--no-package", *common]
    first = run(task, task.parser().parse_args(argv), argv).to_dict()
    assert first["epochs_run"] == 1 and not first["previous_stages"] and first["test"] == []
    argv = ["--output-dir", str(tmp_path / "run"), "--zoo-dir", str(tmp_path / "zoo" / "recipe_smoke"), "--epochs", "2",
            "--seed", "1", "--initial-weights", str(tmp_path / "run1" / "checkpoints" / "best.weights.h5"), *common]  # fmt: skip
    figures = run(task, task.parser().parse_args(argv), argv).to_dict()
    assert [stage["command"] for stage in figures["previous_stages"]] == [first["command"]]
    assert figures["epochs_run"] == 2 and figures["training_examples_a_pass"] > figures["training_examples"]
    assert figures["optimizer_steps"] == 3 * 4  # the second stage continues the first's optimizer
    assert set(figures["validation"]["breakdown"]) == {"language", "kind"}
    (report,) = figures["test"]
    assert report["split"] == "test" and report["examples"] > 0
    assert set(report["measured"]) == {"exact_match", "character_error_rate"}
    assert figures["test_readings"]["examples"] == report["examples"]
    assert figures["test_readings"]["ambiguous_inputs"] == 0  # number words have one reading each

    pipeline = zoo.load(str(tmp_path / "zoo" / "recipe_smoke"))  # the manifest matches the rewritten card and settings
    assert pipeline.info.card_metrics == report["measured"] and pipeline.info.dataset_config == "small"
    # The card lists every stage's command as a user can rerun it (no path of this machine: `portable_command`).
    stages = [portable_command(run["command"], figures["run_folder"]) for run in (first, figures)]
    assert "keras-transformer evaluate recipe_smoke" in pipeline.card and all(c in pipeline.card for c in stages)
    assert "Trained in stages" in pipeline.card and str(tmp_path) not in pipeline.card
    assert len(pipeline.predict(["twenty-one"])) == 1


def g2p_figures(**changes):
    """The `Figures` of a g2p_en run as `Task.run` fills them, with `changes`."""
    from keras_transformer.zoo.figures import Figures

    report = {"model": "g2p_en", "split": "test", "examples": 6217, "card": {}}
    figures = {
        "task": "g2p_en",
        "shown": [("transformer", "T R AE0 N S F AO1 R M ER0", "T R AE0 N S F AO1 R M ER0")],
        "split_sizes": {"train": 121818, "validation": 6232, "test": 6217},
        "config": {"normalize_first": False, "num_encoder_layers": 3, "num_decoder_layers": 3, "d_model": 256,
                   "num_heads": 4, "d_ff": 1024, "dropout": 0.2, "max_length": 64, "source_vocab_size": 33,
                   "target_vocab_size": 73},
        "decoding": {"strategy": "beam", "beam_size": 4, "length_penalty": 0.6, "max_output_length": 32},
        "parameters": 5556736, "previous_stages": [], "command": "keras-transformer train g2p_en --size small",
        "options": {"seed": 0, "warmup_steps": 1000, "learning_rate_scale": 1.0, "label_smoothing": 0.1,
                    "batch_tokens": 4096, "jit_compile": True, "average_last": 5},
        "optimizer_steps": 10000, "steps_per_pass": 250, "initial_epoch": 12, "averaged_epochs": [], "best_epoch": 3,
        "epochs_run": 3, "stopped_by_time_budget": False, "training_examples_a_pass": 121818,
        "training_examples": 121818, "monitored_validation_examples": 6232, "steps_per_epoch": 250,
        "train_seconds": 3600.0, "total_seconds_before_packaging": 3700.0, "device": "2 CPU cores",
        "validation": {"examples": 6232, "exact_match": 0.8, "wrong": 1246, "word_error_rate": 0.2,
                       "phoneme_error_rate": 0.05, "word_error_rate_no_stress": 0.15,
                       "phoneme_error_rate_no_stress": 0.04},
        "decoding_sweep": {"examples": 2000, "margin": 0.002, "chosen": 2, "results": [
            {"strategy": "greedy", "exact_match": 0.79, "seconds": 12.0},
            {"strategy": "beam", "beam_size": 4, "length_penalty": 0.0, "exact_match": 0.7915, "seconds": 40.0},
            {"strategy": "beam", "beam_size": 4, "length_penalty": 0.6, "exact_match": 0.8, "seconds": 41.0},
        ]},
        "epoch_history": [
            {"epoch": 1, "loss": 2.558, "val_loss": 1.5029, "val_accuracy": 0.7633, "seconds": None},
            {"epoch": 2, "loss": 1.4694, "val_loss": 1.2542, "val_accuracy": 0.8302, "seconds": 1800.0},
            {"epoch": 3, "loss": 1.3109, "val_loss": 1.197, "val_accuracy": 0.8513, "seconds": 1800.0},
        ],
        "validation_losses": [1.5029, 1.2542, 1.197],
        "test": [
            {**report, "strategy": "greedy", "measured": {"word_error_rate": 0.21, "phoneme_error_rate": 0.051,
             "word_error_rate_no_stress": 0.16, "phoneme_error_rate_no_stress": 0.041}, "seconds": 30},
            {**report, "strategy": "beam", "measured": {"word_error_rate": 0.19, "phoneme_error_rate": 0.049,
             "word_error_rate_no_stress": 0.15, "phoneme_error_rate_no_stress": 0.04}, "seconds": 90},
        ],
    }  # fmt: skip
    return Figures.from_dict({**figures, **changes})


def test_g2p_card_tables_both_strategies_and_weighs_them_against_the_targets():
    from keras_transformer.zoo.card import model_card

    card = model_card(tasks.get_task("g2p_en"), g2p_figures())
    assert "| greedy | 21.00% | 5.10% | 16.00% | 4.10% | 6,217 | 30 s |" in card
    default_row = "| beam (beam 4, length penalty 0.6) (default) | 19.00% | 4.90% | 15.00% | 4.00% | 6,217 | 90 s |"
    assert default_row in card
    assert "| decoding | word error rate | phoneme error rate | word error rate, stress ignored |" in card
    assert "keras-transformer evaluate g2p_en" in card
    assert "Decoding: beam (beam 4, length penalty 0.6), chosen on validation (see Metrics), at most 32" in card
    assert "resumed after epoch 12" in card and "40.00 passes" in card
    assert "train 121,818 (word, pronunciation) pairs" in card
    # The decoding sweep on validation, the used setting marked.
    assert "Decoding chosen on validation: the first 2,000 validation examples" in card
    assert "| greedy | — | — | 79.00% | 12 s |  |" in card and "| beam | 4 | 0.6 | 80.00% | 41 s | used |" in card
    # The per-epoch history; an epoch without a recorded time shows a dash and the total says so.
    assert "| 1 | 2.5580 | 1.5029 | 76.33% | — |" in card and "| 3 | 1.3109 | 1.1970 | 85.13% | 1800 |" in card
    assert "Training time: 1.00 hours, the total of the 2 of 3 epochs with a recorded wall time" in card
    assert "for epoch 1 no time was recorded" in card
    # The targets with the default decoding (beam): all met; the published anchors stay.
    assert "| WER with stress | at most 27% | 19.00% | met |" in card
    assert "| WER with stress ignored | at most 20% | 15.00% | met |" in card and "It meets all three targets." in card
    assert "Phonetisaurus-style 8-gram" in card and "24.8% WER and 2.95% PER" in card and "PRONALSYL" in card
    assert "Yolchuyeva" in card


def test_g2p_card_says_which_targets_are_missed_and_what_would_close_the_gap():
    from keras_transformer.zoo.card import model_card

    figures = g2p_figures()
    figures.test[1]["measured"] = {"word_error_rate": 0.30, "phoneme_error_rate": 0.049,
                                   "word_error_rate_no_stress": 0.21, "phoneme_error_rate_no_stress": 0.04}  # fmt: skip
    card = model_card(tasks.get_task("g2p_en"), figures)
    assert "| WER with stress | at most 27% | 30.00% | missed |" in card
    assert "| PER with stress | at most 5% | 4.90% | met |" in card
    assert "Missed: WER with stress, WER with stress ignored." in card
    assert "The validation loss was still falling when training ended (1.2542 at epoch 2, 1.1970 at epoch 3)" in card
    assert "Averaging the last 5 epochs' checkpoints was tried and was not better" in card
    assert "Stress placement alone accounts for 9.0 points of the WER" in card

    # A loss that stopped falling points at the model instead; greedy as the default decoding is scored.
    figures = g2p_figures(validation_losses=[1.5, 1.1, 1.2], decoding={**figures.decoding, "strategy": "greedy"})
    card = model_card(tasks.get_task("g2p_en"), figures)
    assert "(greedy)" in card and "| PER with stress | at most 5% | 5.10% | missed |" in card
    assert "lowest at epoch 2 of 3" in card and "a larger model" in card

    # Epochs without a recorded time are named as ranges.
    rows = [{"epoch": e, "loss": 1.0, "val_loss": 1.0, "val_accuracy": 0.9, "seconds": None if e in (1, 2, 3, 5) else 900.0}
            for e in range(1, 7)]  # fmt: skip
    card = model_card(tasks.get_task("g2p_en"), g2p_figures(epoch_history=rows))
    assert "Training time: 0.50 hours, the total of the 2 of 6 epochs" in card
    assert "for epochs 1-3 and 5 no time was recorded (—)" in card
    card = model_card(tasks.get_task("g2p_en"), g2p_figures(epoch_history=[{**row, "seconds": None} for row in rows]))
    assert "Training time: no epoch's wall time was recorded." in card
    assert "| 6 | 1.0000 | 1.0000 | 90.00% | — |" in card


def test_resumed_runs_list_every_command_they_were_run_with(tmp_path):
    from keras_transformer.training.run_folder import RunFolder

    def resumed_commands(path, command, checkpoint_dir):
        return RunFolder(path).record_command(command, resumes=bool(checkpoint_dir))

    assert resumed_commands(tmp_path, "keras-transformer train x --epochs 2", checkpoint_dir="ckpt") == []
    assert resumed_commands(tmp_path, "keras-transformer train x --epochs 4", checkpoint_dir="ckpt") == [
        "keras-transformer train x --epochs 2"
    ]
    assert (tmp_path / "commands.txt").read_text().splitlines() == [
        "keras-transformer train x --epochs 2",
        "keras-transformer train x --epochs 4",
    ]
    # Without a checkpoint dir a run starts afresh: no earlier commands, and the file restarts.
    assert resumed_commands(tmp_path, "keras-transformer train x", checkpoint_dir=None) == []
    assert (tmp_path / "commands.txt").read_text() == "keras-transformer train x\n"
