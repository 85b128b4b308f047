"""The ``?`` screen: every key the UI answers to, grouped by where it works.

Built from the ``BINDINGS`` of the classes it is given, so a new binding shows up
here without anyone remembering to document it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Static

HelpSection = tuple[str, Sequence[type[DOMNode]]]
"""A heading and the classes whose bindings it lists."""


def bindings_of(classes: Iterable[type[DOMNode]]) -> list[Binding]:
    """Described bindings of ``classes`` and their bases, first definition of each key wins."""
    seen: set[str] = set()
    found: list[Binding] = []
    for cls in classes:
        for klass in cls.__mro__:
            for binding in klass.__dict__.get("BINDINGS", []):
                if not isinstance(binding, Binding) or not binding.description or binding.system:
                    continue
                for key in binding.key.split(","):
                    key = key.strip()
                    if key in seen:
                        continue
                    seen.add(key)
                    text = binding.tooltip or binding.description
                    found.append(Binding(key, binding.action, text, id=binding.id))
    return found


class HelpScreen(ModalScreen[None]):
    """Every key, by section; any of Escape, ``q`` or ``?`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close help", id="help.close"),
    ]

    def __init__(self, sections: Sequence[HelpSection]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        """One block per section."""
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "Escape closes · Ctrl+P runs any of these by name"
            for title, classes in self._sections:
                yield Static(self._section(title, bindings_of(classes)), classes="help-section", markup=False)

    def _section(self, title: str, bindings: list[Binding]) -> Content:
        rows = [Content.styled(title, "bold $text-accent")]
        for binding in bindings:
            key = self.app.get_key_display(binding)
            rows.append(Content.assemble((f"  {key:>12}  ", "bold"), binding.description))
        return Content("\n").join(rows)

    def action_close(self) -> None:
        """Back to the main view."""
        self.dismiss(None)
