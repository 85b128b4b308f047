"""The single writer: every change to the database goes through one ``StoreWriter``.

It owns one connection and assigns row ids itself (the database lock guarantees no
other process writes), so a committed batch can be published with its ids without
reading them back. Each method is one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sidelog.events import Event
from sidelog.store.models import GROUP_COLUMNS, ErrorGroup, event_to_row, group_from_row
from sidelog.store.schema import (
    EVENT_COLUMN_NAMES,
    INSERT_EVENTS_MULTI_SQL,
    INSERT_EVENTS_SQL,
    MULTI_ROW_INSERT,
    UPSERT_GROUP_SQL,
)

_PRUNE_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch write did."""

    stored: list[Event]
    """Events inserted, with ``id`` set, in commit order."""
    duplicates: list[Event]
    """Events whose idempotency key was already stored (accepted, not stored twice)."""


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What a retention pass removed."""

    deleted: int
    """Rows removed from ``events`` (errors among them were archived first)."""
    archived: int
    """Old errors copied to ``events_archive`` before deletion (errors are kept, SPEC section 7)."""


async def _insert(conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows: whole chunks as multi-row statements, the rest row by row.

    Each call is one trip to the driver's thread, so two trips at most per batch.
    """
    full = len(rows) - len(rows) % MULTI_ROW_INSERT
    if full:
        chunks = [
            tuple([value for row in rows[start : start + MULTI_ROW_INSERT] for value in row])
            for start in range(0, full, MULTI_ROW_INSERT)
        ]
        await conn.exec_driver_sql(INSERT_EVENTS_MULTI_SQL, chunks)
    if full < len(rows):
        await conn.exec_driver_sql(INSERT_EVENTS_SQL, rows[full:])


class StoreWriter:
    """Owns the write connection; not safe to call concurrently (the engine serialises)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self.last_id = 0
        """Highest row id in ``events``; the next insert uses ``last_id + 1``."""

    async def open(self) -> None:
        """Open the connection and read the current highest id."""
        self._conn = await self._engine.connect()
        async with self._conn.begin():
            result = await self._conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM events")
            self.last_id = int(result.scalar_one())

    async def close(self) -> None:
        """Checkpoint the WAL into the main file and close the connection."""
        if self._conn is not None:
            try:
                # Straight on the driver: SQLAlchemy would autobegin (BEGIN IMMEDIATE) first,
                # and SQLite refuses a checkpoint inside a transaction ("table is locked").
                raw = await self._conn.get_raw_connection()
                driver: Any = raw.driver_connection
                await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await self._conn.close()
                self._conn = None

    async def reset(self) -> None:
        """Recover after a failed write: roll back, or reopen a broken connection."""
        conn = self._conn
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        except Exception:
            with contextlib.suppress(Exception):
                await conn.close()
            self._conn = await self._engine.connect()

    @property
    def conn(self) -> AsyncConnection:
        """The open write connection."""
        if self._conn is None:
            raise RuntimeError("StoreWriter.open() was not called")
        return self._conn

    async def write_batch(self, events: list[Event]) -> BatchResult:
        """Insert ``events`` (skipping already-stored idempotency keys) and count errors
        into their groups, in one transaction."""
        conn = self.conn
        duplicates: list[Event] = []
        async with conn.begin():
            if any(event.uid is not None for event in events):
                events, duplicates = await self._drop_known_uids(events)
            next_id = self.last_id
            rows = []
            groups: dict[str, list[Any]] = {}
            for event in events:
                next_id += 1
                rows.append(event_to_row(event, next_id))
                if event.fingerprint is not None:
                    group = groups.get(event.fingerprint)
                    if group is None:
                        groups[event.fingerprint] = [
                            event.fingerprint,
                            event.category,
                            event.message,
                            1,
                            event.received_at,
                            event.received_at,
                            next_id,
                        ]
                    else:
                        group[2] = event.message
                        group[3] += 1
                        group[5] = max(group[5], event.received_at)
                        group[6] = next_id
            if rows:
                await _insert(conn, rows)
            if groups:
                await conn.exec_driver_sql(UPSERT_GROUP_SQL, [tuple(g) for g in groups.values()])
        first_id = self.last_id + 1
        for offset, event in enumerate(events):
            event.id = first_id + offset
        self.last_id = next_id
        return BatchResult(events, duplicates)

    async def _drop_known_uids(self, events: list[Event]) -> tuple[list[Event], list[Event]]:
        uids = list({event.uid for event in events if event.uid is not None})
        known: set[str] = set()
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            result = await self.conn.exec_driver_sql(
                f"SELECT event_uid FROM events WHERE event_uid IN ({marks})", tuple(chunk)
            )
            known.update(row[0] for row in result)
        fresh: list[Event] = []
        duplicates: list[Event] = []
        for event in events:
            if event.uid is None:
                fresh.append(event)
            elif event.uid in known:
                duplicates.append(event)
            else:
                known.add(event.uid)
                fresh.append(event)
        return fresh, duplicates

    async def set_group_status(
        self, fingerprint: str, *, resolved: bool, at: int, note: str | None = None
    ) -> ErrorGroup | None:
        """Resolve or reopen a group and its events; ``None`` if no such group."""
        conn = self.conn
        async with conn.begin():
            if resolved:
                result = await conn.exec_driver_sql(
                    "UPDATE error_groups SET status = 'resolved', resolved_at = ?, "
                    "resolve_note = ?, regressed = 0 WHERE fingerprint = ?",
                    (at, note, fingerprint),
                )
                old, new = 0, 1
            else:
                result = await conn.exec_driver_sql(
                    "UPDATE error_groups SET status = 'unresolved', resolved_at = NULL, "
                    "resolve_note = NULL WHERE fingerprint = ?",
                    (fingerprint,),
                )
                old, new = 1, 0
            if result.rowcount == 0:
                return None
            await conn.exec_driver_sql(
                "UPDATE events SET resolved = ? WHERE fingerprint = ? AND resolved = ?",
                (new, fingerprint, old),
            )
            row = (
                await conn.exec_driver_sql(
                    f"SELECT {GROUP_COLUMNS} FROM error_groups WHERE fingerprint = ?",
                    (fingerprint,),
                )
            ).one()
        return group_from_row(row)

    async def prune(self, *, older_than: int | None, budget_bytes: int | None) -> PruneResult:
        """Apply retention: archive old errors, delete old non-errors, then delete the
        oldest non-errors while the database is over its size budget.

        Works in chunks, one transaction each, so ingest is never held up for long.
        """
        deleted = archived = 0
        columns = ", ".join(EVENT_COLUMN_NAMES)
        if older_than is not None:
            while True:
                async with self.conn.begin():
                    # Age is judged by when sidelog received an event, not by the
                    # client's clock (a seconds-for-milliseconds mistake must not make
                    # fresh events "50 years old"). ``received_at`` grows with ``id``, so
                    # the oldest rows are the first ids: no index needed, and the scan
                    # stops at the first young row.
                    oldest: Any = await self.conn.exec_driver_sql(
                        "SELECT id, received_at FROM events ORDER BY id LIMIT ?", (_PRUNE_CHUNK,)
                    )
                    ids = []
                    for row in oldest:
                        if row[1] >= older_than:
                            break
                        ids.append(row[0])
                    if not ids:
                        break
                    marks = ", ".join("?" for _ in ids)
                    result = await self.conn.exec_driver_sql(
                        f"INSERT OR REPLACE INTO events_archive ({columns}) SELECT {columns} "
                        f"FROM events WHERE id IN ({marks}) AND level = 'error'",
                        tuple(ids),
                    )
                    archived += max(result.rowcount, 0)
                    result = await self.conn.exec_driver_sql(
                        f"DELETE FROM events WHERE id IN ({marks})", tuple(ids)
                    )
                    deleted += max(result.rowcount, 0)
        if budget_bytes is not None:
            while await self._used_bytes() > budget_bytes:
                async with self.conn.begin():
                    result = await self.conn.exec_driver_sql(
                        "DELETE FROM events WHERE id IN (SELECT id FROM events "
                        "WHERE level != 'error' ORDER BY id LIMIT ?)",
                        (_PRUNE_CHUNK,),
                    )
                count = max(result.rowcount, 0)
                deleted += count
                if count == 0:
                    break
        return PruneResult(deleted, archived)

    async def _used_bytes(self) -> int:
        """Bytes of the database in use (pages not on the free list).

        Its own short transaction: an autobegun one would stay open and make the
        writer's next ``begin()`` fail. The WAL is left out on purpose: deleting rows
        grows it until the next checkpoint, so counting it would make pruning chase
        its own tail.
        """
        async with self.conn.begin():
            page_size = (await self.conn.exec_driver_sql("PRAGMA page_size")).scalar_one()
            pages = (await self.conn.exec_driver_sql("PRAGMA page_count")).scalar_one()
            free = (await self.conn.exec_driver_sql("PRAGMA freelist_count")).scalar_one()
        return int((pages - free) * page_size)
