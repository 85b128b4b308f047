"""Schema version 3: a real version-2 file (built from the DDL sidelog 2 wrote) upgrades at
start to the ``trace_id`` column and its index, its rows intact and their trace ids
filled from ``details``; the result is laid out like a new file; ``export`` reads a
version-2 file it cannot upgrade (read-only)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.commands.export import run_export
from sidelog.config import Settings
from sidelog.store.checks import check_database
from sidelog.store.database import open_schema
from sidelog.store.migrations import SCHEMA_VERSION, initialise
from tests.store.support import rows

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"

V2_SCHEMA = (
    "CREATE TABLE error_groups ( fingerprint TEXT NOT NULL, category TEXT NOT NULL, message TEXT NOT NULL, "
    "count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, last_event_id INTEGER, "
    "status TEXT DEFAULT 'unresolved' NOT NULL, resolved_at INTEGER, resolve_note TEXT, "
    "regressed INTEGER DEFAULT '0' NOT NULL, PRIMARY KEY (fingerprint) )",
    "CREATE INDEX ix_error_groups_status_last_seen ON error_groups (status, last_seen)",
    "CREATE TABLE events ( id INTEGER NOT NULL, event_uid TEXT, category TEXT NOT NULL, level TEXT NOT NULL, "
    "message TEXT NOT NULL, details TEXT, user_id TEXT, session_id TEXT, url TEXT, user_agent TEXT, "
    "timestamp INTEGER NOT NULL, received_at INTEGER NOT NULL, source TEXT NOT NULL, show_to_user INTEGER, "
    "user_message TEXT, resolved INTEGER, fingerprint TEXT, PRIMARY KEY (id) )",
    "CREATE INDEX ix_events_category ON events (category)",
    "CREATE INDEX ix_events_fingerprint ON events (fingerprint) WHERE fingerprint IS NOT NULL",
    "CREATE INDEX ix_events_level ON events (level)",
    "CREATE INDEX ix_events_received_at ON events (received_at)",
    "CREATE INDEX ix_events_source ON events (source)",
    "CREATE INDEX ix_events_timestamp ON events (timestamp)",
    "CREATE INDEX ix_events_user ON events (user_id) WHERE user_id IS NOT NULL",
    "CREATE INDEX ix_events_user_unresolved ON events (user_id, resolved) WHERE resolved = 0",
    "CREATE UNIQUE INDEX ux_events_event_uid ON events (event_uid) WHERE event_uid IS NOT NULL",
    "CREATE TABLE events_archive ( id INTEGER NOT NULL, event_uid TEXT, category TEXT NOT NULL, "
    "level TEXT NOT NULL, message TEXT NOT NULL, details TEXT, user_id TEXT, session_id TEXT, url TEXT, "
    "user_agent TEXT, timestamp INTEGER NOT NULL, received_at INTEGER NOT NULL, source TEXT NOT NULL, "
    "show_to_user INTEGER, user_message TEXT, resolved INTEGER, fingerprint TEXT, PRIMARY KEY (id) )",
)
"""What sidelog wrote for schema version 2 (``schema_statements()`` of that release)."""

DETAILS = [
    {"trace_id": TRACE.upper(), "span_id": "b" * 16},  # the Sentry receiver's details
    {"contexts": {"trace": {"trace_id": TRACE}}},
    {"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"},
    {"traceId": "short"},  # malformed: stays without a trace
    {"note": "about tracing, but no id"},
    None,
]


def v2_store(db: Path) -> list[tuple[object, ...]]:
    """A version-2 file with events (one per ``DETAILS``), an archived error and a group; its rows."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in V2_SCHEMA:
            conn.execute(statement)
        for table in ("events", "events_archive"):
            conn.executemany(
                f"INSERT INTO {table} VALUES (?, ?, 'test', 'error', ?, ?, 'u_1', NULL, NULL, NULL, ?, ?, "
                "'server', NULL, NULL, 0, 'fp')",
                [
                    (
                        i + 1,
                        f"uid-{table}-{i}",
                        f"event {i}",
                        json.dumps(d) if d else None,
                        1000 + i,
                        2000 + i,
                    )
                    for i, d in enumerate(DETAILS)
                ],
            )
        conn.execute(
            "INSERT INTO error_groups (fingerprint, category, message, count, first_seen, last_seen) "
            "VALUES ('fp', 'test', 'event', 6, 2000, 2005)"
        )
        conn.execute("PRAGMA user_version = 2")
        return conn.execute("SELECT * FROM events ORDER BY id").fetchall()


def layout(db: Path) -> tuple[dict[str, list[tuple[object, ...]]], set[tuple[str, str]]]:
    """Columns of each table (name, type, not null, default, pk, in order) and every index's SQL."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        columns = {t: [tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        indexes = {
            (name, " ".join(sql.split()))
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        }
    return columns, indexes


def test_a_version_2_file_upgrades_with_its_data_and_trace_ids(tmp_path: Path) -> None:
    db, fresh = tmp_path / "v2.db", tmp_path / "fresh.db"
    before = v2_store(db)
    assert check_database(db).version == 2
    assert open_schema(db).version == 2  # what was found; the file is now current
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]  # through every later step too
    after = rows(db, "SELECT * FROM events ORDER BY id")
    assert [row[:-1] for row in after] == before  # every old column of every row intact
    assert [row[-1] for row in after] == [TRACE, TRACE, TRACE, None, None, None]
    assert [r[0] for r in rows(db, "SELECT trace_id FROM events_archive ORDER BY id")][:3] == [TRACE] * 3
    assert rows(db, "SELECT count(*) FROM error_groups") == [(1,)]
    initialise(fresh)
    assert layout(db) == layout(fresh)
    plan = rows(db, "EXPLAIN QUERY PLAN SELECT id FROM events WHERE trace_id = ? ORDER BY id DESC", (TRACE,))
    assert any("ix_events_trace" in step[3] for step in plan), plan
    assert open_schema(db).version == SCHEMA_VERSION  # opening again changes nothing
    assert rows(db, "SELECT * FROM events ORDER BY id") == after


def test_export_reads_a_version_2_file_without_upgrading_it(
    tmp_path: Path, make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "v2.db"
    v2_store(db)
    settings = make_settings(db=db)
    assert run_export(argparse.Namespace(format="jsonl", output=None), settings, []) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["message"] for line in lines] == [f"event {i}" for i in range(len(DETAILS))]
    assert {line["traceId"] for line in lines} == {None}
    assert rows(db, "PRAGMA user_version") == [(2,)]  # read-only: untouched


def test_export_filters_by_trace(
    tmp_path: Path, make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "v2.db"
    v2_store(db)
    open_schema(db)
    settings = make_settings(db=db)
    assert (
        run_export(argparse.Namespace(format="jsonl", output=None), settings, [("trace", TRACE.upper())]) == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["message"] for line in lines] == ["event 0", "event 1", "event 2"]
