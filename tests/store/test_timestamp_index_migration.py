"""Schema version 11: a file written by version 10 loses ``ix_events_timestamp``, and every
range of the client's ``timestamp`` still reads an index (``ix_events_level_time``) and
finds exactly the events it found before.

The version-10 file is the current schema plus that index, as version 10 created it,
filled with plain sqlite3 and opened the way sidelog opens a store.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.store.database import open_schema
from sidelog.store.histogram import SPAN_SQL
from sidelog.store.migrations import SCHEMA_VERSION, initialise
from sidelog.store.reader import events_sql
from tests.store.support import insert, rows

T0 = 1_700_000_000_000
LEVELS = ("debug", "info", "warn", "error")


def v10_store(db: Path) -> None:
    """A version-10 file: today's tables and indexes plus ``ix_events_timestamp``."""
    db.touch()
    initialise(db)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("CREATE INDEX ix_events_timestamp ON events (timestamp)")
        conn.execute("PRAGMA user_version = 10")
    # Client times out of arrival order, as late batches make them.
    insert(
        db,
        [
            Event(
                message=f"m{i}",
                category="auth",
                level=LEVELS[i % 4],
                timestamp=T0 + (i * 7919) % 1000 * 1000,
                received_at=T0 + i,
                source="server",
            )
            for i in range(1000)
        ],
    )


def schema_of(db: Path) -> set[tuple[str, str]]:
    """Every table and index, by name and normalised SQL."""
    return {
        (name, " ".join(sql.split()))
        for name, sql in rows(db, "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
    }


def test_a_version_10_file_drops_the_timestamp_index_and_keeps_every_range(tmp_path: Path) -> None:
    old, fresh = tmp_path / "v10.db", tmp_path / "fresh.db"
    v10_store(old)
    fresh.touch()
    initialise(fresh)
    window = EventFilter(since=T0 + 200_000, until=T0 + 450_000)
    sql, params = events_sql(window, limit=1000)
    before = rows(old, sql, tuple(params))
    span = rows(old, "SELECT min(timestamp), max(timestamp), max(id) FROM events")
    assert len(before) == 250  # the window holds a quarter of the events, in id order

    assert open_schema(old).version == 10  # what was found; the file is now current
    assert rows(old, "PRAGMA user_version") == [(SCHEMA_VERSION,)] == [(11,)]
    assert schema_of(old) == schema_of(fresh)
    assert ("ix_events_timestamp",) not in rows(old, "SELECT name FROM sqlite_master WHERE type = 'index'")
    assert rows(old, sql, tuple(params)) == before
    assert rows(old, SPAN_SQL) == span
    steps = " | ".join(step[3] for step in rows(old, f"EXPLAIN QUERY PLAN {sql}", tuple(params)))
    assert "ix_events_level_time (level=? AND timestamp>? AND timestamp<?)" in steps, steps
    assert rows(old, "PRAGMA integrity_check") == [("ok",)]
    assert open_schema(old).version == SCHEMA_VERSION  # opening again changes nothing
    assert schema_of(old) == schema_of(fresh)


def test_an_odd_level_a_hand_made_row_holds_is_in_every_range(tmp_path: Path) -> None:
    # The ranges come from the levels stored, not from a fixed list.
    db = tmp_path / "odd.db"
    db.touch()
    initialise(db)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute(
            "INSERT INTO events (category, level, message, timestamp, received_at, source) "
            "VALUES ('c', 'notice', 'by hand', ?, ?, 'server'), ('c', 'info', 'usual', ?, ?, 'server')",
            (T0, T0, T0 + 5, T0 + 5),
        )
    sql, params = events_sql(EventFilter(since=T0, until=T0 + 10), limit=10)
    assert [row[4] for row in rows(db, sql, tuple(params))] == ["usual", "by hand"]
    assert rows(db, SPAN_SQL) == [(T0, T0 + 5, 2)]
