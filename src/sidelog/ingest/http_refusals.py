"""Every HTTP refusal remembered: the outermost middleware of the HTTP API.

It sees each answer after the error middleware has shaped it, so whatever refused
the request (the Host/Origin guard, a size limit, a content type, a bad body, a
full queue) it records the status, the one-line reason from the ``{"error": …}``
body and the first bytes of what was sent in the engine's ``RefusalLog``
(``sidelog.pipeline.refusals``): ``GET /v1/health`` counts them by status and the
UI's rejected view lists them. Events refused inside an accepted request (one bad
element of an array) are listed too. A refusal that no other counter saw (nothing
was decoded, so nothing was counted as ``rejected`` or ``overflow``) of an input (a
POST, a ``/v1/logging`` record) is marked as such, so the capture rate counts it once.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from sidelog.ingest.http_body import BODY_HEAD
from sidelog.ingest.http_routes import ENGINE
from sidelog.pipeline.refusals import SAMPLE_BYTES

__all__ = ["record_refusals"]


@web.middleware
async def record_refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run the request; record it in the refusal log if it was refused (or refused events)."""
    counters = request.app[ENGINE].counters
    before = (counters.rejected, counters.overflow)
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # only redirects and the like get past the error middleware
        if exc.status >= 400:
            _record(request, exc.status, exc.reason, counted=False)
        raise
    except Exception as exc:
        _record(request, 500, f"internal error: {type(exc).__name__}", counted=False)
        raise
    status = response.status
    after = (counters.rejected, counters.overflow)
    if status >= 400:
        # Only a refused *input* (a POST, or a record on GET /v1/logging) is something not
        # stored; a query or a stray GET /favicon.ico refused is listed but costs no capture.
        is_input = request.method == "POST" or request.path == "/v1/logging"
        counted = after != before or not is_input
        _record(request, status, _reason(response) or f"HTTP {status}", counted=counted)
    elif after[0] > before[0]:
        _record(request, None, _first_rejected(response) or "events refused", counted=True)
    return response


def _record(request: web.Request, status: int | None, reason: str, *, counted: bool) -> None:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    where = f"{request.method} {request.path[:120]}"
    if isinstance(peer, tuple) and len(peer) >= 2:
        where += f" {peer[0]}:{peer[1]}"
    sample = request.get(BODY_HEAD)
    if sample is None:
        sample = request.query_string.encode("utf-8", "replace")[:SAMPLE_BYTES]
    request.app[ENGINE].counters.refusals.add(
        where, reason.replace("\n", " "), status=status, sample=sample, counted=counted
    )


def _answer(response: web.StreamResponse) -> dict[str, Any] | None:
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return None
    if len(response.body) > 64 * 1024:
        return None
    try:
        doc = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def _reason(response: web.StreamResponse) -> str | None:
    doc = _answer(response)
    error = doc.get("error") if doc else None
    return error if isinstance(error, str) else None


def _first_rejected(response: web.StreamResponse) -> str | None:
    doc = _answer(response)
    rejected = doc.get("rejected") if doc else None
    if isinstance(rejected, list) and rejected and isinstance(rejected[0], dict):
        error = rejected[0].get("error")
        return error if isinstance(error, str) else None
    return None
