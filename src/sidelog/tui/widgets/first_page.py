"""The stream's first page, drawn from a plain ``sqlite3`` read before the engine exists.

At launch the UI shows the newest stored events at once (``store/first_page.py`` reads
them in a few milliseconds), while SQLAlchemy, the engine and the endpoints load behind
it. This widget sits where the stream will be and looks exactly like it: the same rows
from the same ``RowPainter`` (so event text stays inert, as in the stream), the same
colours, the same scrollbar over the same number of rows, the newest row highlighted
where the stream puts its cursor. When the engine has read its own newest page,
``tui/startup.py`` puts the real ``StreamView`` in its place in one frame; until then
keys do nothing here (there is nothing to page through yet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from textual.strip import Strip

from sidelog.events import Event, now_ms
from sidelog.tui.widgets.stream_rows import COMPONENTS, ROW_CSS, RowPainter, slim
from sidelog.tui.widgets.stream_window import Row
from sidelog.tui.widgets.tail_scroll import TailScrollView


class FirstPage(TailScrollView, can_focus=True):
    """The newest stored events, as ``StreamView`` draws them, until the stream takes over."""

    COMPONENT_CLASSES = {f"stream--{name}" for name in COMPONENTS}

    # The stream's looks (``ROW_CSS``), which tests/tui/test_cold_start.py checks
    # row by row against the stream that replaces this page.
    DEFAULT_CSS = f"""
    FirstPage {{
        height: 1fr;
{ROW_CSS}    }}
    """

    def __init__(
        self, events: Sequence[Event], *, clock: Callable[[], int] = now_ms, id: str | None = None
    ) -> None:
        """``events`` oldest first (as the stream holds them); ``clock`` as the stream's."""
        super().__init__(id=id)
        self.rows = [Row(key, slim(event)) for key, event in enumerate(events)]
        """The rows drawn, oldest first."""
        self.painter = RowPainter(self, clock)

    @property
    def events(self) -> list[Event]:
        """The events shown, oldest first."""
        return [row.event for row in self.rows]

    def on_mount(self) -> None:
        """Scroll range and position before the first layout, so the first frame shows the newest."""
        self.set_rows(len(self.rows))
        self.scroll_quietly(len(self.rows))  # clamped to the end once the size is known
        self.set_interval(1.0, partial(self.painter.tick, self.refresh))

    def on_resize(self) -> None:
        """Keep the newest row in view, as the stream does while following."""
        self.scroll_quietly(len(self.rows) - self.size.height)

    def notify_style_update(self) -> None:
        """Colours may have changed: drop the cached strips."""
        super().notify_style_update()
        self.painter.restyle()

    def render_line(self, y: int) -> Strip:
        """One visible row; the newest carries the cursor, as in the stream with the keyboard."""
        rows = self.rows
        top = round(self.scroll_y)
        if not 0 <= top + y < len(rows):
            return Strip.blank(self.size.width, self.rich_style)
        selected = top + y == len(rows) - 1 and self.has_focus
        return self.painter.paint(rows, top + y, top, self.size.height, self.size.width, selected)


__all__ = ["FirstPage"]
