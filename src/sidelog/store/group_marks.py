"""When the errors pane was last looked at, and which groups regressed lately.

- ``view_marks`` (store/schema.py) keeps, per database, when a view was last looked at:
  the errors pane marks the groups first seen after it ("new since you last looked"),
  across restarts. Written by ``LookedJob`` in one short writer turn.
- ``regressed_since``: unresolved groups that came back after a resolve and saw an
  event since a moment, newest first, bounded, read from the ``(status, regressed,
  last_seen…)`` index (store/schema.py), so the UI can ring once per regression. A
  regression is named by the group and the resolve it undid (``resolved_at`` stays set
  when a new event reopens a group), so the same one is never announced twice while a
  new resolve followed by a new regression is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sidelog.store.models import GROUP_COLUMNS, ErrorGroup, group_from_row

if TYPE_CHECKING:
    from sidelog.store.reader import StoreReader
    from sidelog.store.retention import JobWriter

__all__ = ["ERRORS_VIEW", "LookedJob", "looked_at", "regressed_since"]

ERRORS_VIEW = "errors"
"""The errors pane's name in ``view_marks``."""


async def looked_at(reader: StoreReader, name: str = ERRORS_VIEW) -> int | None:
    """When ``name`` was last looked at (ms), or ``None`` if never in this database."""
    # The reader's own read path: its pool and its in-flight guard (store/reader.py).
    rows = await reader._all("SELECT looked_at FROM view_marks WHERE name = ?", (name,))
    return int(rows[0][0]) if rows else None


class LookedJob:
    """Record that a view was looked at, in one writer turn (``Engine.run_job``)."""

    def __init__(self, writer: JobWriter, at: int, name: str = ERRORS_VIEW) -> None:
        self._writer = writer
        self._at = at
        self._name = name

    async def step(self) -> bool:
        """One upsert; the stored time only moves forward (a clock stepping back keeps it)."""
        await self._writer.writable()
        conn = self._writer.conn
        async with conn.begin():
            await conn.exec_driver_sql(
                "INSERT INTO view_marks (name, looked_at) VALUES (?, ?) ON CONFLICT(name) "
                "DO UPDATE SET looked_at = max(looked_at, excluded.looked_at)",
                (self._name, self._at),
            )
        return False


def regressed_sql(since: int, limit: int) -> tuple[str, list[object]]:
    """The query of ``regressed_since`` (tests/store/test_group_marks.py checks its plan)."""
    return (
        f"SELECT {GROUP_COLUMNS} FROM error_groups WHERE status = 'unresolved' AND regressed = 1 "
        "AND last_seen >= ? ORDER BY last_seen DESC LIMIT ?",
        [since, limit],
    )


async def regressed_since(reader: StoreReader, since: int, limit: int = 200) -> list[ErrorGroup]:
    """Regressed groups with an event received at or after ``since``, newest first."""
    sql, params = regressed_sql(since, limit)
    return [group_from_row(row) for row in await reader._all(sql, params)]
