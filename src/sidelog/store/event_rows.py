"""A stored ``events`` row as an ``Event``: the one conversion every reader of the table uses.

Kept apart from ``store/models.py`` (which reads the column list from the SQLAlchemy
schema) so that a reader with plain ``sqlite3`` (``store/first_page.py``, which paints
the UI's first frame before SQLAlchemy is loaded) builds events exactly as the store's
own readers do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sidelog.events import Event

EVENT_COLUMNS: tuple[str, ...] = (
    "id",
    "event_uid",
    "category",
    "level",
    "message",
    "details",
    "user_id",
    "session_id",
    "url",
    "user_agent",
    "timestamp",
    "received_at",
    "source",
    "show_to_user",
    "user_message",
    "resolved",
    "fingerprint",
    "trace_id",
)
"""The columns ``event_from_row`` reads, in its order: the table order of ``events``
(``EVENT_COLUMN_NAMES`` in store/schema.py; tests/tui/test_cold_start_reader.py checks
that the two agree)."""


def event_from_row(row: Sequence[Any]) -> Event:
    """Build an ``Event`` from a row selected in ``EVENT_COLUMNS`` order."""
    (
        id_,
        uid,
        category,
        level,
        message,
        details,
        user_id,
        session_id,
        url,
        user_agent,
        timestamp,
        received_at,
        source,
        show_to_user,
        user_message,
        resolved,
        fingerprint,
        trace_id,
    ) = row
    return Event(
        message=message,
        category=category,
        level=level,
        details=details,
        user_id=user_id,
        session_id=session_id,
        url=url,
        user_agent=user_agent,
        timestamp=timestamp,
        received_at=received_at,
        source=source,
        show_to_user=None if show_to_user is None else bool(show_to_user),
        user_message=user_message,
        resolved=None if resolved is None else bool(resolved),
        uid=uid,
        fingerprint=fingerprint,
        id=id_,
        trace_id=trace_id,
    )


__all__ = ["EVENT_COLUMNS", "event_from_row"]
