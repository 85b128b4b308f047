"""Schema version 4: a file written by version 3 is upgraded (a user's unresolved groups
read from one covering index).

The version-3 file is built from that version's own DDL (as released), filled, and
opened the way sidelog opens a store; the result must be the schema a new file gets,
with every row kept and the rebuilt index serving a user's unresolved groups alone.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from sidelog.events import Event
from sidelog.store.database import open_schema
from sidelog.store.migrations import SCHEMA_VERSION
from tests.store.support import insert, new_store, rows

V3_SCHEMA = (
    "CREATE TABLE error_groups ( fingerprint TEXT NOT NULL, category TEXT NOT NULL, message TEXT NOT NULL, "
    "count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, last_event_id INTEGER, "
    "status TEXT DEFAULT 'unresolved' NOT NULL, resolved_at INTEGER, resolve_note TEXT, "
    "regressed INTEGER DEFAULT '0' NOT NULL, PRIMARY KEY (fingerprint) )",
    "CREATE INDEX ix_error_groups_status_last_seen ON error_groups (status, last_seen)",
    "CREATE TABLE events ( id INTEGER NOT NULL, event_uid TEXT, category TEXT NOT NULL, level TEXT NOT NULL, "
    "message TEXT NOT NULL, details TEXT, user_id TEXT, session_id TEXT, url TEXT, user_agent TEXT, "
    "timestamp INTEGER NOT NULL, received_at INTEGER NOT NULL, source TEXT NOT NULL, show_to_user INTEGER, "
    "user_message TEXT, resolved INTEGER, fingerprint TEXT, trace_id TEXT, PRIMARY KEY (id) )",
    "CREATE INDEX ix_events_category ON events (category)",
    "CREATE INDEX ix_events_fingerprint ON events (fingerprint) WHERE fingerprint IS NOT NULL",
    "CREATE INDEX ix_events_level ON events (level)",
    "CREATE INDEX ix_events_received_at ON events (received_at)",
    "CREATE INDEX ix_events_source ON events (source)",
    "CREATE INDEX ix_events_timestamp ON events (timestamp)",
    "CREATE INDEX ix_events_trace ON events (trace_id) WHERE trace_id IS NOT NULL",
    "CREATE INDEX ix_events_user ON events (user_id) WHERE user_id IS NOT NULL",
    "CREATE INDEX ix_events_user_unresolved ON events (user_id, resolved) WHERE resolved = 0",
    "CREATE UNIQUE INDEX ux_events_event_uid ON events (event_uid) WHERE event_uid IS NOT NULL",
    "CREATE TABLE events_archive ( id INTEGER NOT NULL, event_uid TEXT, category TEXT NOT NULL, "
    "level TEXT NOT NULL, message TEXT NOT NULL, details TEXT, user_id TEXT, session_id TEXT, url TEXT, "
    "user_agent TEXT, timestamp INTEGER NOT NULL, received_at INTEGER NOT NULL, source TEXT NOT NULL, "
    "show_to_user INTEGER, user_message TEXT, resolved INTEGER, fingerprint TEXT, trace_id TEXT, "
    "PRIMARY KEY (id) )",
)
"""Version 3's DDL, as sidelog created it (store/migrations.py ``schema_statements``)."""

USER_GROUPS_SQL = (
    "SELECT DISTINCT fingerprint FROM events WHERE user_id = ? AND resolved = 0 ORDER BY fingerprint"
)


def v3_store(db: Path) -> None:
    """A version-3 file with errors (resolved and not) and other events of two users."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN")
        for statement in V3_SCHEMA:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 3")
        conn.execute("COMMIT")
    events = []
    for i in range(300):
        error = i % 3 == 0
        events.append(
            Event(
                message=f"m{i}",
                category=("auth", "payment")[i % 2],
                level="error" if error else "info",
                user_id=("u1", "u2", None)[i % 3 if not error else (i // 3) % 2],
                timestamp=1_700_000_000_000 + i,
                received_at=1_700_000_000_000 + i,
                source="server",
                resolved=(i % 9 == 0) if error else None,
                fingerprint=f"fp{i % 7}" if error else None,
            )
        )
    insert(db, events)


def schema_of(db: Path) -> set[tuple[str, str]]:
    """Every table and index, by name and normalised SQL."""
    return {
        (name, " ".join(sql.split()))
        for name, sql in rows(db, "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
    }


async def test_a_version_3_file_is_upgraded_to_the_access_path_indexes(tmp_path: Path) -> None:
    old, fresh = tmp_path / "v3.db", tmp_path / "fresh.db"
    v3_store(old)
    await new_store(fresh)
    kept = rows(old, "SELECT * FROM events ORDER BY id")
    groups = {user: rows(old, USER_GROUPS_SQL, (user,)) for user in ("u1", "u2")}
    assert all(groups.values())  # the fixture has unresolved errors for both users

    assert open_schema(old).version == 3  # what was found; the file is now current
    assert rows(old, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert schema_of(old) == schema_of(fresh)
    cover = [info[2] for info in rows(old, "PRAGMA index_info(ix_events_user_unresolved)")]
    assert cover == ["user_id", "resolved", "fingerprint"]
    assert rows(old, "SELECT * FROM events ORDER BY id") == kept
    assert {user: rows(old, USER_GROUPS_SQL, (user,)) for user in ("u1", "u2")} == groups
    plan = " | ".join(step[3] for step in rows(old, f"EXPLAIN QUERY PLAN {USER_GROUPS_SQL}", ("u1",)))
    assert "COVERING INDEX ix_events_user_unresolved" in plan, plan
    assert rows(old, "PRAGMA integrity_check") == [("ok",)]
    # opening again changes nothing
    assert open_schema(old).version == SCHEMA_VERSION
    assert schema_of(old) == schema_of(fresh)
