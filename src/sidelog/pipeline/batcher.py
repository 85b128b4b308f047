"""The batcher: the one task that writes.

It takes events from the queue when a batch is full (``max_events_per_batch``) or its
oldest event has waited ``batch_interval_ms`` — at once when a sync marker waits, and
at once when events reach an idle writer (see ``Batcher.run``) — writes them through
the ``StoreWriter``, acknowledges sync markers, and publishes the committed batch.
Triage commands and long jobs (retention, run as many short steps) are queued to the
same task, so every write to the database is serialised here (the README's Storage
section: one writer). Between turns it asks the store's ``WalKeeper`` whether a
checkpoint is due (store/wal.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sidelog.events import LEVEL_RANK, Event
from sidelog.pipeline.counters import Counters, RateMeter
from sidelog.pipeline.memory import FLOOD_EVENTS, release_heap
from sidelog.pipeline.queue import Batch, IngestQueue
from sidelog.store.writer import BatchResult, StoreWriter

log = logging.getLogger(__name__)

_RETRY_DELAYS = (0.05, 0.25, 1.0)


class JobAbandoned(RuntimeError):
    """The writer stopped before a job passed to ``Batcher.run_job`` finished."""


@dataclass(frozen=True, slots=True)
class CommittedBatch:
    """One writer cycle's events, as subscribers see them."""

    stored: list[Event]
    """Committed events, ids ascending."""
    live_only: list[Event] = field(default_factory=list)
    """Events below the store level: shown, never written (``id`` is ``None``)."""
    groups_changed: bool = False
    """Another server changed error groups (resolve, reopen, snooze: store/pg_triage.py)."""

    @property
    def has_error_news(self) -> bool:
        """The errors pane should reload: errors were stored, or groups changed elsewhere."""
        return self.groups_changed or any(event.level == "error" for event in self.stored)


@dataclass
class WriteHealth:
    """The writer's view of the database, for the status bar's alarm."""

    last_error: str | None = None
    failing: bool = False
    """The last write failed (cleared by the next successful one)."""
    batches: int = 0


class Batcher:
    """Drains the ingest queue into the store; runs commands between batches."""

    def __init__(
        self,
        queue: IngestQueue,
        writer: StoreWriter,
        *,
        batch_size: int,
        interval_s: float,
        store_level: str,
        counters: Counters,
        meter: RateMeter,
        publish: Callable[[CommittedBatch], None],
    ) -> None:
        self._queue = queue
        self._writer = writer
        self._batch_size = batch_size
        # Group commit: when the writer falls behind, one transaction takes every full
        # batch waiting (up to this many events). Flush *triggers* are unchanged; only
        # a backlog is written in fewer, larger transactions, which is what keeps the
        # writer ahead of a flood (each commit rewrites every index page it touched).
        self._group_limit = batch_size * 20 if batch_size > 1 else 1
        self._interval = interval_s
        self._store_rank = LEVEL_RANK[store_level]
        self._counters = counters
        self._meter = meter
        self._publish = publish
        self._commands: deque[tuple[Callable[[], Awaitable[Any]], asyncio.Future[Any]]] = deque()
        self._jobs: deque[tuple[Callable[[], Awaitable[bool]], asyncio.Future[None]]] = deque()
        self._stopping = False
        self._eager = False
        """Events woke an idle writer: write them now instead of waiting for the interval."""
        self._eager_after = 0.0
        """``time.monotonic()`` before which no further eager write is made."""
        self._peak = 0
        """The most events queued since the heap was last released (see ``_idle``)."""
        self._release: asyncio.Task[bool] | None = None
        self.health = WriteHealth()

    async def call(self, command: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``command`` on the writer task, between batches, and return its result."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._commands.append((command, future))
        self._queue.wake()
        return await future

    async def run_job(self, step: Callable[[], Awaitable[bool]]) -> None:
        """Run a long job on the writer task as many short turns, between batches.

        ``step`` is called whenever no batch is due; each call should be one short
        transaction (well under a batch interval) and return whether more remains.
        So a job never delays a due batch by more than one step, and a sync is
        answered while the job goes on. Returns once ``step`` returns False; a
        step's exception ends the job and is raised here. Jobs run one at a time,
        in order; one still pending at ``stop()`` raises ``JobAbandoned``.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._jobs.append((step, future))
        self._queue.wake()
        await future

    def stop(self) -> None:
        """Ask the loop to drain what is queued and return."""
        self._stopping = True
        self._queue.wake()

    async def run(self) -> None:
        """The writer loop; returns after ``stop()`` once the queue is empty.

        The batch interval is the longest an event waits, not a fixed wait: events that
        find the writer idle (nothing queued, nothing being written) are written at once,
        so a quiet app's event is committed and on screen within milliseconds. At most
        one such eager write is made per interval, so a steady trickle cannot turn into
        a commit per event; events that arrive while a batch is queued or being written
        wait for the batch to fill or to age, exactly as before, so under load batches
        still fill up to their size.
        """
        queue = self._queue
        while True:
            await self._run_commands()
            if queue and self._batch_due():
                if self._eager:
                    self._eager = False
                    self._eager_after = time.monotonic() + self._interval
                self._peak = max(self._peak, len(queue))
                batch = queue.take(max(self._batch_size, min(len(queue), self._group_limit)))
                try:
                    await self._write(batch)
                except Exception:  # the writer task must outlive any bug: count, report, go on
                    log.exception("writing a batch failed")
                    self._fail(batch)
                # Not held while the writer idles: a flood's last group (up to 20 batches of
                # events) would stay alive until the next write, and pin the heap it used.
                del batch
            elif self._jobs and not self._stopping:
                await self._job_step()
            elif queue:
                # Events wait but no batch is due: wait for it to fill or to age.
                await queue.wait(self._batch_size, self._interval - queue.oldest_age())
                continue
            elif self._stopping:
                self._abandon_jobs()
                if self._release is not None:
                    await self._release  # no thread left running past the writer
                return
            else:
                await self._idle()
                continue
            await self._writer.wal.after_turn()

    def _batch_due(self) -> bool:
        queue = self._queue
        return (
            self._stopping
            or self._eager
            or len(queue) >= self._batch_size
            or queue.has_marker
            or queue.oldest_age() >= self._interval
        )

    async def _run_commands(self) -> None:
        while self._commands:
            command, future = self._commands.popleft()
            try:
                result = await command()
            except Exception as exc:  # handed back to the caller, never lost
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)

    async def _job_step(self) -> None:
        step, future = self._jobs[0]
        if future.done():  # its caller gave up (cancelled)
            self._jobs.popleft()
            return
        try:
            more = await step()
        except Exception as exc:  # handed back to the caller; the writer goes on
            self._jobs.popleft()
            if not future.done():
                future.set_exception(exc)
            await self._writer.reset()
            return
        if not more:
            self._jobs.popleft()
            if not future.done():
                future.set_result(None)
        # Let producers run between turns even if a step never had to wait.
        await asyncio.sleep(0)

    def _abandon_jobs(self) -> None:
        while self._jobs:
            _step, future = self._jobs.popleft()
            if not future.done():
                future.set_exception(JobAbandoned("the writer stopped before the job finished"))

    async def _idle(self) -> None:
        """Nothing to do: sleep until work arrives, truncating the WAL after a quiet spell.

        The first idle turn after a flood hands the heap's free pages back to the OS
        (pipeline/memory.py), on a thread, so the resident size falls back after the
        flood instead of staying at its peak.
        """
        if self._peak >= FLOOD_EVENTS and (self._release is None or self._release.done()):
            self._peak = 0
            with contextlib.suppress(Exception):  # only memory is at stake: never fail the writer for it
                await self._writer.release_cache()
            self._release = asyncio.create_task(asyncio.to_thread(release_heap), name="sidelog-release-heap")
        wal = self._writer.wal
        timeout = wal.idle_timeout()
        await self._queue.wait(1, timeout)
        if len(self._queue) and time.monotonic() >= self._eager_after:
            self._eager = True
        if timeout is not None and not (self._queue or self._commands or self._jobs or self._stopping):
            await wal.when_idle()

    async def _write(self, batch: Batch) -> None:
        rank = self._store_rank
        if rank:
            to_store = [event for event in batch.events if LEVEL_RANK[event.level] >= rank]
            live_only = [event for event in batch.events if LEVEL_RANK[event.level] < rank]
        else:
            to_store, live_only = batch.events, []
        result = await self._write_with_retries(to_store) if to_store else BatchResult([], [])
        counters = self._counters
        lost: set[int] = set()
        repeated: set[int] = set()
        if result is None:
            counters.write_failed += len(to_store)
            stored: list[Event] = []
            lost = {id(event) for event in to_store}
        else:
            stored = result.stored
            counters.stored += len(stored)
            counters.duplicates += len(result.duplicates)
            self._meter.add(len(stored))
            repeated = {id(event) for event in result.duplicates}
        counters.live_only += len(live_only)
        # Settle each origin's counts in queue order and acknowledge every sync marker
        # at its own place, so a reply counts the events sent before it, not after.
        events, origins = batch.events, batch.origins
        start = 0
        for marker in (*batch.markers, None):
            end = len(events) if marker is None else marker.position
            for index in range(start, end):
                origin = origins[index]
                if origin is None:
                    continue
                event = events[index]
                if result is None:
                    if id(event) in lost:
                        origin.failed += 1
                elif event.id is not None:
                    origin.stored += 1
                elif id(event) in repeated:
                    origin.duplicates += 1
            start = max(start, end)
            if marker is not None:
                try:
                    marker.callback(marker.origin)
                except Exception:  # a closed connection must not stop the writer
                    log.debug("sync callback failed", exc_info=True)
        if stored or live_only:
            self._publish(CommittedBatch(stored, live_only))

    def _fail(self, batch: Batch) -> None:
        """Account for a batch lost to an unexpected error and release its waiters."""
        self._counters.write_failed += len(batch.events)
        self.health.failing = True
        for origin in batch.origins:
            if origin is not None:
                origin.failed += 1
        for marker in batch.markers:
            with contextlib.suppress(Exception):
                marker.callback(marker.origin)

    async def _write_with_retries(self, events: list[Event]) -> BatchResult | None:
        health = self.health
        for attempt, delay in enumerate((*_RETRY_DELAYS, None)):
            try:
                result = await self._writer.write_batch(events)
            except Exception as exc:  # sqlite3/SQLAlchemy errors: disk full, I/O, locked
                health.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                health.failing = True
                log.warning("write failed (attempt %d): %s", attempt + 1, health.last_error)
                await self._writer.reset()
                if delay is None:
                    return None
                await asyncio.sleep(delay)
            else:
                health.failing = False
                health.batches += 1
                return result
        return None
