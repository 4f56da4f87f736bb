"""Write a benchmark's table into BENCHMARKS.md between markers of its own, leaving other sections."""

import pathlib

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def write_section(name, markdown):
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text, encoding="utf-8")


def publish(name, markdown, write=True):
    """Print a benchmark's Markdown and, with `write`, put it in BENCHMARKS.md as section `name`."""
    print(markdown)
    if write:
        write_section(name, markdown)
