"""The live event stream: a virtual list over the store, so a million events scroll like ten.

Only a bounded window of events (``WINDOW_MAX``) lives in memory, oldest first, paged
from the store by id cursor as the view moves (``HistoryView``, in ``stream_history``).
Rows are drawn one line at a time (``render_line``) from an LRU cache of ``Strip``s, so
a frame costs the visible rows only.

Follow mode keeps the newest event in view as batches arrive. Any move up pauses it;
while paused, arriving events that match are counted (``new_since_pause``) and ``end``
or ``f`` resumes. Every string from an event goes through ``safe_text`` and into
``Segment``s directly: nothing is parsed as markup and no control character reaches
the terminal.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from itertools import chain

from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.strip import Strip
from textual.timer import Timer

from sidelog.engine import Engine
from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.pipeline.batcher import CommittedBatch
from sidelog.tui.widgets.stream_history import PAGE_SIZE, HistoryView
from sidelog.tui.widgets.stream_rows import COMPONENTS, render_row

FIRST_PAGE = 300
"""Events fetched on a filter change: a few screens, so the first paint is quick."""
WINDOW_MAX = 6000
"""Most events held in memory; beyond it the far end of the window is dropped."""
FOLLOW_FPS = 15
"""Most repaints per second of a following stream (a quiet stream shows each event at once)."""
FLOOD_FPS = 5
"""Repaints per second while a flood arrives: a full-screen frame costs the event loop
milliseconds that ingest needs (measured over 1M events: at 15 fps the attached UI cut
ingest to 0.74 of headless; at 5 fps, 0.99). Nobody reads rows scrolling past faster."""
FLOOD_EVENTS_PER_FRAME = 100
"""A frame that shows more new events than this means a flood (about 1,500 events/s)."""


class StreamView(HistoryView, can_focus=True):
    """The centre pane: time, level, category, source, user and message of each event."""

    COMPONENT_CLASSES = {f"stream--{name}" for name in COMPONENTS}

    DEFAULT_CSS = """
    StreamView {
        overflow-x: hidden;
        overflow-y: scroll;
        & > .stream--cursor { background: $block-cursor-blurred-background; text-style: bold; }
        &:focus > .stream--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
        & > .stream--time { color: $text-muted; }
        & > .stream--debug { color: $text-muted; }
        & > .stream--info { color: $text-success; }
        & > .stream--warn { color: $text-warning; text-style: bold; }
        & > .stream--error { color: $text-error; text-style: bold; }
        & > .stream--category { color: $text-primary; }
        & > .stream--source { color: $text-secondary; }
        & > .stream--user { color: $text-accent; }
        & > .stream--none { color: $text-muted; }
    }
    """

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="stream.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="stream.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="stream.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="stream.page_down"),
        Binding("home,g", "oldest", "Oldest", show=False, id="stream.oldest"),
        Binding("end,f", "resume_follow", "Follow", id="stream.follow"),
        Binding("enter", "open", "Open event", id="stream.open"),
    ]

    following: var[bool] = var(True)
    """True while the newest event is kept in view as events arrive."""
    new_since_pause: var[int] = var(0)
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

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__(engine, WINDOW_MAX, id=id)
        self._incoming: list[Event] = []
        """Live events held briefly while following, so a flood repaints at most ``FOLLOW_FPS``."""
        self._flushed_at = 0.0
        self._frame_s = 1 / FOLLOW_FPS
        """Current follow-mode frame interval: shorter when quiet, longer under a flood."""
        self._flush_timer: Timer | None = None
        self._styles: dict[str, Style] | None = None
        self.painted_at = 0.0
        """``time.perf_counter()`` when a row was last drawn (benchmarks and tests)."""
        self.painted_cursor_at = 0.0
        """``time.perf_counter()`` when the cursor row was last drawn."""
        self.loaded_at = 0.0
        """``time.perf_counter()`` when the newest page under ``loaded_filter`` was last loaded."""
        self.loaded_filter: EventFilter | None = None
        """The filter of the last completed reload (``None`` before the first)."""

    # ------------------------------------------------------------------ public API
    async def set_filter(self, flt: EventFilter) -> None:
        """Apply ``flt``: reload the newest page from the store and follow from there."""
        self._filter = flt
        await self._reload()

    def add_batch(self, batch: CommittedBatch) -> None:
        """Take one committed batch of live events (keeps those the filter matches)."""
        matches, limit = self._filter.matches, self._window.limit
        arrived = [event for event in chain(batch.stored, batch.live_only) if matches(event)]
        if not arrived:
            return
        if self._pending is not None:
            self._pending.extend(arrived)
            del self._pending[:-limit]
            if not self.following:
                self.new_since_pause += len(arrived)
            return
        if self.following:
            self._incoming.extend(arrived)
            if len(self._incoming) > limit:  # a flood: only the newest can be shown anyway
                del self._incoming[:-limit]
                self._window.has_older = True
            wait = self._flushed_at + self._frame_s - time.perf_counter()
            if wait <= 0:
                self._flush_incoming()
            elif self._flush_timer is None:
                self._flush_timer = self.set_timer(wait, self._flush_incoming, name="stream-follow")
            return
        self.new_since_pause += len(arrived)
        self._window.append_paused(arrived)
        self._after_edit()

    def _flush_incoming(self) -> None:
        """Show the live events held back by the follow-mode frame limit."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        incoming, self._incoming = self._incoming, []
        self._flushed_at = time.perf_counter()
        self._frame_s = 1 / (FLOOD_FPS if len(incoming) > FLOOD_EVENTS_PER_FRAME else FOLLOW_FPS)
        if not incoming:
            return
        if self.following:
            self._append(incoming)
        else:  # paused since they arrived: they still came before the pause
            self._window.append_paused(incoming)
            self._after_edit()

    def resume_follow(self) -> None:
        """Jump to the newest event and follow again (``end`` / ``f``)."""
        if self._window.detached or self._pending is not None:
            self.run_worker(self._reload(), name="stream-reload", group="stream-load", exclusive=True)
            return
        self.new_since_pause = 0
        self.following = True
        self._set_cursor(len(self._rows) - 1, scroll=False)
        self._scroll_to_end()

    # --------------------------------------------------------------- window edits

    async def _reload(self) -> None:
        self._generation += 1
        generation = self._generation
        self._pending = []
        self._incoming = []  # all in the store (or not wanted under a new filter)
        page = await self._query(limit=FIRST_PAGE)
        if generation != self._generation:
            return
        if page is None:
            self._pending = None
            return
        pending, self._pending = self._pending or [], None
        page.reverse()
        newest = (page[-1].id if page else None) or 0
        fresh = [event for event in pending if event.id is None or event.id > newest]
        self._window.replace([], has_older=len(page) >= FIRST_PAGE, detached=False)
        self._reset_view()
        self.new_since_pause = 0
        self.following = True
        self._append([*page, *fresh])
        self.loaded_filter = self._filter
        self.loaded_at = time.perf_counter()

    def _append(self, batch: list[Event]) -> None:
        """Add the newest events while following (keeps the newest in view)."""
        if not self.following:
            self._window.append_paused(batch)
            self._after_edit()
            return
        dropped = self._window.append_following(batch)
        self._cursor = max(-1, self._cursor - dropped)
        self._update_virtual_size()
        self._set_cursor(len(self._rows) - 1, scroll=False)
        self._scroll_to_end()

    def _after_edit(self) -> None:
        self._update_virtual_size()
        if self._cursor < 0 and self._rows:
            self._set_cursor(0, scroll=False)

    # ---------------------------------------------------------------- scrolling

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling up (wheel, scrollbar, keys) pauses follow; nearing an edge fetches a page."""
        super().watch_scroll_y(old_value, new_value)
        if self._adjusting:
            return
        if new_value < old_value and new_value < self.max_scroll_y and self.following:
            self.following = False
        self._maybe_page()

    def _pause(self) -> None:
        if self.following:
            self.following = False

    # ------------------------------------------------------------------ actions

    def action_cursor_up(self) -> None:
        """Move the highlight up one event (pauses follow)."""
        self._pause()
        self._set_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        """Move the highlight down one event."""
        self._set_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        """Move up one screen (pauses follow)."""
        self._pause()
        self._set_cursor(self._cursor - max(1, self.size.height - 1))

    def action_page_down(self) -> None:
        """Move down one screen."""
        self._set_cursor(self._cursor + max(1, self.size.height - 1))

    def action_oldest(self) -> None:
        """Jump to the oldest matching event in the store (pauses follow)."""
        self._pause()
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
        if 0 <= index < len(self._rows):
            self._pause()
            self._set_cursor(index)

    def on_resize(self, event: events.Resize) -> None:
        """Keep the newest event in view when the pane changes size."""
        if self.following:
            self._scroll_to_end()

    def _on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self.refresh()

    def on_mount(self) -> None:
        """Load the newest page unless the app already set a filter."""
        if self._generation == 0:
            self.run_worker(self._reload(), name="stream-initial", group="stream-load", exclusive=True)

    # ------------------------------------------------------------------ watchers

    def watch_following(self, following: bool) -> None:
        """Show the state and tell the app."""
        if not following and self._incoming:
            self._flush_incoming()
        self.set_class(not following, "-paused")
        self._update_subtitle()
        self.post_message(self.FollowChanged(following, self.new_since_pause))
        self.refresh()

    def watch_new_since_pause(self, count: int) -> None:
        """Show how many events arrived while paused and tell the app."""
        self._update_subtitle()
        self.post_message(self.FollowChanged(self.following, count))

    def _update_subtitle(self) -> None:
        if self.following:
            self.border_subtitle = "following"
        else:
            self.border_subtitle = f"paused · {self.new_since_pause:,} new · f/end to follow"

    # ---------------------------------------------------------------- rendering

    def notify_style_update(self) -> None:
        """Colours may have changed: drop the cached strips."""
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    def _style_map(self) -> dict[str, Style]:
        if self._styles is None:
            self._styles = {
                name.removeprefix("stream--"): self.get_component_rich_style(name)
                for name in self.COMPONENT_CLASSES
            }
            self._styles["base"] = self.rich_style
        return self._styles

    def render_line(self, y: int) -> Strip:
        """One visible row, from the strip cache when possible."""
        index = round(self.scroll_y) + y
        width = self.size.width
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, self.rich_style)
        row = self._rows[index]
        selected = index == self._cursor and (self.has_focus or not self.following)
        key = (row.key, width, selected)
        strip = self._cache.get(key)
        if strip is None:
            strip = render_row(row.event, width, self._style_map(), selected)
            self._cache[key] = strip
        now = time.perf_counter()
        self.painted_at = now
        if selected:
            self.painted_cursor_at = now
        return strip


__all__ = ["FIRST_PAGE", "PAGE_SIZE", "WINDOW_MAX", "StreamView"]
