"""The app's side panes by terminal width, and the ``s``/``e`` keys that visit them.

A mixin, so ``SidelogApp`` gains them with one base class. Textual gives the screen one
class per width tier (``HORIZONTAL_BREAKPOINTS``); ``styles/app.tcss`` says which pane
shows in which tier, and a pane shown or hidden by a key flips that default for its
tier only (``-flip-<pane><tier>`` on ``#body``).
"""

from __future__ import annotations

from textual.app import App
from textual.widget import Widget

WIDE_COLUMNS = 120
"""From this width both side panes show by default (the screen has class ``-wide``)."""
MEDIUM_COLUMNS = 100
"""From this width the filter sidebar shows by default (``-medium``); below it (``-narrow``),
only the stream. Which pane shows at which tier is in ``styles/app.tcss``."""
STREAM_PLACES = "#stream, #first-page"
"""What has the keyboard when no side pane has it: the stream, or its first page while
the engine starts (tui/startup.py)."""


class PaneActions(App[int]):
    """Width tiers, and going to (or hiding) the filter sidebar and the errors pane."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (MEDIUM_COLUMNS, "-medium"), (WIDE_COLUMNS, "-wide")]
    """Width tiers: Textual gives the screen one of these classes as the terminal resizes."""

    def on_resize(self) -> None:
        """Forget ``s``/``e`` choices made in another width tier (the screen's class still names
        the tier in use until this resize lands), so crossing tiers restores their defaults."""
        body = self.query_one("#body")
        tier = self._width_tier()
        body.remove_class(*(name for name in body.classes if name.startswith("-flip-") and tier not in name))

    def _width_tier(self) -> str:
        """The main screen's ``HORIZONTAL_BREAKPOINTS`` class (Textual keeps it up to date)."""
        screen = self.query_one("#body").screen
        breakpoints = self.HORIZONTAL_BREAKPOINTS or []
        return next((name for _, name in breakpoints if screen.has_class(name)), "")

    def _focus_stream(self) -> None:
        streams = self.query(STREAM_PLACES)
        if streams:
            streams.first().focus()
        else:  # still starting: nothing hidden may keep the keyboard
            self.screen.set_focus(None)

    def action_toggle_sidebar(self) -> None:
        """Go to the filter sidebar; hide it if already there."""
        self._visit(self.query_one("#sidebar"))

    def action_toggle_errors(self) -> None:
        """Go to the error groups pane; hide it if already there."""
        self._visit(self.query_one("#errors"))

    def _visit(self, pane: Widget) -> None:
        """Focus a side pane, showing it if hidden; hide it if it had focus. Showing or hiding
        flips its default for this width tier (``-flip-<pane><tier>`` on ``#body``: app.tcss)."""
        if pane.display and not pane.has_focus:
            self.call_after_refresh(pane.focus)
            return
        self.query_one("#body").toggle_class(f"-flip-{pane.id}{self._width_tier()}")
        if pane.has_focus:
            self._focus_stream()
        else:
            pane.focus()  # in the frame that shows it: a frame later re-renders the screen twice


__all__ = ["MEDIUM_COLUMNS", "WIDE_COLUMNS", "PaneActions"]
