"""The stream's window: the bounded, ordered slice of the store held in memory.

Pure bookkeeping, no Textual: which events are held (oldest first), whether the store
has older ones below the window (``has_older``) and newer ones beyond it that the
window does not hold (``detached``). Every edit reports how many rows it dropped at
which end, so the widget can keep the reader's view and cursor still.
"""

from __future__ import annotations

from dataclasses import dataclass

from sidelog.events import Event
from sidelog.tui.widgets.stream_rows import slim


@dataclass(slots=True)
class Row:
    """One held event and its strip-cache key (unique for the life of the window)."""

    key: int
    event: Event


class EventWindow:
    """At most ``limit`` events, oldest first, with what lies beyond each end."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows: list[Row] = []
        self.has_older = False
        """The store holds matching events older than the first row."""
        self.detached = False
        """The store holds matching events newer than the last row (dropped or never added)."""
        self._next_key = 0

    def __len__(self) -> int:
        return len(self.rows)

    def events(self) -> list[Event]:
        """The held events, oldest first."""
        return [row.event for row in self.rows]

    def oldest_id(self) -> int | None:
        """Row id of the oldest stored event held (live-only events have none)."""
        return next((row.event.id for row in self.rows if row.event.id is not None), None)

    def newest_id(self) -> int | None:
        """Row id of the newest stored event held."""
        return next((row.event.id for row in reversed(self.rows) if row.event.id is not None), None)

    def replace(self, events: list[Event], *, has_older: bool, detached: bool) -> None:
        """Hold exactly ``events`` (oldest first)."""
        self.rows = self._rows(events)
        self.has_older = has_older
        self.detached = detached

    def append_following(self, events: list[Event]) -> int:
        """Add the newest events, dropping the oldest past the limit; returns rows dropped."""
        if len(events) >= self.limit:
            # A flood: rows for events that would be dropped at once cost for nothing.
            dropped = len(self.rows) + len(events) - self.limit
            self.rows[:] = self._rows(events[-self.limit :])
            self.has_older = self.has_older or dropped > 0
            return dropped
        self.rows.extend(self._rows(events))
        return self._trim_oldest()

    def append_paused(self, events: list[Event]) -> None:
        """Add the newest events without dropping any: past the limit the window detaches."""
        if self.detached:
            return
        room = self.limit - len(self.rows)
        if room < len(events):
            events = events[: max(0, room)]
            self.detached = True
        self.rows.extend(self._rows(events))

    def prepend_older(self, page: list[Event], *, full: bool) -> tuple[int, int]:
        """Add an older page (oldest first); returns (rows added, rows dropped at the newest end)."""
        self.has_older = full
        self.rows[0:0] = self._rows(page)
        excess = len(self.rows) - self.limit
        if excess > 0:
            del self.rows[-excess:]
            self.detached = True
        return len(page), max(0, excess)

    def extend_newer(self, page: list[Event], *, full: bool) -> int:
        """Add a newer page fetched from the store; returns rows dropped at the oldest end."""
        self.detached = full
        self.rows.extend(self._rows(page))
        return self._trim_oldest()

    def _trim_oldest(self) -> int:
        """Drop rows past the limit at the oldest end; returns how many were dropped."""
        excess = len(self.rows) - self.limit
        if excess <= 0:
            return 0
        del self.rows[:excess]
        self.has_older = True
        return excess

    def _rows(self, events: list[Event]) -> list[Row]:
        start = self._next_key
        self._next_key += len(events)
        return [Row(start + offset, slim(event)) for offset, event in enumerate(events)]


__all__ = ["EventWindow", "Row"]
