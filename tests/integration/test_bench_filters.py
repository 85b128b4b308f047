"""``python -m sidelog.bench.filters`` times every UI filter's newest page over a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sidelog.bench.filters import ABSENT, PAGE, main
from sidelog.events import LEVELS
from sidelog.store.migrations import SCHEMA_VERSION
from sidelog.workload import CATEGORIES, SOURCES


def test_every_filter_is_timed_on_the_cached_prefill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--events", "3000", "--repeat", "1", "--dir", str(tmp_path), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["schema"] == SCHEMA_VERSION
    assert figures["schema_from"] == SCHEMA_VERSION  # the prefill records its version
    filters = figures["filters"]
    assert set(filters["level"]["values"]) == set(LEVELS)
    assert set(filters["category"]["values"]) == {*CATEGORIES, ABSENT}
    assert set(filters["source"]["values"]) == {*SOURCES, ABSENT}
    assert filters["category"]["values"][ABSENT]["rows"] == 0
    assert filters["level"]["values"]["info"]["rows"] == PAGE  # a full newest page
    for kind in ("user", "session", "fingerprint", "error", "search"):
        assert filters[kind]["values"], kind
        assert filters[kind]["worst_ms"] >= 0
    assert filters["facet_counts"]["worst_ms"] > 0
    assert "ix_events_level" in figures["indexes"]


def test_a_bad_count_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--events", "0"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("--events and --repeat must be positive")
