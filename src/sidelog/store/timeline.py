"""One session (or user, or trace) read as a timeline: by event time, not by arrival.

The stream and ``StoreReader.events`` order by row id, which is arrival order: a browser
batch sent late lands after the server error it caused. Triage wants what happened in
the order it happened, so these queries order by ``timestamp`` with the id breaking ties
(a total, stable order), newest first, bounded, and count what the bound left out.

Each query exists twice over one SQL text: ``async`` through the engine's reader (the
UI; short read transactions on the reader pool, guarded by its in-flight tracker like
every query in ``store/reader.py``) and plain ``sqlite3`` (``sidelog export --bundle``,
which reads the file read-only like ``sidelog export``). Filters come from
``EventFilter`` through ``filter_sql``, so a timeline selects exactly what
``?session=…`` selects in the stream and the HTTP API.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.store.models import GROUP_COLUMNS, ErrorGroup, event_from_row, group_from_row, select_columns
from sidelog.store.reader import StoreReader, filter_sql
from sidelog.store.schema import EVENT_COLUMN_NAMES

Scope = Literal["session", "user", "trace"]
"""What ties a timeline's events together."""
SCOPES: tuple[Scope, ...] = ("session", "user", "trace")
"""The fallback order: an event without a session is lined up by its user, then its trace."""
TIMELINE_LIMIT = 1_000
"""Events a timeline shows (the newest; how many earlier ones exist is said in one line)."""
MAX_PRECEDING = 1_000
"""Most events a repro bundle lists before its error."""

_ALL_COLUMNS = ", ".join(EVENT_COLUMN_NAMES)


@dataclass(frozen=True, slots=True)
class Timeline:
    """The events of one scope, oldest first, and how many older ones were left out."""

    scope: Scope
    value: str
    events: list[Event]
    earlier: int
    """Matching events older than the oldest shown (0 when all are shown)."""
    later: int = 0
    """Matching events newer than the newest shown (only when centred on an older event)."""


def scope_value(event: Event, scope: Scope) -> str | None:
    """The event's session id, user id or trace id."""
    if scope == "session":
        return event.session_id
    if scope == "user":
        return event.user_id
    return event.trace_id


def scopes_of(event: Event) -> list[Scope]:
    """The scopes the event can be lined up by, in fallback order (may be empty)."""
    return [scope for scope in SCOPES if scope_value(event, scope) is not None]


def scope_filter(scope: Scope, value: str) -> EventFilter:
    """The stream's filter for one scope (``?session=…``, ``?user=…``, ``?trace=…``)."""
    if scope == "session":
        return EventFilter(session=value)
    if scope == "user":
        return EventFilter(user=value)
    return EventFilter(trace=value)


def _newest_sql(select: str, flt: EventFilter, limit: int) -> tuple[str, list[Any]]:
    terms, params = filter_sql(flt)
    where = f" WHERE {' AND '.join(terms)}" if terms else ""
    sql = f"SELECT {select} FROM events{where} ORDER BY timestamp DESC, id DESC LIMIT ?"
    return sql, [*params, limit]


def _count_sql(flt: EventFilter) -> tuple[str, list[Any]]:
    terms, params = filter_sql(flt)
    where = f" WHERE {' AND '.join(terms)}" if terms else ""
    return f"SELECT count(*) FROM events{where}", params


def _before_sql(select: str, flt: EventFilter, anchor: Event, limit: int) -> tuple[str, list[Any]]:
    """The ``limit`` events just before ``anchor`` in (time, id) order, newest first."""
    terms, params = filter_sql(flt)
    terms.append("(timestamp < ? OR (timestamp = ? AND id < ?))")
    params.extend((anchor.timestamp, anchor.timestamp, anchor.id if anchor.id is not None else 0))
    sql = f"SELECT {select} FROM events WHERE {' AND '.join(terms)} ORDER BY timestamp DESC, id DESC LIMIT ?"
    return sql, [*params, limit]


def _after_sql(select: str, flt: EventFilter, anchor: Event, limit: int) -> tuple[str, list[Any]]:
    """``anchor`` and the events just after it in (time, id) order, oldest first."""
    terms, params = filter_sql(flt)
    terms.append("(timestamp > ? OR (timestamp = ? AND id >= ?))")
    params.extend((anchor.timestamp, anchor.timestamp, anchor.id if anchor.id is not None else 0))
    sql = f"SELECT {select} FROM events WHERE {' AND '.join(terms)} ORDER BY timestamp, id LIMIT ?"
    return sql, [*params, limit]


def _later_count_sql(flt: EventFilter, last: Event) -> tuple[str, list[Any]]:
    terms, params = filter_sql(flt)
    terms.append("(timestamp > ? OR (timestamp = ? AND id > ?))")
    params.extend((last.timestamp, last.timestamp, last.id if last.id is not None else 0))
    return f"SELECT count(*) FROM events WHERE {' AND '.join(terms)}", params


def _timeline(scope: Scope, value: str, rows: list[Any], total: int) -> Timeline:
    events = [event_from_row(row) for row in reversed(rows)]
    return Timeline(scope, value, events, max(0, total - len(events)))


# ------------------------------------------------------------------ async (the UI)


async def _rows(reader: StoreReader, sql: str, params: list[Any]) -> list[Any]:
    # The reader's own read path: its pool and its in-flight guard (store/reader.py).
    return await reader._all(sql, params)


async def read_timeline(
    reader: StoreReader,
    scope: Scope,
    value: str,
    *,
    limit: int = TIMELINE_LIMIT,
    around: Event | None = None,
) -> Timeline:
    """The newest ``limit`` events of one session, user or trace, oldest first.

    When ``around`` (a stored event of the scope) is older than all of them, the ``limit``
    events around it instead, half before it, so the event the timeline was opened
    from is always in it.
    """
    flt = scope_filter(scope, value)
    rows = await _rows(reader, *_newest_sql(_ALL_COLUMNS, flt, limit))
    if len(rows) < limit:
        return _timeline(scope, value, rows, len(rows))
    total = int((await _rows(reader, *_count_sql(flt)))[0][0])
    oldest = event_from_row(rows[-1])
    if (
        around is None
        or around.id is None
        or (around.timestamp, around.id) >= (oldest.timestamp, oldest.id or 0)
    ):
        return _timeline(scope, value, rows, total)
    before = await _rows(reader, *_before_sql(_ALL_COLUMNS, flt, around, limit // 2))
    after = await _rows(reader, *_after_sql(_ALL_COLUMNS, flt, around, limit - len(before)))
    events = [event_from_row(row) for row in [*reversed(before), *after]]
    later = int((await _rows(reader, *_later_count_sql(flt, events[-1])))[0][0]) if events else 0
    return Timeline(scope, value, events, max(0, total - len(events) - later), later)


async def read_preceding(
    reader: StoreReader, scope: Scope, value: str, anchor: Event, limit: int
) -> list[Event]:
    """Up to ``limit`` events of the scope just before ``anchor`` (by time, then id), oldest first."""
    if limit <= 0:
        return []
    sql, params = _before_sql(_ALL_COLUMNS, scope_filter(scope, value), anchor, min(limit, MAX_PRECEDING))
    return [event_from_row(row) for row in reversed(await _rows(reader, sql, params))]


async def read_group_event(reader: StoreReader, fingerprint: str) -> tuple[ErrorGroup | None, Event | None]:
    """An error group and its newest stored event (either may be gone: retention, clear)."""
    group = await reader.group(fingerprint)
    event = None
    if group is not None and group.last_event_id is not None:
        event = await reader.event(group.last_event_id)
    if event is None:
        sql = f"SELECT {_ALL_COLUMNS} FROM events WHERE fingerprint = ? ORDER BY id DESC LIMIT 1"
        rows = await _rows(reader, sql, [fingerprint])
        event = event_from_row(rows[0]) if rows else None
    return group, event


# ------------------------------------------------------- sqlite3 (the command line)


def sync_preceding(
    conn: sqlite3.Connection, scope: Scope, value: str, anchor: Event, limit: int
) -> list[Event]:
    """``read_preceding`` over a plain read-only connection."""
    if limit <= 0:
        return []
    flt = scope_filter(scope, value)
    sql, params = _before_sql(select_columns(conn), flt, anchor, min(limit, MAX_PRECEDING))
    return [event_from_row(row) for row in reversed(conn.execute(sql, params).fetchall())]


def sync_group_event(conn: sqlite3.Connection, fingerprint: str) -> tuple[ErrorGroup | None, Event | None]:
    """``read_group_event`` over a plain read-only connection."""
    row = conn.execute(
        f"SELECT {GROUP_COLUMNS} FROM error_groups WHERE fingerprint = ?", (fingerprint,)
    ).fetchone()
    group = group_from_row(row) if row is not None else None
    select = select_columns(conn)
    found = None
    if group is not None and group.last_event_id is not None:
        found = conn.execute(f"SELECT {select} FROM events WHERE id = ?", (group.last_event_id,)).fetchone()
    if found is None:
        found = conn.execute(
            f"SELECT {select} FROM events WHERE fingerprint = ? ORDER BY id DESC LIMIT 1", (fingerprint,)
        ).fetchone()
    return group, event_from_row(found) if found is not None else None


__all__ = [
    "MAX_PRECEDING",
    "SCOPES",
    "TIMELINE_LIMIT",
    "Scope",
    "Timeline",
    "read_group_event",
    "read_preceding",
    "read_timeline",
    "scope_filter",
    "scope_value",
    "scopes_of",
    "sync_group_event",
    "sync_preceding",
]
