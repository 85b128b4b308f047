"""The engine and the CLI never load Textual; import-linter's contract holds (STYLE.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, sys
importlib.import_module({module!r})
loaded = [m for m in sys.modules if m == "textual" or m.startswith(("textual.", "sidelog.tui"))]
print(json.dumps(sorted(loaded)))
"""


@pytest.mark.parametrize(
    "module",
    [
        "sidelog",
        "sidelog.engine",
        "sidelog.cli",
        "sidelog.config",
        "sidelog.ingest.tcp",
        "sidelog.commands.serve",
        "sidelog.store.writer",
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


def test_import_linter_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint_imports).exists():
        pytest.fail("lint-imports (import-linter) is not installed; install the test extra")
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")
