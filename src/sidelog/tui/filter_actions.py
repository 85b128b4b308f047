"""The app's filter actions: level keys, search and user/session prompts, clear, toggles.

``SidelogApp`` inherits them; they only change ``flt``, and the app's ``watch_flt`` shows
the new filter everywhere (tui/app.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.app import App
from textual.reactive import var

from sidelog.events import LEVELS
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.tui.screens.prompt import PromptScreen


class FilterActions(App[int]):
    """The filter and the actions that change it."""

    flt: var[EventFilter] = var(EMPTY_FILTER, init=False)
    """What the stream shows (history and live alike). A ``var``: each pane that shows the
    filter updates itself (``watch_flt``), so a change does not repaint the whole screen,
    which took a full frame (~30 ms on a 2-core machine) before the new page could be drawn."""

    def action_toggle_level(self, level: str) -> None:
        """Add or remove one level from the filter."""
        if level in LEVELS:
            self.flt = self.flt.toggled("levels", level)

    def action_clear_filters(self) -> None:
        """Show every event again."""
        self.flt = EMPTY_FILTER

    def action_search(self) -> None:
        """Ask for text to find in message or details."""
        self._prompt_field("q", "Search message and details", "text, Enter to search, empty to clear")

    def action_filter_user(self) -> None:
        """Ask for a userId to show only that user's events."""
        self._prompt_field("user", "Only events of user", "userId, empty to clear")

    def action_filter_session(self) -> None:
        """Ask for a sessionId to show only that session's events."""
        self._prompt_field("session", "Only events of session", "sessionId, empty to clear")

    def _prompt_field(self, field: str, title: str, placeholder: str) -> None:
        def apply(value: str | None) -> None:
            if value is not None:
                changes: dict[str, Any] = {field: value.strip() or None}
                self.flt = replace(self.flt, **changes)

        current = getattr(self.flt, field) or ""
        self.push_screen(PromptScreen(title, value=current, placeholder=placeholder), apply)

    def toggle_filter(self, field: str, value: str) -> None:
        """Add ``value`` to, or remove it from, one set field of the filter."""
        self.flt = self.flt.toggled(field, value)
