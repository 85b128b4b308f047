"""``sidelog bench --ui --only triage`` runs end to end on a tiny store and prints every
triage figure with its target and verdict (the figures are measured, never asserted)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from sidelog.bench.fill import group_prefill_path
from sidelog.bench.ui_triage import TRIAGE_ROWS, TRIAGE_TARGETS


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidelog", "bench", "--ui", *args], capture_output=True, text=True, timeout=240
    )


def test_triage_section_prints_every_figure_with_its_target(tmp_path: Path) -> None:
    done = _bench("--only", "triage", "--prefill", "3000", "--dir", str(tmp_path))
    assert done.returncode in (0, 1), done.stderr  # 1: a target missed on a loaded machine
    lines = done.stdout.splitlines()
    shown: dict[str, str] = {}
    for key, label, _unit in TRIAGE_ROWS:
        found = [line for line in lines if line.strip().startswith(label)]
        assert len(found) == 1, (label, done.stdout)
        value = found[0].strip()[len(label) :].split()[0]
        assert re.fullmatch(r"[\d,]+(\.\d)?", value), (label, value)
        shown[label] = value
        if key in TRIAGE_TARGETS:
            op, limit = TRIAGE_TARGETS[key]
            assert re.search(rf"target {re.escape(op)} {limit:g}: (ok|MISSED)$", found[0]), found[0]
    assert "key to screen" not in done.stdout  # the stream section was not asked for
    assert shown["error groups in the triage store"] == "30"  # one group per 100 stored events
    assert shown["groups in the bulk resolve"] == "15"  # the newer half
    # the triage store is cached beside the prefill, with its groups, and left untouched
    cached = group_prefill_path(tmp_path, 3000, 30)
    with sqlite3.connect(cached) as conn:
        assert conn.execute("SELECT count(*), sum(status = 'unresolved') FROM error_groups").fetchone() == (
            30,
            30,
        )
        spread = conn.execute(
            "SELECT count(*) FROM events WHERE fingerprint IS NOT NULL GROUP BY fingerprint"
        ).fetchall()
    assert len(spread) == 30
    assert max(n for (n,) in spread) - min(n for (n,) in spread) <= 1  # errors dealt out evenly


def test_an_unknown_ui_section_is_a_one_line_error(tmp_path: Path) -> None:
    done = _bench("--only", "triage,warp", "--dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "sidelog: error: --only: unknown section warp with --ui (choose from stream, triage)"
    ]
