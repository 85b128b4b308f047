"""The PostgreSQL writer: batches from several servers at once into one database.

Where the SQLite writer owns its file (one process, ids it assigns itself), here any
number of ``sidelog serve`` processes write together, so each batch is one statement
whose outcome does not depend on the others:

- the batch's idempotency keys are claimed first, in ``event_uids`` (``ON CONFLICT
  DO NOTHING RETURNING``): ``events`` is partitioned by day (store/pg_partitions.py),
  and PostgreSQL enforces no uniqueness across partitions, so the keys live in a table
  of their own where the key alone is unique. A key stored already, by this server or
  another one, is not returned, and its event is dropped; a key another server's open
  batch holds makes this one wait for that batch's outcome, so exactly one stores it;
- the events go in as one ``INSERT … SELECT FROM unnest(…)`` (a column array per
  field: one prepared statement for any batch size), ids from the table's identity;
  ``RETURNING`` says which ids they got;
- the day partitions the batch needs are created before its transaction, in short
  ones of their own (rarely: they are made days ahead);
- error groups are counted with ``INSERT … ON CONFLICT (fingerprint) DO UPDATE``: the
  row lock makes concurrent counts add up exactly, and groups go in fingerprint
  order, so two servers' batches lock them in the same order (no deadlock);
- the batch is announced on a notification channel with its ids, so servers and
  viewers attached to the same database show it live (store/pg_live.py);
- before each batch the schema version is read again, so a server that an upgrade by
  a newer sidelog overtook stops writing (its events stay queued, unacknowledged).

Triage statements (resolve, reopen, bulk jobs) are the SQLite writer's own, rewritten
on the way to the driver (store/pg_sql.py). No WAL, no checkpoints, no file lock.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sidelog.events import Event, now_ms
from sidelog.store.async_core import AsyncConnection, AsyncEngine
from sidelog.store.checks import StoreCheck
from sidelog.store.feedback_links import link_feedback
from sidelog.store.migrations import SCHEMA_VERSION
from sidelog.store.models import count_into_group
from sidelog.store.pg_live import CHANNEL, notices
from sidelog.store.pg_partitions import Partitions, day_of
from sidelog.store.pg_retention import PgRetentionJob
from sidelog.store.pg_schema import UIDS_TABLE, VERSION_TABLE, newer_schema
from sidelog.store.retention import RetentionJob
from sidelog.store.schema import EVENT_COLUMN_NAMES
from sidelog.store.wal import CheckpointResult, WalKeeper
from sidelog.store.writer import BatchResult, StoreWriter, log

_INSERTED = EVENT_COLUMN_NAMES[1:]
"""Every column but ``id`` (the identity assigns it)."""
_INTEGER_COLUMNS = frozenset({"timestamp", "received_at", "show_to_user", "resolved"})
_ARRAYS = ", ".join(
    f"${n}::{'bigint' if name in _INTEGER_COLUMNS else 'text'}[]" for n, name in enumerate(_INSERTED, 1)
)
_VALUES = ", ".join("details::jsonb" if name == "details" else name for name in _INSERTED)
INSERT_EVENTS_SQL = (
    f"INSERT INTO events ({', '.join(_INSERTED)}) "
    f"SELECT {_VALUES} FROM unnest({_ARRAYS}) WITH ORDINALITY AS batch({', '.join(_INSERTED)}, ord) "
    "ORDER BY ord "
    "RETURNING id, event_uid"
)
"""A whole batch in one statement; rows are inserted (and given ids) in batch order."""
CLAIM_UIDS_SQL = (
    f"INSERT INTO {UIDS_TABLE} (event_uid, received_at) "
    "SELECT u, r FROM unnest($1::text[], $2::bigint[]) AS batch(u, r) ORDER BY u "
    "ON CONFLICT (event_uid) DO NOTHING RETURNING event_uid"
)
"""Claim a batch's keys; a key stored already (or claimed by another server's open
batch, which this waits for) is not returned. In key order, so two servers' batches
wait on each other's keys in the same order (no deadlock)."""

UPSERT_GROUPS_SQL = """
INSERT INTO error_groups
    (fingerprint, category, message, count, first_seen, last_seen, last_event_id, status, regressed)
SELECT f, c, m, n, fs, ls, le, 'unresolved', 0
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
    AS batch(f, c, m, n, fs, ls, le)
ORDER BY f
ON CONFLICT (fingerprint) DO UPDATE SET
    count = error_groups.count + excluded.count,
    first_seen = least(error_groups.first_seen, excluded.first_seen),
    last_seen = greatest(error_groups.last_seen, excluded.last_seen),
    last_event_id = greatest(error_groups.last_event_id, excluded.last_event_id),
    message = excluded.message,
    regressed = CASE WHEN error_groups.status = 'resolved' THEN 1 ELSE error_groups.regressed END,
    status = 'unresolved'
"""
"""Count a batch's errors into their groups; an error in a resolved group reopens it as
regressed (PostgreSQL evaluates every SET expression against the locked old row)."""

_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def jsonb_text(details: str | None) -> str | None:
    """``details`` as ``jsonb`` accepts it: a NUL character (``\\u0000``, which JSON
    allows and ``jsonb`` refuses) becomes U+FFFD instead of failing the whole batch."""
    if details is None or "\\u0000" not in details:
        return details
    return _NUL_ESCAPE.sub(r"\1\\ufffd", details)


def _flag(value: bool | int | None) -> int | None:
    return None if value is None else int(value)


class _NoWal(WalKeeper):
    """PostgreSQL manages its own log: never a checkpoint turn."""

    def wal_bytes(self) -> int:
        """Nothing of sidelog's to checkpoint."""
        return 0


class PgStoreWriter(StoreWriter):
    """``StoreWriter`` for a PostgreSQL database shared with other servers."""

    def __init__(self, engine: AsyncEngine, display: str) -> None:
        super().__init__(engine)
        self.display = display
        """The database URL, password hidden (for messages)."""
        self.wal = _NoWal(self.path, self.checkpoint, log)
        self.partitions = Partitions()
        """The day partitions of ``events`` this writer knows (store/pg_partitions.py)."""
        self.instance = secrets.token_hex(6)
        """This writer's name in its batch notices (store/pg_live.py skips its own)."""

    async def release_cache(self) -> None:
        """Nothing to hand back: PostgreSQL's cache is the server's, not this process's."""

    async def open(self, check: StoreCheck | None = None) -> None:
        """Open the write connection and read the highest id stored so far."""
        self._conn = await self._engine.connect()
        async with self._conn.begin():
            await self._check_version(self._conn)
            result = await self._conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM events")
            self.last_id = int(result.scalar_one())
            await self.partitions.load(self._conn)
        await self.partitions.ensure(self._conn, self.partitions.wanted((), day_of(now_ms())))

    async def close(self) -> None:
        """Close the write connection (nothing to checkpoint)."""
        if self._conn is not None:
            try:
                await self._conn.close()
            finally:
                self._conn = None

    async def _check_version(self, conn: AsyncConnection) -> None:
        version = (await conn.exec_driver_sql(f"SELECT version FROM {VERSION_TABLE}")).scalar()
        if version is not None and int(version) > SCHEMA_VERSION:
            raise newer_schema(self.display, int(version))

    async def _ensure_partitions(self, events: list[Event]) -> None:
        """Create the day partitions this batch needs or should find ready (store/pg_partitions.py)."""
        wanted = self.partitions.wanted((event.received_at for event in events), day_of(now_ms()))
        if wanted:
            await self.partitions.ensure(self.conn, wanted)

    async def write_batch(self, events: list[Event]) -> BatchResult:
        """Insert ``events`` (keys already stored, here or by another server, are
        dropped) and count the inserted errors into their groups, in one transaction."""
        await self._ensure_partitions(events)
        conn = self.conn
        async with conn.begin():
            await self._check_version(conn)
            await link_feedback(conn, events, self.last_id)  # reports name their session's errors
            events, claimed_out = await _claim_uids(conn, events)
            columns: list[list[Any]] = [[] for _ in _INSERTED]
            for event in events:
                row = (
                    event.uid,
                    event.category,
                    event.level,
                    event.message,
                    jsonb_text(event.details),
                    event.user_id,
                    event.session_id,
                    event.url,
                    event.user_agent,
                    event.timestamp,
                    event.received_at,
                    event.source,
                    _flag(event.show_to_user),
                    event.user_message,
                    _flag(event.resolved),
                    event.fingerprint,
                    event.trace_id,
                )
                for column, value in zip(columns, row, strict=True):
                    column.append(value)
            returned = (await conn.exec_driver_sql(INSERT_EVENTS_SQL, tuple(columns))).all()
            stored, duplicates = _match_ids(events, sorted(returned))
            duplicates.extend(claimed_out)
            groups = _groups(stored)
            if groups:
                await conn.exec_driver_sql(UPSERT_GROUPS_SQL, tuple(map(list, zip(*groups, strict=True))))
            if stored:  # delivered to other servers' listeners only if this commits
                for payload in notices(self.instance, [event.id or 0 for event in stored]):
                    await conn.exec_driver_sql("SELECT pg_notify($1, $2)", (CHANNEL, payload))
        if stored:
            self.last_id = max(self.last_id, max(event.id or 0 for event in stored))
        return BatchResult(stored, duplicates)

    def retention(
        self, *, older_than: int | None, budget_bytes: int | None, now: int | None = None
    ) -> RetentionJob:
        """Retention by age in short steps; the size budget is the database server's business."""
        return PgRetentionJob(self, older_than=older_than, now=now)

    async def checkpoint(self, mode: str = "TRUNCATE") -> CheckpointResult:
        """Nothing to do: PostgreSQL checkpoints on its own."""
        return CheckpointResult(False, 0, 0, skipped="PostgreSQL checkpoints on its own")


async def _claim_uids(conn: AsyncConnection, events: list[Event]) -> tuple[list[Event], list[Event]]:
    """``(to insert, duplicates)``: the events whose key this batch claimed in ``event_uids``
    (the first of a key repeated within the batch) and those without a key, then the rest."""
    keyed = {event.uid: event.received_at for event in events if event.uid is not None}
    if not keyed:
        return events, []
    claimed = await conn.exec_driver_sql(CLAIM_UIDS_SQL, (list(keyed), list(keyed.values())))
    fresh = {str(row[0]) for row in claimed}
    kept: list[Event] = []
    dropped: list[Event] = []
    for event in events:
        if event.uid is None:
            kept.append(event)
        elif event.uid in fresh:
            fresh.discard(event.uid)
            kept.append(event)
        else:
            dropped.append(event)
    return kept, dropped


def _match_ids(events: list[Event], returned: list[Any]) -> tuple[list[Event], list[Event]]:
    """Give each inserted event its id: ``returned`` (``(id, event_uid)`` in id order, which is
    batch order) lacks exactly the events whose key was already stored."""
    stored: list[Event] = []
    duplicates: list[Event] = []
    position = 0
    for event in events:
        if position < len(returned) and returned[position][1] == event.uid:
            event.id = int(returned[position][0])
            stored.append(event)
            position += 1
        elif event.uid is not None:
            duplicates.append(event)
        else:
            raise RuntimeError("the database returned the inserted rows out of order")
    if position != len(returned):
        raise RuntimeError("the database returned more rows than the batch held")
    return stored, duplicates


def _groups(events: list[Event]) -> list[tuple[Any, ...]]:
    """One upsert row per fingerprint among ``events``, in fingerprint order."""
    groups: dict[str, list[Any]] = {}
    for event in events:
        if event.fingerprint is not None:
            count_into_group(groups, event, event.id)
    return [tuple(groups[key]) for key in sorted(groups)]
