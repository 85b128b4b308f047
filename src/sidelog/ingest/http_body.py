"""Request bodies: bounded reading, bounded decompression, content types, event decoding.

The limit (``max_line_bytes``, 1 MiB by default) holds before anything is buffered:
a declared ``Content-Length`` over it is refused without reading, a chunked body is
refused as soon as the running total passes it, and a compressed body is inflated
with ``max_length`` so a gzip bomb costs at most one limit of memory. A body must
also arrive within ``BODY_TIMEOUT`` (30 s unless the app says otherwise): aiohttp's
idle timeout only covers connections between requests, so a client trickling a body
would otherwise hold its connection, and a slot of the connection cap, for ever. Decoding reuses
the socket protocol's pure functions, so HTTP and TCP accept exactly the same events.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass, field

from aiohttp import web

from sidelog.dialects import Recognised, recognise_text, text_line
from sidelog.events import Event, EventError, Limits, parse_event, parse_recognised
from sidelog.ingest.http_security import ApiError
from sidelog.ingest.protocol import decode_array, decode_json

JSON_TYPES = frozenset({"application/json", "text/json"})
NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
PLAIN_TYPES = frozenset({"text/plain", "application/octet-stream"})
"""``text/plain`` is what ``navigator.sendBeacon(string)`` sends (the Origin check has
already refused it from pages that are not allowed); ``application/octet-stream`` is
what many HTTP libraries send for raw bytes."""

BODY_TIMEOUT: web.AppKey[float] = web.AppKey("sidelog_body_timeout", float)
"""Seconds a request body may take to arrive (``HttpOptions.body_timeout_s``)."""
DEFAULT_BODY_TIMEOUT_S = 30.0
BODY_HEAD: web.RequestKey[bytes] = web.RequestKey("sidelog_body_head", bytes)
"""The first bytes of a body, for the refusal log (``http_refusals``)."""

MAX_REJECTIONS_LISTED = 100
"""Rejections listed in one answer; ``rejectedCount`` always has the full number."""

_BOM = b"\xef\xbb\xbf"
_CHUNK = 64 * 1024


def _too_large(limit: int, what: str = "body") -> ApiError:
    return ApiError(
        413,
        f"{what} larger than {limit} bytes (SIDELOG_MAX_LINE_BYTES); send fewer events per request",
    )


def body_kind(request: web.Request, *, allow_ndjson: bool = True) -> str:
    """``"json"`` or ``"ndjson"`` from the Content-Type, or 415 with the accepted types."""
    header = request.headers.get("Content-Type")
    if header is None or not header.strip():
        return "json"
    mime = request.content_type.lower()
    charset = (request.charset or "utf-8").lower()
    if charset not in ("utf-8", "utf8", "us-ascii"):
        raise ApiError(415, f"charset {charset!r} is not supported; send UTF-8")
    if mime in JSON_TYPES or mime in PLAIN_TYPES or mime.endswith("+json"):
        return "json"
    if allow_ndjson and mime in NDJSON_TYPES:
        return "ndjson"
    accepted = "application/json, application/x-ndjson or text/plain" if allow_ndjson else "application/json"
    hint = " (with curl -d, add -H 'Content-Type: application/json')" if "form" in mime else ""
    raise ApiError(415, f"Content-Type {mime!r} is not accepted; send {accepted}{hint}")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, decompressed, never holding more than ~2× ``limit`` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise _too_large(limit)
    buf = bytearray()
    seconds = request.app.get(BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT_S)
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.content.iter_chunked(_CHUNK):
                buf += chunk
                if len(buf) == len(chunk):  # the first chunk: what the rejected view shows
                    request[BODY_HEAD] = bytes(buf[:200])
                if len(buf) > limit:
                    raise _too_large(limit)
    except TimeoutError:
        raise ApiError(408, f"the request body did not arrive within {seconds:g} s") from None
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return bytes(buf)
    if encoding in ("gzip", "x-gzip"):
        return _inflate(bytes(buf), 16 + zlib.MAX_WBITS, limit)
    if encoding == "deflate":
        # RFC 9110 deflate is zlib-wrapped; some clients send a raw stream.
        try:
            return _inflate(bytes(buf), zlib.MAX_WBITS, limit)
        except ApiError as exc:
            if exc.status != 400:
                raise
            return _inflate(bytes(buf), -zlib.MAX_WBITS, limit)
    raise ApiError(415, f"Content-Encoding {encoding!r} is not supported; use gzip, deflate or none")


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ApiError(400, f"body is not valid compressed data: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise _too_large(limit, "decompressed body")
    if not inflater.eof:
        raise ApiError(400, "compressed body is truncated")
    return out


@dataclass(slots=True)
class Decoded:
    """The events of one body and the reasons for those refused."""

    events: list[Event] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    """``(index, reason)``: array index, or line index (0-based) for NDJSON."""


def decode_events(
    raw: bytes,
    kind: str,
    *,
    source: str,
    received_at: int,
    limits: Limits,
    dialect_counts: dict[str, int] | None = None,
) -> Decoded:
    """Decode one object, an array, or NDJSON; a body that is not JSON at all is a 400.

    Objects in a logger's dialect (pino, structlog…) are recognised like on the socket,
    and so are plain-text lines of an NDJSON or ``text/plain`` body (``sidelog.dialects``);
    ``dialect_counts`` counts what each dialect brought in.
    """
    if raw.startswith(_BOM):
        raw = raw[3:]
    text = raw.strip()
    if not text:
        raise ApiError(400, "empty body: send one event object, an array of events, or NDJSON lines")
    result = Decoded()
    if kind == "json":
        try:
            doc = decode_json(text)
        except EventError as exc:
            if b"\n" not in text:
                raise ApiError(400, str(exc)) from None
        else:
            if isinstance(doc, dict):
                _one(doc, 0, result, source, received_at, limits, dialect_counts)
            elif isinstance(doc, list):
                for item in decode_array(doc, source, received_at, limits, 1, dialect_counts):
                    if isinstance(item, Event):
                        result.events.append(item)
                    else:
                        result.rejected.append((item.index or 0, item.reason))
            else:
                raise ApiError(400, "body must be a JSON object, an array of objects, or NDJSON lines")
            return result
    for index, line in enumerate(text.split(b"\n")):
        line = line.strip()
        if not line:
            continue
        try:
            doc = decode_json(line)
        except EventError as exc:
            readable = text_line(line)
            if readable is None:
                result.rejected.append((index, str(exc)))
                continue
            outcome = recognise_text(readable)
            if not isinstance(outcome, Recognised):
                result.rejected.append((index, str(exc)))
                continue
            try:
                result.events.append(parse_recognised(outcome, source, received_at, limits, dialect_counts))
            except EventError as text_exc:
                result.rejected.append((index, str(text_exc)))
            continue
        _one(doc, index, result, source, received_at, limits, dialect_counts)
    return result


def _one(
    doc: object,
    index: int,
    result: Decoded,
    source: str,
    received_at: int,
    limits: Limits,
    dialect_counts: dict[str, int] | None,
) -> None:
    try:
        result.events.append(
            parse_event(
                doc,
                default_source=source,
                received_at=received_at,
                limits=limits,
                dialect_counts=dialect_counts,
            )
        )
    except EventError as exc:
        result.rejected.append((index, str(exc)))


def rejected_wire(decoded: Decoded) -> list[dict[str, object]]:
    """The ``rejected`` list of an answer (at most ``MAX_REJECTIONS_LISTED``)."""
    return [{"index": i, "error": reason} for i, reason in decoded.rejected[:MAX_REJECTIONS_LISTED]]
