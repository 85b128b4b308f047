"""Error and feedback events written straight into a store file, at chosen arrival times.

The errors pane's sparkline buckets events by when sidelog received them; a test that
sends events over a socket cannot choose that time, so these rows are written with
plain sqlite3 (no sidelog may have the file open).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from sidelog.events import Event
from sidelog.store.models import event_to_row
from sidelog.store.schema import INSERT_EVENTS_SQL


def error(fingerprint: str, received_at: int, *, session: str | None = None) -> Event:
    """One error event of group ``fingerprint`` received at ``received_at``."""
    return Event(
        message=f"error of {fingerprint}",
        category="payment",
        level="error",
        timestamp=received_at,
        received_at=received_at,
        source="server",
        resolved=False,
        fingerprint=fingerprint,
        session_id=session,
    )


def feedback(groups: list[str], received_at: int, *, user: str | None, session: str | None = None) -> Event:
    """A user's report linked to ``groups`` (as store/feedback_links.py links them)."""
    return Event(
        message="the pay button does nothing",
        category="feedback",
        level="info",
        details=json.dumps({"related_groups": groups}),
        timestamp=received_at,
        received_at=received_at,
        source="client",
        user_id=user,
        session_id=session,
    )


def write_events(db: Path, events: Iterable[Event]) -> None:
    """Append ``events`` in order (ids after the highest one stored)."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None, timeout=10)) as conn:
        start = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM events").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_EVENTS_SQL, (event_to_row(e, start + i) for i, e in enumerate(events)))
        conn.execute("COMMIT")
