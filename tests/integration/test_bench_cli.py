"""``sidelog bench`` runs end to end on small sizes and refuses a bad ``--only``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


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
    assert figures["baseline_sidelog_schema_rows_per_s"] > 0
    assert "latency_p50_ms" not in figures  # a section not asked for is not run


def test_bench_refuses_an_unknown_section_in_one_line() -> None:
    done = _bench("--only", "ingest,warp")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "sidelog: error: --only: unknown section warp (choose from ingest, http, client, latency, "
        "receivers, import, integrations, browser)"
    ]
