"""The stream's history: a window of the store in memory, paged by id cursor as the view moves.

``HistoryView`` is the part of the stream that knows the store: which events the
window holds (``EventWindow``), the highlighted row, and fetching the previous page
(``engine.events(before=oldest_id)``) or the next one (``after=newest_id``) when the
view nears an edge, keeping the reader's view still while rows come and go.
``StreamView`` adds follow mode, keys and drawing on top.
"""

from __future__ import annotations

from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sidelog.engine import Engine
from sidelog.events import Event
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.tui.widgets.stream_window import EventWindow, Row

PAGE_SIZE = 1000
"""Events fetched per history page while scrolling."""
PREFETCH_ROWS = 200
"""Fetch the next page when the view comes this close to an edge of the window."""


class HistoryView(ScrollView):
    """A scrollable window over the store's events under one filter, with a highlighted row."""

    def __init__(self, engine: Engine, window_max: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._engine = engine
        self._filter: EventFilter = EMPTY_FILTER
        self._window = EventWindow(window_max)
        self._cursor = -1
        self._generation = 0
        self._pending: list[Event] | None = None
        """Live events buffered while the window is being replaced."""
        self._loading_older = False
        self._loading_newer = False
        self._owed_up = 0
        """Rows the user asked to move above the window while the older page was loading."""
        self._adjusting = 0
        self._cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(1024)
        """Drawn rows by (row key, width, highlighted): cleared whenever the window is replaced."""

    # ------------------------------------------------------------------ public API

    @property
    def filter(self) -> EventFilter:
        """The filter applied to history and live events."""
        return self._filter

    @property
    def _rows(self) -> list[Row]:
        return self._window.rows

    @property
    def cursor(self) -> int:
        """Index of the highlighted row in the window, ``-1`` when empty."""
        return self._cursor

    @property
    def window(self) -> list[Event]:
        """The events held in memory, oldest first (a copy)."""
        return self._window.events()

    @property
    def cursor_event(self) -> Event | None:
        """The highlighted event, if any."""
        return self._rows[self._cursor].event if 0 <= self._cursor < len(self._rows) else None

    # --------------------------------------------------------------- store pages

    async def _query(self, **where: int) -> list[Event] | None:
        """One page of the current filter from the store; ``None`` (and a notice) if the read failed."""
        try:
            return await self._engine.events(self._filter, **where)
        except Exception as exc:  # a read error must not take the UI down; the next scroll retries
            self.notify(f"Could not read history: {type(exc).__name__}", severity="error", markup=False)
            return None

    def _reset_view(self) -> None:
        """After the window was replaced: no loads in flight, no stale strips."""
        self._cache.clear()
        self._loading_older = self._loading_newer = False
        self._owed_up = 0
        self.refresh()

    def _page_size(self) -> int:
        """A history page: never so big that adding one pushes the view out of the window."""
        return max(1, min(PAGE_SIZE, self._window.limit // 3))

    def _maybe_page(self) -> None:
        """Fetch the next page if the view is near an edge of the window."""
        if self._pending is not None or not self.is_mounted:
            return
        window = self._window
        top = round(self.scroll_y)
        if window.has_older and not self._loading_older and (top < PREFETCH_ROWS or self._owed_up):
            self._loading_older = True
            self.run_worker(self._load_older(self._generation), name="stream-older", group="stream-page")
        bottom = top + self.size.height
        if window.detached and not self._loading_newer and len(window) - bottom < PREFETCH_ROWS:
            self._loading_newer = True
            self.run_worker(self._load_newer(self._generation), name="stream-newer", group="stream-page")

    async def _load_older(self, generation: int) -> None:
        oldest = self._window.oldest_id()
        page = [] if oldest is None else await self._query(limit=self._page_size(), before=oldest)
        if generation != self._generation:
            return
        self._loading_older = False
        if page is None:
            return
        page.reverse()
        added, _ = self._window.prepend_older(page, full=len(page) >= self._page_size())
        if not added:
            return
        self._cursor = min(self._cursor + added, len(self._rows) - 1)
        self._update_virtual_size()
        self._scroll_by_rows(added)
        if self._owed_up:
            owed, self._owed_up = self._owed_up, 0
            self._set_cursor(self._cursor - owed)
        self.call_after_refresh(self._maybe_page)

    async def _load_newer(self, generation: int) -> None:
        newest = self._window.newest_id() or 0
        self._pending = []
        page = await self._query(limit=self._page_size(), after=newest)
        if generation != self._generation:
            return
        pending, self._pending = self._pending or [], None
        self._loading_newer = False
        if page is None:
            return
        full = len(page) >= self._page_size()
        if not full:  # caught up: what arrived meanwhile follows on
            last = (page[-1].id if page else None) or newest
            page.extend(event for event in pending if event.id is None or event.id > last)
        dropped = self._window.extend_newer(page, full=full)
        if dropped:
            self._cursor = max(0, self._cursor - dropped)
            self._scroll_by_rows(-dropped)
        self._update_virtual_size()
        self.refresh()
        self.call_after_refresh(self._maybe_page)

    async def _load_oldest(self) -> None:
        self._generation += 1
        generation = self._generation
        page = await self._query(limit=self._page_size(), after=0)
        if generation != self._generation or page is None:
            return
        self._window.replace(page, has_older=False, detached=len(page) >= self._page_size())
        self._reset_view()
        self._update_virtual_size()
        self._set_cursor(0 if page else -1, scroll=False)
        self._scroll_quietly(0)

    # ---------------------------------------------------------------- scrolling

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(0, len(self._rows))

    def _scroll_to_end(self) -> None:
        self._scroll_quietly(len(self._rows) - self.size.height)

    def _scroll_by_rows(self, rows: int) -> None:
        self._scroll_quietly(round(self.scroll_y) + rows)

    def _scroll_quietly(self, y: int) -> None:
        """Scroll for the window's sake, not the reader's: follow mode stays as it is."""
        self._adjusting += 1
        try:
            self.scroll_to(y=max(0, y), animate=False, immediate=True, force=True)
        finally:
            self._adjusting -= 1

    def _set_cursor(self, index: int, *, scroll: bool = True) -> None:
        if index < 0 and self._rows and self._window.has_older and scroll:
            # Above the window: finish the move once the older page has arrived.
            self._owed_up = min(self._page_size(), self._owed_up - index)
            index = 0
        old = self._cursor
        index = max(-1 if not self._rows else 0, min(index, len(self._rows) - 1))
        self._cursor = index
        if old != index:
            self.refresh_line(old)
            self.refresh_line(index)
        if scroll and index >= 0:
            top = round(self.scroll_y)
            height = max(1, self.size.height)
            if index < top:
                self.scroll_to(y=index, animate=False, immediate=True)
            elif index >= top + height:
                self.scroll_to(y=index - height + 1, animate=False, immediate=True)
            self._maybe_page()


__all__ = ["PAGE_SIZE", "PREFETCH_ROWS", "HistoryView"]
