"""Retention and the size budget as a job of short steps, run between ingest batches.

Each ``RetentionJob.step()`` is one short transaction (sized to take about
``STEP_TARGET_S``, re-measured after every step), so a million expired events cost
many small writer turns instead of one long stall; the batcher writes the waiting
batches between steps (``Batcher.run_job``). Phases, in order:

1. **expired**: events received before the cut-off, oldest first, found through
   ``ix_events_received_at``: errors are copied to ``events_archive``, then deleted.
   Age is when sidelog received an event, never the client's ``timestamp``.
2. **far future**: an event stamped more than ``FUTURE_SLACK_MS`` after now was
   received while the clock was wrong; its stamp says nothing about its age. It
   counts as the age of the events committed after it (ids follow commit order):
   once an event with a higher id has expired by its own stamp, so has it. Taken at
   its word it would stay for years. No stamp blocks the pass either way: victims
   are found by age through the index, so a young or future row stops nothing (the
   old pass walked ids and stopped at the first young row). A stamp less than a day
   ahead is plausible drift and taken at its word, as is a stamp in the past: that
   cannot be told apart from an old event, and judging it by its neighbours would
   let one wrong stamp hold back everything committed after it.
3. **budget**: while the database is over its size budget, the oldest non-errors go.
   "Size" is the pages in use plus the WAL, the WAL counted up to ``WAL_LIMIT_BYTES``
   (its normal ceiling): a WAL beyond that is pinned by a reader, and deleting events
   would only grow it, so the budget does not chase it.
4. **vacuum**: on files with ``auto_vacuum=INCREMENTAL`` (every file sidelog
   creates), free pages beyond a reserve go back to the disk a few hundred at a time
   (``PRAGMA incremental_vacuum``). The reserve (a tenth of the data, at least
   ``FREE_RESERVE_PAGES``) is reused by new events without growing the file.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sidelog.events import now_ms
from sidelog.store.async_core import AsyncConnection
from sidelog.store.schema import EVENT_COLUMN_NAMES
from sidelog.store.wal import WAL_LIMIT_BYTES, CheckpointResult, WalKeeper


class JobWriter(Protocol):
    """What a retention job needs of the writer (``StoreWriter`` provides it)."""

    @property
    def conn(self) -> AsyncConnection:
        """The write connection."""
        ...

    @property
    def wal(self) -> WalKeeper:
        """The writer's WAL policy (for the WAL's size)."""
        ...

    async def writable(self) -> None:
        """Wait until the file may be written."""

    async def driver(self) -> Any:
        """The driver connection under ``conn``."""

    async def checkpoint(self, mode: str = "TRUNCATE") -> CheckpointResult:
        """A checkpoint that waits little for readers."""
        ...


STEP_TARGET_S = 0.02
"""How long one step aims to hold the writer (a batch interval is 50 ms by default)."""
FUTURE_SLACK_MS = 86_400_000
"""A stamp more than a day ahead of now cannot be a clock's honest reading."""
FREE_RESERVE_PAGES = 4096
"""Free pages always kept for reuse (16 MiB at the default page size)."""
_FIRST_ROWS = 200
_MIN_ROWS, _MAX_ROWS = 50, 20_000
_FIRST_PAGES, _MIN_PAGES, _MAX_PAGES = 128, 16, 8192
_COLUMNS = ", ".join(EVENT_COLUMN_NAMES)
_ARCHIVE = f"INSERT OR REPLACE INTO events_archive ({_COLUMNS}) SELECT {_COLUMNS} FROM events WHERE "

# Every statement walks ix_events_received_at (tests/store/test_retention.py checks the
# plans). ``+level`` keeps the level test off ix_events_level: given the choice, the
# planner would rather read every error in the table than a short range by age.
UP_TO = "received_at <= ? AND (received_at, id) <= (?, ?)"
"""Rows up to and including the bound ``(received_at, id)``, in ``ix_events_received_at`` order."""
EXPIRED = "received_at < ?"
EXPIRED_BOUND_SQL = (
    "SELECT received_at, id FROM events WHERE received_at < ? ORDER BY received_at, id LIMIT 1 OFFSET ?"
)
"""The ``(received_at, id)`` of the n-th oldest expired event: where a step stops."""
FAR_FUTURE = "id IN (SELECT id FROM events WHERE received_at > ? AND id < ? ORDER BY received_at, id LIMIT ?)"
BUDGET_BOUND_SQL = (
    "SELECT received_at, id FROM events WHERE +level != 'error' ORDER BY received_at, id LIMIT 1 OFFSET ?"
)


def highest_id_sql(where: str) -> str:
    """The highest id among ``where``'s rows (``id + 0``: a bare max(id) walks the table from its end)."""
    return f"SELECT max(id + 0) FROM events WHERE {where}"


def archive_sql(where: str) -> str:
    """Copy ``where``'s errors to ``events_archive``."""
    return f"{_ARCHIVE}{where} AND +level = 'error'"


def delete_sql(where: str, *, keep_errors: bool = False) -> str:
    """Delete ``where``'s rows (all but errors with ``keep_errors``)."""
    return f"DELETE FROM events WHERE {where}" + (" AND +level != 'error'" if keep_errors else "")


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What a retention pass removed."""

    deleted: int
    """Rows removed from ``events`` (errors among them were archived first)."""
    archived: int
    """Old errors copied to ``events_archive`` before deletion (errors are kept, see the README)."""
    steps: int = 0
    """Writer turns the pass took."""
    longest_step_s: float = 0.0
    """The longest of them."""
    released_pages: int = 0
    """Free pages handed back to the disk (incremental vacuum)."""


class _Sizer:
    """Work per step, scaled after each step towards ``STEP_TARGET_S`` (at most 2x either way)."""

    def __init__(self, first: int, low: int, high: int) -> None:
        self.size = first
        self._low, self._high = low, high

    def update(self, elapsed: float) -> None:
        ratio = STEP_TARGET_S / max(elapsed, 1e-4)
        self.size = int(min(self._high, max(self._low, self.size * min(2.0, max(0.5, ratio)))))


async def _count(conn: AsyncConnection, sql: str, params: tuple[Any, ...]) -> int:
    return max((await conn.exec_driver_sql(sql, params)).rowcount, 0)


async def _pragma(conn: AsyncConnection, name: str) -> int:
    return int((await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one())


async def used_bytes(conn: AsyncConnection) -> int:
    """Bytes of the database in pages that hold data (free pages excluded)."""
    pages, free, size = [await _pragma(conn, name) for name in ("page_count", "freelist_count", "page_size")]
    return (pages - free) * size


class RetentionJob:
    """One retention pass; call ``step()`` until it returns False, then read ``result``."""

    def __init__(
        self,
        writer: JobWriter,
        *,
        older_than: int | None,
        budget_bytes: int | None,
        now: int | None = None,
    ) -> None:
        self._writer = writer
        self._older_than = older_than
        self._budget = budget_bytes
        self._future_floor = (now if now is not None else now_ms()) + FUTURE_SLACK_MS
        phases: list[Callable[[], Awaitable[bool]]] = []
        if older_than is not None:
            phases += [self._expired, self._far_future]
        if budget_bytes is not None:
            phases.append(self._over_budget)
        phases.append(self._vacuum)
        self._phases = phases
        self._rows = _Sizer(_FIRST_ROWS, _MIN_ROWS, _MAX_ROWS)
        self._pages = _Sizer(_FIRST_PAGES, _MIN_PAGES, _MAX_PAGES)
        self._boundary = 0
        self._wal_counted: int | None = None
        self._deleted = self._archived = self._released = 0
        self.step_seconds: list[float] = []
        """How long each step held the writer."""

    @property
    def done(self) -> bool:
        """Every phase has finished."""
        return not self._phases

    @property
    def result(self) -> PruneResult:
        """What the pass has done so far."""
        longest = max(self.step_seconds, default=0.0)
        return PruneResult(self._deleted, self._archived, len(self.step_seconds), longest, self._released)

    async def step(self) -> bool:
        """Run one short transaction of the current phase; True while work remains."""
        if not self._phases:
            return False
        await self._writer.writable()
        started = time.perf_counter()
        more = await self._phases[0]()
        self.step_seconds.append(time.perf_counter() - started)
        if not more:
            self._phases.pop(0)
        return bool(self._phases)

    async def _expired(self) -> bool:
        assert self._older_than is not None
        conn, rows = self._writer.conn, self._rows.size
        started = time.perf_counter()
        async with conn.begin():
            bound: Any = (await conn.exec_driver_sql(EXPIRED_BOUND_SQL, (self._older_than, rows - 1))).first()
            params: tuple[Any, ...]
            if bound is None:
                where, params = EXPIRED, (self._older_than,)
            else:
                where, params = UP_TO, (bound[0], bound[0], bound[1])
            top = (await conn.exec_driver_sql(highest_id_sql(where), params)).scalar()
            if top is None:
                return False
            self._boundary = max(self._boundary, int(top))
            self._archived += await _count(conn, archive_sql(where), params)
            self._deleted += await _count(conn, delete_sql(where), params)
        self._rows.update(time.perf_counter() - started)
        return bound is not None

    async def _far_future(self) -> bool:
        if not self._boundary:
            return False
        conn, rows = self._writer.conn, self._rows.size
        params = (self._future_floor, self._boundary, rows)
        async with conn.begin():
            self._archived += await _count(conn, archive_sql(FAR_FUTURE), params)
            deleted = await _count(conn, delete_sql(FAR_FUTURE), params)
        self._deleted += deleted
        return deleted == rows

    async def _over_budget(self) -> bool:
        assert self._budget is not None
        writer = self._writer
        if self._wal_counted is None:
            # First turn of the phase: empty the WAL if no reader pins it, then count
            # what remains, up to its normal ceiling.
            with contextlib.suppress(Exception):
                await writer.checkpoint()
            self._wal_counted = min(writer.wal.wal_bytes(), WAL_LIMIT_BYTES)
            return True
        conn, rows = writer.conn, self._rows.size
        started = time.perf_counter()
        async with conn.begin():
            if await used_bytes(conn) + self._wal_counted <= self._budget:
                return False
            bound: Any = (await conn.exec_driver_sql(BUDGET_BOUND_SQL, (rows - 1,))).first()
            params: tuple[Any, ...]
            if bound is None:
                where, params = "1", ()
            else:
                where, params = UP_TO, (bound[0], bound[0], bound[1])
            deleted = await _count(conn, delete_sql(where, keep_errors=True), params)
        self._deleted += deleted
        self._rows.update(time.perf_counter() - started)
        return deleted > 0

    async def _vacuum(self) -> bool:
        writer = self._writer
        conn = writer.conn
        async with conn.begin():
            if await _pragma(conn, "auto_vacuum") != 2:  # 2 = INCREMENTAL
                return False
            pages, free = await _pragma(conn, "page_count"), await _pragma(conn, "freelist_count")
        excess = free - max(FREE_RESERVE_PAGES, (pages - free) // 10)
        if excess <= 0:
            return False
        count = min(excess, self._pages.size)
        started = time.perf_counter()
        await incremental_vacuum(await writer.driver(), count)
        self._pages.update(time.perf_counter() - started)
        self._released += count
        return excess > count


async def incremental_vacuum(driver: Any, pages: int) -> None:
    """Give ``pages`` free pages back to the disk in one write transaction (rolled back on failure)."""
    try:
        # executescript steps the pragma to completion (execute() frees one page).
        await driver.executescript(f"BEGIN IMMEDIATE; PRAGMA incremental_vacuum({pages}); COMMIT;")
    except BaseException:
        with contextlib.suppress(Exception):
            await driver.execute("ROLLBACK")
        raise
