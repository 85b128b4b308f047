"""The stream's history: which slice of the store it holds, and fetching more by id cursor.

``HistoryPager`` knows the store and nothing of Textual: the window of events under one
filter (``EventWindow``), the live events held while the window is being replaced, and
the page loads (the previous page by ``before=oldest_id``, the next by ``after=newest_id``).
Each load reports how many rows it added or dropped, so the widget showing the window
(``StreamView``) can keep the reader's view and cursor still.

Replacing the window (a new filter, a jump to the oldest event) starts a new
*generation*: a load that was in flight finishes into nothing, and its claim no longer
blocks new loads. Page loads are claimed synchronously (``claim_older``) and run
later (``load_older``), so a view that asks twice before the first load started never
fetches the same page twice. A read that fails is reported (``on_error``) and leaves the
window as it was: the next move tries again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from sidelog.events import Event
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.tui.widgets.stream_window import EventWindow, Row

FIRST_PAGE = 300
"""Events fetched on a filter change: a few screens, so the first paint is quick."""
PAGE_SIZE = 1000
"""Events fetched per history page while scrolling."""
WINDOW_MAX = 6000
"""Most events held in memory; beyond it the far end of the window is dropped."""
PREFETCH_ROWS = 200
"""Fetch the next page when the view comes this close to an edge of the window."""


@dataclass(frozen=True, slots=True)
class PageSizes:
    """How much of the store the stream fetches and holds (tests make them small)."""

    first: int = FIRST_PAGE
    """Events fetched when the window is replaced."""
    page: int = PAGE_SIZE
    """Events fetched per page while scrolling (at most a third of ``window``)."""
    window: int = WINDOW_MAX
    """Most events held."""
    prefetch: int = PREFETCH_ROWS
    """Rows from an edge of the window at which the next page is fetched."""


class EventSource(Protocol):
    """Where pages come from (the engine)."""

    async def events(
        self, flt: EventFilter, *, limit: int = 100, before: int | None = None, after: int | None = None
    ) -> list[Event]:
        """Matching stored events: newest first, or oldest first with ``after``."""
        ...


class HistoryPager:
    """A window over the store's events under one filter, paged by id cursor."""

    def __init__(
        self, source: EventSource, sizes: PageSizes, *, on_error: Callable[[Exception], None]
    ) -> None:
        """``on_error`` hears of every read that failed (the UI shows a notice)."""
        self._source = source
        self._sizes = sizes
        self._on_error = on_error
        self._filter: EventFilter = EMPTY_FILTER
        self._window = EventWindow(sizes.window)
        self._generation = 0
        self._held: list[Event] = []
        self._held_for: int | None = None
        """The generation whose load holds live events in ``_held`` (``None``: none holds)."""
        self._older_claim: int | None = None
        self._newer_claim: int | None = None

    # ------------------------------------------------------------------ state

    @property
    def filter(self) -> EventFilter:
        """The filter of the window (set as soon as a reload starts)."""
        return self._filter

    @property
    def rows(self) -> list[Row]:
        """The held rows, oldest first (the pager's own list: read, never change it)."""
        return self._window.rows

    def events(self) -> list[Event]:
        """The held events, oldest first (a copy)."""
        return self._window.events()

    @property
    def generation(self) -> int:
        """How many times the window was replaced (``0``: never loaded)."""
        return self._generation

    @property
    def has_older(self) -> bool:
        """The store holds matching events older than the window."""
        return self._window.has_older

    @property
    def detached(self) -> bool:
        """The store holds matching events newer than the window."""
        return self._window.detached

    @property
    def holding(self) -> bool:
        """True while a load replaces or catches up the window: live events wait for it."""
        return self._held_for == self._generation

    @property
    def loading_older(self) -> bool:
        """A previous page is being fetched."""
        return self._older_claim == self._generation

    @property
    def loading_newer(self) -> bool:
        """A next page is being fetched."""
        return self._newer_claim == self._generation

    @property
    def page_size(self) -> int:
        """A history page: never so big that adding one pushes the view out of the window."""
        return max(1, min(self._sizes.page, self._window.limit // 3))

    # ------------------------------------------------------------- live events

    def matching(self, events: Iterable[Event]) -> list[Event]:
        """The events the filter keeps."""
        matches = self._filter.matches
        return [event for event in events if matches(event)]

    def hold(self, events: list[Event]) -> None:
        """Keep live events for the load in flight (``holding``); only the newest window-full."""
        self._held.extend(events)
        del self._held[: -self._window.limit]

    def append_following(self, events: list[Event]) -> int:
        """Add the newest events, dropping the oldest past the limit; returns rows dropped."""
        return self._window.append_following(events)

    def append_paused(self, events: list[Event]) -> None:
        """Add the newest events without dropping any (past the limit the window detaches)."""
        self._window.append_paused(events)

    # -------------------------------------------------------------------- loads

    async def reload(self, flt: EventFilter) -> list[Event] | None:
        """Empty the window under ``flt``; return the newest page plus the live events held
        meanwhile (oldest first) for the caller to append, or ``None`` (superseded, failed)."""
        self._filter = flt
        generation = self._start_generation()
        self._hold_for(generation)
        try:
            page = await self._fetch(limit=self._sizes.first)
        finally:
            held = self._release(generation)
        if page is None or generation != self._generation:
            return None
        page.reverse()
        newest = (page[-1].id if page else None) or 0
        fresh = [event for event in held if event.id is None or event.id > newest]
        self._window.replace([], has_older=len(page) >= self._sizes.first, detached=False)
        return [*page, *fresh]

    async def load_oldest(self) -> bool:
        """Replace the window with the oldest page; ``False`` if superseded or failed."""
        generation = self._start_generation()
        page = await self._fetch(limit=self.page_size, after=0)
        if page is None or generation != self._generation:
            return False
        self._window.replace(page, has_older=False, detached=len(page) >= self.page_size)
        return True

    def claim_older(self, top: int, *, owed: bool) -> int | None:
        """If the previous page is due for a view whose top row is ``top`` (or a move above
        the window is ``owed``), mark it in flight and return the claim for ``load_older``."""
        if self.holding or self.loading_older or not self._window.has_older:
            return None
        if top >= self._sizes.prefetch and not owed:
            return None
        self._older_claim = self._generation
        return self._generation

    async def load_older(self, claim: int) -> int:
        """Prepend the previous page; returns rows added (``0``: none, superseded or failed)."""
        oldest = self._window.oldest_id()
        page: list[Event] | None = []
        try:
            if claim == self._generation and oldest is not None:
                page = await self._fetch(limit=self.page_size, before=oldest)
        finally:
            if self._older_claim == claim:
                self._older_claim = None
        if page is None or claim != self._generation:
            return 0
        page.reverse()
        added, _ = self._window.prepend_older(page, full=len(page) >= self.page_size)
        return added

    def claim_newer(self, bottom: int) -> int | None:
        """If the window is detached and the view's bottom row ``bottom`` nears its end,
        mark the next page in flight and return the claim for ``load_newer``."""
        if self.holding or self.loading_newer or not self._window.detached:
            return None
        if len(self._window) - bottom >= self._sizes.prefetch:
            return None
        self._newer_claim = self._generation
        return self._generation

    async def load_newer(self, claim: int) -> int | None:
        """Append the next page (and, once caught up, the live events held meanwhile);
        returns rows dropped at the oldest end (``None``: superseded or failed)."""
        if claim != self._generation:
            return None
        newest = self._window.newest_id() or 0
        self._hold_for(claim)
        try:
            page = await self._fetch(limit=self.page_size, after=newest)
        finally:
            held = self._release(claim)
            if self._newer_claim == claim:
                self._newer_claim = None
        if page is None or claim != self._generation:
            return None
        full = len(page) >= self.page_size
        if not full:  # caught up: what arrived meanwhile follows on
            last = (page[-1].id if page else None) or newest
            page.extend(event for event in held if event.id is None or event.id > last)
        return self._window.extend_newer(page, full=full)

    async def _fetch(self, **where: int) -> list[Event] | None:
        """One page under the filter; ``None`` (reported) if the read failed."""
        try:
            return await self._source.events(self._filter, **where)
        except Exception as exc:  # a read error must not take the UI down
            self._on_error(exc)
            return None

    def _start_generation(self) -> int:
        self._generation += 1
        return self._generation

    def _hold_for(self, generation: int) -> None:
        self._held = []
        self._held_for = generation

    def _release(self, generation: int) -> list[Event]:
        """Stop holding for ``generation`` and return what it held (nothing if another holds)."""
        if self._held_for != generation:
            return []
        held, self._held, self._held_for = self._held, [], None
        return held


__all__ = [
    "FIRST_PAGE",
    "PAGE_SIZE",
    "PREFETCH_ROWS",
    "WINDOW_MAX",
    "EventSource",
    "HistoryPager",
    "PageSizes",
]
