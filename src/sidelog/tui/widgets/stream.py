"""The live event stream: a virtual list over the store, so a million events scroll like ten.

A bounded window of events is held, oldest first, and paged from the store by id cursor
by the view's ``HistoryPager`` (``stream_history``); the view keeps the cursor, scroll
position and follow mode, and draws rows one line at a time from an LRU cache of strips.
Follow mode keeps the newest event in view; any move up pauses it, arriving events are
then counted (``new_since_pause``) and ``end`` or ``f`` resumes. Batches are applied as
they come (the app paces them: ``sidelog.tui.live``). Event text goes through
``safe_text`` into ``Segment``s (``stream_rows``): never markup, never a control character.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import chain

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.strip import Strip

from sidelog.engine import Engine
from sidelog.events import Event, now_ms
from sidelog.filters import EventFilter
from sidelog.pipeline.batcher import CommittedBatch
from sidelog.tui.commands import PaletteCommand
from sidelog.tui.widgets.stream_history import HistoryPager, PageSizes
from sidelog.tui.widgets.stream_rows import COMPONENTS, ROW_CSS, RowPainter
from sidelog.tui.widgets.tail_scroll import TailScrollView


class StreamView(TailScrollView, can_focus=True):
    """The centre pane: time, level, category, source, user and message of each event."""

    COMPONENT_CLASSES = {f"stream--{name}" for name in COMPONENTS}

    DEFAULT_CSS = f"""
    StreamView {{
{ROW_CSS}    }}
    """

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="stream.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="stream.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="stream.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="stream.page_down"),
        Binding("home,g", "oldest", "Oldest", show=False, id="stream.oldest"),
        Binding("end,f", "resume_follow", "Follow", id="stream.follow"),
        Binding("enter", "open", "Open event", id="stream.open"),
        Binding("t", "toggle_times", "Relative times", show=False, id="stream.times"),
    ]

    # Not run at mount (init=False): the app learns of a change, never of the initial state,
    # so a FollowChanged cannot reach it while it is already tearing down its panes.
    following: var[bool] = var(True, init=False)
    """True while the newest event is kept in view as events arrive."""
    new_since_pause: var[int] = var(0, init=False)
    """Matching events that arrived since follow was paused."""

    @dataclass
    class EventSelected(Message):
        """The user opened an event (Enter); ``event`` is complete, fresh from the store."""

        event: Event

    @dataclass
    class FollowChanged(Message):
        """Follow mode changed, or events arrived while paused."""

        following: bool
        new_since_pause: int

    def __init__(
        self,
        engine: Engine,
        *,
        sizes: PageSizes | None = None,
        clock: Callable[[], int] = now_ms,
        id: str | None = None,
    ) -> None:
        """``sizes`` sets the pages and window (the defaults suit a terminal; tests shrink them);
        ``clock`` says what "today" and "3m ago" are measured from."""
        super().__init__(id=id)
        self._engine = engine
        self._pager = HistoryPager(engine, sizes or PageSizes(), on_error=self._read_failed)
        self._cursor = -1
        self._owed_up = 0
        """Rows the user asked to move above the window while the older page was loading."""
        self.painter = RowPainter(self, clock)
        """Draws the rows (strip cache, cleared whenever the window is replaced; time column mode)."""

    # ------------------------------------------------------------------ public API

    @property
    def pager(self) -> HistoryPager:
        """The window of the store this view shows (its state: loads in flight, edges)."""
        return self._pager

    @property
    def filter(self) -> EventFilter:
        """The filter applied to history and live events."""
        return self._pager.filter

    @property
    def window(self) -> list[Event]:
        """The events held in memory, oldest first (a copy)."""
        return self._pager.events()

    @property
    def cursor_event(self) -> Event | None:
        """The highlighted event, if any."""
        rows = self._pager.rows
        return rows[self._cursor].event if 0 <= self._cursor < len(rows) else None

    @property
    def paging(self) -> bool:
        """True while a history page is fetched, or a move waits for one."""
        return self._pager.loading_older or self._pager.loading_newer or self._owed_up > 0

    async def set_filter(self, flt: EventFilter) -> None:
        """Apply ``flt``: reload the newest page from the store and follow from there."""
        await self._reload(flt)

    def add_batch(self, batch: CommittedBatch) -> None:
        """Take one committed batch of live events (keeps those the filter matches)."""
        arrived = self._pager.matching(chain(batch.stored, batch.live_only))
        if not arrived:
            return
        if not self.following:
            self.new_since_pause += len(arrived)
        if self._pager.holding:
            self._pager.hold(arrived)
        else:
            self._append(arrived)

    def resume_follow(self) -> None:
        """Jump to the newest event and follow again (``end`` / ``f``)."""
        if self._pager.detached or self._pager.holding:
            reload = self._reload(self._pager.filter)
            self.run_worker(reload, name="stream-reload", group="stream-load", exclusive=True)
            return
        self.new_since_pause = 0
        self.following = True
        self._set_cursor(len(self._pager.rows) - 1, scroll=False)
        self._scroll_to_end()

    def palette_commands(self) -> list[PaletteCommand]:
        """What the command palette offers for the stream."""
        return [PaletteCommand("Follow the newest events", "key: f or end in the stream", self.resume_follow)]

    # --------------------------------------------------------------- window edits

    async def _reload(self, flt: EventFilter) -> None:
        page = await self._pager.reload(flt)
        if page is None:
            return
        self._window_replaced()
        self.new_since_pause = 0
        self.following = True
        self._append(page)

    def _append(self, batch: list[Event]) -> None:
        """Add the newest events; while following, keep the newest in view."""
        if not self.following:
            self._pager.append_paused(batch)
            self._update_virtual_size()
            if self._cursor < 0 and self._pager.rows:
                self._set_cursor(0, scroll=False)
            return
        dropped = self._pager.append_following(batch)
        self._cursor = max(-1, self._cursor - dropped)
        self._update_virtual_size()
        self._set_cursor(len(self._pager.rows) - 1, scroll=False)
        self._scroll_to_end()

    def _window_replaced(self) -> None:
        """No stale strips, no move owed to a load of the old window."""
        self.painter.clear()
        self._owed_up = 0
        self.refresh()

    def _read_failed(self, exc: Exception) -> None:
        self.notify(f"Could not read history: {type(exc).__name__}", severity="error", markup=False)

    # ---------------------------------------------------------------- paging

    def _maybe_page(self) -> None:
        """Fetch the next page if the view is near an edge of the window."""
        if not self.is_mounted:
            return
        top = round(self.scroll_y)
        older = self._pager.claim_older(top, owed=self._owed_up > 0)
        if older is not None:
            self.run_worker(self._load_older(older), name="stream-older", group="stream-page")
        newer = self._pager.claim_newer(top + self.size.height)
        if newer is not None:
            self.run_worker(self._load_newer(newer), name="stream-newer", group="stream-page")

    async def _load_older(self, claim: int) -> None:
        added = await self._pager.load_older(claim)
        if not added:
            return
        self._cursor = min(self._cursor + added, len(self._pager.rows) - 1)
        self._update_virtual_size()
        self._scroll_by_rows(added)
        if self._owed_up:
            owed, self._owed_up = self._owed_up, 0
            self._set_cursor(self._cursor - owed)
        self.call_after_refresh(self._maybe_page)

    async def _load_newer(self, claim: int) -> None:
        dropped = await self._pager.load_newer(claim)
        if dropped is None:
            return
        if dropped:
            self._cursor = max(0, self._cursor - dropped)
            self._scroll_by_rows(-dropped)
        self._update_virtual_size()
        self.refresh()
        self.call_after_refresh(self._maybe_page)

    async def _load_oldest(self) -> None:
        if not await self._pager.load_oldest():
            return
        self._window_replaced()
        self._update_virtual_size()
        self._set_cursor(0 if self._pager.rows else -1, scroll=False)
        self.scroll_quietly(0)

    # ---------------------------------------------------------------- scrolling

    def _update_virtual_size(self) -> None:
        self.set_rows(len(self._pager.rows))  # no screen layout per live event (tail_scroll.py)

    def _scroll_to_end(self) -> None:
        self.scroll_quietly(len(self._pager.rows) - self.size.height)

    def _scroll_by_rows(self, rows: int) -> None:
        self.scroll_quietly(round(self.scroll_y) + rows)

    def _set_cursor(self, index: int, *, scroll: bool = True) -> None:
        rows = self._pager.rows
        if index < 0 and rows and self._pager.has_older and scroll:
            # Above the window: finish the move once the older page has arrived.
            self._owed_up = min(self._pager.page_size, self._owed_up - index)
            index = 0
        old = self._cursor
        index = max(-1 if not rows else 0, min(index, len(rows) - 1))
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

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling up (wheel, scrollbar, keys) pauses follow; nearing an edge fetches a page."""
        super().watch_scroll_y(old_value, new_value)
        if self.adjusting:  # the window's own scroll: follow mode stays as it is
            return
        if new_value < old_value and new_value < self.max_scroll_y:
            self.following = False
        self._maybe_page()

    # ------------------------------------------------------------------ actions

    def action_cursor_up(self) -> None:
        """Move the highlight up one event (pauses follow)."""
        self.following = False
        self._set_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        """Move the highlight down one event."""
        self._set_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        """Move up one screen (pauses follow)."""
        self.following = False
        self._set_cursor(self._cursor - max(1, self.size.height - 1))

    def action_page_down(self) -> None:
        """Move down one screen."""
        self._set_cursor(self._cursor + max(1, self.size.height - 1))

    def action_oldest(self) -> None:
        """Jump to the oldest matching event in the store (pauses follow)."""
        self.following = False
        self.run_worker(self._load_oldest(), name="stream-oldest", group="stream-load", exclusive=True)

    def action_resume_follow(self) -> None:
        """Follow the newest events again."""
        self.resume_follow()

    def action_open(self) -> None:
        """Open the highlighted event (posts ``EventSelected`` with the full stored event)."""
        event = self.cursor_event
        if event is not None:
            self.run_worker(self._open(event), name="stream-open", group="stream-open", exclusive=True)

    async def _open(self, event: Event) -> None:
        if event.id is not None:
            with contextlib.suppress(Exception):  # else show what the window holds
                event = await self._engine.event(event.id) or event
        self.post_message(self.EventSelected(event))

    def on_click(self, event: events.Click) -> None:
        """A click highlights the row under the pointer (pauses follow)."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = round(self.scroll_y) + offset.y
        if 0 <= index < len(self._pager.rows):
            self.following = False
            self._set_cursor(index)

    def on_resize(self, event: events.Resize) -> None:
        """Keep the newest event in view when the pane changes size."""
        if self.following:
            self._scroll_to_end()

    def on_mount(self) -> None:
        """Load the newest page unless the app already set a filter."""
        if self._pager.generation == 0:
            initial = self._reload(self._pager.filter)
            self.run_worker(initial, name="stream-initial", group="stream-load", exclusive=True)
        self.set_interval(1.0, partial(self.painter.tick, self.refresh))  # ages, and dates at midnight

    # ------------------------------------------------------------------ watchers

    def watch_following(self, following: bool) -> None:
        """Redraw the cursor row (its look depends on follow mode) and tell the app."""
        self.post_message(self.FollowChanged(following, self.new_since_pause))
        self.refresh()

    def watch_new_since_pause(self, count: int) -> None:
        """Tell the app how many events arrived while paused."""
        self.post_message(self.FollowChanged(self.following, count))

    # ---------------------------------------------------------------- rendering

    def notify_style_update(self) -> None:
        """Colours may have changed: drop the cached strips."""
        super().notify_style_update()
        self.painter.restyle()

    def action_toggle_times(self) -> None:
        """Clock times or ages ("3m ago") in the time column."""
        self.painter.toggle_relative()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """One visible row, from the painter's strip cache when possible."""
        rows = self._pager.rows
        top = round(self.scroll_y)
        if not 0 <= top + y < len(rows):
            return Strip.blank(self.size.width, self.rich_style)
        selected = top + y == self._cursor and (self.has_focus or not self.following)
        return self.painter.paint(rows, top + y, top, self.size.height, self.size.width, selected)


__all__ = ["StreamView"]
