"""A shared PostgreSQL store that goes away and comes back: hold, wait, write, go on.

A SQLite file cannot vanish under a running server; a database server can (restarted,
failed over, the network cut). What sidelog does then:

- **Writes wait.** A batch that fails because the connection is gone (or the database
  is full or read-only: ``hold_reason``) raises ``StoreUnavailable`` once (one line,
  shown as the health's ``lastWriteError``); the batcher then calls ``reset``, which
  here waits, retrying the connection with a growing delay, until the database answers
  again, and the batch is retried until it is written. Meanwhile the writer task writes
  nothing, so new events stay in the bounded ingest queue (full, it pushes back or
  answers 429: README, ``SIDELOG_QUEUE_SIZE``), sync markers are not acknowledged, and
  the batch is written when the database returns. A sync reply therefore always
  counts what was committed. One case is ambiguous: the connection lost during the
  ``COMMIT`` itself. Events with an idempotency key are then stored once on retry
  (the key is already claimed); events without one may be stored twice.
- **Triage** (resolve, reopen) on this writer also announces the change to other
  servers (store/pg_triage.py), and every committed batch's ids are handed to the
  live follower (store/pg_live.py), so it never republishes this server's own events
  when it catches up after its own connection dropped.
- **Every batch transaction takes its transaction id first**, before it draws any
  event id, which the forwarder relies on (sidelog/forward/settle.py).
- **Reads retry once.** The reader pool pings a connection before handing it out
  (``pool_pre_ping``), and a read that still fails on a dead connection is retried
  once on a fresh one; a read while the database is down raises ``StoreUnavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError

from sidelog.events import Event
from sidelog.store.async_core import AsyncConnection
from sidelog.store.errors import StoreError
from sidelog.store.models import ErrorGroup
from sidelog.store.pg_schema import describe
from sidelog.store.pg_triage import announce_groups
from sidelog.store.pg_writer import PgStoreWriter
from sidelog.store.reader import StoreReader
from sidelog.store.writer import BatchResult

log = logging.getLogger(__name__)

RECONNECT_S = (0.1, 0.25, 0.5, 1.0, 2.0)
"""Delays between attempts to reach the database again (the last one repeats)."""


class StoreUnavailable(StoreError):
    """The PostgreSQL server cannot be reached (the message is one line)."""


def is_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) means the connection is gone or cannot be made."""
    import asyncpg

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, StoreUnavailable | OSError | asyncpg.PostgresConnectionError):
            return True
        if isinstance(seen, asyncpg.InterfaceError) and "closed" in str(seen):
            return True
        if isinstance(seen, asyncpg.exceptions.OperatorInterventionError):
            return True  # admin shutdown, crash shutdown, cannot connect now
        if isinstance(seen, DBAPIError):
            if seen.connection_invalidated:
                return True
            seen = seen.orig
            continue
        seen = seen.__cause__ or seen.__context__
    return False


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of the PostgreSQL error ``exc`` wraps, if any."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        code = getattr(seen, "sqlstate", None)
        if isinstance(code, str):
            return code
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def hold_reason(exc: BaseException) -> str | None:
    """Why events must wait for the database rather than be given up, or ``None``: it is
    unreachable, out of room (SQLSTATE class 53: disk full, out of memory, too many
    connections), or read-only (a standby, during a failover)."""
    if is_disconnect(exc):
        return "is unreachable"
    code = sqlstate(exc) or ""
    if code.startswith("53"):
        return "has no room to write"
    if code == "25006":
        return "is read-only"
    return None


def unavailable(display: str, exc: BaseException, reason: str = "is unreachable") -> StoreUnavailable:
    """The one-line error for a database that went away (or cannot take writes)."""
    return StoreUnavailable(
        f"the database {display} {reason} ({describe(exc)}); events are held in the queue"
    )


class SharedPgWriter(PgStoreWriter):
    """``PgStoreWriter`` that waits out an outage and tells the follower what it wrote."""

    def __init__(self, engine: Any, display: str) -> None:
        super().__init__(engine, display)
        self.on_stored: Callable[[list[int]], None] | None = None
        """Told the ids of every committed batch (store/pg_live.py)."""
        self.outage = False
        """The last write failed for a reason ``hold_reason`` names (``reset`` waits it out)."""
        self.retry_s: tuple[float, ...] = RECONNECT_S
        """Delays between attempts while held (tests shorten them)."""
        self.held_failures = 0
        """Write attempts that failed so and were held, since start."""
        self.stopping = False
        """Set when the engine stops: ``reset`` gives up waiting."""

    async def _check_version(self, conn: AsyncConnection) -> None:
        """The version check that opens every batch transaction, which here first takes
        the transaction's id: before any event id is drawn, as the forwarder's settled
        ceiling requires (sidelog/forward/settle.py)."""
        await conn.exec_driver_sql("SELECT pg_current_xact_id()")
        await super()._check_version(conn)

    async def write_batch(self, events: list[Event]) -> BatchResult:
        """``PgStoreWriter.write_batch``, held through an outage: the first failure that
        ``hold_reason`` names is raised as ``StoreUnavailable`` (the batcher reports it and
        calls ``reset``); from then on the batch is retried here, with a growing delay,
        until it is written, so it is never given up (and its syncs never answered) while
        the database is away or full."""
        attempt = 0
        while True:
            try:
                result = await super().write_batch(events)
            except Exception as exc:
                reason = hold_reason(exc)
                if reason is None:
                    raise
                self.held_failures += 1
                if not self.outage:
                    self.outage = True
                    raise unavailable(self.display, exc, reason) from None
                await asyncio.sleep(self.retry_s[min(attempt, len(self.retry_s) - 1)])
                attempt += 1
                await self.reset()
                continue
            break
        if self.outage:
            self.outage = False
            log.warning("the database %s is back; writing again", self.display)
        if result.stored and self.on_stored is not None:
            self.on_stored([event.id for event in result.stored if event.id is not None])
        return result

    async def set_group_status(
        self, fingerprint: str, *, resolved: bool, at: int, note: str | None = None
    ) -> ErrorGroup | None:
        """Resolve or reopen, then announce it to the other servers (store/pg_triage.py)."""
        group = await super().set_group_status(fingerprint, resolved=resolved, at=at, note=note)
        if group is not None:
            async with self.conn.begin():
                await announce_groups(self.conn, self.instance, [fingerprint])
        return group

    async def reset(self) -> None:
        """After a failed write: roll back; if the connection is gone, wait until a new one opens."""
        if not self.outage:
            with contextlib.suppress(Exception):
                await super().reset()
                return
        old, self._conn = self._conn, None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.invalidate()
        attempt = 0
        while not self.stopping:
            try:
                self._conn = await self._engine.connect()
                return
            except Exception as exc:
                if attempt == 0:
                    log.warning("waiting for the database: %s", unavailable(self.display, exc))
                await asyncio.sleep(self.retry_s[min(attempt, len(self.retry_s) - 1)])
                attempt += 1

    async def close(self) -> None:
        """Close the connection (and stop waiting for one)."""
        self.stopping = True
        with contextlib.suppress(Exception):
            await super().close()


class SharedReader(StoreReader):
    """``StoreReader`` whose reads survive a connection the server dropped."""

    def __init__(self, engine: Any, display: str) -> None:
        super().__init__(engine)
        self._display = display
        self._unresolved = 0

    async def _query(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        try:
            return await super()._query(sql, params)
        except Exception as exc:
            if not is_disconnect(exc):
                raise
        try:  # once more, on a fresh connection: the pool dropped the dead one
            return await super()._query(sql, params)
        except Exception as exc:
            if is_disconnect(exc):
                raise unavailable(self._display, exc) from None
            raise

    async def unresolved_count(self) -> int:
        """Unresolved groups; while the database is down, the last count read (for health)."""
        with contextlib.suppress(StoreUnavailable):
            self._unresolved = await super().unresolved_count()
        return self._unresolved
