"""Reading the live facet counts' starting point: bounded, and one line when the file is damaged.

``Engine`` reads how many events each level, category and source has when the store
opens and after anything deletes events (retention, clear). Two things go wrong
with a plain ``GROUP BY``:

- a store with hundreds of thousands of distinct categories would be read whole into
  memory, only for ``FacetCounts`` to keep its busiest few; so only ``limit`` values
  per facet are read (SQLite keeps just those while sorting);
- it is the first read of every index, so on a large file whose integrity check was
  deferred (store/checks.py, ``QUICK_CHECK_SYNC_BYTES``) it is where a damaged page
  shows up; that becomes ``StoreError`` with one line, like every start-up check,
  instead of a SQLAlchemy traceback.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import DBAPIError

from sidelog.store.checks import damaged
from sidelog.store.errors import StoreError
from sidelog.store.reader import StoreReader


class StoreJob(Protocol):
    """A long store job cut into short writer turns: ``step()`` until it returns False
    (``RetentionJob``, store/maintenance.py's ``ClearJob`` and ``ReleaseJob``). Every such
    job deletes or moves events, so the engine re-reads the facet counts after it."""

    async def step(self) -> bool:
        """One short transaction; True while work remains."""
        ...


async def read_facet_counts(reader: StoreReader, path: Path, limit: int) -> dict[str, dict[str, int]]:
    """Events per level, category and source, at most ``limit`` busiest values per facet.

    Raises ``StoreError`` (one line naming the file) when the file cannot be read.
    """
    try:
        return await reader.facet_counts(limit=limit)
    except DBAPIError as exc:
        raise damaged(path.resolve(), exc.orig or exc) from None
    except sqlite3.DatabaseError as exc:  # raised directly by the driver in some paths
        raise damaged(path.resolve(), exc) from None
    except OSError as exc:
        raise StoreError(f"cannot read the database {path}: {exc.strerror or exc}") from None


__all__ = ["StoreJob", "read_facet_counts"]
