"""Every ```python block and every ```bash command of README.md runs as written, in order, and what
the README shows it printing is asserted.

Python: a bare expression whose line ends in a comment that starts with a Python literal (`x  # 1`,
`g2p.predict([...])  # ['K AE1 T']: prose may follow a colon`) must evaluate to that literal.

Bash: each command runs in a scratch folder (which links `examples/` and `benchmarks/`) with this
Python's `keras-transformer` and `python` first on PATH. A ```text block right after a ```bash block
is what that block's last command (of those that run here) prints, all of it. A few commands run
changed (`BASH_SUBSTITUTIONS`: fewer epochs or examples, each with its reason) or not at all
(`BASH_ELSEWHERE`: where else they run); a test fails when an entry stops matching the README.

The Python blocks build on one another (the Quick start defines `model` and `inputs`, later blocks use them),
so they run cumulatively in one namespace, each as its own test, from a scratch working directory
(the export snippet writes `out/...`). Tracebacks name README.md and its line numbers.

Names a snippet uses without the README defining them are provided here, documented in `PROVIDED`,
just before the first block that uses them. To keep the test short, the snippets' model size is
swapped for `tiny` (`SUBSTITUTIONS`; each must still match the README, or a test says to remove it).

A block preceded (on the last non-blank line before its fence) by
`<!-- readme-test: skip (reason) -->` is skipped with that reason, and pytest reports it. The blocks
after a skipped or failed one still run; a failure after a failed block names that block.
"""

import ast
import builtins
import os
import pathlib
import random
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
SKIP_MARKER = re.compile(r"^<!--\s*readme-test:\s*skip\s*\((?P<reason>.+)\)\s*-->$")
FENCE = re.compile(r"^```(?P<language>\S*)\s*$")


def _tokenizer_of_model_vocabulary(namespace, side):
    """A whitespace tokenizer whose vocabulary_size is the README model's vocabulary size (the Quick
    start's `model`, which carries its config), as `export` requires of a model's tokenizers."""
    from keras_transformer.text import Tokenizer

    if "model" not in namespace:
        raise AssertionError(f"PROVIDED makes the README's {side} tokenizer from `model`, which no earlier block defines")
    size = getattr(namespace["model"].config, f"{side}_vocab_size")
    return Tokenizer([f"w{index}" for index in range(size - len(Tokenizer.reserved_symbols))], split="whitespace")


# name -> (what it stands for, how it is made from the namespace so far)
PROVIDED = {
    "source_tok": ("the source Tokenizer of the Quick start model", lambda ns: _tokenizer_of_model_vocabulary(ns, "source")),
    "target_tok": ("the target Tokenizer of the Quick start model", lambda ns: _tokenizer_of_model_vocabulary(ns, "target")),
}


def readme_blocks(text):
    """`[(first code line number, code, skip reason or None)]` for each ```python block of `text`."""
    blocks, lines = [], text.splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and not FENCE.match(lines[index]):
            index += 1
        if fence["language"] == "python":
            previous = next((line.strip() for line in reversed(lines[:start]) if line.strip()), "")
            marker = SKIP_MARKER.match(previous)
            blocks.append((start + 2, "\n".join(lines[start + 1 : index]) + "\n", marker["reason"] if marker else None))
        index += 1  # past the closing fence
    return blocks


# A regular expression over README code -> its replacement (`re.sub`), and why. Applied to every block.
SUBSTITUTIONS = {
    r'(TransformerConfig\.from_name\(\s*)"small"': (
        r'\1"tiny"',
        "the Quick start's `small` model takes about a minute to fit and export on a CPU; `tiny` runs the same code",
    ),
}

BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def _shown_value(comment):
    """The literal a `# ...` comment starts with (the whole comment, else the part before its first
    ": "), as `(True, value)`; `(False, None)` for prose."""
    text = comment.lstrip("#").strip()
    for candidate in (text, text.split(": ", 1)[0]):
        try:
            return True, ast.literal_eval(candidate)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return False, None


def _check_shown(value, expected, line):
    if value != expected:
        raise AssertionError(f"README.md:{line} shows {expected!r}, but the code gives {value!r}")


def with_shown_outputs_asserted(code, first_line):
    """`code` parsed, with each bare expression that a literal comment follows replaced by a check
    that it evaluates to that literal (line numbers kept)."""
    tree = ast.parse("\n" * (first_line - 1) + code)
    lines = ("\n" * (first_line - 1) + code).splitlines()
    body = []
    for node in tree.body:
        comment = lines[node.end_lineno - 1][node.end_col_offset :].strip() if isinstance(node, ast.Expr) else ""
        shown, value = _shown_value(comment) if comment.startswith("#") else (False, None)
        if shown:
            call = ast.Call(
                func=ast.Name("__readme_check__", ast.Load()),
                args=[node.value, ast.Constant(value) if not isinstance(value, (list, tuple, dict, set)) else
                      ast.parse(repr(value), mode="eval").body, ast.Constant(node.lineno)],
                keywords=[],
            )
            node = ast.Expr(call)
        body.append(node)
    tree.body = body
    return ast.fix_missing_locations(tree)


def _used_names(code):
    return {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}


@pytest.fixture(scope="module")
def readme_state(tmp_path_factory):
    """The namespace shared by the blocks, a scratch directory and the first lines of failed blocks."""
    return {"namespace": {"__name__": "readme"}, "directory": tmp_path_factory.mktemp("readme"), "failed": []}


def test_every_substitution_still_matches_the_readme():
    code = "".join(code for _, code, _ in BLOCKS)
    stale = [pattern for pattern in SUBSTITUTIONS if not re.search(pattern, code)]
    assert not stale, f"README.md no longer holds {stale}: remove them from SUBSTITUTIONS"


def test_skip_markers_are_read():
    text = "x\n<!-- readme-test: skip (trains for minutes) -->\n\n```python\nfit()\n```\n```bash\nls\n```\n```python\nrun()\n```\n"
    assert readme_blocks(text) == [(5, "fit()\n", "trains for minutes"), (11, "run()\n", None)]


def test_readme_has_python_blocks_and_every_marker_precedes_one():
    assert BLOCKS, "README.md has no ```python block"
    lines = README.read_text(encoding="utf-8").splitlines()
    marked = {line for line, _, reason in BLOCKS if reason is not None}
    for number, line in enumerate(lines, start=1):
        if "readme-test" in line:
            assert SKIP_MARKER.match(line.strip()), f"README.md:{number}: malformed marker {line!r}"
            following = next(n for n in range(number, len(lines)) if lines[n].strip()) + 1
            assert following + 1 in marked, f"README.md:{number}: the marker is not right before a ```python block"


@pytest.mark.parametrize(("line", "code", "skip_reason"), BLOCKS, ids=[f"README.md:{line}" for line, _, _ in BLOCKS])
def test_readme_block_runs(line, code, skip_reason, readme_state, monkeypatch):
    if skip_reason is not None:
        pytest.skip(f"README.md:{line} marked readme-test: skip ({skip_reason})")
    namespace = readme_state["namespace"]
    for name in sorted(_used_names(code) & set(PROVIDED)):
        if name not in namespace and not hasattr(builtins, name):
            namespace[name] = PROVIDED[name][1](namespace)
    for pattern, (replacement, _) in SUBSTITUTIONS.items():
        code = re.sub(pattern, replacement, code)
    monkeypatch.chdir(readme_state["directory"])
    namespace["__readme_check__"] = _check_shown
    # Blank lines first, so that line numbers in tracebacks are README.md's.
    compiled = compile(with_shown_outputs_asserted(code, line), str(README), "exec")
    try:
        exec(compiled, namespace)
    except Exception as error:
        if readme_state["failed"]:
            earlier = ", ".join(f"README.md:{failed}" for failed in readme_state["failed"])
            error.add_note(f"(the block(s) at {earlier} failed earlier; this failure may follow from that)")
        readme_state["failed"].append(line)
        raise


# ---------------------------------------------------------------------------------------------------
# The ```bash blocks.

# The README's set-up commands: CI (.ci/run) runs both on a fresh machine, the second as its first step.
SETUP = re.compile(r"^python3 -m venv \.venv && \. \.venv/bin/activate && (?P<installs>.*?) && (?P<job>[^&]*)$")

# A regular expression over one README command -> (its replacement, why). The command runs changed.
BASH_SUBSTITUTIONS = {
    r"^(keras-transformer evaluate dates_iso)\b": (
        r"\1 --limit 300",
        "the whole test split takes minutes to decode; the figures are asserted against the card's on 300 examples",
    ),
    r"^(keras-transformer train g2p_en --size) small (.*)$": (
        r"\1 tiny \2 --max-examples 400 --epochs 2 --no-package",
        "the g2p_en recipe trains for hours; a tiny model on 400 words runs the same code",
    ),
    r"^(keras-transformer train g2p_en --output-dir \S+ --save-token-arrays \S+)": (
        r"\1 --max-examples 400",
        "400 words keep the test short",
    ),
    r"^KERAS_BACKEND=jax (python -m keras_transformer\.training\.arrays .*) --size small (.*) --batch-tokens 4096 (.*) --epochs 56$": (
        r"KERAS_BACKEND=tensorflow \1 --size tiny \2 --batch-tokens 512 \3 --epochs 1",
        "JAX is the backends extra, which the test command does not install (CI's backend matrix runs "
        "tests/training/test_arrays.py on it); one tiny epoch of 512-token batches (400 words fill no 4096-token "
        "batch) runs the same code",
    ),
    r"^(keras-transformer train g2p_en --trained-run \S+ --zoo-dir \S+)$": (
        r"\1 --max-examples 400 --compare-beam-examples 0",
        "the 400 words the token arrays hold (the vocabularies must match), and no decoding sweep",
    ),
    r"^(keras-transformer train pairs --data my\.tsv .*)$": (
        r"\1 --size tiny --epochs 2",
        "2 epochs of a tiny model keep the test short (the README says how long the defaults take)",
    ),
}
# README commands that do not run here, and where they do.
BASH_ELSEWHERE = {
    r"^python -m pytest$": "the test command runs this test; .ci/run runs it on a fresh machine",
    r"^keras-transformer beam g2p_en --input 'words\*\.txt' ": (
        "the beam extra, which the test command does not install: .ci/run's Beam step runs this command"
    ),
    r"^cat out/g2p-\*\.jsonl$": ".ci/run's Beam step, after the command above",
    r"^pip wheel --no-deps -w dist \.": "staging for Dataflow or Flink (no cluster here)",
    r"--runner (DataflowRunner|FlinkRunner) ": "Dataflow and Flink: no cluster here",
}
# Files a README command reads that the README asks the user to bring.
BASH_FILES = {
    "my.tsv": "English words and their reversal, 600 pairs (the README's example of a TSV of pairs)",
}


def readme_bash_blocks(text):
    """`[(line, [(command line, command)], shown output or None)]` for each ```bash block of `text`:
    its commands (continuation lines joined, comments and blank lines dropped) and the ```text block
    right after it, if any."""
    lines, blocks, index = text.splitlines(), [], 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        start, index = index, index + 1
        while index < len(lines) and not FENCE.match(lines[index]):
            index += 1
        body, index = lines[start + 1 : index], index + 1
        if fence["language"] == "text" and blocks and blocks[-1][3] == start:
            blocks[-1][2] = "\n".join(body) + "\n"
        if fence["language"] != "bash":
            continue
        commands, pending, pending_line = [], "", None
        for number, line in enumerate(body, start=start + 2):
            pending_line = pending_line or number
            pending += line.rstrip()
            if pending.endswith("\\"):
                pending = pending[:-1].rstrip() + " "
                continue
            command = _without_comment(pending).strip()
            if command and not command.startswith("#"):
                commands.append((pending_line, re.sub(r"\s+", " ", command)))
            pending, pending_line = "", None
        # The ```text block counts only when nothing but blank lines stands between the two fences.
        following = index
        while following < len(lines) and not lines[following].strip():
            following += 1
        blocks.append([start + 2, commands, None, following])
    return [(line, commands, shown) for line, commands, shown, _ in blocks]


def _without_comment(line):
    """`line` up to a `#` that starts a shell comment (after whitespace, outside quotes)."""
    quote = None
    for index, character in enumerate(line):
        if quote:
            quote = None if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


BASH_BLOCKS = readme_bash_blocks(README.read_text(encoding="utf-8"))
BASH_COMMANDS = [(line, command) for _, commands, _ in BASH_BLOCKS for line, command in commands]


def test_bash_blocks_are_read():
    text = "```bash\na one \\\n  --two  # the card's\n# note\nb\n```\n\n```text\nout\n```\n```bash\nc\n```\n"
    assert readme_bash_blocks(text) == [(2, [(2, "a one --two"), (5, "b")], "out\n"), (12, [(12, "c")], None)]


def test_every_bash_substitution_and_exception_still_matches_the_readme():
    commands = [command for _, command in BASH_COMMANDS] + [
        SETUP.match(command)["job"] for _, command in BASH_COMMANDS if SETUP.match(command)
    ]
    for pattern in [*BASH_SUBSTITUTIONS, *BASH_ELSEWHERE]:
        assert any(re.search(pattern, command) for command in commands), f"README.md no longer has {pattern!r}"


def _bash_command(command):
    """`(what runs, None)`, or `(None, why it does not run here)`."""
    setup = SETUP.match(command)
    if setup:
        command = setup["job"]
    for pattern, reason in BASH_ELSEWHERE.items():
        if re.search(pattern, command):
            return None, reason
    for pattern, (replacement, _) in BASH_SUBSTITUTIONS.items():
        command = re.sub(pattern, replacement, command)
    return command, None


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    """The scratch folder the README's commands run in, and their environment."""
    folder = tmp_path_factory.mktemp("readme_shell")
    root = README.parent
    for name in ("examples", "benchmarks"):
        (folder / name).symlink_to(root / name)
    rng = random.Random(0)
    with open(folder / "my.tsv", "w", encoding="utf-8") as handle:
        for _ in range(600):
            word = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 7)))
            handle.write(f"{word}\t{word[::-1]}\n")
    bin_dir = str(pathlib.Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "PYTHONPATH": str(root)}
    return folder, env


@pytest.mark.parametrize(("line", "commands", "shown"), BASH_BLOCKS, ids=[f"README.md:{line}" for line, _, _ in BASH_BLOCKS])
def test_readme_bash_block_runs_and_prints_what_it_shows(line, commands, shown, shell):
    folder, env = shell
    printed = []
    for number, command in commands:
        runnable, _ = _bash_command(command)
        if runnable is None:  # the block's shown output is what its other commands print
            continue
        result = subprocess.run(["bash", "-c", runnable], cwd=folder, env=env, capture_output=True, text=True,
                                timeout=900)  # fmt: skip
        assert result.returncode == 0, f"README.md:{number}: `{runnable}` failed:\n{result.stderr[-3000:]}"
        printed.append(result.stdout)
        _check_command_output(command, result.stdout, number)
    if shown is not None:
        assert printed[-1] == shown, f"README.md:{line}: its last command printed\n{printed[-1]}\nnot\n{shown}"
    if all(_bash_command(command)[0] is None for _, command in commands):
        pytest.skip(f"README.md:{line} runs elsewhere: {_bash_command(commands[0][1])[1]}")


def _check_command_output(command, stdout, number):
    """What the README says in prose about a command's output, for commands whose output it does not show."""
    import json

    if command.startswith("keras-transformer evaluate "):
        report = json.loads(stdout)
        card = report["card"]
        assert report["examples"] == 300 and card, f"README.md:{number}: {report}"
        for name, value in card.items():  # 300 examples: within 3 points of the card's whole-split figure
            assert abs(report["measured"][name] - value) <= 0.03, f"README.md:{number}: {name} {report}"
    if command.startswith("keras-transformer embed "):
        rows = [json.loads(line) for line in stdout.splitlines()]
        assert [len(row["embedding"]) for row in rows] == [384], f"README.md:{number}"
    if command.startswith("keras-transformer export "):
        assert "saved_model" in stdout, f"README.md:{number}: {stdout}"


def test_shown_python_outputs_are_asserted():
    namespace = {"__readme_check__": _check_shown}
    exec(compile(with_shown_outputs_asserted("x = [1]\nx  # [1]: prose after a colon\nlen(x)  # a count\n", 3), "README.md", "exec"), namespace)  # noqa: E501
    with pytest.raises(AssertionError, match=r"README.md:4 shows 3, but the code gives 2"):
        exec(compile(with_shown_outputs_asserted("y = 1\n1 + 1  # 3\n", 3), "README.md", "exec"), namespace)
