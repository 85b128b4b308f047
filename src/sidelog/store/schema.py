"""The database schema: the ``events`` table the README describes (Storage) and its companions.

Column names are a public contract (users open the file with ``sqlite3`` and
Datasette). The indexes follow the access paths, each checked by
``tests/store/test_query_plans.py``, and every one costs every write, so each earns its
place. Writer CPU per event, measured with ``executemany`` of the benchmark mix into a
million-event store (10,000 rows per transaction, the writer's PRAGMAs, a busy 2-core
machine, medians of 5 runs): the table alone 7-10 µs; the six full indexes of few
distinct values or a rising key (level, category, source, received_at, level and time,
and formerly the client's timestamp) about 13 µs together, about 2 µs each (entries land
on a few hot pages); the partial ones about 17 µs, nearly all of it user and session
(thousands of values: every insert dirties a page of its own).

- by level, category and source (the UI's filters, ``?level=``…; the facet counts
  read at start-up): one plain index each. SQLite appends the rowid to every index
  entry, so ``WHERE category = ? ORDER BY id DESC`` walks ``ix_events_category``
  backwards with no sort, for a value with three events as for one with a million, and
  ``GROUP BY category`` streams the index (bounded memory for any number of names).
  Without them a value no event has reads the whole table: 250-330 ms for a page at a
  million events, 520-580 ms for the category's facet count instead of 120-130.
- by level and time (``level, timestamp``): the histogram's counts, and every read of a
  range of the client's ``timestamp`` (a ``since``-``until`` window, the histogram's
  window under another filter, the store's time span) through ``LEVEL_TIME_RANGE``, one
  range of the index per stored level. It replaced a plain ``timestamp`` index (dropped
  by schema version 11): a window's page reads as fast or faster through it (1-16 ms
  for a minute or an hour at a million events, 150-250 ms for a day, 725-840 ms before).
  The histogram under another filter pays more per event in the window (the window's rows
  are visited once per level: 75-85 ms instead of 28-35 for 100,000 of them), but never
  more than the filter's own index, which store/histogram.py reads when it visits fewer.
- by user and by a user's unresolved errors, error group, trace, idempotency key:
  partial indexes, paid only by the rows that carry the value.
- by age, for retention and the error groups' activity buckets: ``received_at``,
  appended at the right edge. Retention must find every event received before the
  cut-off even after the clock jumped back (ids then do not follow age): without the
  index every pass would read the whole table.
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
# an entry (and a write) for every event that has none. Serves the writer's duplicate
# check (``event_uid IN (…)``) and the uniqueness itself.
Index(
    "ux_events_event_uid",
    events.c.event_uid,
    unique=True,
    sqlite_where=text("event_uid IS NOT NULL"),
)
# ``?user=`` and the UI's user filter, newest page by id (no sort); the user's timeline.
Index("ix_events_user", events.c.user_id, sqlite_where=text("user_id IS NOT NULL"))
# ``?category=`` and the category filter; the category facet counts; the feedback
# reports (``category = 'feedback'``, store/feedback_views.py, store/group_activity.py).
Index("ix_events_category", events.c.category)
# ``?level=``, each level filter and the error filter (``e``), newest page by id; the
# level facet counts; the distinct levels ``LEVEL_TIME_RANGE`` hops through.
Index("ix_events_level", events.c.level)
# ``?source=`` and the source filter; the source facet counts; ``sidelog remote``'s
# last start (``source = 'system'``).
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
# Error-group triage: resolve/reopen touch a group's events (store/group_status.py); the
# group filter's page; a group's newest event and its activity buckets.
Index("ix_events_fingerprint", events.c.fingerprint, sqlite_where=text("fingerprint IS NOT NULL"))
# Retention picks its victims by age, whatever order the clock gave the ids (see
# store/retention.py); the errors pane's activity buckets find their first ids by it
# (store/group_activity.py). Entries are appended at the right edge as events arrive, so
# the write cost is one hot page per batch. Added by schema version 2.
received_at_index = Index("ix_events_received_at", events.c.received_at)
# ``?trace=``: the events of one distributed trace among millions. Partial: only the
# events that carry a trace id pay for an entry. Added by schema version 3.
trace_index = Index("ix_events_trace", events.c.trace_id, sqlite_where=text("trace_id IS NOT NULL"))
# The histogram's counts per level and time bucket (store/histogram_levels.py): a range
# count per level and bucket reads only this index, about 50 ms over a million events
# instead of 1-2 s looking up each row's level; and every range of the client's
# ``timestamp`` (``LEVEL_TIME_RANGE``). Entries land at the right edge of their level's
# range, so the write cost is within the noise of a like-for-like measurement. Partial
# on a condition no other query states (``HISTOGRAM_ONLY``): the planner may use it only
# where that term is written, so the stream's pages keep ``ix_events_level`` (in id
# order, no sort). Every level is a non-empty name, so every event has an entry. (A term
# on ``timestamp`` would not do: SQLite may take it as the range's bound instead of the
# bucket's, reading a level's whole past for every bucket.) Added by schema version 9.
HISTOGRAM_ONLY = "level > ''"
"""The term a query states to read ``ix_events_level_time`` (store/histogram_levels.py)."""
level_time_index = Index(
    "ix_events_level_time", events.c.level, events.c.timestamp, sqlite_where=text(HISTOGRAM_ONLY)
)
STORED_LEVELS = (
    "WITH RECURSIVE stored_levels(level) AS (SELECT min(level) FROM events WHERE level > ''"
    " UNION ALL SELECT (SELECT min(level) FROM events WHERE level > stored_levels.level)"
    " FROM stored_levels WHERE stored_levels.level IS NOT NULL)"
    " SELECT level FROM stored_levels"
)
"""Every distinct level in the store, one seek into ``ix_events_level`` each (a handful
of steps, never a scan), so a time range covers an odd level a hand-made row holds too."""
LEVEL_TIME_RANGE = f"level IN ({STORED_LEVELS}) AND {HISTOGRAM_ONLY}"
"""The term that lets a ``timestamp`` range be read from ``ix_events_level_time``: SQLite
reads one range of the index per stored level (``level=? AND timestamp>? AND timestamp<?``)."""

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
