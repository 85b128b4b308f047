"""Many lines of plain text (pretty JSON), highlighted one visible line at a time.

The event detail view shows ``details`` pretty-printed; an object of 10,000 keys is
10,000+ lines and a single value may be a megabyte long. The lines are kept as
sanitized, clipped strings and drawn by ``LineView`` only when on screen, each through
a line-local highlighter (JSON is regular enough line by line).
"""

from __future__ import annotations

from rich.highlighter import Highlighter, JSONHighlighter, NullHighlighter
from rich.text import Text

from sidelog.textsafe import clip, safe_text
from sidelog.tui.widgets.line_view import LineView, plain_cells

MAX_LINES = 50_000
"""Lines kept for display; the rest are summarised in one final line."""
MAX_LINE_CHARS = 2_000
"""Characters shown per line (horizontal scrolling or wrap reaches the rest of that)."""


class TextLines(LineView):
    """Scrollable lines of untrusted text; ``json=True`` highlights JSON syntax."""

    def __init__(self, text: str, *, json: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._highlighter: Highlighter = JSONHighlighter() if json else NullHighlighter()
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
        self.reset()

    def line_count(self) -> int:
        """How many lines there are."""
        return len(self.lines)

    def line_text(self, index: int) -> Text:
        """Line ``index`` highlighted."""
        return self._highlighter(Text(self.lines[index]))

    def line_cells(self, index: int) -> int:
        """Cells of line ``index`` without highlighting it."""
        return plain_cells(self.lines[index])

    def widest_hint(self) -> int:
        """The widest line (the lines are few enough to measure: at most ``MAX_LINES``)."""
        return max((plain_cells(line) for line in self.lines), default=0)


__all__ = ["MAX_LINES", "TextLines"]
