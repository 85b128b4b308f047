"""``POST /v1/logging`` and ``GET /v1/logging``: Python's ``logging.handlers.HTTPHandler``.

``HTTPHandler("127.0.0.1:7412", "/v1/logging", method="POST")`` sends each record's
``__dict__`` form-encoded (``application/x-www-form-urlencoded``), in the body for
POST and in the query string for GET; ``sidelog.ingest.logrecord`` turns it into an
event. The route sits behind the same middlewares as ``/v1/events`` (Host, Origin,
token) and, because a form is exactly what a web page can post without a CORS
preflight, it also refuses any request a browser made (an ``Origin`` or
``Sec-Fetch-Site`` header: ``HTTPHandler`` sends neither), so a page can never
write here even from an allowed origin. Bodies have the ``/v1/events`` limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from sidelog.dialects.common import Rejected
from sidelog.events import EventError, now_ms, parse_recognised
from sidelog.ingest.http_body import read_body
from sidelog.ingest.http_routes import ENGINE, json_response
from sidelog.ingest.http_security import ApiError
from sidelog.ingest.http_sentry import admit, peer
from sidelog.ingest.logrecord import DIALECT, convert_record
from sidelog.pipeline.queue import Origin

if TYPE_CHECKING:
    from sidelog.ingest.sink import EngineAPI

__all__ = ["FORM_TYPE", "MAX_FIELDS", "PATH", "register"]

PATH = "/v1/logging"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000
"""Form fields one record may have (a ``LogRecord`` has about 25, plus the app's ``extra=``)."""


def register(app: web.Application, expect_handler: Any = None) -> None:
    """Add ``GET`` and ``POST /v1/logging`` to ``app``."""
    app.router.add_post(PATH, post_logging, expect_handler=expect_handler)
    app.router.add_get(PATH, get_logging, allow_head=False)


async def post_logging(request: web.Request) -> web.Response:
    """One form-encoded record in the body (``HTTPHandler(..., method="POST")``)."""
    engine = request.app[ENGINE]
    _refuse_browsers(request)
    mime = request.content_type.lower() if request.headers.get("Content-Type") else ""
    if mime != FORM_TYPE:
        shown = mime or "none"
        raise ApiError(
            415,
            f"Content-Type {shown[:60]!r} is not accepted on {PATH}; send {FORM_TYPE} "
            "(logging.handlers.HTTPHandler's POST), or JSON to /v1/events",
        )
    raw = await read_body(request, engine.limits.max_line_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _count_rejected(engine, request)
        raise ApiError(400, f"body is not UTF-8 (byte {exc.start})") from None
    return _ingest(request, engine, text)


async def get_logging(request: web.Request) -> web.Response:
    """One record in the query string (``HTTPHandler``'s default method)."""
    engine = request.app[ENGINE]
    _refuse_browsers(request)
    return _ingest(request, engine, request.query_string)


def _refuse_browsers(request: web.Request) -> None:
    if "Origin" in request.headers or "Sec-Fetch-Site" in request.headers:
        raise ApiError(
            403, f"{PATH} takes records from logging.handlers.HTTPHandler, not from a browser page"
        )


def _count_rejected(engine: EngineAPI, request: web.Request) -> None:
    engine.reject(1, Origin(f"logging {peer(request)}"))


def _ingest(request: web.Request, engine: EngineAPI, text: str) -> web.Response:
    if not text.strip():
        _count_rejected(engine, request)
        raise ApiError(400, f"empty record: send a LogRecord's fields form-encoded ({FORM_TYPE})")
    if len(text.encode("utf-8", "surrogatepass")) > engine.limits.max_line_bytes:
        _count_rejected(engine, request)
        raise ApiError(
            413, f"record larger than {engine.limits.max_line_bytes} bytes (SIDELOG_MAX_LINE_BYTES)"
        )
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except ValueError as exc:  # too many fields, or bad percent-encoded UTF-8
        _count_rejected(engine, request)
        reason = f"more than {MAX_FIELDS} fields" if "Max number" in str(exc) else str(exc).splitlines()[0]
        raise ApiError(400, f"record is not a valid form: {reason[:200]}") from None
    outcome = convert_record(dict(pairs))
    if isinstance(outcome, Rejected):
        _count_rejected(engine, request)
        raise ApiError(400, str(outcome))
    try:
        event = parse_recognised(outcome, "api", now_ms(), engine.limits, None)
    except EventError as exc:
        _count_rejected(engine, request)
        raise ApiError(400, str(exc)) from None
    admit(engine, request, [event], 0, "logging")
    dialects = engine.counters.dialects
    dialects[DIALECT] = dialects.get(DIALECT, 0) + 1
    return json_response({"accepted": 1}, status=202)
