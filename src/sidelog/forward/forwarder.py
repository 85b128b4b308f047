"""The forwarding loop for one destination, its health, and its shutdown.

Events are read from the store by id (``id > cursor ORDER BY id``, a page at a time),
never taken from the live feed: a restart, a slow or absent receiver loses nothing,
and memory holds one batch at most whatever the backlog. The live feed only wakes the
loop when a batch commits (plus a rare re-check for rows another process wrote), so an
idle forwarder costs nothing. On a PostgreSQL store shared by several servers, ids do not
commit in order, so only ids up to a settled ceiling are read (sidelog/forward/settle.py
explains why that skips nothing).

A batch is retried until delivered — connection errors, timeouts, 5xx and 429 with
capped, jittered exponential backoff (``Retry-After`` honoured) — or refused (another
4xx), which skips it with an ``error`` system event. The cursor is saved after each
delivered or skipped batch (sidelog/forward/cursor.py). Shutdown lets a request under
way finish and its cursor be saved (up to ``close_timeout_s``), so a normal stop and
start sends nothing twice. Ingest never waits on any of this.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from sidelog.events import Event, now_ms
from sidelog.filters import EventFilter
from sidelog.forward.cursor import load_cursor, save_cursor
from sidelog.forward.destination import Destination
from sidelog.forward.encode import encode_request
from sidelog.forward.sender import Outcome, backoff, post
from sidelog.forward.settle import settled_ceiling, shared_store

if TYPE_CHECKING:
    from sidelog.engine import Engine

log = logging.getLogger(__name__)

_EVERYTHING = EventFilter()


@dataclass(frozen=True, slots=True)
class ForwardOptions:
    """Sizes and intervals of forwarding (tests shorten them)."""

    batch_size: int = 1000
    """Most records in one request."""
    max_request_bytes: int = 4 * 1024 * 1024
    """A request stops growing past about this many bytes of events (before gzip)."""
    page_size: int = 250
    """Events read from the store at a time while filling a batch."""
    timeout_s: float = 10.0
    """Longest a request may take, answer included."""
    connect_timeout_s: float = 5.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_retry_after_s: float = 120.0
    """A ``Retry-After`` longer than this is cut to it."""
    close_timeout_s: float = 5.0
    """How long shutdown waits for a request under way (then cuts it off)."""
    idle_check_s: float = 30.0
    """Re-read the store this often while no commit woke the loop (rows another process wrote)."""
    report_every_s: float = 60.0
    """At most one system event per destination this often for a refused batch."""


class Forwarder:
    """Sends every stored event to one destination, in id order, each once."""

    def __init__(self, engine: Engine, destination: Destination, options: ForwardOptions) -> None:
        self.engine = engine
        self.destination = destination
        self.options = options
        self.cursor = 0
        """The last id delivered (or skipped) to this destination."""
        self.sent = 0
        """Records delivered since start."""
        self.requests = 0
        self.failures = 0
        """Attempts that failed (each retry counts)."""
        self.skipped = 0
        """Records in batches the receiver refused (4xx), skipped."""
        self.rejected = 0
        """Records the receiver accepted the request of but said it rejected (partial success)."""
        self.last_error: str | None = None
        self.last_error_at: int | None = None
        self.failing_since: int | None = None
        """When the current run of failed attempts began (ms), ``None`` while delivering."""
        self.state = "starting"
        """``starting``, ``settling`` (waiting for other writers' transactions, see
        forward/settle.py), ``idle``, ``sending``, ``retrying``, ``stopped``."""
        self._closing = asyncio.Event()
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._last_report = 0.0

    # ------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the loop on the running event loop."""
        timeout = aiohttp.ClientTimeout(total=self.options.timeout_s, connect=self.options.connect_timeout_s)
        self._session = aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": "sidelog-forward"})
        self._task = asyncio.create_task(self._run(), name=f"sidelog-forward {self.destination.endpoint}")

    async def close(self) -> None:
        """Stop: let a request under way finish and its cursor be saved, within ``close_timeout_s``."""
        self._closing.set()
        task = self._task
        if task is not None and not task.done():
            if not self._busy:
                task.cancel()
            await asyncio.wait({task}, timeout=self.options.close_timeout_s)
            if not task.done():
                task.cancel()
                await asyncio.wait({task})
        if self._session is not None:
            await self._session.close()
        self.state = "stopped"

    def status(self, last_id: int) -> dict[str, Any]:
        """This destination's health (``GET /v1/health`` ``forwarding``), ``last_id`` the store's newest."""
        return {
            "destination": self.destination.url,
            "endpoint": self.destination.endpoint,
            "state": self.state,
            "forwardedId": self.cursor,
            "lag": max(0, last_id - self.cursor),
            "sent": self.sent,
            "requests": self.requests,
            "failures": self.failures,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "lastError": self.last_error,
            "lastErrorAt": self.last_error_at,
            "failingSince": self.failing_since,
        }

    # ------------------------------------------------------------------ loop

    async def _run(self) -> None:
        subscription = self.engine.subscribe(maxsize=1)  # a wake-up signal: one batch held at most
        try:
            self.cursor = await self._start_cursor()
            attempt = 0
            while not self._closing.is_set():
                try:
                    while subscription.get_nowait() is not None:
                        pass
                    events = await self._collect()
                    if not events:
                        self.state = "idle"
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(subscription.get(), self.options.idle_check_s)
                        continue
                    await self._forward(events)
                    attempt = 0
                except Exception as exc:  # the store failing: keep trying, never stop ingest
                    self._note_failure(f"cannot read the store: {str(exc).splitlines()[0][:200]}")
                    await self._pause(self._backoff(attempt))
                    attempt += 1
        finally:
            subscription.close()

    async def _start_cursor(self) -> int:
        """The saved cursor, not above the store's newest id (a store emptied and restarted
        numbers from 1 again: its new events must not be taken as already sent)."""
        attempt = 0
        while True:
            try:
                saved = await load_cursor(self.engine, self.destination.endpoint)
                newest = await self.engine.events(_EVERYTHING, limit=1)
                break
            except Exception as exc:
                self._note_failure(f"cannot read the forwarding cursor: {str(exc).splitlines()[0][:200]}")
                await self._pause(self._backoff(attempt))
                attempt += 1
        top = (newest[0].id or 0) if newest else 0
        return min(saved or 0, top)

    async def _collect(self) -> list[Event]:
        """The next batch after the cursor: up to ``batch_size`` events or about
        ``max_request_bytes``, read a page at a time."""
        options = self.options
        batch: list[Event] = []
        size = 0
        after = self.cursor
        ceiling: int | None = None
        if shared_store(self.engine.reader):  # ids may commit out of order: forward/settle.py
            self.state = "settling"
            ceiling = await settled_ceiling(self.engine.reader, self._pause)
            if ceiling is None or ceiling <= after:
                return batch
        while len(batch) < options.batch_size and size < options.max_request_bytes:
            limit = min(options.page_size, options.batch_size - len(batch))
            page = await self.engine.events(_EVERYTHING, limit=limit, after=after)
            if ceiling is not None and page and (page[-1].id or 0) > ceiling:
                page = [event for event in page if (event.id or 0) <= ceiling]
                limit = len(page) + 1  # the last page below the ceiling
            for event in page:
                batch.append(event)
                size += len(event.message) + len(event.details or "") + 200
                if size >= options.max_request_bytes:
                    break
            if len(page) < limit:
                break
            after = batch[-1].id or after
        return batch

    async def _forward(self, events: list[Event]) -> None:
        """Deliver ``events`` (retrying) or skip them if refused; then save the cursor."""
        self._busy = True
        try:
            body = await asyncio.to_thread(_gzip_request, events)
            attempt = 0
            while True:
                self.state = "sending" if self.failing_since is None else "retrying"
                assert self._session is not None
                self.requests += 1
                outcome = await post(self._session, self.destination.endpoint, body)
                if outcome.kind != "retry":
                    break
                self._note_failure(outcome.reason)
                delay = self._backoff(attempt)
                if outcome.retry_after is not None:
                    delay = min(max(delay, outcome.retry_after), self.options.max_retry_after_s)
                self.state = "retrying"
                if await self._pause(delay):
                    return  # closing: not delivered, the cursor stays before this batch
                attempt += 1
            self._settle(outcome, events)
            await self._save(events[-1].id or self.cursor)
        finally:
            self._busy = False

    def _settle(self, outcome: Outcome, events: list[Event]) -> None:
        """Count a finished batch and report the end of an outage or a refusal."""
        if self.failing_since is not None and outcome.kind == "delivered":
            seconds = (now_ms() - self.failing_since) / 1000
            self.engine.system_event(
                "info",
                "forwarding resumed",
                {
                    "destination": self.destination.url,
                    "after_s": round(seconds, 1),
                    "failures": self.failures,
                },
            )
            self.failing_since = None
        if outcome.kind == "delivered":
            self.sent += len(events)
            self.rejected += outcome.rejected
            return
        self.skipped += len(events)
        self._note_failure(outcome.reason)
        self.failing_since = None  # refused, not down: the next batch may go through
        now = time.monotonic()
        if now - self._last_report >= self.options.report_every_s or self._last_report == 0.0:
            self._last_report = now
            self.engine.system_event(
                "error",
                "forwarding refused a batch",
                {
                    "destination": self.destination.url,
                    "reason": outcome.reason,
                    "first_id": events[0].id,
                    "last_id": events[-1].id,
                    "skipped_total": self.skipped,
                },
            )

    async def _save(self, last_id: int) -> None:
        self.cursor = last_id
        try:
            await save_cursor(self.engine, self.destination.endpoint, last_id)
        except Exception as exc:  # kept in memory; the next batch's save records it
            self._note_failure(f"cannot save the forwarding cursor: {str(exc).splitlines()[0][:200]}")

    def _note_failure(self, reason: str) -> None:
        self.failures += 1
        self.last_error = reason
        self.last_error_at = now_ms()
        if self.failing_since is None:
            self.failing_since = self.last_error_at
            log.warning("forwarding to %s failed: %s", self.destination.endpoint, reason)

    def _backoff(self, attempt: int) -> float:
        return backoff(attempt, self.options.backoff_base_s, self.options.backoff_cap_s)

    async def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless closing; True when closing cut it short."""
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return False
        return True


def _gzip_request(events: list[Event]) -> bytes:
    """The request body: the encoded request, gzip'd (run off the event loop)."""
    return gzip.compress(encode_request(events), compresslevel=6)


def start_forwarders(
    engine: Engine, destinations: list[Destination], options: ForwardOptions | None = None
) -> list[Forwarder]:
    """Start one forwarder per destination; the engine closes them first when it stops."""
    started: list[Forwarder] = []
    for destination in destinations:
        forwarder = Forwarder(engine, destination, options or ForwardOptions())
        forwarder.start()
        engine.forwarders.append(forwarder)
        started.append(forwarder)
    return started
