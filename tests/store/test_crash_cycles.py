"""``kill -9`` under load, three times over: every acknowledged event survives, the file stays sound.

Real ``sidelog serve`` processes, real SIGKILLs, real clients waiting for sync
acknowledgements (``sidelog.bench.crash`` runs the same cycles fifty times).
"""

from __future__ import annotations

from pathlib import Path

from sidelog.bench.crash import run_crash_cycles


def test_three_kill_9_cycles_lose_no_acknowledged_event(tmp_path: Path) -> None:
    report = run_crash_cycles(3, clients=2, max_acks=6, folder=tmp_path, seed=8, jitter_s=0)
    assert report.acknowledged >= 3 * 50, report  # every cycle had at least one acknowledgement
    assert report.sent > report.acknowledged  # each kill cut a batch short: it was a real crash
    assert report.lost == 0, report
    assert report.duplicates == 0, report
    assert report.integrity == "ok", report
    assert report.stored >= report.acknowledged
