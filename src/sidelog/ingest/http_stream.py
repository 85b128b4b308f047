"""``GET /v1/stream``: live committed events as server-sent events.

Each event is ``id: <row id>`` + ``data: <event JSON>``. A client that reconnects
with ``Last-Event-ID`` (EventSource does so by itself) first gets the stored events
after that id, read from the store, then the live ones, with no gap and no repeat:
the subscription is opened *before* the replay and live events at or below the last
replayed id are skipped.

Memory per client is bounded in bytes, not batches: a pump task moves committed
batches from the engine subscription into a per-client buffer of formatted
messages at once (so batches never pile up in the subscription), and when that
buffer would pass ``buffer_bytes`` the client is told ``event: lagged`` and
closed; it resumes from the store with ``Last-Event-ID``. A write that cannot be
flushed within ``write_timeout_s`` (a client that never reads) aborts the
connection, freeing its buffers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.ingest.http_routes import ENGINE, FILTER_PARAMS, check_params, event_filter
from sidelog.ingest.http_security import ApiError

if TYPE_CHECKING:
    from sidelog.ingest.sink import EngineAPI
    from sidelog.pipeline.live import Subscription

_REPLAY_PAGE = 500
_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """Tuning of the live stream (tests shorten the timeouts)."""

    heartbeat_s: float = 15.0
    """Seconds between ``: ping`` comments on a quiet stream (keeps proxies and clients sure)."""
    write_timeout_s: float = 10.0
    """A write not flushed within this many seconds drops the client."""
    buffer_bytes: int = 1024 * 1024
    """Formatted events held per client while its socket is busy; past it, ``lagged``."""
    queue_batches: int = 64
    """Committed batches the subscription holds before the pump takes them."""
    max_clients: int = 256
    """Concurrent streams; more get 503."""


STREAM_OPTIONS: web.AppKey[StreamOptions] = web.AppKey("sidelog_stream_options", StreamOptions)
STREAMS: web.AppKey[set[StreamClient]] = web.AppKey("sidelog_streams")


class StreamClient:
    """One open stream, counted in ``engine.clients``; ``close()`` ends it (shutdown).

    A ``sidelog.ingest.sink.Connection``: a stream reads nothing from its client, so
    ``stop_reading`` ends it at once, before the drain, as ``close`` does.
    """

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self.closed = asyncio.Event()
        self.dropped_slow = False

    def close(self) -> None:
        """End the stream: wake the handler, which then returns."""
        self.closed.set()

    def stop_reading(self) -> None:
        """Shutdown's first step: end the stream (nothing is read from it anyway)."""
        self.close()

    def abort(self) -> None:
        """Drop the connection now, discarding whatever the client has not read."""
        transport = self._request.transport
        if transport is not None:
            transport.abort()
        self.closed.set()


def format_event(event: Event) -> bytes:
    """One SSE message; live-only events (never stored) carry no ``id:``."""
    data = orjson.dumps(event.to_wire())
    if event.id is None:
        return b"data: " + data + b"\n\n"
    return b"id: " + str(event.id).encode() + b"\ndata: " + data + b"\n\n"


def _last_event_id(request: web.Request) -> int | None:
    raw = (
        request.headers.get("Last-Event-ID") or request.query.get("lastEventId") or request.query.get("after")
    )
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise ApiError(400, f"Last-Event-ID must be an event id (a whole number), got {raw[:40]!r}") from None
    if value < 0:
        raise ApiError(400, "Last-Event-ID must not be negative")
    return value


async def stream(request: web.Request) -> web.StreamResponse:
    """Serve live events matching the query's filters until the client leaves."""
    engine = request.app[ENGINE]
    options = request.app[STREAM_OPTIONS]
    clients = request.app[STREAMS]
    check_params(request, FILTER_PARAMS | {"lastEventId", "after"})
    flt = event_filter(request)
    last_id = _last_event_id(request)
    if len(clients) >= options.max_clients:
        raise ApiError(503, f"too many live streams (at most {options.max_clients})", {"Retry-After": "5"})
    client = StreamClient(request)
    subscription = engine.subscribe(maxsize=options.queue_batches)
    clients.add(client)
    engine.track_connection(client, opened=True)
    response = web.StreamResponse(headers=_HEADERS)
    response.force_close()  # the stream's end is the connection's end (clients reconnect)
    pending = _Pending(options.buffer_bytes)
    pump = asyncio.create_task(_pump(subscription, flt, pending), name="sidelog-stream-pump")
    try:
        await response.prepare(request)
        await _send(client, response, b"retry: 2000\n: connected\n\n", options)
        sent = 0 if last_id is None else await _replay(engine, client, response, flt, last_id, options)
        await _follow(client, response, pending, sent, options)
    except (ConnectionError, _Dropped):
        if client.dropped_slow:
            engine.system_event(
                "warn",
                "dropped a live-stream client that stopped reading",
                {"peer": str(request.remote), "write_timeout_s": options.write_timeout_s},
            )
    finally:
        pump.cancel()
        subscription.close()
        clients.discard(client)
        engine.track_connection(client, opened=False)
    return response


class _Dropped(Exception):
    """The client was dropped (too slow) or the server is stopping."""


async def _send(
    client: StreamClient, response: web.StreamResponse, data: bytes, options: StreamOptions
) -> None:
    if client.closed.is_set():
        raise _Dropped
    try:
        await asyncio.wait_for(response.write(data), options.write_timeout_s)
    except TimeoutError:
        client.dropped_slow = True
        client.abort()
        raise _Dropped from None


async def _replay(
    engine: EngineAPI,
    client: StreamClient,
    response: web.StreamResponse,
    flt: EventFilter,
    after: int,
    options: StreamOptions,
) -> int:
    """Send stored events after ``after``, oldest first; return the last id sent."""
    while True:
        events = await engine.events(flt, limit=_REPLAY_PAGE, after=after)
        if not events:
            return after
        await _send(client, response, b"".join(format_event(e) for e in events), options)
        after = events[-1].id or after
        if len(events) < _REPLAY_PAGE:
            return after


class _Pending:
    """Formatted messages waiting for the socket, bounded in bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list[tuple[int | None, bytes]] = []
        self.size = 0
        self.overflowed = False
        self.ready = asyncio.Event()

    def add(self, event_id: int | None, data: bytes) -> bool:
        """Queue one message; ``False`` (and ``overflowed``) once the bound is passed."""
        if self.size + len(data) > self.limit:
            self.overflowed = True
            self.ready.set()
            return False
        self.items.append((event_id, data))
        self.size += len(data)
        self.ready.set()
        return True

    def take(self) -> list[tuple[int | None, bytes]]:
        """Everything queued so far."""
        items, self.items, self.size = self.items, [], 0
        self.ready.clear()
        return items


async def _pump(subscription: Subscription, flt: EventFilter, pending: _Pending) -> None:
    """Move committed batches into ``pending`` as fast as they come, until it overflows."""
    while not pending.overflowed:
        batch = await subscription.get()
        if subscription.lagged:
            pending.overflowed = True
            pending.ready.set()
            return
        for event in batch.stored:
            if flt.matches(event) and not pending.add(event.id, format_event(event)):
                return
        for event in batch.live_only:
            if flt.matches(event) and not pending.add(None, format_event(event)):
                return


async def _follow(
    client: StreamClient,
    response: web.StreamResponse,
    pending: _Pending,
    sent: int,
    options: StreamOptions,
) -> None:
    """Write pending messages (skipping ids already replayed), pings when quiet, and
    ``event: lagged`` when the buffer overflowed."""
    closed = asyncio.ensure_future(client.closed.wait())
    try:
        while True:
            ready = asyncio.ensure_future(pending.ready.wait())
            done, _ = await asyncio.wait(
                {ready, closed}, timeout=options.heartbeat_s, return_when="FIRST_COMPLETED"
            )
            ready.cancel()
            if closed in done:
                return
            if not done:
                await _send(client, response, b": ping\n\n", options)
                continue
            overflowed = pending.overflowed
            chunks: list[bytes] = []
            for event_id, data in pending.take():
                if event_id is None:
                    chunks.append(data)
                elif event_id > sent:
                    chunks.append(data)
                    sent = event_id
            if chunks:
                await _send(client, response, b"".join(chunks), options)
            if overflowed:
                notice = orjson.dumps({"lagged": True, "lastEventId": sent})
                await _send(client, response, b"event: lagged\ndata: " + notice + b"\n\n", options)
                return
    finally:
        closed.cancel()
