"""A scroll view whose row count changes with every live event, without re-laying out the screen.

Textual's ``virtual_size`` is a layout reactive: setting it makes the screen arrange every
widget again (the sidebar's option list, the error groups, the health bar…) before the
next frame. Over a million-event store that full layout was most of the time between an
event's commit and the frame showing it. A view that draws its own rows (``render_line``)
and has a fixed place in the layout (its CSS size, never its content) does not need it:
only its scrollbar and its scroll range change. ``TailScrollView.set_rows`` changes just
those, and ``scroll_quietly`` scrolls for the window's sake without counting as the
reader's move (``adjusting``).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


class TailScrollView(ScrollView):
    """A ``ScrollView`` of ``rows`` full-width rows whose count may change every frame."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._adjusting = 0
        """Above zero while the view scrolls itself (``scroll_quietly``)."""

    @property
    def adjusting(self) -> bool:
        """True while the view scrolls for its own sake (a scroll watcher should not pause anything)."""
        return self._adjusting > 0

    def set_rows(self, rows: int) -> None:
        """Make the scroll range ``rows`` rows tall.

        Before the first layout (no container size yet) the reactive is set as usual;
        after it, only the scrollbar and the scroll range change and the view repaints.
        """
        size = Size(0, rows)
        if size == self.virtual_size:
            return
        if not self.container_size:
            self.virtual_size = size
            return
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)  # the scrollbar's range, and the scroll clamped into it
        self.refresh()

    def scroll_quietly(self, y: int) -> None:
        """Scroll to row ``y`` at once, flagged as the view's own move (``adjusting``)."""
        self._adjusting += 1
        try:
            self.scroll_to(y=max(0, y), animate=False, immediate=True, force=True)
        finally:
            self._adjusting -= 1


__all__ = ["TailScrollView"]
