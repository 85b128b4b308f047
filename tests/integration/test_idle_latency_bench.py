"""``python -m sidelog.bench.idle_latency`` runs against a real engine and reports every figure."""

from __future__ import annotations

from pathlib import Path

from sidelog.bench.idle_latency import idle_latency


async def test_idle_latency_reports_commit_and_sync_figures(tmp_path: Path) -> None:
    figures = await idle_latency(tmp_path / "events.db", samples=3, gap_s=0.06)
    assert set(figures) == {
        f"{kind}_{stat}_ms" for kind in ("idle_commit", "idle_sync") for stat in ("p50", "p95", "max")
    }
    assert all(value > 0 for value in figures.values())
    assert figures["idle_commit_p50_ms"] <= figures["idle_commit_max_ms"]
