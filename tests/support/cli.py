"""Running the ``sidelog`` command line in a real subprocess, with a clean environment,
and checking that a failure is one line with the right exit status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SIDELOG = shutil.which("sidelog", path=str(Path(sys.executable).parent)) or "sidelog"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any sidelog setting, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SIDELOG_", "ENABLE_", "BATCH_"))
        and key not in ("LOG_LEVEL", "MAX_EVENTS_PER_BATCH")
    }
    env.update(extra)
    return env


def run(
    args: list[str], cwd: Path, *, console_script: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    """``sidelog ARGS`` in ``cwd`` (``python -m sidelog``, or the console script), 30 s at most."""
    command = [SIDELOG, *args] if console_script else [sys.executable, "-m", "sidelog", *args]
    return subprocess.run(
        command,
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int, *needles: str) -> None:
    """Exit ``status``, no traceback, exactly one stderr line containing every needle, nothing served."""
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "listening" not in result.stdout
