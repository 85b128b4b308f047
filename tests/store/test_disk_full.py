"""After a disk-full, no checkpoint starts without room for what it may add to the
database file (a half-done one only grows it); once space is back the WAL empties."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_disk_defers_checkpoints_instead_of_growing_the_file(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("needs root and unshare for a private tmpfs mount")
    folder = tmp_path / "small-disk"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    done = subprocess.run(
        [
            unshare,
            "-m",
            "--propagation",
            "private",
            sys.executable,
            "-m",
            "tests.store.disk_full_scenario",
            str(folder),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode == 77:
        pytest.skip(f"no tmpfs mount here: {done.stdout.strip()}")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["skipped"] is not None, report
    assert report["background_skipped"] is not None, report
    assert report["db_while_short"] == report["db_before"], report  # the file did not grow
    assert report["wal_while_short"] >= report["wal_before"], report  # nothing lost either
    assert report["checkpoints"] >= 1, report
    assert (report["stored_after"], report["write_failed"]) == (1, 0), report
