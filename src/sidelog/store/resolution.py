"""How well errors get resolved: the resolution rate and the median time to resolve.

Two figures for the health bar and ``GET /v1/health``, over a window (``WINDOW_MS``,
the last 24 hours):

- **resolution rate**: of the error groups seen in the window (an event received in
  it: ``last_seen``), the share resolved now. A group that regressed is unresolved again
  and counts against it.
- **median time to resolve**: over the groups resolved in the window (``resolved_at``),
  the median of ``resolved_at - first_seen``.

Both times are sidelog's own clock (``received_at`` and the moment of triage), never an
app's. The counts run on the error-group indexes of ``store/schema.py`` (covering, no
row read); the median reads the resolved groups' rows and sorts their durations, which
is the dearer part (a few milliseconds at 10,000 resolved groups). Health is read every
tick, so ``resolution_for_health`` keeps the answer for ``MAX_AGE_MS`` and reads again
sooner only when the number of unresolved groups changed (a resolve, a reopen, a new or
regressed group).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from sidelog.events import now_ms
from sidelog.store.reader import StoreReader

__all__ = [
    "MAX_AGE_MS",
    "WINDOW_MS",
    "Resolution",
    "read_resolution",
    "resolution_for_health",
    "resolution_sql",
]

WINDOW_MS = 24 * 3600 * 1000
"""The window both figures look back over."""
MAX_AGE_MS = 10_000
"""How long ``resolution_for_health`` reuses an answer while nothing was triaged."""

_COUNTS_SQL = (
    "SELECT (SELECT count(*) FROM error_groups WHERE last_seen >= ?), "
    "(SELECT count(*) FROM error_groups WHERE status = 'resolved' AND last_seen >= ?), "
    "(SELECT count(*) FROM error_groups WHERE status = 'resolved' AND resolved_at >= ?), "
    "(SELECT count(*) FROM error_groups WHERE status = 'unresolved')"
)
_MEDIAN_SQL = (
    "SELECT max(0, resolved_at - first_seen) AS took FROM error_groups "
    "WHERE status = 'resolved' AND resolved_at >= ? ORDER BY took LIMIT ? OFFSET ?"
)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The resolution figures over one window."""

    window_ms: int
    seen: int
    """Error groups with an event received in the window."""
    resolved: int
    """Of those, the groups resolved now."""
    resolved_in_window: int
    """Groups resolved during the window (the median is over these)."""
    median_ms: int | None
    """Median time from first seen to resolved; ``None`` when none was resolved in the window."""
    unresolved: int = 0
    """Unresolved groups when read (what ``resolution_for_health`` watches for changes)."""

    @property
    def rate(self) -> float | None:
        """``resolved / seen``; ``None`` when no group was seen in the window."""
        return self.resolved / self.seen if self.seen else None

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready camelCase keys (``GET /v1/health``'s ``resolution``)."""
        rate = self.rate
        return {
            "windowSeconds": self.window_ms // 1000,
            "groupsSeen": self.seen,
            "groupsResolved": self.resolved,
            "rate": None if rate is None else round(rate, 4),
            "resolvedInWindow": self.resolved_in_window,
            "medianSecondsToResolve": None if self.median_ms is None else round(self.median_ms / 1000, 1),
        }


def resolution_sql(now: int, window_ms: int = WINDOW_MS) -> list[tuple[str, tuple[Any, ...]]]:
    """The counting query and the median query (for an even count: its two middle rows)."""
    since = now - window_ms
    return [(_COUNTS_SQL, (since, since, since)), (_MEDIAN_SQL, (since, 2, 0))]


async def read_resolution(
    reader: StoreReader, *, now: int | None = None, window_ms: int = WINDOW_MS
) -> Resolution:
    """The figures as stored now (two short reads)."""
    now = now_ms() if now is None else now
    (counts_sql, counts_params), _ = resolution_sql(now, window_ms)
    # The reader's own read path: its pool and its in-flight guard (store/reader.py).
    seen, resolved, in_window, unresolved = (await reader._all(counts_sql, counts_params))[0]
    median: int | None = None
    if in_window:
        middle = await reader._all(_MEDIAN_SQL, (now - window_ms, 2 - in_window % 2, (in_window - 1) // 2))
        values = [int(row[0]) for row in middle]
        median = sum(values) // len(values) if values else None
    return Resolution(window_ms, int(seen), int(resolved), int(in_window), median, int(unresolved))


_kept: weakref.WeakKeyDictionary[StoreReader, tuple[int, Resolution]] = weakref.WeakKeyDictionary()


async def resolution_for_health(reader: StoreReader, *, now: int | None = None) -> Resolution:
    """``read_resolution``, reused for ``MAX_AGE_MS`` unless the unresolved count moved.

    The check is one covering count; the full read (with the median's sort) runs at most
    every ``MAX_AGE_MS`` while nothing is triaged.
    """
    now = now_ms() if now is None else now
    kept = _kept.get(reader)
    if kept is not None and now - kept[0] < MAX_AGE_MS:
        rows = await reader._all("SELECT count(*) FROM error_groups WHERE status = 'unresolved'")
        if int(rows[0][0]) == kept[1].unresolved:
            return kept[1]
    fresh = await read_resolution(reader, now=now)
    _kept[reader] = (now, fresh)
    return fresh
