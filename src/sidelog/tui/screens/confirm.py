"""A yes/no modal for what cannot be undone or takes a while (clear, vacuum).

``y`` (or Enter on "Yes") dismisses with True, ``n`` or Escape with False. It reuses
the prompt's frame (``#prompt-box`` in the app's stylesheet) so every modal looks alike.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing something destructive or slow."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    #confirm-buttons { height: auto; margin-bottom: 1; }
    #confirm-buttons Button { margin-right: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", show=False, id="confirm.cancel"),
    ]

    def __init__(self, title: str, description: str, *, yes: str = "Yes") -> None:
        super().__init__()
        self._title = title
        self._description = description
        self._yes = yes

    def compose(self) -> ComposeResult:
        """The question, the two answers, the keys."""
        with Vertical(id="prompt-box") as box:
            box.border_title = self._title
            yield Static(Content(self._description), id="prompt-description", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(self._yes, variant="error", id="confirm-yes")
                yield Button("Cancel", id="confirm-no")
            yield Static(Content("y to confirm · n or Escape to cancel"), id="prompt-hint", markup=False)

    def on_mount(self) -> None:
        """Cancel has the focus: Enter alone never confirms."""
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button answers like its key."""
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        """``y``: True; ``n`` or Escape: False."""
        self.dismiss(yes)
