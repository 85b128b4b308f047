"""Links a user's report (category ``feedback``) to the errors their session just hit.

An end user reports "the pay button does nothing" right after the app failed for
them; the developer wants the error group next to the report. So when a feedback
event with a ``session_id`` is written, its ``details.related_groups`` becomes the
fingerprints of that session's errors received in the ``WINDOW_MS`` before it
(newest first, at most ``MAX_GROUPS``), whichever way it came: ``POST /v1/feedback``,
the Python client's ``feedback()`` over TCP, or any event in category ``feedback``.

It runs inside the writer's batch transaction (``StoreWriter.write_batch``), so it
sees every error written before, including those earlier in the same batch, and no
error can slip in between. The store has no index by session, so the look-up reads
at most the newest ``SCAN_ROWS`` rows by id, a primary-key range scan (``NOT
INDEXED``: through the index of errors, SQLite's own choice, it would read every
error ever stored); on a busy store an error older than that many events is not linked. Reports are rare
and rate limited like any event, so this costs nothing in the common batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from sidelog.events import Event

__all__ = ["CATEGORY", "MAX_GROUPS", "SCAN_ROWS", "WINDOW_MS", "link_feedback"]

CATEGORY = "feedback"
WINDOW_MS = 30 * 60 * 1000
"""How far back a session's errors count as what the report is about (30 minutes)."""
MAX_GROUPS = 20
SCAN_ROWS = 200_000
"""The newest rows read to find them (a few tens of milliseconds of SQLite)."""

_RECENT_SQL = (
    "SELECT fingerprint FROM events NOT INDEXED WHERE id > ? AND session_id = ? AND received_at >= ? "
    "AND fingerprint IS NOT NULL GROUP BY fingerprint ORDER BY max(id) DESC LIMIT ?"
)


async def link_feedback(conn: AsyncConnection, events: list[Event], top_id: int) -> None:
    """Set ``details.related_groups`` on each feedback event of ``events`` (in place).

    ``top_id`` is the highest id already in the table; ``events`` are about to be
    inserted after it, in order. A report without a session, or whose session had no
    recent error, is left as it came (no ``related_groups`` key).
    """
    for index, event in enumerate(events):
        if event.category != CATEGORY or event.session_id is None:
            continue
        details = _details(event.details)
        if details is None:
            continue
        since = event.received_at - WINDOW_MS
        linked: list[str] = []
        for earlier in reversed(events[:index]):  # this batch's errors: not in the table yet
            fingerprint = earlier.fingerprint
            if (
                fingerprint is not None
                and earlier.session_id == event.session_id
                and earlier.received_at >= since
                and fingerprint not in linked
            ):
                linked.append(fingerprint)
        if len(linked) < MAX_GROUPS:
            result = await conn.exec_driver_sql(
                _RECENT_SQL, (top_id - SCAN_ROWS, event.session_id, since, MAX_GROUPS)
            )
            for (fingerprint,) in result.all():
                if fingerprint not in linked:
                    linked.append(fingerprint)
        if linked:
            details["related_groups"] = linked[:MAX_GROUPS]
            event.details = orjson.dumps(details).decode()


def _details(text: str | None) -> dict[str, Any] | None:
    """The event's details as a dict to add to (``None``: details that are not an object)."""
    if text is None:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
