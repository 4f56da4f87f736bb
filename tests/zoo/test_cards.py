"""The shipped model cards name no path of the machine a model was trained on, and a card's predict
command works as written."""

import re
import types

import pytest

from keras_transformer import zoo
from keras_transformer.zoo.card import model_card, portable_command

PRIVATE = re.compile(r"(^|[\s=\"'])(/(root|home|tmp|Users|work|mnt)\b|~/|\S*/\.[A-Za-z]|\.[A-Za-z][\w-]*/)")


@pytest.mark.parametrize("name", zoo.list_models())
def test_cards_name_no_private_paths(name):
    card = (zoo.model_dir(name) / "card.md").read_text(encoding="utf-8")
    for number, line in enumerate(card.splitlines(), start=1):
        assert not PRIVATE.search(line), f"saved_models/{name}/card.md:{number}: {line}"


@pytest.mark.parametrize("name", zoo.list_models(kind=zoo.SEQ2SEQ))
def test_cards_predict_command_names_the_zoo_model(name):
    card = (zoo.model_dir(name) / "card.md").read_text(encoding="utf-8")
    assert f"keras-transformer predict {name} " in card


def test_portable_command_keeps_relative_paths_and_hides_the_rest():
    command = "keras-transformer train x --data /home/me/data.tsv --output-dir runs/a --zoo-dir=/home/me/runs/a/zoo"
    assert portable_command(command, "/home/me/runs/a") == (
        "keras-transformer train x --data data.tsv --output-dir runs/a --zoo-dir=RUN/zoo"
    )
    assert portable_command("python -m y ~/.cache/ids.npz") == "python -m y ids.npz"
    old_card_line = "keras-transformer train g2p_en --trained-run /root/gpu/run --save-token-arrays .gpu/ids.npz"
    assert PRIVATE.search(old_card_line) and not PRIVATE.search(portable_command(old_card_line, "/root/gpu/run"))



def letters_task(notes="Short strings only."):
    """A duck-typed task: what `model_card` reads of a `zoo.tasks` task."""
    return types.SimpleNamespace(
        name="letters", description="Reverses letters", metrics=["exact_match"], notes=notes,
        source_split="characters", target_split="characters", source_lowercase=False,
        describe_data=lambda sizes: f"{sizes['train']:,} training pairs.",
        info=lambda: types.SimpleNamespace(dataset=None),
    )  # fmt: skip


def letters_figures(**changes):
    """The `Figures` of a run packaged but not yet measured on the test split: each figure it did not
    reach (test, test_breakdown, test_readings, decoding_sweep, epoch_history, ...) at its default."""
    from keras_transformer.zoo.figures import Figures

    return Figures(**{
        "task": "letters", "command": "keras-transformer train letters --output-dir /home/me/run",
        "run_folder": "/home/me/run", "zoo_dir": "/home/me/run/letters", "split_sizes": {"train": 1200},
        "shown": [["abc", "cba", "cba"]], "parameters": 12345, "device": "2 CPU cores",
        "config": {"normalize_first": True, "num_encoder_layers": 1, "num_decoder_layers": 1, "d_model": 32,
                   "num_heads": 2, "d_ff": 64, "dropout": 0.1, "max_length": 16, "source_vocab_size": 30,
                   "target_vocab_size": 30},
        "decoding": {"strategy": "greedy", "max_output_length": 16},
        "options": {"seed": 1, "warmup_steps": 10, "learning_rate_scale": 1.0, "label_smoothing": 0.1,
                    "batch_tokens": 512, "jit_compile": False},
        "best_epoch": 2, "epochs_run": 2, "train_seconds": 60.0, "total_seconds_before_packaging": 90.0,
        "optimizer_steps": 20, "steps_per_epoch": 10, "steps_per_pass": 10, "training_examples": 1200,
        "training_examples_a_pass": 1200, "monitored_validation_examples": 100,
        "validation": {"examples": 100, "exact_match": 0.5, "wrong": 50},
        **changes,
    })  # fmt: skip


def test_model_card_reads_a_figures_record_with_its_defaults():
    card = model_card(letters_task(), letters_figures())
    assert "keras-transformer predict RUN/letters \"abc\"" in card and "/home/me" not in card
    assert "keras-transformer train letters --output-dir RUN" in card and "# RUN: the run's folder" in card
    assert "Decoding: greedy, at most 16 output tokens (end included)." in card and "float16" not in card
    assert "(epoch 2 of 2)" in card and "`fit` took 1.0 minutes (1.5 minutes" in card
    assert "Per epoch" not in card and "Decoding chosen on validation" not in card
    assert card.endswith("Test split: not measured yet.\n\n## Limitations\n\nShort strings only.\n")


def test_model_card_calls_notes_with_the_figures_and_shows_the_test_figures():
    report = {"examples": 40, "strategy": "greedy", "measured": {"exact_match": 0.75}, "card": {}, "seconds": 2.0}
    figures = letters_figures(test=[report], test_breakdown={"length": {"short": [3, 4]}}, weights_dtype="float16")
    card = model_card(letters_task(notes=lambda figures: f"Trained on {figures.device}."), figures)
    assert "Test split (40 examples, greedy), measured after packaging" in card and '"exact_match": 0.75' in card
    assert "Test by length: short 0.7500 (4)." in card and "Weights stored as float16 values" in card
    assert card.endswith("## Limitations\n\nTrained on 2 CPU cores.\n")


def test_model_card_takes_a_figures_record_not_a_dict():
    with pytest.raises(TypeError, match="must be a zoo.figures.Figures. Received: figures=dict"):
        model_card(letters_task(), letters_figures().to_dict())
