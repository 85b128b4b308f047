"""The histogram's counts: windows, one GROUP BY over a real store, its plans, and spikes."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.filters import EventFilter
from sidelog.server import start_server
from sidelog.store.histogram import (
    Histogram,
    Window,
    histogram_sql,
    prefer_time_index,
    read_histogram,
    spikes,
    window_for,
    window_rows,
)
from sidelog.store.migrations import initialise
from sidelog.timespec import MAX_MS
from tests.conftest import send_lines, tcp_port

MIN = 60_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC, a multiple of every bucket size
NOW = T0 + 10 * MIN - 1  # the window of 10 one-minute buckets ends at T0 + 10 min


# ------------------------------------------------------------------ windows


def test_without_a_range_the_window_ends_with_the_bucket_holding_now() -> None:
    window = window_for(now=NOW, bucket_ms=MIN, buckets=10)
    assert (window.start, window.end) == (T0, T0 + 10 * MIN)
    assert window.bucket_of(NOW) == 9
    assert window.bucket_of(T0 - 1) is None
    assert window.bucket_of(window.end) is None


def test_a_narrow_range_in_the_past_is_centred_and_a_recent_one_ends_at_now() -> None:
    old = window_for(now=NOW + 600 * MIN, bucket_ms=MIN, buckets=10, since=T0 + 3 * MIN, until=T0 + 4 * MIN)
    assert old.start <= T0 + 3 * MIN
    assert old.end >= T0 + 4 * MIN
    assert old.end - (T0 + 4 * MIN) in (4 * MIN, 5 * MIN)  # centred, to a bucket boundary
    recent = window_for(now=NOW, bucket_ms=MIN, buckets=10, since=T0 + 8 * MIN, until=T0 + 9 * MIN)
    assert recent.end == T0 + 10 * MIN  # not past the bucket holding now


def test_a_wide_range_shows_its_newest_part_and_a_future_one_stays_in_view() -> None:
    wide = window_for(now=NOW, bucket_ms=MIN, buckets=10, since=T0 - 600 * MIN)
    assert wide.end == T0 + 10 * MIN
    ahead = window_for(now=NOW, bucket_ms=MIN, buckets=10, since=T0 + 60 * MIN, until=T0 + 62 * MIN)
    assert ahead.start <= T0 + 60 * MIN
    assert ahead.end >= T0 + 62 * MIN


@pytest.mark.parametrize(
    ("now", "since", "until"),
    [(-5, None, None), (10**18, None, None), (NOW, 0, 1), (NOW, MAX_MS - 1, MAX_MS), (NOW, None, 10**17)],
)
def test_odd_instants_give_a_window_inside_the_years_a_clock_can_name(
    now: int, since: int | None, until: int | None
) -> None:
    window = window_for(now=now, bucket_ms=86_400_000, buckets=80, since=since, until=until)
    assert 0 <= window.start <= window.end <= MAX_MS + 86_400_000
    assert window.buckets == 80


def test_no_columns_no_buckets() -> None:
    window = window_for(now=NOW, bucket_ms=MIN, buckets=0)
    assert window.buckets == 0
    assert Histogram(window).totals() == []


# ---------------------------------------------------------------- in memory


def test_live_events_land_in_their_bucket_or_count_as_later() -> None:
    histogram = Histogram(Window(T0, MIN, 10))
    assert histogram.add(T0 + 90_000, "error")
    assert histogram.add(T0 + 10 * MIN + 5, "info")  # dated after now: later
    assert not histogram.add(T0 - 1, "info")  # older than the window
    assert histogram.counts["error"][1] == 1
    assert histogram.total == 1
    assert histogram.later == 1


def test_sliding_keeps_the_overlap_and_refuses_what_needs_a_recount() -> None:
    histogram = Histogram(Window(T0, MIN, 4))
    histogram.add(T0 + 3 * MIN, "warn")
    slid = histogram.slid(Window(T0 + 2 * MIN, MIN, 4))
    assert slid is not None
    assert slid.counts["warn"] == [0, 1, 0, 0]
    assert histogram.slid(Window(T0 + 2 * MIN, 5 * MIN, 4)) is None  # other zoom
    histogram.add(T0 + 9 * MIN, "info")  # later: it may fall inside the moved window
    assert histogram.slid(Window(T0 + 2 * MIN, MIN, 4)) is None


# ------------------------------------------------------------------- spikes


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ([0, 0, 0, 0], []),
        ([0, 0, 0, 1], [(3, 3)]),
        ([3, 3, 3, 3], []),  # a steady rate is no spike
        ([0, 0, 1, 0, 0, 5, 0, 0, 1], [(5, 5)]),
        ([0, 8, 7, 0, 0, 6, 0, 0], [(1, 2), (5, 5)]),  # neighbours make one spike
        ([], []),
    ],
)
def test_spikes_stand_out_from_the_window(errors: list[int], expected: list[tuple[int, int]]) -> None:
    assert spikes(errors) == expected


# ------------------------------------------------------------ a real store


@pytest.fixture
async def filled(make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    """A store of events at known minutes (no system events), one from the far future."""
    running = await start_server(make_settings(enable_system_logging=False))
    engine = running.engine
    events: list[dict[str, Any]] = []
    for minute, level, category in [
        (0, "info", "auth"),
        (0, "error", "payment"),
        (2, "warn", "payment"),
        (2, "error", "payment"),
        (2, "error", "auth"),
        (9, "debug", "ui"),
        (-30, "error", "payment"),  # before the window
    ]:
        events.append({"message": "m", "type": level, "category": category, "ts": T0 + minute * MIN + 7})
    events.append({"message": "from 9999", "type": "error", "category": "payment", "ts": MAX_MS - 5})
    replies = await send_lines(tcp_port(engine), b"".join(json.dumps(e).encode() + b"\n" for e in events))
    assert replies[-1]["ok"], replies
    yield engine
    await running.stop()


async def test_counts_per_bucket_and_level_follow_the_filter_but_not_its_range(filled: Engine) -> None:
    window = Window(T0, MIN, 10)
    everything = await read_histogram(
        filled.reader, EventFilter(), window, now=NOW, facets=filled.facet_counts()
    )
    assert everything.counts["error"][:3] == [1, 0, 2]
    assert everything.counts["warn"][2] == 1
    assert everything.counts["debug"][9] == 1
    assert everything.total == 6
    assert everything.later == 1
    assert everything.newest_id == 8

    payments = EventFilter(categories=frozenset({"payment"}), since=T0 + 2 * MIN, until=T0 + 3 * MIN)
    counted = await read_histogram(filled.reader, payments, window, now=NOW, facets=filled.facet_counts())
    assert counted.totals() == [1, 0, 2, 0, 0, 0, 0, 0, 0, 0]  # the range is context, not a condition
    assert counted.later == 1


async def test_a_window_in_the_past_counts_nothing_as_later(filled: Engine) -> None:
    window = Window(T0 - 40 * MIN, MIN, 20)
    counted = await read_histogram(filled.reader, EventFilter(), window, now=NOW)
    assert counted.totals()[10] == 1
    assert counted.total == 1
    assert counted.later == 0


async def test_an_empty_store_counts_nothing(make_settings: Callable[..., Settings]) -> None:
    running = await start_server(make_settings(enable_system_logging=False))
    try:
        counted = await read_histogram(running.engine.reader, EventFilter(), Window(T0, MIN, 5), now=NOW)
    finally:
        await running.stop()
    assert counted.totals() == [0] * 5
    assert counted.later == 0
    assert counted.newest_id == 0


# -------------------------------------------------------------------- plans


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    db: Path = tmp_path_factory.mktemp("hist-plans") / "events.db"
    db.touch()
    initialise(db)
    with contextlib.closing(sqlite3.connect(db)) as connection:
        yield connection


def plan(conn: sqlite3.Connection, query: tuple[str, list[Any]]) -> str:
    sql, params = query
    return " | ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


WINDOW = Window(T0, MIN, 100)


@pytest.mark.parametrize(
    "flt",
    [
        EventFilter(),
        EventFilter(levels=frozenset({"error", "warn"})),
        EventFilter(categories=frozenset({"payment"}), sources=frozenset({"api"})),
        EventFilter(q="timeout"),
    ],
    ids=["none", "levels", "category and source", "text"],
)
@pytest.mark.parametrize("later", [True, False], ids=["ends now", "in the past"])
def test_the_window_reads_the_timestamp_range(
    conn: sqlite3.Connection, flt: EventFilter, later: bool
) -> None:
    steps = plan(conn, histogram_sql(flt, WINDOW, by_time=True, later=later))
    assert "INDEX ix_events_level_time (level=? AND timestamp>?" in steps, steps
    assert "SCAN events" not in steps, steps


def test_a_rare_value_reads_its_own_index(conn: sqlite3.Connection) -> None:
    category = EventFilter(categories=frozenset({"feedback"}))
    assert "ix_events_category (category=?)" in plan(
        conn, histogram_sql(category, WINDOW, by_time=False, later=True)
    )
    user = EventFilter(user="u_1")
    assert "ix_events_user (user_id=?)" in plan(conn, histogram_sql(user, WINDOW, by_time=False, later=True))


def test_the_index_read_is_the_one_visiting_fewer_rows() -> None:
    facets = {"level": {"error": 50_000, "info": 900_000}, "category": {"feedback": 12}}
    errors = EventFilter(levels=frozenset({"error"}))
    assert prefer_time_index(errors, facets, window_rows=10_000)
    assert not prefer_time_index(errors, facets, window_rows=400_000)
    assert not prefer_time_index(EventFilter(categories=frozenset({"feedback"})), facets, window_rows=100)
    assert not prefer_time_index(EventFilter(session="s"), facets, window_rows=1)
    assert prefer_time_index(EventFilter(q="x"), facets, window_rows=10**6)
    assert window_rows(Window(0, 10, 10), stored=1_000, first=0, last=999) == 100
    assert window_rows(Window(0, 10, 10), stored=0, first=None, last=None) == 0
