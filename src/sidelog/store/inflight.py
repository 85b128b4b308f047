"""Store reads that finish even when whoever asked for them is cancelled.

A cancelled ``await`` inside SQLAlchemy's aiosqlite adapter invalidates the
connection, and its "graceful close, then force close" fallback can leave a task
waiting forever on a worker thread that has already stopped — the event loop then
never finishes closing. That happens whenever the UI quits (its workers are
cancelled) or the engine stops (its background tasks are cancelled) in the middle
of a query. So each read runs in a task of its own that the caller's cancellation
does not reach: the caller gets its ``CancelledError`` at once, the read completes
and returns its connection to the pool, and ``drain`` lets the engine wait for the
stragglers before it disposes of the connection pools.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

DRAIN_TIMEOUT_S = 5.0
"""How long ``drain`` waits for reads still running; a read is one short query."""


class InFlight:
    """Runs store reads shielded from their callers' cancellation and remembers them until done."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Await ``work`` in its own task; cancelling the caller leaves that task running.

        Once ``close`` has begun, a read is refused as cancelled: the engine is stopping,
        and a read started now (a pane reloading after the last batch) would open a
        pool connection after the pools were disposed, one nobody would close."""
        if self._closed:  # the pools are being disposed: a new read would open a connection nobody closes
            work.close()
            raise asyncio.CancelledError("the store is closed")
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return await asyncio.shield(task)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            # Mark an orphan's failure as seen: nobody awaits a read whose caller left.
            task.exception()

    @property
    def pending(self) -> int:
        """Reads still running."""
        return len(self._tasks)

    async def drain(self, timeout: float = DRAIN_TIMEOUT_S) -> None:
        """Wait until every read started so far has finished (at most ``timeout`` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self, timeout: float = DRAIN_TIMEOUT_S) -> None:
        """Refuse new reads, then ``drain``: the pools can be disposed of after this."""
        self._closed = True
        await self.drain(timeout)
