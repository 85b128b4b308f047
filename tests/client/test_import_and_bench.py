"""``import sidelog`` stays light, and the client-cost benchmark runs end to end."""

from __future__ import annotations

import subprocess
import sys

from sidelog.bench.client_cost import client_call_cost

HEAVY = ("textual", "sqlalchemy", "pydantic", "pydantic_settings", "aiohttp", "aiosqlite", "orjson", "typing")


def test_import_sidelog_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, sidelog\n"
        "from sidelog import EventLogger, install_excepthook, SidelogASGIMiddleware, SidelogWSGIMiddleware\n"
        "import sidelog.logging\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "sidelog" in loaded
    assert loaded.isdisjoint(
        {"textual", "sqlalchemy", "pydantic", "pydantic_settings", "aiohttp", "aiosqlite"}
    )


def test_bare_import_defers_everything() -> None:
    code = "import sys, sidelog\nprint(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert not any(name.startswith("sidelog.") for name in loaded)
    assert loaded.isdisjoint(HEAVY)


def test_client_call_cost_reports_both_sides() -> None:
    result = client_call_cost(n=4_000)
    expected = {"event_p50_us", "event_p99_us", "stdlib_p50_us", "stdlib_p99_us", "ratio_p50", "ratio_p99"}
    assert expected <= set(result)
    assert 0 <= result["event_p50_us"] <= result["event_p99_us"]
    assert 0 < result["stdlib_p50_us"] <= result["stdlib_p99_us"]
    assert result["ratio_p50"] == result["event_p50_us"] / result["stdlib_p50_us"]
