"""The bench's import figure runs end to end: real ``sidelog serve`` and ``sidelog import`` processes."""

from __future__ import annotations

from pathlib import Path

import orjson

from sidelog.bench.importing import import_bench, write_jsonl


def test_import_bench_stores_every_line_once_and_reports_rates(tmp_path: Path) -> None:
    result = import_bench(2_000, tmp_path)
    assert result["stored"] == 2_000
    assert result["reimport_rows_added"] == 0  # the idempotency keys hold across imports
    assert result["tcp_acknowledged"] == 2_000
    assert result["import_events_per_s"] > 0
    assert result["tcp_events_per_s"] > 0
    assert "stored 2,000" in result["reimport_summary"]


def test_the_file_is_the_bench_mix(tmp_path: Path) -> None:
    path = tmp_path / "mix.jsonl"
    size = write_jsonl(path, 500)
    lines = path.read_bytes().splitlines()
    assert size == path.stat().st_size
    assert len(lines) == 500
    events = [orjson.loads(line) for line in lines]
    assert {event["type"] for event in events} >= {"info", "error"}
    assert all(event["message"] and event["category"] for event in events)
