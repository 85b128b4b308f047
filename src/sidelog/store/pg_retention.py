"""Retention on PostgreSQL: expired days dropped whole, their errors archived first.

``events`` is partitioned by UTC day of ``received_at`` (store/pg_partitions.py), so
a day entirely older than the cut-off goes as one ``DROP TABLE`` of its partition
instead of a delete per row: the cost no longer grows with the rows. A day is kept
until all of it has expired (up to a day past the retention period; the README,
Team / staging, says so). For each expired day:

1. its errors are copied to ``events_archive`` on a second connection, ``SIDE_ROWS`` per
   transaction, beside ingest (the partition no longer receives rows, its day being
   over); meanwhile each writer turn only waits for it up to ``WAIT_S``, so batches are
   written between turns as usual;
2. one writer transaction blocks writes to that partition only (``SHARE``), counts its
   rows, archives any error that arrived since, and drops it. Dropping needs a moment's
   exclusive lock on ``events``: ``lock_timeout`` bounds the wait (ingest queues behind
   it meanwhile), and a drop that times out is tried again after the next batches, up
   to ``DROP_TRIES`` times in a pass;
3. its idempotency keys leave ``event_uids`` on the second connection, as in 1.

``writer_seconds`` is what the pass cost the writer's connection (the drops); the
archive and key removal are ``side_seconds``, work the database does beside ingest.

Rows in the default partition (days that got no partition of their own) are deleted
row by row, as before partitioning. The SQLite pass also judges far-future stamps,
keeps a file under a size budget and hands free pages back; on PostgreSQL the server
owns its disk (autovacuum reuses the space), so the budget is SQLite's only.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy.exc import DBAPIError

from sidelog.store.async_core import AsyncConnection
from sidelog.store.pg_partitions import (
    DAY_MS,
    DEFAULT_PARTITION,
    LOCK_TIMEOUT,
    partition_days,
    partition_name,
)
from sidelog.store.retention import JobWriter, RetentionJob
from sidelog.store.schema import EVENT_COLUMN_NAMES

_COLUMNS = ", ".join(EVENT_COLUMN_NAMES)
WAIT_S = 0.005
"""The longest one writer turn waits for the side connection's work (a due batch waits as long)."""
SIDE_ROWS = 5000
"""Rows archived or keys removed per transaction on the side connection."""
DROP_TRIES = 20
"""Drops of one partition tried in a pass before it waits for the next pass."""
EXPIRE_DEFAULT_SQL = f"""
WITH doomed AS (
    DELETE FROM {DEFAULT_PARTITION} WHERE id IN (
        SELECT id FROM {DEFAULT_PARTITION} WHERE received_at < $1 ORDER BY received_at, id LIMIT $2
    )
    RETURNING {_COLUMNS}
), archived AS (
    INSERT INTO events_archive ({_COLUMNS})
    SELECT {_COLUMNS} FROM doomed WHERE level = 'error'
    ON CONFLICT (id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM doomed), (SELECT count(*) FROM archived)
"""
"""One step in the default partition: at most ``$2`` of its oldest events received before ``$1``."""


def archive_sql(partition: str, *, limit: bool) -> str:
    """Copy ``partition``'s errors with an id above ``$1`` to the archive (at most ``$2``)."""
    bound = " LIMIT $2" if limit else ""
    return f"""
WITH chunk AS (
    SELECT {_COLUMNS} FROM {partition} WHERE level = 'error' AND id > $1 ORDER BY id{bound}
), archived AS (
    INSERT INTO events_archive ({_COLUMNS}) SELECT {_COLUMNS} FROM chunk
    ON CONFLICT (id) DO NOTHING RETURNING 1
)
SELECT (SELECT count(*) FROM chunk), (SELECT max(id) FROM chunk), (SELECT count(*) FROM archived)
"""


FORGET_UIDS_SQL = """
WITH gone AS (
    DELETE FROM event_uids WHERE event_uid IN (
        SELECT event_uid FROM event_uids WHERE received_at >= $1 AND received_at < $2 LIMIT $3
    )
    RETURNING 1
)
SELECT count(*) FROM gone
"""
"""One step of a dropped day's keys leaving ``event_uids``."""


def _lock_timed_out(exc: DBAPIError) -> bool:
    inner = getattr(exc, "orig", None)
    return getattr(inner, "sqlstate", None) == "55P03" or "lock timeout" in str(exc)


class PgRetentionJob(RetentionJob):
    """``RetentionJob`` by whole days, in PostgreSQL's SQL."""

    def __init__(
        self,
        writer: JobWriter,
        *,
        older_than: int | None,
        now: int | None = None,
        drop_tries: int = DROP_TRIES,
    ) -> None:
        super().__init__(writer, older_than=older_than, budget_bytes=None, now=now)
        self._drop_tries = drop_tries
        self._phases = [self._days, self._expire_default] if older_than is not None else []
        self._queue: list[int] | None = None
        self._stage = "archive"
        """Where the oldest expired day is: ``archive``, ``drop`` or ``forget`` (its keys)."""
        self._archived_up_to = 0
        self._tries = 0
        self.dropped_days: list[int] = []
        """The days whose partition this pass dropped."""
        self.skipped_days: list[int] = []
        """Expired days left for the next pass (their drop kept timing out)."""
        self._side: AsyncConnection | None = None
        self._background: asyncio.Future[None] | None = None
        self.writer_seconds = 0.0
        """Time the writer's connection spent on this pass's statements (drops, default rows)."""
        self.waiting_seconds = 0.0
        """Time writer turns spent waiting for the side connection (at most ``WAIT_S`` each)."""
        self.side_seconds = 0.0
        """Time the side connection spent archiving and removing keys, beside ingest."""

    async def _days(self) -> bool:
        """One step of the oldest expired day: archive (aside), drop, or forget keys (aside)."""
        assert self._older_than is not None
        conn = self._writer.conn
        if self._queue is None:
            started = time.perf_counter()
            async with conn.begin():
                days = await partition_days(conn)
            self._queue = [day for day in days if (day + 1) * DAY_MS <= self._older_than]
            self.writer_seconds += time.perf_counter() - started
        if not self._queue:
            await self._close_side()
            return False
        day = self._queue[0]
        if self._stage == "drop":
            started = time.perf_counter()
            more = await self._drop(day)
            self.writer_seconds += time.perf_counter() - started
        elif not await self._aside(day):
            return True
        elif self._stage == "archive":
            self._stage, more = "drop", True
        else:
            more = False
        if not more:
            self._queue.pop(0)
            self._stage, self._archived_up_to, self._tries = "archive", 0, 0
        if not self._queue:
            await self._close_side()
        return bool(self._queue)

    async def _aside(self, day: int) -> bool:
        """Run ``day``'s archive or key removal on the side connection; wait for it at most
        ``WAIT_S`` per writer turn (batches are written between turns). True once done."""
        if self._background is None:
            work = self._archive(day) if self._stage == "archive" else self._forget_uids(day)
            self._background = asyncio.ensure_future(work)
        started = time.perf_counter()
        done, _ = await asyncio.wait({self._background}, timeout=WAIT_S)
        self.waiting_seconds += time.perf_counter() - started
        if not done:
            return False
        task, self._background = self._background, None
        task.result()  # its failure ends the job
        return True

    async def _side_conn(self) -> AsyncConnection:
        if self._side is None:
            self._side = await self._writer.conn.engine.connect()
        return self._side

    async def _close_side(self) -> None:
        if self._side is not None:
            side, self._side = self._side, None
            await side.close()

    async def _archive(self, day: int) -> None:
        """Copy ``day``'s errors to the archive, ``SIDE_ROWS`` per transaction (side connection)."""
        conn, sql = await self._side_conn(), archive_sql(partition_name(day), limit=True)
        started = time.perf_counter()
        while True:
            async with conn.begin():
                row: Any = (await conn.exec_driver_sql(sql, (self._archived_up_to, SIDE_ROWS))).one()
            self._archived += int(row[2])
            if row[1] is not None:
                self._archived_up_to = int(row[1])
            if int(row[0]) < SIDE_ROWS:
                break
        self.side_seconds += time.perf_counter() - started

    async def _drop(self, day: int) -> bool:
        """Drop ``day``'s partition (errors since the archive steps archived in the same
        transaction); True while it should be tried again."""
        conn, name = self._writer.conn, partition_name(day)
        try:
            async with conn.begin():
                await conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                await conn.exec_driver_sql(f"LOCK TABLE {name} IN SHARE MODE")
                count = int((await conn.exec_driver_sql(f"SELECT count(*) FROM {name}")).scalar_one())
                since = self._archived_up_to
                row: Any = (await conn.exec_driver_sql(archive_sql(name, limit=False), (since,))).one()
                await conn.exec_driver_sql(f"DROP TABLE {name}")
        except DBAPIError as exc:
            if not _lock_timed_out(exc):
                raise
            self._tries += 1
            if self._tries < self._drop_tries:
                return True
            self.skipped_days.append(day)
            return False
        self._deleted += count
        self._archived += int(row[2])
        self.dropped_days.append(day)
        forget = getattr(self._writer, "partitions", None)
        if forget is not None:
            forget.days.discard(day)
        self._stage = "forget"
        return True

    async def _forget_uids(self, day: int) -> None:
        """Remove the dropped ``day``'s keys from ``event_uids``, ``SIDE_ROWS`` per transaction
        (side connection: only a resend of an expired key could wait on these rows)."""
        conn = await self._side_conn()
        started = time.perf_counter()
        params = (day * DAY_MS, (day + 1) * DAY_MS, SIDE_ROWS)
        while True:
            async with conn.begin():
                gone = int((await conn.exec_driver_sql(FORGET_UIDS_SQL, params)).scalar_one())
            if gone < SIDE_ROWS:
                break
        self.side_seconds += time.perf_counter() - started

    async def _expire_default(self) -> bool:
        """One step of row deletion in the default partition."""
        conn, rows = self._writer.conn, self._rows.size
        started = time.perf_counter()
        async with conn.begin():
            row: Any = (await conn.exec_driver_sql(EXPIRE_DEFAULT_SQL, (self._older_than, rows))).one()
        deleted, archived = int(row[0]), int(row[1])
        self._deleted += deleted
        self._archived += archived
        elapsed = time.perf_counter() - started
        self.writer_seconds += elapsed
        self._rows.update(elapsed)
        return deleted == rows
