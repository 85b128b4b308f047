"""OTLP/HTTP routes on the HTTP API (README "Already using Sentry or OpenTelemetry?").

``POST /v1/logs`` and ``POST /v1/traces``, as an OpenTelemetry SDK's OTLP/HTTP
exporter sends them with ``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:7412``:
``application/x-protobuf`` or ``application/json``, optionally gzip/deflate.
The answers follow the OTLP specification: ``200`` with an
``Export*ServiceResponse`` in the request's encoding (``partial_success`` naming
how many records were rejected and why), ``400`` for a body that does not decode,
``429`` with ``Retry-After`` when the queue is full (exporters retry after it).
Refusals carry sidelog's usual ``{"error": reason}`` JSON body.

The routes sit behind the same middlewares as ``/v1/events`` (Host and Origin
checks in ``http.py``). Decoding and conversion are in ``otlp`` (imported on the
first request, so a server that never sees OTLP never loads protobuf).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sidelog.events import now_ms
from sidelog.ingest.http_security import ApiError
from sidelog.ingest.http_sentry import admit, read_decoded, receiver_counts
from sidelog.ingest.receiver import PayloadError, ReceiverCounts

if TYPE_CHECKING:
    from sidelog.config import Settings
    from sidelog.ingest.otlp import Signal
    from sidelog.ingest.sink import IngestSink

__all__ = ["BODY_FACTOR", "register"]

BODY_FACTOR = 8
"""A request may carry this many times ``max_line_bytes`` (after decompression): an
exporter batches up to 512 records; each record stays within ``max_line_bytes``."""
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def register(
    app: web.Application, sink: IngestSink, settings: Settings, expect_handler: Any = None
) -> ReceiverCounts:
    """Add ``/v1/logs`` and ``/v1/traces`` to ``app``; returns the shared not-stored counter."""
    del settings  # nothing to tune yet; the signature matches http_sentry.register
    counts = receiver_counts(app, sink)
    routes = _OtlpRoutes(sink, counts)
    app.router.add_post("/v1/logs", routes.logs, expect_handler=expect_handler)
    app.router.add_post("/v1/traces", routes.traces, expect_handler=expect_handler)
    return counts


class _OtlpRoutes:
    def __init__(self, sink: IngestSink, counts: ReceiverCounts) -> None:
        self._sink = sink
        self._counts = counts

    async def logs(self, request: web.Request) -> web.Response:
        """``ExportLogsServiceRequest``: one event per record."""
        return await self._export(request, "logs")

    async def traces(self, request: web.Request) -> web.Response:
        """``ExportTraceServiceRequest``: failed spans stored, the rest counted."""
        return await self._export(request, "traces")

    async def _export(self, request: web.Request, signal: Signal) -> web.Response:
        from sidelog.ingest import otlp

        as_json = _is_json(request)
        limits = self._sink.limits
        limit = BODY_FACTOR * limits.max_line_bytes
        try:
            pieces: list[bytes] = []
            await read_decoded(request, limit, "body", pieces.append)
            message = otlp.decode_request(b"".join(pieces), signal, as_json)
        except PayloadError as exc:
            raise ApiError(exc.status, exc.reason) from None
        ctx = otlp.OtlpContext(limits=limits, received_at=now_ms())
        convert = otlp.logs_events if signal == "logs" else otlp.traces_events
        converted = convert(message, ctx)
        self._counts.merge(converted.counted)
        admit(self._sink, request, converted.events, len(converted.rejected), "otlp")
        return web.Response(
            body=otlp.export_response(signal, converted.rejected, as_json),
            content_type=JSON if as_json else PROTOBUF,
        )


def _is_json(request: web.Request) -> bool:
    """``True`` for OTLP/JSON, ``False`` for protobuf; 415 for anything else."""
    mime = request.content_type.lower()
    if mime == PROTOBUF:
        return False
    if mime == JSON:
        charset = (request.charset or "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise ApiError(415, f"charset {charset!r} is not supported; send UTF-8")
        return True
    raise ApiError(415, f"Content-Type {mime!r} is not accepted; send {PROTOBUF} or {JSON} (OTLP/HTTP)")
