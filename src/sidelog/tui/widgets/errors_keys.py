"""The errors pane's keys, declared once: its bindings (footer, help) and its palette entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from textual.binding import Binding, BindingType

from sidelog.tui.commands import PaletteCommand
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.screens.feedback import open_feedback

if TYPE_CHECKING:
    from textual.app import App

    from sidelog.store.models import ErrorGroup

ERRORS_BINDINGS: list[BindingType] = [
    Binding("r", "resolve", "Resolve", id="errors.resolve"),
    Binding("u", "reopen", "Reopen", id="errors.reopen"),
    Binding("t", "toggle_view", "Resolved too", id="errors.toggle-view"),
    Binding("enter", "select", "Show events", id="errors.show-events"),
    Binding("b", "copy_bundle", "Copy repro bundle", id="errors.bundle"),
    Binding("o", "cycle_sort", "Sort", id="errors.sort"),
    Binding("z", "snooze", "Snooze", id="errors.snooze"),
    Binding("f", "feedback", "User feedback", id="errors.feedback"),
    Binding("R", "resolve_all", "Resolve all", show=False, id="errors.resolve-all"),
    Binding("U", "undo_bulk", "Undo resolve all", show=False, id="errors.undo-bulk"),
]
"""The pane's keys (the app's own are in tui/keys.py)."""

_PALETTE = (
    ("resolve", "r", "Resolve the highlighted error group"),
    ("reopen", "u", "Reopen the highlighted error group"),
    ("toggle_view", "t", "Show resolved error groups too"),
    ("cycle_sort", "o", "Sort error groups by last seen, count, first seen or regressed"),
    ("snooze", "z", "Snooze the highlighted error group (or wake it)…"),
    ("copy_bundle", "b", "Copy the highlighted error group's repro bundle"),
    ("feedback", "f", "What users reported about the highlighted error group"),
    ("resolve_all", "R", "Resolve every unresolved error group…"),
    ("undo_bulk", "U", "Undo the bulk resolve (reopen those groups)"),
)
"""``(action, key, title)`` of the palette commands, offered where ``check_action`` allows."""


class _Pane(Protocol):
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None: ...


def palette_commands(pane: _Pane) -> list[PaletteCommand]:
    """The pane's palette commands that apply where its cursor is."""
    return [
        PaletteCommand(title, f"key: {key} in the errors pane", getattr(pane, f"action_{action}"))
        for action, key, title in _PALETTE
        if pane.check_action(action, ())
    ]


class FeedbackKey:
    """``f``: the feedback view of the highlighted group (tui/screens/feedback.py)."""

    if TYPE_CHECKING:

        @property
        def app(self) -> App[Any]: ...

        @property
        def highlighted_group(self) -> ErrorGroup | None: ...

    def action_feedback(self) -> None:
        """Open what users reported about the highlighted group and the messages they saw."""
        group = self.highlighted_group
        if group is not None:
            open_feedback(self.app, group.fingerprint, EventDetailScreen)
