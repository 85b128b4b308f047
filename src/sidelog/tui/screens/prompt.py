"""A one-line modal prompt: search text, a user or session id, a resolve note.

Enter dismisses with the typed text (possibly empty), Escape with ``None``, so
callers can tell "clear it" from "never mind".
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]

    def __init__(
        self,
        title: str,
        description: Content | None = None,
        *,
        value: str = "",
        placeholder: str = "",
    ) -> None:
        super().__init__()
        self._title = title
        self._description = description
        self._value = value
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        """A framed box with an optional description over the input."""
        with Vertical(id="prompt-box") as box:
            box.border_title = self._title
            if self._description is not None:
                yield Static(self._description, id="prompt-description", markup=False)
            yield Input(value=self._value, placeholder=self._placeholder, id="prompt-input")
            yield Static(Content("Enter to apply · Escape to cancel"), id="prompt-hint", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: hand back the text."""
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Escape: hand back ``None``."""
        self.dismiss(None)
