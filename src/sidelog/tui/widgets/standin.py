"""A pane's place and first look on the first frame, until the pane's own module has loaded.

The errors pane and the histogram load SQLAlchemy with their modules, which would hold
the first frame back by half a second. On that frame a ``StandIn`` takes the pane's id
(so ``styles/app.tcss`` gives it the pane's size, border and width tiers) and shows what
the pane itself shows before it has data; ``tui/startup.py`` swaps the pane in once it
has loaded, in one frame.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget


class StandIn(Widget):
    """An empty pane, or one muted line such as "histogram: counting…"."""

    DEFAULT_CSS = """
    StandIn.-histogram { height: 3; }
    """
    """``-histogram``: the height ``HistogramBar`` has until its first count."""

    def __init__(self, text: str = "", *, id: str, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text

    def render(self) -> Content:
        """The pane's line while it waits for data (nothing for an empty pane)."""
        return Content.styled(self._text, "$text-muted").truncate(self.content_region.width)


__all__ = ["StandIn"]
