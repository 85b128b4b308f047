"""Sentry's routes on the HTTP API (README "Already using Sentry or OpenTelemetry?").

* ``POST /stream``: the Spotlight sidecar's path (``sentry_sdk.init(spotlight=…)``,
  ``SENTRY_SPOTLIGHT``), envelopes, uncompressed;
* ``POST /api/<project>/envelope/``: a DSN ``http://<any key>@127.0.0.1:7412/<project>``,
  envelopes, compressed as the SDK chooses (gzip; brotli from the Python SDK
  when the app has ``brotli``);
* ``POST /api/<project>/store/``: the legacy single-event route.

They sit behind the same middlewares as ``/v1/events`` (``http.py``: Host and
Origin checks before any body is read), and answer as Sentry does: ``200`` with
``{"id": …}`` (plus what sidelog kept and refused), ``429`` with ``Retry-After``
when the queue is full (the SDKs then back off), and a JSON reason for every other
refusal. The body streams through ``BodyDecoder`` into ``EnvelopeReader`` so
memory stays bounded whatever is sent; the conversion itself is in ``sentry`` and
``sentry_items``, free of aiohttp.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from sidelog.errors import Overloaded
from sidelog.events import Event, now_ms
from sidelog.ingest.http_body import BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT_S
from sidelog.ingest.http_security import ApiError
from sidelog.ingest.receiver import PIECE, BodyDecoder, PayloadError, ReceiverCounts, clip
from sidelog.ingest.sentry import MAX_LISTED, EnvelopeReader, store_events
from sidelog.ingest.sentry_items import ItemContext
from sidelog.pipeline.queue import Origin

if TYPE_CHECKING:
    from sidelog.config import Settings
    from sidelog.ingest.sink import IngestSink

__all__ = [
    "ENVELOPE_FACTOR",
    "RECEIVER_COUNTS",
    "admit",
    "peer",
    "read_decoded",
    "receiver_counts",
    "register",
]

RECEIVER_COUNTS: web.AppKey[ReceiverCounts] = web.AppKey("sidelog_receiver_counts", ReceiverCounts)
"""Items the Sentry and OTLP routes received but did not store, by kind (for ``/v1/health``)."""
ENVELOPE_FACTOR = 64
"""An envelope may carry this many times ``max_line_bytes`` (after decompression);
each item stays within ``max_line_bytes``. Larger envelopes are refused with 413."""
RETRY_AFTER_S = 1


def receiver_counts(app: web.Application, sink: IngestSink) -> ReceiverCounts:
    """The app's shared ``ReceiverCounts`` (created on first use), kept in the sink's counters
    so ``GET /v1/health`` and the status bar report them as ``counters.not_stored``."""
    counts = app.get(RECEIVER_COUNTS)
    if counts is None:
        counts = app[RECEIVER_COUNTS] = ReceiverCounts(sink.counters.not_stored)
    return counts


def register(
    app: web.Application, sink: IngestSink, settings: Settings, expect_handler: Any = None
) -> ReceiverCounts:
    """Add the Sentry routes to ``app``; returns the counter of items received but not stored."""
    counts = receiver_counts(app, sink)
    routes = _SentryRoutes(sink, settings.slow_request_ms, counts)
    for path, handler in (
        ("/stream", routes.envelope),
        ("/api/{project}/envelope/", routes.envelope),
        ("/api/{project}/envelope", routes.envelope),
        ("/api/{project}/store/", routes.store),
        ("/api/{project}/store", routes.store),
    ):
        app.router.add_post(path, handler, expect_handler=expect_handler)
    return counts


class _SentryRoutes:
    def __init__(self, sink: IngestSink, slow_ms: int, counts: ReceiverCounts) -> None:
        self._sink = sink
        self._slow_ms = slow_ms
        self._counts = counts

    def _context(self, request: web.Request) -> ItemContext:
        limits = self._sink.limits
        agent = None
        if "Origin" in request.headers:  # a page's SDK: its request carries the browser's agent
            agent = clip(request.headers.get("User-Agent", ""), limits.max_field_bytes) or None
        return ItemContext(
            limits=limits,
            received_at=now_ms(),
            slow_ms=self._slow_ms,
            sdk_name=_client_name(request),
            user_agent=agent,
            project=request.match_info.get("project"),
        )

    async def envelope(self, request: web.Request) -> web.Response:
        """An envelope: every stored item's events admitted, the rest counted or refused."""
        reader = EnvelopeReader(self._context(request))
        limit = ENVELOPE_FACTOR * self._sink.limits.max_line_bytes
        try:
            await read_decoded(request, limit, "envelope", reader.feed)
            result = reader.finish()
        except PayloadError as exc:
            raise ApiError(exc.status, exc.reason) from None
        self._counts.merge(result.counted)
        event_id = result.event_id or next((e.uid for e in result.events if e.uid), None)
        answer: dict[str, Any] = {"id": event_id, "accepted": len(result.events)}
        if result.rejected_count:
            answer["rejected"] = [r.to_wire() for r in result.rejections]
            answer["rejectedCount"] = result.rejected_count
        if result.counted:
            answer["counted"] = result.counted
        if not result.events and not result.counted and result.rejections:
            # Nothing usable at all: say so with a 4xx, as for a bad /v1/events body.
            self._sink.reject(result.rejected_count, Origin(f"sentry {peer(request)}"))
            return web.Response(
                body=orjson.dumps({"error": result.rejections[0].error, **answer}),
                status=400,
                content_type="application/json",
            )
        admit(self._sink, request, result.events, result.rejected_count, "sentry")
        return web.Response(body=orjson.dumps(answer), content_type="application/json")

    async def store(self, request: web.Request) -> web.Response:
        """The legacy store route: one event per request."""
        limit = self._sink.limits.max_line_bytes
        try:
            pieces: list[bytes] = []
            await read_decoded(request, limit, "event", pieces.append)
            converted, event_id = store_events(b"".join(pieces), self._context(request))
        except PayloadError as exc:
            raise ApiError(exc.status, exc.reason) from None
        self._counts.merge(converted.counted)
        if not converted.events and converted.rejected:
            self._sink.reject(len(converted.rejected), Origin(f"sentry {peer(request)}"))
            raise ApiError(400, converted.rejected[0])
        admit(self._sink, request, converted.events, len(converted.rejected), "sentry")
        answer: dict[str, Any] = {"id": event_id, "accepted": len(converted.events)}
        if converted.rejected:
            answer["rejected"] = converted.rejected[:MAX_LISTED]
        return web.Response(body=orjson.dumps(answer), content_type="application/json")


# --------------------------------------------------------- shared with http_otlp


async def read_decoded(request: web.Request, limit: int, what: str, feed: Callable[[bytes], None]) -> None:
    """Hand the body to ``feed`` decompressed, piece by piece, as it arrives.

    ``PayloadError`` 413 past ``limit`` bytes on the wire or decompressed; ``ApiError``
    408 when the body takes longer than the app's body timeout (``http_body``), so a
    client trickling bytes cannot hold a connection.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadError(413, f"{what} larger than {limit} bytes")
    decoder = BodyDecoder(request.headers.get("Content-Encoding", ""), limit, what)
    content = request.content
    if content.is_eof():  # the whole body is already here (an SDK's small POST): no waiting
        body = content.read_nowait(-1)
        if len(body) > limit:
            raise PayloadError(413, f"{what} larger than {limit} bytes")
        for piece in decoder.feed(body):
            feed(piece)
        decoder.finish()
        return
    seconds = request.app.get(BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT_S)
    received = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.content.iter_chunked(PIECE):
                received += len(chunk)
                if received > limit:
                    raise PayloadError(413, f"{what} larger than {limit} bytes")
                for piece in decoder.feed(chunk):
                    feed(piece)
    except TimeoutError:
        raise ApiError(408, f"the request body did not arrive within {seconds:g} s") from None
    decoder.finish()


def admit(sink: IngestSink, request: web.Request, events: list[Event], rejected: int, label: str) -> None:
    """Queue ``events`` and count ``rejected``; a full queue is a 429 with ``Retry-After``."""
    origin = Origin(f"{label} {peer(request)}")
    if events:
        try:
            sink.try_admit(events, origin)
        except Overloaded:
            raise ApiError(
                429,
                "sidelog is busy writing (queue full); retry shortly",
                {"Retry-After": str(RETRY_AFTER_S)},
            ) from None
    if rejected:
        sink.reject(rejected, origin)


def peer(request: web.Request) -> str:
    """``host:port`` of the client, for the origin label."""
    address = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return "?"


def _client_name(request: web.Request) -> str | None:
    """The SDK's name from ``X-Sentry-Auth`` or the ``sentry_client`` query parameter (JS SDKs)."""
    client = request.query.get("sentry_client")
    if client is None:
        auth = request.headers.get("X-Sentry-Auth", "")
        for part in auth.removeprefix("Sentry").split(","):
            key, _, value = part.strip().partition("=")
            if key == "sentry_client":
                client = value
    name = (client or "").split("/", 1)[0].strip().lower()
    return name[:100] or None
