"""The Ctrl+P palette: one light screen, built once after the first frame, shown again on each open.

Textual's own ``CommandPalette`` is composed, styled and mounted anew on every open, then
gathers results in a worker that polls its providers and keeps an animated loading indicator
alive, so an open and each key took 50–150 ms to reach the screen at 200,000 distinct
categories (``python -m sidelog.bench.distinct``). This screen is an ``Input`` over an
``OptionList``, installed once (``prepare_palette``) and pushed again on each open, so an open
is a screen switch. Results are computed in the key's own handler (``PaletteInput.on_value``:
the letter and its results go out in one frame) with ``sidelog.tui.commands.search`` over a
bounded list; each result is one line and at most 14 show at once, because every key lays
out and draws the list anew. The background is opaque for the reason given in
``styles/app.tcss`` (re-tinting the whole screen below costs a frame per key).

What it offers is what the app's ``palette_commands`` yield (``sidelog.tui.commands``), then
Textual's system commands (theme, keys, screenshot…) from ``App.get_system_commands``. Like
Textual's palette it is a ``SystemModalScreen``: ``App.query`` keeps looking at the screen
below it, which is where the panes that build those commands live. The app keeps Textual's
binding (``App.COMMAND_PALETTE_BINDING``, shown by the footer) and its ``use_command_palette``
switch: ``PaletteActions.action_command_palette`` only changes which screen that binding opens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any, ClassVar

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen, SystemModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from sidelog.tui.commands import (
    MAX_DISCOVERED,
    Found,
    PaletteCommand,
    PaletteCommands,
    PaletteEntry,
    search,
)

SCREEN_NAME = "sidelog-palette"
"""The name the palette is installed under (``App.install_screen``)."""
PLACEHOLDER = "Search for commands…"


class PaletteInput(Input):
    """Where the query is typed (the palette's focus). It hands each new value to ``on_value``
    while the key is still being handled, so the typed letter and its results go out in one
    frame (``Input.Changed`` arrives a frame later)."""

    on_value: Callable[[str], object] | None = None

    def watch_value(self, value: str) -> None:
        if self.on_value is not None:
            self.on_value(value)


class PaletteList(OptionList, can_focus=False):
    """The results; the keyboard stays in the input, the screen's keys move the highlight."""


class PaletteScreen(SystemModalScreen[None]):
    """The palette: type to search, up/down to choose, enter to run, escape to close."""

    DEFAULT_CSS = """
    PaletteScreen {
        align-horizontal: center;
        background: $background;
    }
    PaletteScreen > #palette-box {
        margin-top: 3;
        height: auto;
        max-height: 100%;
        background: $surface;
        &:dark { background: $panel-darken-1; }
    }
    PaletteScreen #palette-input {
        border: hkey black 50%;
        background: transparent;
        padding: 0 1;
    }
    PaletteScreen #palette-list {
        height: auto;
        max-height: 14;
        border: none;
        border-bottom: hkey $border;
        background: transparent;
        padding: 0 1;
    }
    PaletteScreen #palette-list.-empty { display: none; }
    """

    AUTO_FOCUS = "#palette-input"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close the palette"),
        Binding("down", "move('cursor_down')", "Next command", show=False),
        Binding("up", "move('cursor_up')", "Previous command", show=False),
        Binding("pagedown", "move('page_down')", "Next page", show=False),
        Binding("pageup", "move('page_up')", "Previous page", show=False),
        Binding("ctrl+home,shift+home", "move('first')", "First command", show=False),
        Binding("ctrl+end,shift+end", "move('last')", "Last command", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="--sidelog-palette")
        self._entries: list[PaletteEntry] = []
        self._rest: Iterator[PaletteEntry] = iter(())
        """Entries not read yet: read after the open's frame, or by the first key."""
        self._listed: list[PaletteCommand] = []
        self._runs: list[Callable[[], object]] = []

    def compose(self) -> ComposeResult:
        """An input over the result list."""
        field = PaletteInput(placeholder=PLACEHOLDER, select_on_focus=False, id="palette-input")
        field.on_value = self._show
        with Vertical(id="palette-box"):
            yield field
            yield PaletteList(id="palette-list", classes="-empty")

    def open_with(
        self,
        entries: Iterable[PaletteEntry],
        system: Sequence[PaletteCommand],
        system_listed: Sequence[PaletteCommand],
    ) -> None:
        """What this open offers: ``entries`` then ``system``, all searched; listed before anything
        is typed, the first ``MAX_DISCOVERED`` fixed commands of ``entries``, then ``system_listed``.
        Only those first entries are read now (a toggle per busy name follows them), the rest
        once the palette is on screen."""
        self._entries, self._listed = [], []
        rest = iter(entries)
        for entry in rest:
            self._entries.append(entry)
            if isinstance(entry, PaletteCommand):
                self._listed.append(entry)
                if len(self._listed) == MAX_DISCOVERED:
                    break
        self._rest = chain(rest, system)
        self._listed += system_listed

    def _searched(self) -> list[PaletteEntry]:
        """Every entry of this open (reading those not read yet)."""
        self._entries.extend(self._rest)
        return self._entries

    def on_screen_resume(self) -> None:
        """Each open starts empty, with the discovered commands listed and the input focused."""
        field = self.query_one(PaletteInput)
        if field.value:
            field.value = ""  # lists through the watcher
        else:
            self._show("")
        field.focus(scroll_visible=False)
        self.call_after_refresh(self._searched)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()  # already shown (``PaletteInput.on_value``)

    def _show(self, query: str) -> None:
        if query.strip():
            found = search(query, self._searched())
        else:
            found = [Found(0.0, Content(c.title), c.help, c.run) for c in self._listed]
        self._runs = [item.run for item in found]
        results = self.query_one(PaletteList)
        results.set_options(Option(_prompt(item), id=str(n)) for n, item in enumerate(found))
        results.highlighted = 0 if found else None
        results.set_class(not found, "-empty")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._run(self.query_one(PaletteList).highlighted)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._run(event.option_index)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()  # the app listens to option lists of its own

    def _run(self, index: int | None) -> None:
        """Close, then run the chosen command on the screen below (it may open a screen itself)."""
        if index is None or not 0 <= index < len(self._runs):
            return
        run = self._runs[index]
        self.dismiss()
        self.app.call_later(run)

    def action_close(self) -> None:
        """Close without running anything."""
        self.dismiss()

    def action_move(self, action: str) -> None:
        """Move the highlight in the results (``cursor_down``, ``page_up``, ``first``…)."""
        getattr(self.query_one(PaletteList), f"action_{action}")()

    def on_click(self, event: events.Click) -> None:
        """A click outside the box closes the palette."""
        if self.get_widget_at(event.screen_x, event.screen_y)[0] is self:
            self.dismiss()


def _prompt(item: Found) -> Content:
    """Title, then its help dimmed on the same line: one line per result halves what each key
    lays out and draws. Both are plain text (event names are never markup)."""
    if not item.help:
        return item.title
    return Content.assemble(item.title, ("  " + item.help, "$text-muted"))


def system_commands(app: App[Any], below: Screen[Any]) -> tuple[list[PaletteCommand], list[PaletteCommand]]:
    """Textual's system commands for ``below``: all (searched) and those it lists unsearched."""
    every, listed = [], []
    for command in app.get_system_commands(below):
        entry = PaletteCommand(command.title, command.help, command.callback)
        every.append(entry)
        if command.discover:
            listed.append(entry)
    return every, sorted(listed, key=lambda entry: entry.title)


def prepare_palette(app: App[Any]) -> PaletteScreen:
    """The app's palette, installed (and so composed once) on the first call."""
    if not app.is_screen_installed(SCREEN_NAME):
        app.install_screen(PaletteScreen(), SCREEN_NAME)
    screen = app.get_screen(SCREEN_NAME, PaletteScreen)
    if not screen.is_running:
        app._get_screen(screen)  # noqa: SLF001 (registers, composes and mounts it while hidden)
    return screen


class PaletteActions(App[int]):
    """What the palette binding (``App.COMMAND_PALETTE_BINDING``) does in ``SidelogApp``."""

    def on_mount(self) -> None:
        """Build the palette once the first frame is out, so the first open is a switch too."""
        self.call_after_refresh(prepare_palette, self)

    def action_command_palette(self) -> None:
        """Open the palette over the current screen, unless disabled or already open."""
        below = self.screen
        if not self.use_command_palette or isinstance(below, PaletteScreen):
            return
        entries = self.palette_commands() if isinstance(self, PaletteCommands) else ()
        system, system_listed = system_commands(self, below)
        palette = prepare_palette(self)
        palette.open_with(entries, system, system_listed)
        self.push_screen(palette)


__all__ = ["SCREEN_NAME", "PaletteActions", "PaletteInput", "PaletteList", "PaletteScreen", "prepare_palette"]
