"""A read-only, virtual view of many lines of text, highlighted one visible line at a time.

The event detail view shows ``details`` pretty-printed; an object of 10,000 keys is
10,000+ lines and a single value may be a megabyte long. A ``Static`` would lay all of
it out up front and freeze the UI, so this widget keeps the (sanitized) lines as
strings and renders only the rows on screen, highlighting each with a line-local
highlighter (JSON is regular enough line by line) and caching the strips.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.highlighter import Highlighter, JSONHighlighter, NullHighlighter
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sidelog.textsafe import clip, safe_text

MAX_LINES = 50_000
"""Lines kept for display; the rest are summarised in one final line."""
MAX_LINE_CHARS = 2_000
"""Characters shown per line (horizontal scrolling reaches the rest of that)."""


class TextLines(ScrollView, can_focus=True):
    """Scrollable lines of untrusted text; ``json=True`` highlights JSON syntax."""

    DEFAULT_CSS = """
    TextLines {
        overflow: auto;
    }
    """

    def __init__(self, text: str, *, json: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._highlighter: Highlighter = JSONHighlighter() if json else NullHighlighter()
        self._cache: LRUCache[tuple[int, int, int], Strip] = LRUCache(512)
        self.lines: list[str] = []
        """The sanitized, clipped lines shown."""
        self.set_text(text)

    def set_text(self, text: str) -> None:
        """Replace the content (sanitized here; never interpreted as markup)."""
        raw_lines = text.split("\n")
        hidden = len(raw_lines) - MAX_LINES
        if hidden > 0:
            raw_lines = raw_lines[:MAX_LINES]
        lines = [safe_text(clip(line, MAX_LINE_CHARS)) for line in raw_lines]
        if hidden > 0:
            lines.append(f"… {hidden:,} more lines not shown (copy as JSON to get everything)")
        self.lines = lines
        self._cache.clear()
        width = max((cell_len(line) for line in lines), default=0)
        self.virtual_size = Size(width, len(lines))
        self.refresh()

    def notify_style_update(self) -> None:
        """Colours may have changed: drop the cached strips."""
        super().notify_style_update()
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        """One visible line, highlighted and cropped to the horizontal scroll."""
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if not 0 <= index < len(self.lines):
            return Strip.blank(width, style)
        key = (index, scroll_x, width)
        strip = self._cache.get(key)
        if strip is None:
            line = Text(self.lines[index], no_wrap=True, end="")
            line.stylize(style)
            line = self._highlighter(line)
            segments = list(line.render(self.app.console))
            strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, style)
            self._cache[key] = strip
        return strip


__all__ = ["MAX_LINES", "TextLines"]
