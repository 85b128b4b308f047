"""The database schema: the ``events`` table the README describes (Storage) and its companions.

Column names are a public contract (users open the file with ``sqlite3`` and
Datasette). The indexes follow the access paths, each checked by
``tests/store/test_query_plans.py``, and every one costs every write, so each earns its
place. Writer CPU per event for one more index, measured with ``executemany`` into a
million-event store of the benchmark mix (500 rows per transaction, the writer's PRAGMAs,
a busy 2-core machine): about 2-7 µs for a column with few distinct values (entries land
on a few hot pages), 13-20 µs for one with thousands (user, session: random inserts).

- by level, category and source (the UI's filters, ``?level=``…; the facet counts
  read at start-up): one plain index each. SQLite appends the rowid to every index
  entry, so ``WHERE category = ? ORDER BY id DESC`` walks ``ix_events_category``
  backwards with no sort, for a value with three events as for one with a million, and
  ``GROUP BY category`` streams the index (bounded memory for any number of names).
- by the client's ``timestamp`` (``since``/``until``): appended at the right edge, cheap.
- by user and by a user's unresolved errors, error group, trace, idempotency key:
  partial indexes, paid only by the rows that carry the value.
- by age, for retention: ``received_at``, appended at the right edge.
- by level and time, for the histogram's counts (``level, timestamp``): each level's
  entries are appended at the right edge of its range, cheap.
- by session: a partial index too, the dearest one (sessions are many and interleaved:
  13-20 µs of the second kind, 5-17 % fewer events per server CPU-second), paid because
  without it a session's newest page and its timeline walk the whole table (264-563 ms
  at a million events instead of about 9 ms; ``python -m sidelog.bench.filters``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, Integer, MetaData, Table, Text, text

metadata = MetaData()

_EVENT_COLUMNS = (
    ("event_uid", Text, True),
    ("category", Text, False),
    ("level", Text, False),
    ("message", Text, False),
    ("details", Text, True),
    ("user_id", Text, True),
    ("session_id", Text, True),
    ("url", Text, True),
    ("user_agent", Text, True),
    ("timestamp", Integer, False),
    ("received_at", Integer, False),
    ("source", Text, False),
    ("show_to_user", Integer, True),
    ("user_message", Text, True),
    ("resolved", Integer, True),
    ("fingerprint", Text, True),
    ("trace_id", Text, True),  # schema version 3: last, where ALTER TABLE ADD COLUMN puts it
)

EVENT_COLUMN_NAMES: tuple[str, ...] = ("id", *(name for name, _, _ in _EVENT_COLUMNS))
"""Every column of ``events`` in table order."""
COLUMNS_ADDED: dict[str, int] = {"trace_id": 3}
"""Columns added after the first schema, by the version that adds them (an older file
lacks them until its upgrade: store/checks.py must not call it damaged)."""


def _event_columns() -> list[Column[Any]]:
    columns: list[Column[Any]] = [Column("id", Integer, primary_key=True)]
    columns.extend(Column(name, kind, nullable=nullable) for name, kind, nullable in _EVENT_COLUMNS)
    return columns


events = Table("events", metadata, *_event_columns())

# The wire ``id`` is optional and rare: a partial unique index enforces it without
# an entry (and a write) for every event that has none.
Index(
    "ux_events_event_uid",
    events.c.event_uid,
    unique=True,
    sqlite_where=text("event_uid IS NOT NULL"),
)
# The access paths: by user, category, level (type), timestamp, source.
Index("ix_events_user", events.c.user_id, sqlite_where=text("user_id IS NOT NULL"))
Index("ix_events_category", events.c.category)
Index("ix_events_level", events.c.level)
Index("ix_events_timestamp", events.c.timestamp)
Index("ix_events_source", events.c.source)
# A user's unresolved errors (``GET /v1/errors?user=``): only unresolved errors have an
# entry. ``resolved`` is in the key so the planner prefers this index to ix_events_user
# for ``user_id = ? AND resolved = 0`` (two columns matched, not one), and the fingerprint
# so the groups' sub-query reads this index alone (covering), never the rows. Schema
# version 4 added ``fingerprint``.
user_unresolved_index = Index(
    "ix_events_user_unresolved",
    events.c.user_id,
    events.c.resolved,
    events.c.fingerprint,
    sqlite_where=text("resolved = 0"),
)
# A session's events (the ``#`` filter, ``?session=``, its timeline). Partial: events
# without a session pay nothing. Added by schema version 4.
session_index = Index("ix_events_session", events.c.session_id, sqlite_where=text("session_id IS NOT NULL"))
# Error-group triage: resolve/reopen touch a group's events; the stream shows them.
Index("ix_events_fingerprint", events.c.fingerprint, sqlite_where=text("fingerprint IS NOT NULL"))
# Retention picks its victims by age, whatever order the clock gave the ids (see
# store/retention.py). Entries are appended at the right edge as events arrive, so
# the write cost is one hot page per batch. Added by schema version 2.
received_at_index = Index("ix_events_received_at", events.c.received_at)
# ``?trace=``: the events of one distributed trace among millions. Partial: only the
# events that carry a trace id pay for an entry. Added by schema version 3.
trace_index = Index("ix_events_trace", events.c.trace_id, sqlite_where=text("trace_id IS NOT NULL"))
# The histogram's counts per level and time bucket (store/histogram_levels.py): a range
# count per level and bucket reads only this index, about 50 ms over a million events
# instead of 1-2 s looking up each row's level. Entries land at the right edge of their
# level's range, so the write cost is within the noise of a like-for-like measurement.
# Partial on a condition no other query states (``HISTOGRAM_ONLY``): the planner may use it
# only where that term is written, so the stream's pages keep ``ix_events_level`` (in id
# order, no sort). Every level is a non-empty name, so every event has an entry. (A term
# on ``timestamp`` would not do: SQLite may take it as the range's bound instead of the
# bucket's, reading a level's whole past for every bucket.) Added by schema version 9.
HISTOGRAM_ONLY = "level > ''"
"""The term a query states to count from ``ix_events_level_time`` (store/histogram_levels.py)."""
level_time_index = Index(
    "ix_events_level_time", events.c.level, events.c.timestamp, sqlite_where=text(HISTOGRAM_ONLY)
)

events_archive = Table("events_archive", metadata, *_event_columns())
"""Errors older than the retention period, moved here instead of deleted."""

error_groups = Table(
    "error_groups",
    metadata,
    Column("fingerprint", Text, primary_key=True),
    Column("category", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("first_seen", Integer, nullable=False),
    Column("last_seen", Integer, nullable=False),
    Column("last_event_id", Integer, nullable=True),
    Column("status", Text, nullable=False, server_default="unresolved"),
    Column("resolved_at", Integer, nullable=True),
    Column("resolve_note", Text, nullable=True),
    Column("regressed", Integer, nullable=False, server_default="0"),
)

# The errors pane and ``GET /v1/errors`` page through the groups in four orders (store/
# group_pages.py), with and without the status filter: one index per order and filter,
# each ending in the fingerprint so a keyset page needs no sort. The table holds one row
# per group and is written once per group per batch, not per event, so eight indexes
# cost little. Schema version 5 added them (and the fingerprint to the first).
_GROUP_ORDERS: dict[str, tuple[str, ...]] = {
    "last_seen": ("last_seen", "last_event_id"),
    "count": ("count",),
    "first_seen": ("first_seen",),
    "regressed": ("regressed", "last_seen", "last_event_id"),
}
group_order_indexes: list[Index] = []
for _name, _columns in _GROUP_ORDERS.items():
    _keys = [error_groups.c[column] for column in (*_columns, "fingerprint")]
    group_order_indexes.append(Index(f"ix_error_groups_status_{_name}", error_groups.c.status, *_keys))
    group_order_indexes.append(Index(f"ix_error_groups_{_name}", *_keys))

# Triage state beside the groups (schema version 6). A snooze hides an unresolved group
# from the unresolved list until ``until_ms`` passes or its count reaches ``until_count``
# (store/group_snooze.py). It is keyed by fingerprint with no foreign key: a group deleted
# (``ClearJob``) leaves its snooze behind, which every read ignores (a group first seen
# after ``snoozed_at`` is a new group) and the next snooze written sweeps away.
group_snoozes = Table(
    "group_snoozes",
    metadata,
    Column("fingerprint", Text, primary_key=True),
    Column("snoozed_at", Integer, nullable=False),
    Column("until_ms", Integer, nullable=True),
    Column("until_count", Integer, nullable=True),
)
# When each view was last looked at, by name (``errors``: the errors pane's "new since
# you last looked" marker), kept in the file so it survives restarts and follows the
# database, not the terminal. Schema version 6.
view_marks = Table(
    "view_marks",
    metadata,
    Column("name", Text, primary_key=True),
    Column("looked_at", Integer, nullable=False),
)

forward_cursors = Table(
    "forward_cursors",
    metadata,
    Column("destination", Text, primary_key=True),
    Column("last_id", Integer, nullable=False),
    Column("updated_at", Integer, nullable=False),
)
"""The last event id forwarded to each ``--forward`` destination (sidelog/forward/cursor.py),
so a restart resumes where delivery stopped. Added by schema version 7."""

pending_flags = Table(
    "pending_flags",
    metadata,
    Column("fingerprint", Text, primary_key=True),
    Column("resolved", Integer, nullable=False),
    Column("mark", Integer, nullable=False),
)
"""The events a bulk resolve or undo has still to flag, by group (store/group_status.py):
the groups change first and their events after, so a restart in between finishes the
flags (``resolved`` is the flag to set, ``mark`` the highest event id it covers). Added by
schema version 10."""

INSERT_EVENTS_SQL = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMN_NAMES)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMN_NAMES)})"
)
"""One parameterised insert; the writer runs it with ``executemany``."""

MULTI_ROW_INSERT = 512
"""Rows per multi-row insert statement (512 x 18 parameters, under SQLite's 32766)."""

INSERT_EVENTS_MULTI_SQL = f"INSERT INTO events ({', '.join(EVENT_COLUMN_NAMES)}) VALUES " + ", ".join(
    ["(" + ", ".join("?" for _ in EVENT_COLUMN_NAMES) + ")"] * MULTI_ROW_INSERT
)
"""``MULTI_ROW_INSERT`` rows in one statement. The sqlite3 module releases the GIL
only inside each statement step and must win it back after every step; while the
event loop thread is busy parsing, each win-back can wait a whole switch interval.
One step per 512 rows instead of per row keeps the writer thread from stalling."""

UPSERT_GROUP_SQL = """
INSERT INTO error_groups
    (fingerprint, category, message, count, first_seen, last_seen, last_event_id, status, regressed)
VALUES (?, ?, ?, ?, ?, ?, ?, 'unresolved', 0)
ON CONFLICT(fingerprint) DO UPDATE SET
    count = count + excluded.count,
    last_seen = max(last_seen, excluded.last_seen),
    last_event_id = excluded.last_event_id,
    message = excluded.message,
    regressed = CASE WHEN status = 'resolved' THEN 1 ELSE regressed END,
    status = 'unresolved'
"""
"""Count a batch's errors into their groups; an error in a resolved group reopens it
as regressed (SQLite evaluates every SET expression against the old row)."""
