"""The layering written down in `.importlinter` (and drawn in docs/architecture.md) holds: `lint-imports`
checks every import in keras_transformer, the ones inside functions included, against its contracts."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports():
    """The `lint-imports` of the interpreter running the tests (its bin folder first, then PATH)."""
    beside = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")
    if beside.exists():
        return str(beside)
    found = shutil.which("lint-imports")
    if found is None:
        pytest.skip('import-linter is not installed (pip install -e ".[test]")')
    return found


def test_import_contracts_are_kept():
    result = subprocess.run(
        [_lint_imports(), "--no-cache", "--no-logo", str(ROOT / ".importlinter")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}\n{result.stderr}"
