"""The shared training recipe of the examples (`examples/seq2seq_recipe.py`): batching arithmetic, and a
tiny end-to-end zoo run (train, score, package, evaluate, card, manifest, load)."""

import importlib.util
import json
import pathlib
import sys

import numpy as np
import pytest
import tensorflow as tf

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recipe():
    return load_example("seq2seq_recipe")


def ragged(rng, count, low, high):
    return tf.ragged.constant([rng.integers(4, 20, size=rng.integers(low, high + 1)).tolist() for _ in range(count)])


def test_count_epoch_matches_a_pass_over_the_batches(recipe):
    rng = np.random.default_rng(0)
    source, target = ragged(rng, 500, 1, 30), ragged(rng, 500, 1, 12)
    bounds = recipe.bounds_from_lengths(recipe.example_lengths(source, target), 5)
    assert list(bounds) == sorted(set(bounds)) and len(bounds) <= 5
    for shuffle_seed in (0, None):  # training (drops partial batches) and validation (fills them up)
        dataset = recipe.make_dataset(source, target, 1, 2, batch_tokens=256, max_length=32,
                                      shuffle_seed=shuffle_seed, bounds=bounds)  # fmt: skip
        steps, tokens, rows = 0, 0, set()
        for inputs, labels in dataset:
            steps += 1
            tokens += int(tf.math.count_nonzero(labels))
            padded = int(labels.shape[1])
            assert inputs["encoder_tokens"].shape[1] == inputs["decoder_tokens"].shape[1] == padded
            rows.add((padded, int(labels.shape[0])))
        counted_steps, counted_tokens = recipe.count_epoch(
            source, target, 256, 32, bounds, drop_remainder=shuffle_seed is not None
        )
        assert counted_steps == steps
        if shuffle_seed is None:
            assert counted_tokens == tokens == int(tf.reduce_sum(target.row_lengths() + 1))
            # Every batch of a bucket has the bucket's one shape (one XLA compilation each).
            assert all(size == recipe.bucket_batch_size(padded, 256) for padded, size in rows)
        else:
            assert abs(counted_tokens - tokens) <= 0.2 * tokens


def test_g2p_script_keeps_its_command_line():
    g2p = load_example("train_g2p")
    args = g2p.parse_arguments([])
    assert (args.output_dir, args.size, args.batch_tokens, args.warmup_steps, args.decode_batch_size) == (
        "runs/g2p_en", "compact", 1024, 1500, 512,
    )  # fmt: skip
    assert args.jit_compile and args.epochs == 100 and args.patience == 6 and args.steps_per_epoch is None
    assert g2p.bucket_boundaries(64) == [7, 9, 11, 14, 18, 30, 65]


def test_itn_script_repeats_years_and_numbers_below_a_thousand():
    itn = load_example("train_itn")
    year, cardinal, ordinal = (itn.KINDS.index(k) for k in ("year", "cardinal", "ordinal"))
    columns = {
        "kind": [year, cardinal, cardinal, ordinal, ordinal, cardinal, ordinal],
        "digits": ["1999年", "8", "999", "21番目", "1000th", "42107", "0th"],
    }
    got = [itn.repeats(columns, index) for index in range(len(columns["kind"]))]
    below_10, below_100, small, once = itn.SHORT_REPEATS[10], itn.SHORT_REPEATS[100], itn.SMALL_REPEATS, 1
    assert got == [itn.YEAR_REPEATS, below_10, small, below_100, once, once, below_10]


@pytest.mark.slow  # about 1-2 minutes on 2 shared CPU cores
def test_zoo_recipe_end_to_end_on_a_tiny_budget(recipe, tmp_path, monkeypatch):
    """Train a tiny model for a few steps on the small num2words config, continue it in a second stage
    (`--initial-weights`), package it, evaluate it with the CLI, and load it back: the pipeline works
    (the model is not expected to be good)."""
    from keras_transformer import zoo

    monkeypatch.setenv("KERAS_TRANSFORMER_DATA_DIR", str(tmp_path / "tfds"))
    task = recipe.ZooTask(
        name="recipe_smoke",
        script="train_smoke.py",
        task="smoke test",
        dataset="num2words_itn",
        dataset_config="small",
        source_field="text",
        target_field="digits",
        group_fields=("language", "kind"),
        group_names={"kind": {0: "cardinal", 1: "ordinal", 2: "year"}},
        oversample=lambda columns, index: 2 if columns["kind"][index] == 2 else 1,
        ambiguous_inputs=True,
        defaults={"size": "tiny", "max_length": 48, "batch_tokens": 512, "warmup_steps": 10},
        describe_data=lambda sizes: f"small config: {sizes}",
        examples=(("twenty-one", "21"), ("二十一", "21")),
        notes="none",
    )
    zoo_dir = tmp_path / "zoo" / "recipe_smoke"
    common = ["--max-examples", "600", "--steps-per-epoch", "4", "--no-jit-compile", "--validation-examples", "64",
              "--log-every", "0"]  # fmt: skip
    first = recipe.run_zoo_task(task, ["--output-dir", str(tmp_path / "run1"), "--epochs", "1", "--no-package",
                                       "--compare-beam-examples", "0", *common])  # fmt: skip
    assert first["epochs_run"] == 1 and not first["previous_stages"] and "test" not in first
    metrics = recipe.run_zoo_task(task, [
        "--output-dir", str(tmp_path / "run"), "--zoo-dir", str(zoo_dir), "--epochs", "2", "--seed", "1",
        "--initial-weights", str(tmp_path / "run1" / "checkpoints" / "best.weights.h5"),
        "--compare-beam-examples", "16", *common,
    ])  # fmt: skip
    assert [stage["command"] for stage in metrics["previous_stages"]] == [first["command"]]
    assert metrics["epochs_run"] == 2 and metrics["training_examples_a_pass"] > metrics["training_examples"]
    assert set(metrics["validation"]["breakdown"]) == {"language", "kind"}
    report = metrics["test"]
    assert report["model"] == "recipe_smoke" and report["split"] == "test" and report["examples"] > 0
    assert set(report["measured"]) == {"exact_match", "character_error_rate"}
    assert metrics["test_readings"]["examples"] == report["examples"]
    assert metrics["test_readings"]["ambiguous_inputs"] == 0  # number words have one reading each

    monkeypatch.setenv(zoo.ZOO_VARIABLE, str(zoo_dir.parent))
    entry = zoo.load("recipe_smoke")  # the manifest matches the rewritten card and settings
    assert entry.settings["card_metrics"] == report["measured"]
    assert json.dumps(report["measured"], indent=2).splitlines()[1].strip() in entry.card
    assert "keras-transformer evaluate recipe_smoke" in entry.card and first["command"] in entry.card
    assert metrics["command"] in entry.card and "Trained in stages" in entry.card
    assert len(entry.predict(["twenty-one"])) == 1
    assert (tmp_path / "run" / "metrics.json").is_file() and (tmp_path / "run" / "history.csv").is_file()
