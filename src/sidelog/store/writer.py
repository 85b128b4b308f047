"""The single writer: every change to the database goes through one ``StoreWriter``.

Each write method is one ``BEGIN IMMEDIATE`` transaction. Row ids are assigned
inside it, from the table's highest id read under the write lock (and never below
the last id this writer used), so another process writing the file between two
batches — a ``sqlite3`` shell, a script — costs nothing: no constraint failure, no
retry, and ids still increase in commit order. A committed batch is published with
its ids without reading them back.

Long jobs (retention, the size budget) are ``RetentionJob`` steps the batcher runs
between batches (store/retention.py); WAL checkpoints are writer turns too
(store/wal.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from sidelog.events import Event
from sidelog.store.async_core import AsyncConnection, AsyncEngine
from sidelog.store.batch_turn import chunked, rows_and_groups, write_in_one_turn
from sidelog.store.checks import BackgroundCheck, StoreCheck, damaged
from sidelog.store.feedback_links import CATEGORY as FEEDBACK
from sidelog.store.feedback_links import link_feedback
from sidelog.store.models import GROUP_COLUMNS, ErrorGroup, group_from_row
from sidelog.store.retention import PruneResult, RetentionJob
from sidelog.store.schema import (
    INSERT_EVENTS_MULTI_SQL,
    INSERT_EVENTS_SQL,
    UPSERT_GROUP_SQL,
)
from sidelog.store.wal import CHECKPOINT_WAIT_MS, CheckpointResult, WalKeeper, room_for_checkpoint

__all__ = ["BatchResult", "PruneResult", "RetentionJob", "StoreWriter"]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
"""The writer's busy timeout (store/database.py sets it on every connection)."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch write did."""

    stored: list[Event]
    """Events inserted, with ``id`` set, in commit order."""
    duplicates: list[Event]
    """Events whose idempotency key was already stored (accepted, not stored twice)."""


async def _insert(conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows: whole chunks as multi-row statements, the rest row by row.

    Each call is one trip to the driver's thread, so two trips at most per batch.
    """
    chunks, rest = chunked(rows)
    if chunks:
        await conn.exec_driver_sql(INSERT_EVENTS_MULTI_SQL, chunks)
    if rest:
        await conn.exec_driver_sql(INSERT_EVENTS_SQL, rest)


class StoreWriter:
    """Owns the write connection; not safe to call concurrently (the batcher serialises)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.path = Path(engine.url.database or "")
        """The database file."""
        self._conn: AsyncConnection | None = None
        self._integrity: asyncio.Task[None] | None = None
        self._background: BackgroundCheck | None = None
        self.last_id = 0
        """Highest row id this writer has seen or written."""
        self.wal = WalKeeper(self.path, self.checkpoint, log)
        """When to spend a writer turn on a checkpoint (the batcher asks it)."""

    async def open(self, check: StoreCheck | None = None) -> None:
        """Open the connection and read the current highest id.

        When ``check`` left the integrity check for later (a large file), it starts
        now on its own thread and every write waits for it (``writable``).
        """
        self._conn = await self._engine.connect()
        try:
            async with self._conn.begin():
                result = await self._conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM events")
                self.last_id = int(result.scalar_one())
        except DBAPIError as exc:  # a damaged page on the way to the newest row
            await self._conn.close()
            self._conn = None
            raise damaged(self.path, exc.orig or exc) from None
        if check is not None and check.integrity_deferred:
            self._background = BackgroundCheck(check.path)
            self._integrity = asyncio.create_task(
                asyncio.to_thread(self._background.run), name="sidelog-quick-check"
            )

    async def writable(self) -> None:
        """Return once the file may be written; raise the check's ``StoreError`` if it failed."""
        if self._integrity is not None:
            # Shielded: a cancelled waiter must not cancel the check for everyone.
            await asyncio.shield(self._integrity)

    @property
    def integrity_failed(self) -> bool:
        """The background integrity check found the file damaged."""
        task = self._integrity
        return task is not None and task.done() and not task.cancelled() and task.exception() is not None

    async def close(self) -> None:
        """Checkpoint the WAL into the main file and close the connection."""
        if self._background is not None:
            self._background.cancel()
        if self._integrity is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._integrity
        if self._conn is not None:
            try:
                if not self.integrity_failed:
                    driver = await self.driver()
                    await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await self._conn.close()
                self._conn = None

    async def release_cache(self) -> None:
        """Hand the page cache back (``PRAGMA shrink_memory``), between transactions only.

        A flood fills it to ``WRITER_CACHE_KIB`` (store/database.py); once the flood has
        drained, that is resident memory the next small batch does not need."""
        if self._conn is not None and not self._conn.in_transaction():
            driver = await self.driver()
            await driver.execute("PRAGMA shrink_memory")

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

    async def driver(self) -> Any:
        """The aiosqlite connection under ``conn``, for statements that must run outside
        a transaction (SQLAlchemy would begin one first: checkpoints, incremental vacuum)."""
        raw = await self.conn.get_raw_connection()
        return raw.driver_connection

    async def write_batch(self, events: list[Event]) -> BatchResult:
        """Insert ``events`` (skipping already-stored idempotency keys) and count errors
        into their groups, in one transaction.

        Keys are checked by the unique index itself: the batch is inserted as it is,
        and only when a key proves to be stored already (or repeated in the batch) is
        the attempt undone and the batch written again without the known keys. A
        first import, where no key is known, so costs no look-up per event; a batch
        with a duplicate costs one undone insert more than looking its keys up first.
        """
        await self.writable()
        conn = self.conn
        if not conn.in_transaction() and not any(event.category == FEEDBACK for event in events):
            # The common batch in one trip (store/batch_turn.py). Through aiosqlite's
            # ``_execute``, which runs a function on the connection's thread as each of
            # its own methods does: the one way to hand it several statements at once.
            driver = await self.driver()
            written = await driver._execute(write_in_one_turn, driver._conn, events, self.last_id)
            if written is not None:
                first_id, next_id = written
                for offset, event in enumerate(events):
                    event.id = first_id + offset
                self.last_id = max(self.last_id, next_id)
                return BatchResult(events, [])
        duplicates: list[Event] = []
        async with conn.begin():
            # Under the write lock: whatever another process inserted is counted.
            top = (await conn.exec_driver_sql("SELECT max(id) FROM events")).scalar()
            first_id = max(self.last_id, int(top or 0)) + 1
            if any(event.uid is not None for event in events):
                details = [event.details for event in events]
                try:
                    next_id = await self._write_rows(events, first_id)
                except IntegrityError as exc:
                    if "event_uid" not in str(exc.orig):
                        raise
                    # Undo the attempt: its rows are exactly those from first_id on.
                    await conn.exec_driver_sql("DELETE FROM events WHERE id >= ?", (first_id,))
                    for event, text in zip(events, details, strict=True):
                        event.details = text  # feedback links are made again below
                    events, duplicates = await self._drop_known_uids(events)
                    next_id = await self._write_rows(events, first_id)
            else:
                next_id = await self._write_rows(events, first_id)
        for offset, event in enumerate(events):
            event.id = first_id + offset
        self.last_id = max(self.last_id, next_id)
        return BatchResult(events, duplicates)

    async def _write_rows(self, events: list[Event], first_id: int) -> int:
        """Insert ``events`` with ids from ``first_id`` and count errors into their
        groups (after the insert: a failed insert leaves the groups untouched); the
        last id used."""
        conn = self.conn
        await link_feedback(conn, events, first_id - 1)  # reports name their session's errors
        rows, groups, next_id = rows_and_groups(events, first_id)
        if rows:
            await _insert(conn, rows)
        if groups:
            await conn.exec_driver_sql(UPSERT_GROUP_SQL, [tuple(g) for g in groups.values()])
        return next_id

    async def _drop_known_uids(self, events: list[Event]) -> tuple[list[Event], list[Event]]:
        """Split ``events`` into those to insert and those whose key is stored already
        (or was seen earlier in the same batch)."""
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
        await self.writable()
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

    def retention(
        self, *, older_than: int | None, budget_bytes: int | None, now: int | None = None
    ) -> RetentionJob:
        """Retention and the size budget as a job of short steps (``Batcher.run_job`` runs it)."""
        return RetentionJob(self, older_than=older_than, budget_bytes=budget_bytes, now=now)

    async def prune(self, *, older_than: int | None, budget_bytes: int | None) -> PruneResult:
        """Run a whole retention job at once (for callers with no ingest to interleave)."""
        job = self.retention(older_than=older_than, budget_bytes=budget_bytes)
        while await job.step():
            await self.wal.after_turn()
        return job.result

    async def checkpoint(self, mode: str = "TRUNCATE") -> CheckpointResult:
        """One checkpoint on the write connection that waits little for readers.

        With the busy timeout at ``CHECKPOINT_WAIT_MS`` for its duration, a short read
        is waited out, and a reader holding a snapshot for long makes it return
        ``busy`` instead of stalling the writer for up to ``BUSY_TIMEOUT_MS``. Not
        started when the disk lacks room for it.
        """
        if self.integrity_failed:
            return CheckpointResult(True, -1, -1, skipped="the database failed its integrity check")
        await self.writable()
        driver = await self.driver()
        page_size = (await (await driver.execute("PRAGMA page_size")).fetchone())[0]
        page_count = (await (await driver.execute("PRAGMA page_count")).fetchone())[0]
        reason = room_for_checkpoint(self.path, int(page_count), int(page_size))
        if reason is not None:
            return CheckpointResult(True, -1, -1, skipped=reason)
        await driver.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        try:
            row = await (await driver.execute(f"PRAGMA wal_checkpoint({mode})")).fetchone()
        finally:
            await driver.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return CheckpointResult(bool(row[0]), int(row[1]), int(row[2]))
