"""The engine: sidelog's core (store, queue, writer, live feed, queries, triage).

``sidelog.server.start_server`` opens it and binds the endpoints, which see it only through
the protocols of ``sidelog.ingest.sink``; it knows nothing of Textual. ``stop`` closes the
forwarders, stops accepting and reading, drains the queue with a deadline, closes connections
and disposes the database engines, in that order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, Unpack, cast

from sidelog.config import Settings
from sidelog.engine_health import engine_health
from sidelog.errors import Overloaded
from sidelog.events import LEVEL_RANK, Event, now_ms
from sidelog.filters import EventFilter
from sidelog.health import Forwarding, Health
from sidelog.pipeline.batcher import Batcher, JobAbandoned
from sidelog.pipeline.counters import Counters, RateMeter
from sidelog.pipeline.housekeeping import housekeeping
from sidelog.pipeline.live import MAX_FACET_VALUES, LiveFeed, Subscription
from sidelog.pipeline.memory import release_heap
from sidelog.pipeline.queue import IngestQueue, Origin, SyncMarker
from sidelog.pipeline.ratelimit import RateLimiter
from sidelog.store.database import DatabaseLock
from sidelog.store.facets import StoreJob, read_facet_counts
from sidelog.store.group_pages import GroupQuery
from sidelog.store.models import ErrorGroup
from sidelog.store.opening import open_store
from sidelog.store.reader import StoreReader
from sidelog.store.writer import PruneResult, StoreWriter

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from sidelog.ingest.sink import Connection, Listener

__all__ = ["Engine", "Overloaded", "StopReport", "Subscription"]

log = logging.getLogger(__name__)  # background failures (checkpoints, retention): never stop ingest

_SERVER_SOURCES = frozenset({"server", "middleware", "api"})
JobT = TypeVar("JobT", bound=StoreJob)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StopReport:
    """What shutdown managed: everything queued is either committed or counted here."""

    unsaved: int
    """Events still queued when the drain deadline passed (lost)."""
    write_failed: int
    """Events whose batch could not be written during the whole run."""


class Engine:
    """The sidelog core. Construct with Settings; ``open_store`` (or ``start_server``) before use.
    Satisfies ``sidelog.ingest.sink.EngineAPI``, the only view endpoints get of it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limits = settings.limits
        """The event size limits every endpoint applies."""
        self.counters = Counters()
        self.meter = RateMeter()
        self.endpoints: list[tuple[str, str]] = []
        """``(kind, address)`` of every listening endpoint, e.g. ``("tcp", "127.0.0.1:7411")``."""
        self.clients = 0
        """Open ingest connections (sockets and live HTTP streams)."""
        self.started_at = time.time()
        """Wall-clock start, for the uptime in health."""
        self._min_rank = LEVEL_RANK[settings.log_level]
        self._rate_limiter = RateLimiter(settings.rate_limit_burst, settings.rate_limit_interval_s)
        self.queue = IngestQueue(settings.queue_size)
        """The bounded queue between intake and the writer (endpoints see ``queue_full``)."""
        self._live = LiveFeed()
        self._listeners: list[Listener] = []
        self._connections: set[Connection] = set()
        self._tasks: list[asyncio.Task[Any]] = []
        self._lock = DatabaseLock(settings.db.with_name(settings.db.name + ".lock"))
        self._writer: StoreWriter | None = None
        self._reader: StoreReader | None = None
        self._batcher: Batcher | None = None
        self._engines: tuple[Any, Any] | None = None
        self.forwarders: list[Forwarding] = []  # ``--forward`` destinations (sidelog/forward/)

    # ----------------------------------------------------------------- lifecycle

    async def open_store(self, *, count_facets: bool = True) -> None:
        """Open (creating if needed) the database and start the writer task; ``count_facets=False``
        leaves the facet counts to ``recount_facets`` (the UI paints the newest events first)."""
        settings = self.settings
        store = await open_store(settings.store, self._lock, log)  # a SQLite file or PostgreSQL
        self._engines, self._writer, self._reader = store.engines, store.writer, store.reader
        if count_facets:
            await self.recount_facets()
        self._batcher = Batcher(
            self.queue,
            self._writer,
            batch_size=settings.batch_size,
            interval_s=settings.batch_interval_ms / 1000,
            store_level=settings.store_level,
            counters=self.counters,
            meter=self.meter,
            publish=self._live.publish,
        )
        # The writer task must stay first: ``stop`` drains it before cancelling the rest.
        self._tasks.append(asyncio.create_task(self._batcher.run(), name="sidelog-writer"))
        self._tasks.append(
            asyncio.create_task(
                housekeeping(self._rate_limiter, self.system_event, self.prune, log, self._live.facets),
                name="sidelog-housekeeping",
            )
        )
        self._tasks.append(asyncio.create_task(self._finish_pending_flags(), name="sidelog-pending-flags"))
        publish = self._live.publish
        for name, work in store.upkeep(settings.db, publish, log):
            self._tasks.append(asyncio.create_task(work, name=name))

    def add_endpoint(self, listener: Listener) -> None:
        """Register a bound endpoint so health lists it and ``stop`` closes it first."""
        self.endpoints.append((listener.kind, listener.address))
        self._listeners.append(listener)

    def announce_started(self) -> None:
        """Record the ``sidelog started`` system event naming every endpoint."""
        self.system_event("info", "sidelog started", {"endpoints": [f"{k} {a}" for k, a in self.endpoints]})

    def track_connection(self, connection: Connection, opened: bool) -> None:
        """Count a connection in or out (``stop`` stops and closes those still open)."""
        if opened:
            self._connections.add(connection)
            self.clients += 1
        elif connection in self._connections:
            self._connections.discard(connection)
            self.clients -= 1

    async def stop(self, timeout: float = 10.0) -> StopReport:
        """Stop accepting, stop reading, drain the queue, close connections and the store."""
        await asyncio.gather(*(forwarder.close() for forwarder in self.forwarders), return_exceptions=True)
        for listener in self._listeners:
            with contextlib.suppress(Exception):
                await listener.close()
        # Sockets stop reading now but close only after the drain, so the sync replies
        # for what they already sent still reach them (else clients resend: duplicates).
        for connection in list(self._connections):
            connection.stop_reading()
        unsaved = 0
        if self._batcher is not None:
            self._batcher.stop()
            writer_task = self._tasks[0]
            try:
                await asyncio.wait_for(asyncio.shield(writer_task), timeout)
            except TimeoutError:
                unsaved = len(self.queue)
                writer_task.cancel()
        for connection in list(self._connections):
            connection.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for listener in self._listeners:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.wait_closed(), 1.0)
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer.close()
        if self._reader is not None:
            await self._reader.inflight.close()
        if self._engines is not None:
            for engine in self._engines:
                await engine.dispose()
        self._lock.release()
        return StopReport(unsaved=unsaved, write_failed=self.counters.write_failed)

    # ------------------------------------------------------------------- intake

    def admit(self, events: list[Event], origin: Origin | None) -> None:
        """Filter, rate-limit and queue validated events. Never blocks.

        Callers check ``queue_full`` afterwards and stop reading (sockets) or answer
        429 before calling (HTTP, see ``try_admit``).
        """
        counters = self.counters
        counters.received += len(events)
        settings = self.settings
        kept: list[Event] = []
        limiter = self._rate_limiter
        min_rank = self._min_rank
        for event in events:
            source = event.source
            if (
                not settings.enable_event_logging
                or LEVEL_RANK[event.level] < min_rank
                or (source == "client" and not settings.enable_client_logging)
                or (source in _SERVER_SOURCES and not settings.enable_server_logging)
            ):
                counters.filtered += 1
                if origin is not None:
                    origin.filtered += 1
            elif not limiter.allow(source, event.category):
                counters.rate_limited += 1
                if origin is not None:
                    origin.rate_limited += 1
            else:
                kept.append(event)
        if kept:
            self.queue.put(kept, origin)

    @property
    def queue_full(self) -> bool:
        """True while producers should stop reading (sockets) or answer 429 (HTTP)."""
        return self.queue.full

    def when_room(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the writer has drained the queue below half its capacity."""
        self.queue.when_space(callback)

    def try_admit(self, events: list[Event], origin: Origin | None) -> None:
        """``admit`` unless the queue lacks room: then count overflow and raise ``Overloaded``."""
        if self.queue.full:
            self.counters.overflow += len(events)
            raise Overloaded
        self.admit(events, origin)

    def reject(self, count: int, origin: Origin | None = None) -> None:
        """Count rejected input."""
        self.counters.rejected += count
        if origin is not None:
            origin.rejected += count

    def request_sync(self, origin: Origin, callback: Callable[[Origin], None]) -> None:
        """Call ``callback(origin)`` once everything ``origin`` queued so far is written."""
        self.queue.put_marker(SyncMarker(origin, callback))

    async def wait_committed(self, origin: Origin) -> Origin:
        """Wait until everything ``origin`` queued so far is written (HTTP ``?wait=true``)."""
        future: asyncio.Future[Origin] = asyncio.get_running_loop().create_future()

        def done(result: Origin) -> None:
            if not future.done():
                future.set_result(result)

        self.request_sync(origin, done)
        return await future

    def system_event(self, level: str, message: str, details: dict[str, Any] | None = None) -> None:
        """Record one of sidelog's own events (``source=system``), if enabled."""
        if not self.settings.enable_system_logging:
            return
        import orjson

        now = now_ms()
        event = Event(
            message=message,
            category="system",
            level=level,
            details=orjson.dumps(details).decode() if details else None,
            timestamp=now,
            received_at=now,
            source="system",
            resolved=False if level == "error" else None,
        )
        if level == "error":
            from sidelog.fingerprint import fingerprint_of

            event.fingerprint = fingerprint_of("system", message, details)
        self.queue.put([event], None)

    # ------------------------------------------------------------- live events

    def subscribe(self, maxsize: int = 1024) -> Subscription:
        """A new live subscription to committed batches."""
        return self._live.subscribe(maxsize)

    # ------------------------------------------------------------------ queries

    @property
    def reader(self) -> StoreReader:
        """Read queries (open the store first)."""
        if self._reader is None:
            raise RuntimeError("the store is not open")
        return self._reader

    async def events(
        self,
        flt: EventFilter,
        *,
        limit: int = 100,
        before: int | None = None,
        after: int | None = None,
    ) -> list[Event]:
        """Stored events matching ``flt`` (see ``StoreReader.events``)."""
        return await self.reader.events(flt, limit=limit, before=before, after=after)

    async def event(self, event_id: int) -> Event | None:
        """One stored event by id."""
        return await self.reader.event(event_id)

    async def groups(self, *, limit: int = 200, **query: Unpack[GroupQuery]) -> list[ErrorGroup]:
        """One page of error groups (see ``StoreReader.groups``)."""
        return await self.reader.groups(limit=limit, **query)

    def facet_counts(self) -> dict[str, dict[str, int]]:
        """Stored events per level, category and source (kept current in memory)."""
        return {name: dict(values) for name, values in self._live.facets.counts.items()}

    @property
    def stored_total(self) -> int:
        """Events in the database (kept current in memory)."""
        return self._live.facets.total

    async def resolve(self, fingerprint: str, note: str | None = None) -> ErrorGroup | None:
        """Resolve a group and its events through the writer; ``None`` if unknown."""
        return await self._set_status(fingerprint, resolved=True, note=note)

    async def reopen(self, fingerprint: str) -> ErrorGroup | None:
        """Reopen a resolved group through the writer; ``None`` if unknown."""
        return await self._set_status(fingerprint, resolved=False)

    async def _set_status(
        self, fingerprint: str, *, resolved: bool, note: str | None = None
    ) -> ErrorGroup | None:
        writer = self._require_writer()
        assert self._batcher is not None
        group: ErrorGroup | None = await self._batcher.call(
            lambda: writer.set_group_status(fingerprint, resolved=resolved, at=now_ms(), note=note)
        )
        return group

    async def prune(self) -> PruneResult:
        """Apply retention and the size budget now (also hourly), in short writer turns between batches."""
        settings = self.settings
        older_than = now_ms() - settings.retention_days * 86_400_000 if settings.retention_days else None
        budget = settings.db_budget_mb * 1024 * 1024 if settings.db_budget_mb else None
        job = await self.run_job(
            lambda w: w.retention(older_than=older_than, budget_bytes=budget), recount=False
        )
        result = job.result
        if result.deleted:  # else the counts stand; a recount grows the heap by 9 MiB at 1M events
            await self.recount_facets()
            await asyncio.to_thread(release_heap)
        return result

    async def run_job(self, make: Callable[[StoreWriter], JobT], *, recount: bool = True) -> JobT:
        """Run a store job in short writer turns between ingest batches; ``recount`` the facets after."""
        job = make(self._require_writer())
        assert self._batcher is not None
        await self._batcher.run_job(job.step)
        if recount:
            await self.recount_facets()
        return job

    async def _finish_pending_flags(self) -> None:
        """Write the event flags a bulk resolve or undo of an earlier run left (store/group_status.py)."""
        from sidelog.store.group_status import flags_pending, resume_flags  # after the first paint

        try:
            if await flags_pending(self.reader):
                await self.run_job(resume_flags, recount=False)
        except JobAbandoned:
            pass  # stopping again: the rows stay for the next start
        except Exception as exc:  # the store failing is reported by the writer's own path
            log.warning("finishing the pending event flags failed: %s", exc)

    async def on_writer(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run one short ``work(connection)`` as a writer turn between ingest batches."""
        writer, batcher = self._require_writer(), self._batcher
        assert batcher is not None

        async def turn() -> T:
            await writer.writable()
            return await work(writer.conn)

        return cast(T, await batcher.call(turn))

    async def health(self) -> Health:
        """The figures of the status bar and ``GET /v1/health`` (sidelog/engine_health.py)."""
        assert self._batcher is not None
        return await engine_health(self, self._require_writer(), self._batcher)

    # --------------------------------------------------------------- internals

    async def recount_facets(self) -> None:
        """Re-read the live facet counts (busiest values only; ``StoreError`` if unreadable)."""
        self._live.facets.reset(await read_facet_counts(self.reader, self.settings.db, MAX_FACET_VALUES))

    def _require_writer(self) -> StoreWriter:
        if self._writer is None:
            raise RuntimeError("the store is not open")
        return self._writer
