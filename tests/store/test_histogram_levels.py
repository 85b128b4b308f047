"""The histogram's level-only counts from ``ix_events_level_time``: the same numbers as the
generic ``GROUP BY``, from the index alone, and an older file gains the index on upgrade."""

from __future__ import annotations

import contextlib
import random
import sqlite3
from pathlib import Path

import pytest

from sidelog.events import LEVELS, Event
from sidelog.filters import EventFilter
from sidelog.store.database import open_schema
from sidelog.store.histogram import Window, histogram_sql
from sidelog.store.histogram_levels import level_counts_sql, levels_only
from sidelog.store.migrations import SCHEMA_VERSION
from sidelog.store.reader import events_sql
from sidelog.timespec import MAX_MS
from tests.store.support import insert, new_store, rows

MIN = 60_000
T0 = 1_767_225_600_000
WINDOW = Window(T0, MIN, 12)


def _events(count: int) -> list[Event]:
    chooser = random.Random(7)
    stamps = [T0 + chooser.randrange(-5 * MIN, 14 * MIN) for _ in range(count)]
    stamps += [T0 - 1, T0, WINDOW.end - 1, WINDOW.end, MAX_MS, 0]  # every edge
    return [
        Event(
            message=f"m{i}",
            category=chooser.choice(("auth", "payment")),
            level=chooser.choice(LEVELS),
            timestamp=stamp,
            received_at=T0,
            source="server",
        )
        for i, stamp in enumerate(stamps)
    ]


def _counted(conn: sqlite3.Connection, sql: str, params: list[object]) -> dict[tuple[int, str], int]:
    return {(int(b), str(level)): int(n) for b, level, n, _ in conn.execute(sql, params) if n}


@pytest.fixture
async def store(tmp_path: Path) -> Path:
    db = tmp_path / "events.db"
    await new_store(db)
    insert(db, _events(2000))
    return db


@pytest.mark.parametrize("later", [True, False])
@pytest.mark.parametrize("levels", [frozenset(), frozenset({"error"}), frozenset({"warn", "debug"})])
async def test_level_counts_equal_the_group_by_counts(
    store: Path, later: bool, levels: frozenset[str]
) -> None:
    flt = EventFilter(levels=levels)
    with contextlib.closing(sqlite3.connect(store)) as conn:
        expected = _counted(conn, *histogram_sql(flt, WINDOW, by_time=True, later=later))
        sql, params = level_counts_sql(flt, WINDOW.start, WINDOW.bucket_ms, WINDOW.buckets, later=later)
        fast = list(conn.execute(sql, params))
        top = conn.execute("SELECT max(id) FROM events").fetchone()[0]
        assert expected  # the fixture has events in the window (and later ones)
        assert _counted(conn, sql, params) == expected
    assert {int(newest) for *_, newest in fast} == {top}
    assert any(bucket == WINDOW.buckets for bucket, *_ in fast) is later
    assert {level for _, level, *_ in fast} == set(levels or LEVELS)


async def test_level_counts_read_the_index_alone_and_pages_do_not(store: Path) -> None:
    sql, params = level_counts_sql(EventFilter(), WINDOW.start, WINDOW.bucket_ms, WINDOW.buckets, later=True)
    with contextlib.closing(sqlite3.connect(store)) as conn:
        plan = " | ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        page, page_params = events_sql(EventFilter(levels=frozenset({"warn", "error"}), since=0), limit=300)
        paged = " | ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {page}", page_params))
    assert "COVERING INDEX ix_events_level_time (level=? AND timestamp>? AND timestamp<?)" in plan, plan
    assert "ix_events_level_time" not in paged, paged


def test_only_a_level_condition_takes_the_index_path() -> None:
    assert levels_only(EventFilter())
    assert levels_only(EventFilter(levels=frozenset({"error"}), since=T0))
    assert not levels_only(EventFilter(categories=frozenset({"auth"})))
    assert not levels_only(EventFilter(q="x"))
    assert not levels_only(EventFilter(user="u"))


async def test_a_version_8_file_gains_the_index_with_its_rows_kept(store: Path) -> None:
    with contextlib.closing(sqlite3.connect(store, isolation_level=None)) as conn:
        conn.execute("DROP INDEX ix_events_level_time")
        conn.execute("PRAGMA user_version = 8")
    kept = rows(store, "SELECT count(*), sum(id) FROM events")
    assert open_schema(store).version == 8
    assert rows(store, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(store, "SELECT count(*) FROM sqlite_master WHERE name = 'ix_events_level_time'") == [(1,)]
    assert rows(store, "SELECT count(*), sum(id) FROM events") == kept
    entries = rows(store, "SELECT count(*) FROM events INDEXED BY ix_events_level_time WHERE level > ''")
    assert entries == [(kept[0][0],)]  # every event has an entry
