"""The concept guides (docs/concepts.md and its Japanese twin) hold what they promise: every Python
snippet runs, every test, file, name and picture they point to exists."""

import ast
import importlib
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDES = ["concepts.md", "concepts.ja.md"]
CONCEPTS = 10
MAX_IMAGE_BYTES = 200 * 1024

# Runs the snippets of one guide in order in one namespace, naming the block that fails.
RUNNER = textwrap.dedent(
    """
    import json, sys, traceback
    guide, blocks = sys.argv[1], json.load(open(sys.argv[2], encoding="utf-8"))
    namespace = {"__name__": "__main__"}
    for number, (line, code) in enumerate(blocks, start=1):
        try:
            exec(compile(code, f"{guide} block {number} (line {line})", "exec"), namespace)
        except BaseException:
            traceback.print_exc()
            sys.exit(f"FAILED: {guide} block {number}, which starts at line {line}")
    print(f"ran {len(blocks)} blocks")
    """
)


def load_figure_script():
    spec = importlib.util.spec_from_file_location("make_concept_figures", ROOT / "examples" / "make_concept_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python_blocks(text):
    """`[(line, code)]` of every ```python block, in order (line: the block's first code line)."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
        blocks.append((text.count("\n", 0, match.start()) + 2, match.group(1)))
    return blocks


def sections(text):
    """The numbered concept sections, `{number: text}`."""
    parts = re.split(r"^## (\d+)\. ", text, flags=re.MULTILINE)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2])}


def read(guide):
    return (DOCS / guide).read_text(encoding="utf-8")


def test_python_blocks_are_found_with_their_lines():
    text = "intro\n```python\nx = 1\n```\n\n```bash\nls\n```\n```python\ny = 2\nz = 3\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (10, "y = 2\nz = 3\n")]


@pytest.mark.parametrize("guide", GUIDES)
def test_every_python_snippet_runs_in_order(guide, tmp_path):
    blocks = python_blocks(read(guide))
    assert len(blocks) >= CONCEPTS + 1, f"{guide}: expected a setup block and one per concept"
    blocks_file = tmp_path / "blocks.json"
    blocks_file.write_text(json.dumps(blocks, ensure_ascii=False), encoding="utf-8")
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, str(runner), guide, str(blocks_file)],
        cwd=tmp_path,  # snippets that save files write them here
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert f"ran {len(blocks)} blocks" in result.stdout


@pytest.mark.parametrize("guide", GUIDES)
def test_each_concept_has_code_a_snippet_a_test_and_a_picture(guide):
    found = sections(read(guide))
    assert sorted(found) == list(range(1, CONCEPTS + 1))
    for number, body in found.items():
        assert "`keras_transformer." in body, f"{guide} section {number}: no class or function named"
        assert "```python" in body, f"{guide} section {number}: no snippet"
        assert re.search(r"`tests/[\w/]+\.py::\w+`", body), f"{guide} section {number}: no test"
        assert re.search(r"!\[[^\]]*\]\(images/[\w-]+\.png\)", body), f"{guide} section {number}: no picture"


@pytest.mark.parametrize("guide", GUIDES)
def test_referenced_tests_exist(guide):
    references = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", read(guide)))
    assert references
    for path, name in sorted(references):
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert name in functions, f"{guide} points to {path}::{name}, which does not exist"


@pytest.mark.parametrize("guide", GUIDES)
def test_referenced_names_and_files_exist(guide):
    text = read(guide)
    for path in set(re.findall(r"`(keras_transformer/[\w/]+\.py)`", text)):
        assert (ROOT / path).is_file(), f"{guide} points to {path}, which does not exist"
    names = set(re.findall(r"`(keras_transformer(?:\.\w+)+)", text))
    assert names
    for name in sorted(names):
        parts = name.split(".")
        # The longest importable module prefix, then attributes.
        for split in range(len(parts), 0, -1):
            try:
                target = importlib.import_module(".".join(parts[:split]))
                break
            except ImportError:
                continue
        for attribute in parts[split:]:
            assert hasattr(target, attribute), f"{guide} names {name}, which does not exist"
            target = getattr(target, attribute)


def test_pictures_exist_are_small_pngs_and_both_guides_show_the_same_ones():
    used = {guide: set(re.findall(r"\]\((images/[\w-]+\.png)\)", read(guide))) for guide in GUIDES}
    assert used["concepts.md"] == used["concepts.ja.md"]
    assert len(used["concepts.md"]) == CONCEPTS
    for image in used["concepts.md"]:
        data = (DOCS / image).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", image
        assert 1000 < len(data) < MAX_IMAGE_BYTES, f"{image}: {len(data)} bytes"
    on_disk = {f"images/{path.name}" for path in (DOCS / "images").glob("*.png")}
    assert on_disk == used["concepts.md"], "a picture in docs/images is not used by the guides (or the reverse)"


def test_both_guides_run_the_same_code():
    def code(guide):  # the snippets without comments: the translation changes only the comments
        return [re.sub(r"\s*#.*", "", block) for _, block in python_blocks(read(guide))]

    assert code("concepts.md") == code("concepts.ja.md")


def pictures_used():
    return {pathlib.Path(image).name for image in re.findall(r"\]\(images/([\w-]+\.png)\)", read("concepts.md"))}


def test_the_figure_script_draws_every_picture_the_guides_use_from_the_shipped_zoo_model(tmp_path):
    script = load_figure_script()
    written = script.main(["--output-dir", str(tmp_path)])  # the defaults: g2p_en reading "transformer"
    assert {path.name for path in written} == pictures_used()
    for path in written:
        assert 1000 < path.stat().st_size < MAX_IMAGE_BYTES, path


def test_the_figure_script_takes_any_zoo_model_and_skips_curves_it_does_not_have(tmp_path, monkeypatch):
    from keras_transformer import TransformerConfig, build_transformer, zoo
    from keras_transformer.text import Tokenizer

    tokenizer = Tokenizer(list("abcdefghij"))
    config = TransformerConfig.from_name(
        "tiny", source_vocab_size=tokenizer.vocabulary_size, target_vocab_size=tokenizer.vocabulary_size, max_length=12
    )
    from keras_transformer import TextPipeline

    zoo.save(tmp_path / "zoo" / "letters", TextPipeline(build_transformer(config), tokenizer, tokenizer), zoo.ZooInfo(task="letters"), "# card\n")
    monkeypatch.setenv(zoo.ZOO_VARIABLE, str(tmp_path / "zoo"))
    script = load_figure_script()
    written = script.main(["--zoo", "letters", "--source", "abcj", "--output-dir", str(tmp_path / "out")])
    # Everything but the training curves: this zoo folder keeps no history.csv.
    assert {path.name for path in written} == pictures_used() - {"transformer_vs_rnn.png"}
    with pytest.raises(SystemExit, match="Unknown zoo model"):
        script.main(["--zoo", "nope", "--output-dir", str(tmp_path / "out")])
