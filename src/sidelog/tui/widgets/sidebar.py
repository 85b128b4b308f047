"""The filter sidebar: levels, categories and sources with live counts, toggled by key.

It shows the engine's stored counts per facet value and which values the active
filter keeps; it never changes the filter itself. Choosing a row posts ``Toggled``
and the app decides. Category and source names come from events, so every label is
built as ``Content`` from sanitized text, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from sidelog.events import LEVELS
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.textsafe import safe_text
from sidelog.tui import humanize

FACETS: tuple[tuple[str, str, str], ...] = (
    ("level", "levels", "Levels"),
    ("category", "categories", "Categories"),
    ("source", "sources", "Sources"),
)
"""(engine facet name, ``EventFilter`` field, heading) in display order."""

LEVEL_STYLES: Mapping[str, str] = {
    "debug": "$text-muted",
    "info": "$text-primary",
    "warn": "$text-warning",
    "error": "bold $text-error",
}
"""How each level's name is coloured wherever the UI shows it."""

MAX_VALUES = 50
"""Most values listed per facet (the busiest, plus any selected); categories are free text."""

_SEP = "\x1f"  # option ids join field and value; a unit separator cannot collide with text


def option_id(field: str, value: str) -> str:
    """The option id of one facet value (stable across refreshes, so the cursor stays put)."""
    return f"{field}{_SEP}{value}"


class FilterSidebar(OptionList):
    """Facet values with counts; Enter or Space toggles the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "select", "Toggle", id="sidebar.toggle"),
        Binding("enter", "select", "Toggle", show=False, id="sidebar.toggle-enter"),
    ]

    @dataclass
    class Toggled(Message):
        """The user chose a facet value to add to or remove from the filter."""

        field: str
        """The ``EventFilter`` field: ``levels``, ``categories`` or ``sources``."""
        value: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._counts: dict[str, dict[str, int]] = {"level": {}, "category": {}, "source": {}}
        self._filter: EventFilter = EMPTY_FILTER
        self._rows: list[tuple[str, str] | None] = []
        """What each option shows: ``(field, value)`` or ``None`` for a heading."""

    def show(self, counts: Mapping[str, Mapping[str, int]], flt: EventFilter) -> None:
        """Show new counts and selections, rebuilding only when the rows themselves change."""
        self._counts = {name: dict(counts.get(name, {})) for name, _, _ in FACETS}
        self._filter = flt
        rows = self._layout()
        if rows != self._rows:
            self._rebuild(rows)
            return
        headings = iter(FACETS)
        for index, row in enumerate(rows):
            if row is None:
                _, field, title = next(headings)
                prompt = self._heading(field, title)
            else:
                prompt = self._prompt(*row)
            if prompt != self.options[index].prompt:
                self.replace_option_prompt_at_index(index, prompt)

    def _layout(self) -> list[tuple[str, str] | None]:
        rows: list[tuple[str, str] | None] = []
        for facet, field, _ in FACETS:
            counts = self._counts[facet]
            busiest = sorted(counts, key=counts.__getitem__, reverse=True)[:MAX_VALUES]
            values = set(busiest) | set(getattr(self._filter, field))
            ordered = list(LEVELS) if facet == "level" else sorted(values)
            rows.append(None)
            rows.extend((field, value) for value in ordered)
        return rows

    def _rebuild(self, rows: list[tuple[str, str] | None]) -> None:
        highlighted = self.highlighted_option
        keep = highlighted.id if highlighted is not None else None
        headings = iter(FACETS)
        options: list[Option] = []
        for row in rows:
            if row is None:
                _, field, title = next(headings)
                options.append(Option(self._heading(field, title), disabled=True))
            else:
                options.append(Option(self._prompt(*row), id=option_id(*row)))
        scroll_y = self.scroll_y
        self.set_options(options)
        self._rows = rows
        if keep is not None:
            try:
                self.highlighted = self.get_option_index(keep)
            except OptionDoesNotExist:
                self.highlighted = None
        if self.highlighted is None:
            self.highlighted = next((i for i, row in enumerate(rows) if row is not None), None)
        self.scroll_to(y=scroll_y, animate=False, immediate=True)

    def _heading(self, field: str, title: str) -> Content:
        chosen = getattr(self._filter, field)
        hint = f" ({len(chosen)} on)" if chosen else " (all)"
        return Content.assemble((title.upper(), "bold"), (hint, "$text-muted"))

    def _prompt(self, field: str, value: str) -> Content:
        facet = field_facet(field)
        chosen: frozenset[str] = getattr(self._filter, field)
        on = value in chosen
        mark = ("■ ", "$text-accent") if on else ("□ ", "$text-muted")
        number = humanize.count(self._counts[facet].get(value, 0))
        width = max(12, (self.scrollable_content_region.width or 22) - 1)
        name_width = max(4, width - len(number) - 3)
        name = safe_text(value)
        if len(name) > name_width:
            name = name[: name_width - 1] + "…"
        style = LEVEL_STYLES.get(value, "") if facet == "level" else ""
        if chosen and not on:
            style = "$text-muted"
        return Content.assemble(
            mark,
            (name, style),
            " " * (name_width - len(name) + 1),
            (number, "$text-muted"),
        )

    def on_resize(self, event: events.Resize) -> None:
        """Refit the labels to the new width."""
        if self._rows:
            self._rebuild(self._rows)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Translate a chosen row into a ``Toggled`` fact for the app."""
        event.stop()
        option_key = event.option.id
        if option_key is None:
            return
        field, _, value = option_key.partition(_SEP)
        self.post_message(self.Toggled(field, value))


def field_facet(field: str) -> str:
    """``levels`` -> ``level`` (the engine's facet name for an ``EventFilter`` field)."""
    for facet, name, _ in FACETS:
        if name == field:
            return facet
    raise KeyError(field)
