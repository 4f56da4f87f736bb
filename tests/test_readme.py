"""Every ```python block of README.md runs as written, in order.

The blocks build on one another (the Quick start defines `model` and `inputs`, later blocks use them),
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
import pathlib
import re

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
    # Blank lines first, so that line numbers in tracebacks are README.md's.
    compiled = compile("\n" * (line - 1) + code, str(README), "exec")
    try:
        exec(compiled, namespace)
    except Exception as error:
        if readme_state["failed"]:
            earlier = ", ".join(f"README.md:{failed}" for failed in readme_state["failed"])
            error.add_note(f"(the block(s) at {earlier} failed earlier; this failure may follow from that)")
        readme_state["failed"].append(line)
        raise
