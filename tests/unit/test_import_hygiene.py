"""The engine and the CLI never load Textual; import-linter's contract holds (pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import importlib, json, sys
importlib.import_module({module!r})
loaded = [m for m in sys.modules if m == "textual" or m.startswith(("textual.", "sidelog.tui"))]
print(json.dumps(sorted(loaded)))
"""


@pytest.mark.parametrize(
    "module",
    [
        "sidelog",  # what every app using the Python client imports
        "sidelog.client",
        "sidelog.engine",
        "sidelog.cli",
        "sidelog.commands.serve",
    ],
)
def test_module_does_not_load_textual(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_importing_creates_no_files(tmp_path: Path) -> None:
    """No import-time side effects: no ``.sidelog`` folder, no socket, no database."""
    code = "import sidelog, sidelog.engine, sidelog.cli, sidelog.commands.serve"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


# The import-linter contract itself (``lint-imports``) runs in tests/test_tooling.py.
