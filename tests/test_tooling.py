"""The project's own quality gates, run as part of the suite.

ruff (lint and format), mypy with ``disallow_untyped_defs`` on ``src/``, and the
import-linter contract that keeps Textual out of the engine. Each runs the real
tool on the real tree; a failure prints the tool's own report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        pytest.fail(f"{name} is not installed; install the test extra: pip install -e '.[test]'")
    return path


def test_ruff_lint() -> None:
    result = _run(_tool("ruff"), "check", "src", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run(_tool("ruff"), "format", "--check", "src", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_on_src() -> None:
    result = _run(_tool("mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contract_engine_never_imports_textual() -> None:
    result = _run(_tool("lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr


SOURCE_ROOTS = (ROOT / "src", ROOT / "clients", ROOT / "tests")
OUTSIDE_REFERENCE = re.compile(
    r"SPEC(\.md)?\s*(section|§)?\s*\d+|STYLE\.md|\bissue \d+\b|\bthe seed\b|\bseed's\b"
)


def _source_files() -> list[Path]:
    return [
        path
        for root in SOURCE_ROOTS
        if root.is_dir()
        for path in sorted(root.rglob("*"))
        if path.suffix in (".py", ".js", ".tcss")
        and "node_modules" not in path.parts
        and path != Path(__file__)  # this file spells the pattern out
    ]


def test_no_comment_points_at_a_document_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _source_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE_REFERENCE.search(line)
    ]
    assert not found, "say it in the README or a file in the repo instead:\n" + "\n".join(found)


def test_no_module_is_over_400_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)} ({count} lines)"
        for path in _source_files()
        if path.suffix == ".py" and (count := len(path.read_text(encoding="utf-8").splitlines())) > 400
    ]
    assert not long, "split these (one job per module):\n" + "\n".join(long)
