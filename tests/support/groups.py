"""Many error groups written fast: the store's own upsert, one transaction, no HTTP per group."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from sidelog.store.database import prepare_folder
from sidelog.store.migrations import initialise
from sidelog.store.schema import UPSERT_GROUP_SQL

BASE_MS = 1_700_000_000_000


def add_groups(db: Path, count: int, *, start: int = 0, prefix: str = "fp") -> list[str]:
    """Create the store if there is none (no sidelog may have it open), then write ``count``
    groups ``{prefix}{i:06d}`` (i from ``start``): group i was last seen at ``BASE_MS + i`` s,
    first seen ``i % 50`` s before, and has ``(i * 7) % 97 + 1`` events."""
    rows = [
        (
            f"{prefix}{i:06d}",
            "payment",
            f"failure {i}",
            (i * 7) % 97 + 1,
            BASE_MS + i * 1000 - (i % 50) * 1000,
            BASE_MS + i * 1000,
            i + 1,
        )
        for i in range(start, start + count)
    ]
    if not db.exists() or db.stat().st_size == 0:
        prepare_folder(db)
        initialise(db)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None, timeout=10)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(UPSERT_GROUP_SQL, rows)
        conn.execute("COMMIT")
    return [row[0] for row in rows]
