"""`zoo.tasks`: the registry behind `keras-transformer train TASK`, the tasks' options, and tiny end-to-end runs
(train, score, package, measure on the test split, card, manifest, load)."""

import json

import pytest

from keras_transformer import cli, zoo
from keras_transformer.zoo import tasks

TINY = ["--size", "tiny", "--no-jit-compile", "--log-every", "0", "--compare-beam-examples", "16"]


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
    year, cardinal, ordinal = (tasks.ITN_KINDS.index(k) for k in ("year", "cardinal", "ordinal"))
    split = tasks.Split(
        ["x"] * 7,
        ["1999年", "8", "999", "21番目", "1000th", "42107", "0th"],
        groups={"kind": [year, cardinal, cardinal, ordinal, ordinal, cardinal, ordinal]},
    )
    got = [tasks.itn_repeats(split, index) for index in range(len(split))]
    below_10, below_100, small = tasks.ITN_SHORT_REPEATS[10], tasks.ITN_SHORT_REPEATS[100], tasks.ITN_SMALL_REPEATS
    assert got == [tasks.ITN_YEAR_REPEATS, below_10, small, below_100, 1, 1, below_10]


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
    assert figures["command"] in pipeline.card and "keras-transformer train reverse --examples 400" in pipeline.card
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
    task = tasks.DatasetTask(
        name="recipe_smoke",
        description="smoke test",
        describe_data=lambda sizes: f"small config: {sizes}",
        dataset="num2words_itn",
        dataset_config="small",
        source_field="text",
        target_field="digits",
        group_fields=("language", "kind"),
        group_names={"kind": dict(enumerate(tasks.ITN_KINDS))},
        oversample=lambda split, index: 2 if split.groups["kind"][index] == 2 else 1,
        ambiguous_inputs=True,
        defaults={"max_length": 48, "batch_tokens": 512, "warmup_steps": 10},
        examples=(("twenty-one", "21"), ("二十一", "21")),
        notes="none",
    )
    common = ["--max-examples", "600", "--steps-per-epoch", "4", "--validation-examples", "64", *TINY]
    argv = ["--output-dir", str(tmp_path / "run1"), "--epochs", "1", "--no-package", *common]
    first = task.run(task.parser().parse_args(argv), argv)
    assert first["epochs_run"] == 1 and not first["previous_stages"] and first["test"] == []
    argv = ["--output-dir", str(tmp_path / "run"), "--zoo-dir", str(tmp_path / "zoo" / "recipe_smoke"), "--epochs", "2",
            "--seed", "1", "--initial-weights", str(tmp_path / "run1" / "checkpoints" / "best.weights.h5"), *common]  # fmt: skip
    figures = task.run(task.parser().parse_args(argv), argv)
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
    assert "keras-transformer evaluate recipe_smoke" in pipeline.card and first["command"] in pipeline.card
    assert figures["command"] in pipeline.card and "Trained in stages" in pipeline.card
    assert len(pipeline.predict(["twenty-one"])) == 1


def test_g2p_card_tables_both_strategies_and_weighs_them_against_the_targets():
    from keras_transformer.zoo.card import model_card

    report = {"model": "g2p_en", "split": "test", "examples": 6217, "card": {}}
    figures = {
        "shown": [("transformer", "T R AE0 N S F AO1 R M ER0", "T R AE0 N S F AO1 R M ER0")],
        "split_sizes": {"train": 121818, "validation": 6232, "test": 6217},
        "config": {"normalize_first": False, "num_encoder_layers": 3, "num_decoder_layers": 3, "d_model": 256,
                   "num_heads": 4, "d_ff": 1024, "dropout": 0.2, "max_length": 64, "source_vocab_size": 33,
                   "target_vocab_size": 73},  # fmt: skip
        "decoding": {"strategy": "beam", "beam_size": 4, "max_output_length": 32},
        "parameters": 5556736, "previous_stages": [], "command": "keras-transformer train g2p_en --size small",
        "options": {"seed": 0, "warmup_steps": 1000, "learning_rate_scale": 1.0, "label_smoothing": 0.1,
                    "batch_tokens": 4096, "jit_compile": True},
        "optimizer_steps": 10000, "steps_per_pass": 250, "initial_epoch": 12, "averaged_epochs": [], "best_epoch": 39,
        "epochs_run": 40, "stopped_by_time_budget": False, "training_examples_a_pass": 121818,
        "training_examples": 121818, "monitored_validation_examples": 6232, "steps_per_epoch": 250,
        "train_seconds": 3600.0, "total_seconds_before_packaging": 3700.0, "device": "2 CPU cores",
        "validation": {"examples": 6232, "exact_match": 0.8, "wrong": 1246, "word_error_rate": 0.2, "phoneme_error_rate": 0.05},
        "beam_comparison": {"examples": 2000, "greedy_exact_match": 0.79, "beam_exact_match": 0.8},
        "validation_losses": [1.0, 0.9],
        "test": [
            {**report, "strategy": "greedy", "measured": {"word_error_rate": 0.21, "phoneme_error_rate": 0.051}, "seconds": 30},
            {**report, "strategy": "beam", "measured": {"word_error_rate": 0.19, "phoneme_error_rate": 0.049}, "seconds": 90},
        ],
    }  # fmt: skip
    card = model_card(tasks.get_task("g2p_en"), figures)
    assert "| greedy | 21.00% | 5.10% | 6,217 | 30 s |" in card and "| beam | 19.00% | 4.90% | 6,217 | 90 s |" in card
    assert "keras-transformer evaluate g2p_en" in card and "Decoding: beam (beam 4), at most 32 output tokens" in card
    assert "It meets the zoo's targets" in card and "resumed after epoch 12" in card and "40.00 passes" in card
    assert "train 121,818 (word, pronunciation) pairs" in card and "(beam search is used)" in card
