"""A read-only, virtual view of many lines, drawn one visible row at a time, with soft wrap.

The detail view shows stacks of 100,000 frames, ``details`` of 10,000 keys and lines a
megabyte long. A ``Static`` would lay all of it out up front and freeze the UI, so this
widget asks its subclass for one line at a time (``line_text``), only for rows on screen,
and caches the drawn strips. Subclasses decide what a line is and how it looks; they may
also show a subset of lines in another order (``set_entries``: e.g. in-app frames only,
with a note line standing for each hidden run).

Wrap off (the default), a line is one row and long lines scroll horizontally; wrap on,
a line takes as many rows as its width needs: the row starts of every entry are then
computed once per width (bisected per drawn row), which costs one pass over the lines
when wrap is switched on or the pane is resized.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

Entry = int | Text
"""What a row shows: the subclass's line ``n``, or a ready-made line (a note)."""


class LineView(ScrollView, can_focus=True):
    """Scrollable lines supplied by ``line_text``; ``wrap`` toggles soft wrapping."""

    DEFAULT_CSS = """
    LineView {
        overflow-x: auto;
        overflow-y: scroll;  /* always there, so wrapping never changes the width it wraps to */
    }
    """

    wrap: var[bool] = var(False, init=False)
    """Long lines continue on the next rows instead of scrolling sideways."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._entries: list[Entry] | None = None
        self._cache: LRUCache[int, Strip] = LRUCache(1024)
        self._starts: list[int] = []
        """Wrap on: the first row of each entry (``_wrapped_rows`` rows in all)."""
        self._wrapped_rows = 0
        self._wrap_width = 0
        self._widest = 0
        self._base: Style | None = None
        """The widget's own style, kept between repaints (computing it walks the DOM)."""

    # ------------------------------------------------------------ for subclasses

    def line_count(self) -> int:
        """How many lines there are."""
        raise NotImplementedError

    def line_text(self, index: int) -> Text:
        """Line ``index``, sanitized and styled, no newline."""
        raise NotImplementedError

    def line_cells(self, index: int) -> int:
        """Cells line ``index`` takes (subclasses may answer without building the text)."""
        return self.line_text(index).cell_len

    def widest_hint(self) -> int:
        """A guess of the widest line, for the horizontal scroll range (drawn lines correct it)."""
        return 0

    # ------------------------------------------------------------------ public

    @property
    def entries_shown(self) -> int:
        """How many entries are shown (lines, or the subset given to ``set_entries``)."""
        return self.line_count() if self._entries is None else len(self._entries)

    def entry_text(self, position: int) -> Text:
        """The text of the ``position``-th entry shown."""
        entry = position if self._entries is None else self._entries[position]
        return self.line_text(entry) if isinstance(entry, int) else entry

    def set_entries(self, entries: list[Entry] | None) -> None:
        """Show ``entries`` (``None``: every line, in order) and redraw."""
        self._entries = entries
        self.reset()

    def reset(self) -> None:
        """The lines changed: drop drawn rows, recompute the scroll range and redraw."""
        self._cache.clear()
        self._widest = self.widest_hint()
        self._wrap_width = 0
        self._update_size()
        self.refresh()

    def rows_text(self) -> list[str]:
        """The visible rows as plain text (what the terminal shows, for tests and copies)."""
        height = self.scrollable_content_region.height
        return ["".join(segment.text for segment in self.render_line(y)) for y in range(height)]

    # --------------------------------------------------------------- internals

    def watch_wrap(self) -> None:
        """Re-lay out: row starts when wrapping, the horizontal range when not."""
        self._cache.clear()
        self._wrap_width = 0
        self.scroll_to(x=0, animate=False)
        self._update_size()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        """A new width re-wraps the lines."""
        if self.wrap:
            self._update_size()
            self.refresh()

    def notify_style_update(self) -> None:
        """Colours may have changed: drop the drawn rows."""
        super().notify_style_update()
        self._base = None
        self._cache.clear()

    def _width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _update_size(self) -> None:
        count = self.entries_shown
        if not self.wrap:
            self.virtual_size = Size(self._widest, count)
            return
        width = self._width()
        if width != self._wrap_width:
            self._wrap_width = width
            cells = (self._entry_cells(position) for position in range(count))
            self._starts = [0, *accumulate(max(1, -(-n // width)) for n in cells)]
            self._wrapped_rows = self._starts.pop() if self._starts else 0
        self.virtual_size = Size(width, self._wrapped_rows)

    def _entry_cells(self, position: int) -> int:
        entry = position if self._entries is None else self._entries[position]
        return self.line_cells(entry) if isinstance(entry, int) else entry.cell_len

    def _strip(self, position: int) -> Strip:
        strip = self._cache.get(position)
        if strip is None:
            text = self.entry_text(position)
            text.no_wrap = True
            text.end = ""
            strip = Strip(list(text.render(self.app.console))).apply_style(self._base_style())
            self._cache[position] = strip
            if not self.wrap and strip.cell_length > self._widest:
                self._widest = strip.cell_length
                self.call_later(self._update_size)
        return strip

    def _base_style(self) -> Style:
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def render_line(self, y: int) -> Strip:
        """One visible row: a line cropped to the horizontal scroll, or a slice of a wrapped line."""
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        style = self._base_style()
        if self.wrap:
            if not 0 <= row < self._wrapped_rows:
                return Strip.blank(width, style)
            position = bisect_right(self._starts, row) - 1
            start = (row - self._starts[position]) * self._wrap_width
            return (
                self._strip(position)
                .crop_extend(start, start + self._wrap_width, style)
                .extend_cell_length(width, style)
            )
        if not 0 <= row < self.entries_shown:
            return Strip.blank(width, style)
        return self._strip(row).crop_extend(scroll_x, scroll_x + width, style)


def plain_cells(text: str) -> int:
    """Cells of already-sanitized ``text`` (quick for ASCII, the usual case)."""
    return len(text) if text.isascii() else cell_len(text)


__all__ = ["Entry", "LineView", "plain_cells"]
