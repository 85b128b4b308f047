"""The request handlers of the HTTP API (except the live stream, see ``http_stream``).

Handlers only translate: query parameters and bodies in, calls on the app's
``EngineAPI`` (``sidelog.ingest.sink``; the engine satisfies it), JSON out.
Every refusal is an ``ApiError`` that the error middleware turns into
``{"error": reason}`` with the right status.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web

from sidelog.errors import Overloaded
from sidelog.events import now_ms
from sidelog.filters import EventFilter
from sidelog.ingest.http_body import body_kind, decode_events, read_body, rejected_wire
from sidelog.ingest.http_security import ApiError
from sidelog.ingest.sink import EngineAPI
from sidelog.pipeline.queue import Origin

ENGINE: web.AppKey[EngineAPI] = web.AppKey("sidelog_engine", EngineAPI)
"""What every route calls (the running engine, seen through its narrow interface)."""
SCRIPT: web.AppKey[bytes] = web.AppKey("sidelog_script", bytes)
TOKEN: web.AppKey[str | None] = web.AppKey("sidelog_token")
"""The bearer token remote clients must send; ``None`` when none was configured or generated."""

FILTER_PARAMS = frozenset(
    {"category", "level", "source", "user", "session", "q", "since", "until", "fingerprint", "trace"}
)
DEFAULT_PAGE = 100
MAX_PAGE = 1000
RETRY_AFTER_S = 1
NOTE_BODY_LIMIT = 64 * 1024


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer serialised with orjson."""
    return web.Response(
        body=orjson.dumps(payload), status=status, content_type="application/json", headers=headers
    )


def check_params(request: web.Request, allowed: frozenset[str]) -> None:
    """Refuse unknown query parameters: a typo must not silently widen a query."""
    for key in request.query:
        if key not in allowed:
            hint = f"use {', '.join(sorted(allowed))}" if allowed else f"{request.path[:120]} takes none"
            raise ApiError(400, f"unknown parameter {key[:80]!r} ({hint})")


def event_filter(request: web.Request) -> EventFilter:
    """The stream filter named by the query string, or 400 naming the bad parameter."""
    try:
        return EventFilter.from_params([(k, v) for k, v in request.query.items() if k in FILTER_PARAMS])
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def int_param(request: web.Request, name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer query parameter within ``[low, high]``, or 400 naming it."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}, got {value}")
    return value


def bool_param(request: web.Request, name: str) -> bool:
    """A true/false query parameter (``?wait``, ``?wait=true``, ``?wait=1``)."""
    raw = request.query.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("", "1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ApiError(400, f"{name} must be true or false, got {raw[:40]!r}")


def _peer(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "?"


# ------------------------------------------------------------------------ ingest


async def post_events(request: web.Request) -> web.Response:
    """Ingest one event, an array or NDJSON (202, or 200 after commit with ``?wait=true``)."""
    engine = request.app[ENGINE]
    check_params(request, frozenset({"wait"}))
    wait = bool_param(request, "wait")
    kind = body_kind(request)
    raw = await read_body(request, engine.limits.max_line_bytes)
    from_browser = "Origin" in request.headers
    decoded = decode_events(
        raw,
        kind,
        source="client" if from_browser else "api",
        received_at=now_ms(),
        limits=engine.limits,
        dialect_counts=engine.counters.dialects,
    )
    origin = Origin(f"http {_peer(request)}")
    if decoded.events:
        if from_browser:
            agent = request.headers.get("User-Agent", "")[: engine.limits.max_field_bytes] or None
            for event in decoded.events:
                if event.user_agent is None:
                    event.user_agent = agent
        try:
            engine.try_admit(decoded.events, origin)
        except Overloaded:
            raise ApiError(
                429,
                "sidelog is busy writing (queue full); retry shortly",
                {"Retry-After": str(RETRY_AFTER_S)},
            ) from None
    if decoded.rejected:
        engine.reject(len(decoded.rejected), origin)
    answer: dict[str, Any] = {"accepted": len(decoded.events), "rejected": rejected_wire(decoded)}
    if len(decoded.rejected) > len(answer["rejected"]):
        answer["rejectedCount"] = len(decoded.rejected)
    if not decoded.events:
        reason = decoded.rejected[0][1] if decoded.rejected else "no events in body"
        return json_response({"error": reason, **answer}, status=400)
    if not wait:
        return json_response(answer, status=202)
    await engine.wait_committed(origin)
    answer["stored"] = origin.stored
    for name, key in (
        ("duplicates", "duplicates"),
        ("filtered", "filtered"),
        ("rate_limited", "rateLimited"),
        ("failed", "failed"),
    ):
        value = getattr(origin, name)
        if value:
            answer[key] = value
    if origin.failed:
        answer["error"] = "the database refused the write (see lastWriteError in /v1/health)"
        return json_response(answer, status=500)
    return json_response(answer)


# ----------------------------------------------------------------------- queries


async def get_events(request: web.Request) -> web.Response:
    """Stored events, newest first, keyset-paged by id (``before``), or oldest first (``after``)."""
    engine = request.app[ENGINE]
    check_params(request, FILTER_PARAMS | {"limit", "before", "after"})
    flt = event_filter(request)
    limit = int_param(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    before = int_param(request, "before", None, 1, 2**63 - 1)
    after = int_param(request, "after", None, 0, 2**63 - 1)
    assert limit is not None
    events = await engine.events(flt, limit=limit, before=before, after=after)
    next_url: str | None = None
    cursor: int | None = None
    if len(events) == limit and events[-1].id is not None:
        cursor = events[-1].id
        key = "after" if after is not None and before is None else "before"
        params = [*flt.to_params(), ("limit", str(limit)), (key, str(cursor))]
        if key == "before" and after is not None:
            params.append(("after", str(after)))
        next_url = f"{request.path}?{urlencode(params)}"
    return json_response(
        {"events": [event.to_wire() for event in events], "next": next_url, "cursor": cursor}
    )


async def resolve_group(request: web.Request) -> web.Response:
    """Mark an error group resolved, with an optional ``{"note": "…"}`` body."""
    engine = request.app[ENGINE]
    check_params(request, frozenset())
    note = await _note(request, engine)
    group = await engine.resolve(request.match_info["fingerprint"], note=note)
    return _group_answer(request, group)


async def reopen_group(request: web.Request) -> web.Response:
    """Reopen a resolved error group."""
    engine = request.app[ENGINE]
    check_params(request, frozenset())
    group = await engine.reopen(request.match_info["fingerprint"])
    return _group_answer(request, group)


def _group_answer(request: web.Request, group: Any) -> web.Response:
    if group is None:
        shown = request.match_info["fingerprint"][:80]
        raise ApiError(404, f"no error group with fingerprint {shown!r}")
    return json_response({"group": group.to_wire()})


async def _note(request: web.Request, engine: EngineAPI) -> str | None:
    body_kind(request, allow_ndjson=False)
    raw = (await read_body(request, NOTE_BODY_LIMIT)).strip()
    if not raw:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, 'body must be JSON like {"note": "why"} (or empty)') from None
    if not isinstance(doc, dict) or set(doc) - {"note"}:
        raise ApiError(400, 'body must be JSON like {"note": "why"} (or empty)')
    note = doc.get("note")
    if note is None:
        return None
    if not isinstance(note, str):
        raise ApiError(400, "note must be a string")
    limit = engine.limits.max_field_bytes
    if len(note.encode()) > limit:
        raise ApiError(400, f"note must be at most {limit} bytes")
    return note


async def prune(request: web.Request) -> web.Response:
    """Apply retention and the size budget now (``sidelog prune`` asks a running server here).

    The engine does the work in the writer's turns, so ingest carries on meanwhile;
    the answer carries every figure of its result (``deleted``, ``archived``…).
    """
    engine = request.app[ENGINE]
    check_params(request, frozenset())
    raw = (await read_body(request, NOTE_BODY_LIMIT)).strip()
    if raw and raw != b"{}":
        raise ApiError(400, "body must be empty or {} (prune takes no options)")
    result = await engine.prune()
    return json_response(result_wire(result))


def result_wire(result: Any) -> dict[str, Any]:
    """A result dataclass as camelCase JSON keys (``bytes_freed`` → ``bytesFreed``)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        values = dataclasses.asdict(result)
    else:
        values = dict(vars(result))
    return {_camel(name): value for name, value in values.items() if not name.startswith("_")}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def get_health(request: web.Request) -> web.Response:
    """The health figures (the status bar's, over HTTP)."""
    check_params(request, frozenset())
    health = await request.app[ENGINE].health()
    return json_response(health.to_wire())


async def get_script(request: web.Request) -> web.Response:
    """The browser/Node client."""
    body = request.app[SCRIPT]
    etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
    headers = {"Cache-Control": "no-cache", "ETag": etag}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/javascript", charset="utf-8", headers=headers)


STATE_CHANGING: frozenset[Callable[[web.Request], Awaitable[web.StreamResponse]]] = frozenset(
    {resolve_group, reopen_group, prune}
)
"""Handlers that change state rather than add events: the guard in ``sidelog.ingest.http``
applies ``http_security.check_state_change`` to them (JSON only, never cross-site)."""


def add_routes(app: web.Application, expect_handler: Any) -> None:
    """Register every route but the stream (``expect_handler`` answers ``Expect: 100-continue``)."""
    app.router.add_post("/v1/events", post_events, expect_handler=expect_handler)
    app.router.add_get("/v1/events", get_events, allow_head=False)
    app.router.add_post("/v1/errors/{fingerprint}/resolve", resolve_group, expect_handler=expect_handler)
    app.router.add_post("/v1/errors/{fingerprint}/reopen", reopen_group, expect_handler=expect_handler)
    app.router.add_post("/v1/prune", prune, expect_handler=expect_handler)
    app.router.add_get("/v1/health", get_health, allow_head=False)
    app.router.add_get("/sidelog.js", get_script)
