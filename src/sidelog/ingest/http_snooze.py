"""Snoozing an error group over HTTP: the errors pane's ``z`` for scripts and other tools.

- ``POST /v1/errors/{fingerprint}/snooze`` with ``{"for": "1h"}`` (any form the ``z``
  prompt takes: ``30m``, ``24h``, ``7d``, an ISO date-time, ``+100``) or
  ``{"events": 100}`` (until the group has 100 more events) hides an unresolved group
  from the unresolved list (``store/group_snooze.py`` says when it shows again);
- ``DELETE /v1/errors/{fingerprint}/snooze`` or ``POST …/wake`` wakes it now.

The answer is the group with its snooze (``snoozedUntil``, ``snoozedUntilCount``; both
``null`` once woken), the same fields ``GET /v1/errors?snoozed=include`` adds to each
group (``snooze_fields``). The routes change state, so they have the resolve route's
protections: the token and origin checks of every route, and ``check_state_change``
(a JSON body declared as such, never a cross-site request); a ``DELETE`` carries no
body, so only the cross-site refusal applies to it. The snooze is written in one writer
turn (``Engine.run_job``), between ingest batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import orjson
from aiohttp import web

from sidelog.events import now_ms
from sidelog.ingest.http_body import read_body
from sidelog.ingest.http_routes import ENGINE, NOTE_BODY_LIMIT, check_params, json_response
from sidelog.ingest.http_security import ApiError, check_state_change
from sidelog.pipeline.batcher import JobAbandoned
from sidelog.store.group_snooze import MAX_EVENTS, Snooze, SnoozeJob, SnoozeSpec, parse_snooze, snoozes_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from sidelog.store.models import ErrorGroup
    from sidelog.store.reader import StoreReader

__all__ = ["register", "snooze_fields"]

_BODY_FORMS = 'body must be JSON like {"for": "1h"} or {"events": 100}'


@runtime_checkable
class _Store(Protocol):
    """What these routes need of the engine beyond ``EngineAPI`` (the engine has both)."""

    @property
    def reader(self) -> StoreReader: ...

    async def run_job(self, make: Callable[[Any], Any], *, recount: bool = True) -> Any: ...


def register(app: web.Application, expect_handler: Any = None) -> None:
    """Add the snooze and wake routes to ``app``."""
    app.router.add_post("/v1/errors/{fingerprint}/snooze", snooze_group, expect_handler=expect_handler)
    app.router.add_delete("/v1/errors/{fingerprint}/snooze", wake_group)
    app.router.add_post("/v1/errors/{fingerprint}/wake", wake_group, expect_handler=expect_handler)


def _store(request: web.Request) -> _Store:
    engine = request.app[ENGINE]
    if not isinstance(engine, _Store):
        raise ApiError(501, "this sidelog cannot snooze error groups")
    return engine


async def snooze_group(request: web.Request) -> web.Response:
    """Snooze an unresolved group for a time or a number of events; 200 with the group."""
    check_params(request, frozenset())
    check_state_change(request.headers, f"POST {request.path[:120]}")
    store = _store(request)
    now = now_ms()
    spec = _spec(await read_body(request, NOTE_BODY_LIMIT), now)
    fingerprint = request.match_info["fingerprint"]
    group = await store.reader.group(fingerprint)
    if group is None:
        raise _missing(fingerprint)
    if group.status != "unresolved":
        raise ApiError(409, "only an unresolved group can be snoozed (reopen it first)")
    return await _write(store, fingerprint, spec, now)


async def wake_group(request: web.Request) -> web.Response:
    """End a group's snooze now (a group that was not snoozed stays as it is); 200 with the group."""
    check_params(request, frozenset())
    what = f"{request.method} {request.path[:120]}"
    if request.method == "DELETE":
        if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
            raise ApiError(403, f"{what} refuses cross-site requests (Sec-Fetch-Site: cross-site)")
        if (await read_body(request, NOTE_BODY_LIMIT)).strip():
            raise ApiError(400, f"{what} takes no body")
    else:
        check_state_change(request.headers, what)
        raw = (await read_body(request, NOTE_BODY_LIMIT)).strip()
        if raw and raw != b"{}":
            raise ApiError(400, "body must be empty or {} (wake takes no options)")
    return await _write(_store(request), request.match_info["fingerprint"], None, now_ms())


async def _write(store: _Store, fingerprint: str, spec: SnoozeSpec | None, now: int) -> web.Response:
    try:
        job = await store.run_job(lambda writer: SnoozeJob(writer, fingerprint, spec, at=now), recount=False)
    except JobAbandoned:
        raise ApiError(503, "sidelog is stopping; the snooze was not written") from None
    group = await store.reader.group(fingerprint) if job.found else None
    if group is None:  # gone meanwhile (retention or clear)
        raise _missing(fingerprint)
    snoozes = {fingerprint: job.snooze} if job.snooze is not None else {}
    return json_response({"group": snooze_fields([group], snoozes)[0]})


def _missing(fingerprint: str) -> ApiError:
    return ApiError(404, f"no error group with fingerprint {fingerprint[:80]!r}")


def _spec(raw: bytes, now: int) -> SnoozeSpec:
    """The snooze a body asks for, or 400 saying what is wrong in one line."""
    try:
        doc = orjson.loads(raw.strip() or b"null")
    except orjson.JSONDecodeError:
        raise ApiError(400, f"{_BODY_FORMS}: the body is not JSON") from None
    if not isinstance(doc, dict) or len(doc) != 1 or not set(doc) <= {"for", "events"}:
        raise ApiError(400, f"{_BODY_FORMS} (exactly one of the two)")
    if "events" in doc:
        events = doc["events"]
        if type(events) is not int or not 1 <= events <= MAX_EVENTS:
            raise ApiError(400, f"events must be a whole number from 1 to {MAX_EVENTS:,}")
        return SnoozeSpec(events=events)
    text = doc["for"]
    if not isinstance(text, str) or len(text) > 100:
        raise ApiError(400, 'for must be a string such as "1h", "7d", "+100" or an ISO date-time')
    try:
        return parse_snooze(text, now=now)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def snooze_fields(groups: list[ErrorGroup], snoozes: dict[str, Snooze]) -> list[dict[str, Any]]:
    """Each group as the API emits it, with ``snoozedUntil`` (ms) and ``snoozedUntilCount``
    (the count at which it shows again), ``null`` when it is not snoozed."""
    wires = []
    for group in groups:
        snooze = snoozes.get(group.fingerprint)
        wire = group.to_wire()
        wire["snoozedUntil"] = None if snooze is None else snooze.until_ms
        wire["snoozedUntilCount"] = None if snooze is None else snooze.until_count
        wires.append(wire)
    return wires


async def snoozed_page(request: web.Request, groups: list[ErrorGroup], now: int) -> list[dict[str, Any]]:
    """A page of ``GET /v1/errors?snoozed=include``: the groups with their active snoozes."""
    store = _store(request)
    found = await snoozes_of(store.reader, [group.fingerprint for group in groups], now)
    return snooze_fields(groups, found)
