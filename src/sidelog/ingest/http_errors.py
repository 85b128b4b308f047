"""``GET /v1/errors``: the error groups a page at a time, snoozed ones left out unless asked for.

Its own module because it builds on both the common route helpers (``http_routes.py``)
and the snooze routes (``http_snooze.py``), which the common helpers must not import.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sidelog.events import now_ms
from sidelog.ingest.http_routes import ENGINE, MAX_PAGE, check_params, int_param, json_response
from sidelog.ingest.http_security import ApiError
from sidelog.ingest.http_snooze import snoozed_page
from sidelog.store.group_pages import DEFAULT_SORT, SORTS, CursorError, GroupCursor, cursor_after

__all__ = ["get_errors", "register"]


def register(app: web.Application, expect_handler: Any = None) -> None:
    """Add ``GET /v1/errors``."""
    app.router.add_get("/v1/errors", get_errors, allow_head=False)


async def get_errors(request: web.Request) -> web.Response:
    """Error groups a page at a time (the errors pane's data, over HTTP): ``sort`` picks the
    order (newest activity first by default), ``next`` is the cursor the previous page
    returned; keyset pages never repeat a group while new ones arrive (store/group_pages.py).
    Snoozed groups are left out unless ``snoozed=include`` (then every group carries its
    snooze: ``ingest/http_snooze.py``)."""
    engine = request.app[ENGINE]
    check_params(request, frozenset({"status", "user", "limit", "sort", "next", "snoozed"}))
    snoozed = request.query.get("snoozed", "hide").strip().lower() or "hide"
    if snoozed not in ("hide", "include"):
        raise ApiError(400, f"snoozed must be hide or include, got {snoozed[:40]!r}")
    now = now_ms()
    status = request.query.get("status", "unresolved").strip().lower() or "unresolved"
    if status not in ("unresolved", "resolved", "all"):
        raise ApiError(400, f"status must be unresolved, resolved or all, got {status[:40]!r}")
    limit = int_param(request, "limit", 200, 1, MAX_PAGE)
    assert limit is not None
    sort = request.query.get("sort", DEFAULT_SORT).strip().lower() or DEFAULT_SORT
    if sort not in SORTS:
        raise ApiError(400, f"sort must be one of {', '.join(SORTS)}, got {sort[:40]!r}")
    after: GroupCursor | None = None
    if "next" in request.query:
        try:
            after = GroupCursor.decode(request.query["next"])
        except CursorError as exc:
            raise ApiError(400, str(exc)) from None
        if after.sort != sort:
            raise ApiError(400, f"next is a cursor of sort={after.sort}; pass sort={after.sort} with it")
    groups = await engine.groups(
        status=None if status == "all" else status,
        user=request.query.get("user") or None,
        limit=limit + 1,
        sort=sort,
        after=after,
        hide_snoozed_at=None if snoozed == "include" else now,
    )
    more = len(groups) > limit
    del groups[limit:]
    cursor = cursor_after(groups[-1], sort).encode() if more else None
    if snoozed == "include":  # each group says whether and until when it is snoozed
        wires = await snoozed_page(request, groups, now)
    else:
        wires = [group.to_wire() for group in groups]
    return json_response({"errors": wires, "next": cursor, "sort": sort})
