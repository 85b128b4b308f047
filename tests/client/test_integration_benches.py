"""The two integration benchmarks run end to end and report every figure (never asserted on speed)."""

from __future__ import annotations

from sidelog.bench.browser_fetch import browser_fetch_overhead, find_chromium
from sidelog.bench.integrations import integration_overhead


def test_the_python_integration_bench_reports_each_library() -> None:
    result = integration_overhead(n=100)
    for name in ("httpx", "requests", "aiohttp", "sqlalchemy"):
        figures = result[name]
        assert figures["with_us"] > 0
        assert figures["without_us"] > 0
        low, high = figures["added_iqr_us"]
        assert low <= figures["added_us"] <= high
    assert result["aiohttp"]["hook"] == "middleware"
    assert result["aiohttp"]["trace_config_us"] is not None
    assert result["sqlalchemy"]["unlogged_us"] is not None
    assert result["worst_added_us"] == max(
        result[name]["added_us"] for name in ("httpx", "requests", "aiohttp", "sqlalchemy")
    )
    assert result["machine_slowdown"] >= 1.0


def test_the_browser_fetch_bench_reports_both_figures_or_why_not() -> None:
    result = browser_fetch_overhead(rounds=3, per_round=5)
    if find_chromium() is None:
        print(result["skipped"])
        assert "chromium" in result["skipped"]
        return
    assert "skipped" not in result, result
    assert result["events_captured"] == (3 + 1) * 5  # every captured fetch of the real page, warm-up included
    assert result["fetch_ms"] > 0
    assert result["wrapper_fetch_ms"] > 0
    assert result["data_url_fetch_ms"] > 0
    assert result["cross_origin_isolated"] is True
    assert result["target_ms"] == 0.05
