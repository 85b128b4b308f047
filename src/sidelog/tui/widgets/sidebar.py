"""The filter sidebar: levels, categories and sources with live counts, toggled by key.

It shows the engine's stored counts per facet value and which values the active
filter keeps; it never changes the filter itself. Choosing a row posts ``Toggled``
and the app decides. Category and source names come from events, so every label is
built as ``Content`` from sanitized text, never parsed as markup.

A flood of distinct names stays cheap: the engine names at most a thousand values
per facet and sums the rest under "(other)" (``sidelog.pipeline.live``); the sidebar
lists only the ``MAX_VALUES`` busiest of those (plus any selected), shows "(other)" as
a row that cannot be toggled, and says how many it left out and where to find them:
the palette, which offers the ``PALETTE_VALUES`` busiest per facet and takes any typed
name (``palette_commands``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
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
from sidelog.pipeline.live import OTHER
from sidelog.textsafe import clip, safe_text
from sidelog.tui import humanize
from sidelog.tui.commands import PaletteCommand, PaletteEntry, TypedCommand

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
PALETTE_VALUES = 200
"""Most values per facet the palette offers by name (the busiest, plus any selected)."""

_SEP = "\x1f"  # option ids join field and value; a unit separator cannot collide with text

Row = tuple[str, str, str]
"""What one option shows: ``(kind, field, value)``; kind is ``heading`` (value: its title),
``value``, ``other`` (the "(other)" total) or ``note`` (value: the text)."""


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
        self._rows: list[Row] = []
        """What each option shows."""

    def show(self, counts: Mapping[str, Mapping[str, int]], flt: EventFilter) -> None:
        """Show new counts and selections, rebuilding only when the rows themselves change."""
        self._counts = {name: dict(counts.get(name, {})) for name, _, _ in FACETS}
        self._filter = flt
        rows = self._layout()
        if rows != self._rows:
            self._rebuild(rows)
            return
        for index, row in enumerate(rows):
            prompt = self._render_row(row)
            if prompt != self.options[index].prompt:
                self.replace_option_prompt_at_index(index, prompt)

    def _layout(self) -> list[Row]:
        rows: list[Row] = []
        for facet, field, title in FACETS:
            counts = self._counts[facet]
            named = [value for value in counts if value != OTHER]
            busiest = heapq.nlargest(MAX_VALUES, named, key=counts.__getitem__)
            values = set(busiest) | set(getattr(self._filter, field))
            ordered = list(LEVELS) if facet == "level" else sorted(values)
            rows.append(("heading", field, title))
            rows.extend(("value", field, value) for value in ordered)
            if OTHER in counts:
                rows.append(("other", field, OTHER))
            hidden = len(named) - len(busiest)
            if hidden > 0 or OTHER in counts:
                more = f"+{hidden:,}" + ("+" if OTHER in counts else "") + " more"
                rows.append(("note", field, f"{more} · Ctrl+P"))
        return rows

    def _rebuild(self, rows: list[Row]) -> None:
        highlighted = self.highlighted_option
        keep = highlighted.id if highlighted is not None else None
        options: list[Option] = []
        for row in rows:
            kind, field, value = row
            option_key = option_id(field, value) if kind == "value" else None
            options.append(Option(self._render_row(row), id=option_key, disabled=kind != "value"))
        scroll_y = self.scroll_y
        self.set_options(options)
        self._rows = rows
        if keep is not None:
            try:
                self.highlighted = self.get_option_index(keep)
            except OptionDoesNotExist:
                self.highlighted = None
        if self.highlighted is None:
            self.highlighted = next((i for i, row in enumerate(rows) if row[0] == "value"), None)
        self.scroll_to(y=scroll_y, animate=False, immediate=True)

    def _render_row(self, row: Row) -> Content:
        kind, field, value = row
        if kind == "heading":
            return self._heading(field, value)
        if kind == "note":
            return Content(clip(value, max(8, self._width()))).stylize("italic $text-muted")
        return self._prompt(field, value, other=kind == "other")

    def _width(self) -> int:
        return max(12, (self.scrollable_content_region.width or 22) - 1)

    def _heading(self, field: str, title: str) -> Content:
        chosen = getattr(self._filter, field)
        hint = f" ({len(chosen)} on)" if chosen else " (all)"
        return Content.assemble((title.upper(), "bold"), (hint, "$text-muted"))

    def _prompt(self, field: str, value: str, *, other: bool = False) -> Content:
        facet = field_facet(field)
        chosen: frozenset[str] = getattr(self._filter, field)
        on = value in chosen and not other
        mark = ("■ ", "$text-accent") if on else ("□ ", "$text-muted")
        if other:
            mark = ("… ", "$text-muted")
        number = humanize.count(self._counts[facet].get(value, 0))
        width = self._width()
        name_width = max(4, width - len(number) - 3)
        name = safe_text(value)
        if len(name) > name_width:
            name = name[: name_width - 1] + "…"
        style = LEVEL_STYLES.get(value, "") if facet == "level" else ""
        if (chosen and not on) or other:
            style = "italic $text-muted" if other else "$text-muted"
        return Content.assemble(
            mark,
            (name, style),
            " " * (name_width - len(name) + 1),
            (number, "$text-muted"),
        )

    def palette_commands(self, current: Mapping[str, Mapping[str, int]] | None = None) -> list[PaletteEntry]:
        """The palette's filter entries: a toggle for each of the ``PALETTE_VALUES`` busiest
        categories and sources (and any selected), and one per facet for any typed name.

        ``current`` counts, when given, are used instead of the shown ones: the app passes the
        engine's, since the sidebar is not redrawn while the palette covers it."""
        entries: list[PaletteEntry] = []
        for facet, field, _ in FACETS[1:]:
            counts = current.get(facet, {}) if current is not None else self._counts[facet]
            chosen: frozenset[str] = getattr(self._filter, field)
            named = [value for value in counts if value != OTHER]
            busiest = heapq.nlargest(PALETTE_VALUES, named, key=counts.__getitem__)
            for value in [*busiest, *sorted(chosen - set(busiest))]:
                title = f"Toggle {facet}: {safe_text(clip(value, 60))}"
                state = "on" if value in chosen else humanize.count(counts.get(value, 0)) + " events"
                entries.append(PaletteCommand(title, f"filter · {state}", self._toggler(field, value)))
            folded = f", also names counted under {OTHER}" if OTHER in counts else ""
            entries.append(
                TypedCommand(
                    f"Toggle {facet} named “{{}}”",
                    f"filter by the name as typed{folded}",
                    self._typed_toggler(field),
                )
            )
        return entries

    def _toggler(self, field: str, value: str) -> Callable[[], object]:
        return lambda: self.post_message(self.Toggled(field, value))

    def _typed_toggler(self, field: str) -> Callable[[str], object]:
        def toggle(text: str) -> None:
            # Categories are stored lower-cased (README, "The event"); sources as sent.
            value = text.lower() if field == "categories" else text
            if value:
                self.post_message(self.Toggled(field, value))

        return toggle

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
