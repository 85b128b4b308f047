"""The newest events of a SQLite store read with plain ``sqlite3``, for the UI's first frame.

The UI paints these before it loads SQLAlchemy, the engine or the endpoints (about half
a second of imports), so the newest events are on screen as soon as Textual draws; the
engine then opens the store as usual and its stream takes over with the same rows
(tui/startup.py). The read is strictly optional: the file is opened read-only and only
when it is a SQLite file at exactly the schema version this sidelog writes. An older
file (it needs its upgrade first), a newer one, a PostgreSQL store, a missing or damaged
file, or any error at all gives no rows, and the engine's own start-up shows everything
and reports any problem exactly as before.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

from sidelog.events import Event
from sidelog.store.event_rows import EVENT_COLUMNS, event_from_row
from sidelog.store.location import StoreLocation

SCHEMA_VERSION = 11
"""The ``PRAGMA user_version`` whose ``events`` table this reader knows: the version
store/migrations.py writes (tests/tui/test_cold_start_reader.py checks they agree)."""
BUSY_TIMEOUT_S = 0.1
"""How long to wait for a lock before giving up on the early page (the engine will read)."""
DEADLINE_S = 0.25
"""The longest the read may take (a reading of the newest page takes milliseconds): past it
SQLite is interrupted, so a file crafted to make the query endless (``events`` a view over
a recursive query) cannot hold the first frame back; the engine's checks then judge it."""

_NEWEST_SQL = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY id DESC LIMIT ?"


def read_first_page(location: StoreLocation, limit: int) -> list[Event]:
    """The newest ``limit`` events of the store at ``location``, oldest first; ``[]`` when
    the store is not a SQLite file at ``SCHEMA_VERSION`` or anything goes wrong."""
    path = location.path
    if location.is_postgres or path is None or limit <= 0 or not path.is_file():
        return []
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"  # read-only: never creates, never upgrades
        with closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)) as conn:
            deadline = time.monotonic() + DEADLINE_S
            conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version != SCHEMA_VERSION:
                return []
            rows = conn.execute(_NEWEST_SQL, (limit,)).fetchall()
        events = [event_from_row(row) for row in rows]
    except Exception:  # whatever the cause, the engine's start-up reads and reports it
        return []
    events.reverse()
    return events


__all__ = ["SCHEMA_VERSION", "read_first_page"]
