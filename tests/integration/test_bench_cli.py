"""``sidelog bench`` runs end to end on small sizes and refuses a bad ``--only``."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sidelog.store.migrations import SCHEMA_VERSION


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidelog", "bench", *args], capture_output=True, text=True, timeout=240
    )


def test_bench_sections_report_their_figures(tmp_path: Path) -> None:
    done = _bench(
        "--only", "ingest,http", "--prefill", "300", "--events", "400", "--dir", str(tmp_path), "--json"
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["sections"] == ["ingest", "http"]
    assert figures["stored"] == 400  # every event sent was acknowledged as stored
    assert figures["ingest_events_per_s"] > 0
    assert figures["http_events_per_s"] > 0
    assert figures["baseline_plain_sqlite3_rows_per_s"] > 0
    assert figures["baseline_naive_schema_rows_per_s"] > 0
    # the like-for-like baseline uses sidelog's own transaction size and writer PRAGMAs
    assert figures["server_transactions"] >= 1
    assert figures["baseline_transaction_rows"] == max(1, round(400 / figures["server_transactions"]))
    assert "PRAGMA wal_autocheckpoint=0" in figures["baseline_pragmas"]
    headline = figures["ingest_events_per_s"] / figures["baseline_plain_sqlite3_rows_per_s"]
    assert figures["ratio_vs_plain_sqlite3"] == pytest.approx(headline, rel=0.01)
    assert "latency_p50_ms" not in figures  # a section not asked for is not run
    # the cached prefill is a current file: a server opening it has nothing to upgrade
    cached = tmp_path / f"prefill-300-v{SCHEMA_VERSION}" / "sidelog.db"
    with contextlib.closing(sqlite3.connect(cached)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_bench_refuses_an_unknown_section_in_one_line() -> None:
    done = _bench("--only", "ingest,warp")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "sidelog: error: --only: unknown section warp (choose from ingest, http, client, latency, "
        "receivers, import, integrations, browser)"
    ]
