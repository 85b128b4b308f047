"""``POST /v1/feedback``: what an end user reported, from ``sidelog.reportIssue`` in sidelog.js.

The page sends ``{"message", "email", "sessionId", "userId", "url", "userAgent"}``
(every key but ``message`` may be missing or ``null``). It is stored as an event in
category ``feedback``, level ``info``, with the email in ``details.email``: the same
event the Python client's ``EventLogger.feedback()`` sends over its socket. The store
then links it to the session's recent error groups (``details.related_groups``, see
``sidelog.store.feedback_links``), whichever way it came.

The route sits behind the same middlewares as ``POST /v1/events`` (Host, Origin,
bearer token), has its body limit, and its events go through the same admission, so
a flood of reports is rate limited like everything else. A body that is not such an
object is a 400 naming what is wrong. The answer waits for the write, so the page
learns the stored id and the links: ``201 {"id": …, "relatedGroups": […]}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from sidelog.errors import Overloaded
from sidelog.events import EventError, now_ms, parse_event
from sidelog.ingest.http_body import body_kind, read_body
from sidelog.ingest.http_routes import ENGINE, RETRY_AFTER_S, check_params, json_response
from sidelog.ingest.http_security import ApiError
from sidelog.pipeline.queue import Origin

if TYPE_CHECKING:
    from sidelog.events import Event, Limits

__all__ = ["FIELDS", "PATH", "post_feedback", "register"]

PATH = "/v1/feedback"
FIELDS = ("message", "email", "sessionId", "userId", "url", "userAgent")
"""What ``reportIssue`` sends; any other key is refused (a typo must not lose the email)."""
_EVENT_FIELDS = {"sessionId": "sessionId", "userId": "userId", "url": "url", "userAgent": "userAgent"}
_RETRY = {"Retry-After": str(RETRY_AFTER_S)}
_EXAMPLE = '{"message": "The pay button does nothing", "email": "ada@example.com"}'


def register(app: web.Application, expect_handler: Any = None) -> None:
    """Add ``POST /v1/feedback`` to ``app``."""
    app.router.add_post(PATH, post_feedback, expect_handler=expect_handler)


async def post_feedback(request: web.Request) -> web.Response:
    """Store one report; ``201`` with its id and linked error groups once written."""
    engine = request.app[ENGINE]
    check_params(request, frozenset())
    body_kind(request, allow_ndjson=False)  # JSON (or text/plain holding JSON), UTF-8
    raw = await read_body(request, engine.limits.max_line_bytes)
    origin = Origin(f"feedback {_peer(request)}")
    try:
        event = feedback_event(raw, request, engine.limits)
    except ApiError:
        engine.reject(1, origin)  # counted with the other rejected input (GET /v1/health)
        raise
    try:
        engine.try_admit([event], origin)
    except Overloaded:
        raise ApiError(429, "sidelog is busy writing (queue full); retry shortly", _RETRY) from None
    await engine.wait_committed(origin)
    if origin.rate_limited:
        raise ApiError(429, "too many events of category feedback: rate limited; retry shortly", _RETRY)
    if origin.filtered:
        return json_response({"stored": 0, "filtered": 1}, status=202)
    if origin.failed:
        raise ApiError(500, "the database refused the write (see lastWriteError in /v1/health)")
    details = orjson.loads(event.details) if event.details is not None else {}
    related = details.get("related_groups") if isinstance(details, dict) else None
    return json_response({"id": event.id, "relatedGroups": related or []}, status=201)


def _peer(request: web.Request) -> str:
    address = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return "?"


def feedback_event(raw: bytes, request: web.Request, limits: Limits) -> Event:
    """The event for one report body, or ``ApiError(400)`` saying what is wrong with it."""
    if not raw.strip():
        raise ApiError(400, f"body is empty; send JSON like {_EXAMPLE}")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            400, f"body is not JSON ({str(exc).split(':')[0]}); send JSON like {_EXAMPLE}"
        ) from None
    if not isinstance(doc, dict):
        raise ApiError(400, f"body must be one JSON object like {_EXAMPLE}")
    unknown = [key for key in doc if key not in FIELDS]
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0][:40]!r} (accepted: {', '.join(FIELDS)})")
    message = doc.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ApiError(400, "message must be a non-empty string: what the user reported")
    wire: dict[str, Any] = {"message": message, "category": "feedback", "type": "info"}
    email = doc.get("email")
    if email is not None:
        if not isinstance(email, str):
            raise ApiError(400, "email must be a string or null")
        if email.strip():
            wire["details"] = {"email": email.strip()}
    for key, name in _EVENT_FIELDS.items():
        value = doc.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise ApiError(400, f"{key} must be a string or null")
        wire[name] = value
    if "userAgent" not in wire and "Origin" in request.headers:
        agent = request.headers.get("User-Agent", "")[: limits.max_field_bytes]
        if agent:
            wire["userAgent"] = agent
    try:
        return parse_event(
            wire,
            default_source="client" if "Origin" in request.headers else "api",
            received_at=now_ms(),
            limits=limits,
        )
    except EventError as exc:
        raise ApiError(400, str(exc)) from None
