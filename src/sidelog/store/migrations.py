"""Schema versions: a new file is created at the current version, an older one is upgraded.

The version lives in ``PRAGMA user_version``. Version 1 is the schema sidelog wrote
before it recorded a version (``user_version`` 0 with sidelog's tables). Each later
version is one numbered function in ``MIGRATIONS``; upgrading runs every step above
the file's version, each in its own transaction that also records its number, so an
interrupted upgrade resumes where it stopped. A file from a newer sidelog is refused
(see store/checks.py), never downgraded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import orjson
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from sidelog.store.schema import (
    forward_cursors,
    group_order_indexes,
    group_snoozes,
    level_time_index,
    metadata,
    pending_flags,
    received_at_index,
    session_index,
    trace_index,
    user_unresolved_index,
    view_marks,
)
from sidelog.trace_ids import trace_id_of

LEGACY_VERSION = 1
"""What a sidelog file without a recorded version is (the first released schema)."""

_DIALECT = sqlite.dialect()


def _index_received_at(conn: sqlite3.Connection) -> None:
    """2: index ``received_at``, so retention finds old events by age, not id order."""
    conn.execute(str(CreateIndex(received_at_index, if_not_exists=True).compile(dialect=_DIALECT)))


def _add_trace_id(conn: sqlite3.Connection) -> None:
    """3: a ``trace_id`` column (events and archive) with a partial index, filled from the
    ``details`` of the rows already stored by the same rule new events follow
    (``trace_id_of``), so ``?trace=`` finds old Sentry and OTLP events too.

    ``ADD COLUMN`` changes only the schema text, not the rows; the fill is one pass in which
    SQLite picks the rows whose details contain ``trace`` (``trace_id``, ``traceId``,
    ``traceparent``, ``contexts.trace``) and Python reads only those: a million rows, a
    third with an id, took about 20 s on a busy 2-core machine. Each step checks what is
    there first, so it can run again.
    """
    for table in ("events", "events_archive"):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if "trace_id" not in columns:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN trace_id TEXT")
        conn.create_function("sidelog_trace_id", 1, _stored_trace_id, deterministic=True)
        conn.execute(
            f"UPDATE {table} SET trace_id = sidelog_trace_id(details) "
            "WHERE trace_id IS NULL AND instr(details, 'trace') > 0"
        )
    conn.execute(str(CreateIndex(trace_index, if_not_exists=True).compile(dialect=_DIALECT)))


def _stored_trace_id(details: str | None) -> str | None:
    """``trace_id_of`` for a stored ``details`` text (``None`` for text that is not JSON)."""
    if details is None:
        return None
    try:
        return trace_id_of(orjson.loads(details))
    except orjson.JSONDecodeError:
        return None


def _cover_user_unresolved(conn: sqlite3.Connection) -> None:
    """4: ``ix_events_user_unresolved`` also holds the fingerprint, so a user's unresolved
    groups (``GET /v1/errors?user=``) are read from the index alone, never the rows. Only
    unresolved errors have an entry (a partial index): the rebuild reads those only. And
    a partial index on ``session_id``, so a session's page and timeline need no scan."""
    conn.execute("DROP INDEX IF EXISTS ix_events_user_unresolved")
    conn.execute(str(CreateIndex(user_unresolved_index, if_not_exists=True).compile(dialect=_DIALECT)))
    conn.execute(str(CreateIndex(session_index, if_not_exists=True).compile(dialect=_DIALECT)))


def _index_group_orders(conn: sqlite3.Connection) -> None:
    """5: one index on ``error_groups`` per order the errors pane and ``GET /v1/errors`` page
    by (store/group_pages.py), each ending in the fingerprint, so no page sorts. The old
    ``(status, last_seen)`` index is rebuilt with the fingerprint; the table has one row per
    group, so the rebuild reads thousands of rows, not millions."""
    conn.execute("DROP INDEX IF EXISTS ix_error_groups_status_last_seen")
    for index in group_order_indexes:
        conn.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=_DIALECT)))


def _add_triage_tables(conn: sqlite3.Connection) -> None:
    """6: ``group_snoozes`` (a group hidden for a time or until N more events) and
    ``view_marks`` (when the errors pane was last looked at): two new, empty tables,
    so the step costs nothing whatever the file's size."""
    for table in (group_snoozes, view_marks):
        conn.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=_DIALECT)))


def _add_forward_cursors(conn: sqlite3.Connection) -> None:
    """7: ``forward_cursors``, the last event id sent to each ``--forward`` destination
    (sidelog/forward/cursor.py): one new, empty table."""
    conn.execute(str(CreateTable(forward_cursors, if_not_exists=True).compile(dialect=_DIALECT)))


def _partition_postgres(conn: sqlite3.Connection) -> None:
    """8: nothing in a SQLite file. On PostgreSQL (store/pg_schema.py) ``events`` becomes
    partitioned by day with its keys in ``event_uids``; the number is shared so a server
    of an older sidelog refuses to write to such a database."""


def _index_level_time(conn: sqlite3.Connection) -> None:
    """9: ``(level, timestamp)``, so the histogram counts a level's events in a time bucket
    from the index alone (store/histogram_levels.py). Built once from the rows; about two
    seconds for a million events."""
    conn.execute(str(CreateIndex(level_time_index, if_not_exists=True).compile(dialect=_DIALECT)))


def _add_pending_flags(conn: sqlite3.Connection) -> None:
    """10: ``pending_flags``, the events a bulk resolve or undo has still to flag, kept so
    a restart finishes them (store/group_status.py): one new, empty table."""
    conn.execute(str(CreateTable(pending_flags, if_not_exists=True).compile(dialect=_DIALECT)))


def _drop_timestamp_index(conn: sqlite3.Connection) -> None:
    """11: drop ``ix_events_timestamp``: every range of the client's ``timestamp`` is read from
    ``ix_events_level_time`` instead (store/schema.py, ``LEVEL_TIME_RANGE``), so one index
    fewer is written per event. The replacement is created first if missing (a file a user
    changed by hand), so no range is ever left to a scan; dropping an index is instant."""
    conn.execute(str(CreateIndex(level_time_index, if_not_exists=True).compile(dialect=_DIALECT)))
    conn.execute("DROP INDEX IF EXISTS ix_events_timestamp")


MIGRATIONS: tuple[tuple[int, Callable[[sqlite3.Connection], None]], ...] = (
    (2, _index_received_at),
    (3, _add_trace_id),
    (4, _cover_user_unresolved),
    (5, _index_group_orders),
    (6, _add_triage_tables),
    (7, _add_forward_cursors),
    (8, _partition_postgres),
    (9, _index_level_time),
    (10, _add_pending_flags),
    (11, _drop_timestamp_index),
)
"""``(version, step)`` in order; ``step`` turns version ``version - 1`` into ``version``."""

SCHEMA_VERSION = MIGRATIONS[-1][0]
"""The version this sidelog writes and understands."""


def schema_statements() -> list[str]:
    """The DDL of the current schema: every table, then its indexes (what ``create_all`` emits)."""
    statements: list[str] = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=_DIALECT)).strip())
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            statements.append(str(CreateIndex(index).compile(dialect=_DIALECT)).strip())
    return statements


def connect(db_path: Path) -> sqlite3.Connection:
    """A plain connection for schema work: autocommit mode, explicit transactions."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def initialise(db_path: Path) -> None:
    """Create the current schema in an empty database file.

    ``auto_vacuum`` must be chosen before the journal mode and before the first
    table (SQLite ignores it afterwards): INCREMENTAL lets retention hand freed pages
    back to the disk in small steps instead of needing an offline VACUUM.
    """
    conn = connect(db_path)
    try:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        for statement in schema_statements():
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    finally:
        conn.close()


def migrate(db_path: Path, from_version: int) -> list[int]:
    """Upgrade a file at ``from_version`` to ``SCHEMA_VERSION``; the versions applied."""
    applied: list[int] = []
    conn = connect(db_path)
    try:
        for version, step in MIGRATIONS:
            if version <= from_version:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                step(conn)
                conn.execute(f"PRAGMA user_version = {version}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            applied.append(version)
    finally:
        conn.close()
    return applied
