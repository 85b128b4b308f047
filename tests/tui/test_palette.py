"""The Ctrl+P palette (``sidelog.tui.palette``): opens on the binding the footer shows, lists,
searches with highlighted matches, runs the chosen entry (enter, arrows, click), and closes.

The app's own flows run in the real ``SidelogApp``; the scale test gives a small app built on
the same ``PaletteActions`` far more names than the app ever offers (it caps them, see
``test_palette_bounds.py``), so a search over them is still bounded and finds the one typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from sidelog.config import Settings
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.tui.app import SidelogApp
from sidelog.tui.commands import MAX_DISCOVERED, MAX_HITS, PaletteCommand, PaletteEntry, TypedCommand
from sidelog.tui.palette import PaletteActions, PaletteInput, PaletteList, PaletteScreen
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.screens.help import HelpScreen
from sidelog.tui.screens.main import MainScreen
from sidelog.tui.widgets.stream import StreamView
from tests.tui.conftest import open_palette, running_app, send_events, until


def prompts(app: SidelogApp | NamesApp) -> list[str]:
    """The open palette's entries, as plain text."""
    return [str(option.prompt) for option in app.screen.query_one(PaletteList).options]


def highlighted(app: SidelogApp | NamesApp) -> str:
    """The highlighted entry, as plain text ("" when none is)."""
    option = app.screen.query_one(PaletteList).highlighted_option
    return "" if option is None else str(option.prompt)


async def test_ctrl_p_opens_the_palette_the_footer_names_and_escape_closes_it(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        footer_keys = [key.key for key in app.screen.query_one(Footer).query(FooterKey)]
        assert app.COMMAND_PALETTE_BINDING == "ctrl+p"
        assert "ctrl+p" in footer_keys

        await open_palette(app, pilot)
        listed = prompts(app)
        assert 0 < len(listed) <= MAX_DISCOVERED + 6  # the app's first commands, then Textual's system ones
        assert len(set(listed)) == len(listed)  # each once
        assert "Quit after saving every queued event  key: q" in listed  # a keyed command, its key
        assert any(entry.startswith("Keys  ") for entry in listed)  # Textual's system commands too
        assert app.screen.query_one(PaletteList).highlighted == 0

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app.flt == EMPTY_FILTER  # nothing ran


async def test_typing_searches_highlights_and_keys_stay_in_the_input(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "paid", "category": "payment"})
        await open_palette(app, pilot, "?q")  # "?" and "q" are app keys: here they are only typed
        assert isinstance(app.screen, PaletteScreen)
        assert app.screen.query_one(PaletteInput).value == "?q"
        assert not isinstance(app.screen, HelpScreen)

        await pilot.press("backspace", "backspace", *"paym")
        await until(pilot, lambda: highlighted(app).startswith("Toggle category: payment"))
        option = app.screen.query_one(PaletteList).highlighted_option
        assert option is not None
        assert isinstance(option.prompt, Content)
        marked = [span for span in option.prompt.spans if span.style == "reverse"]
        title = "Toggle category: payment"
        assert "".join(title[span.start : span.end] for span in marked) == "paym"  # the matched letters

        await pilot.press("enter")
        await until(pilot, lambda: app.flt == EventFilter(categories=frozenset({"payment"})))
        assert isinstance(app.screen, MainScreen)


async def test_arrows_choose_and_each_open_starts_afresh(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await open_palette(app, pilot, "toggle")
        await until(pilot, lambda: len(prompts(app)) > 2)
        second = prompts(app)[1]
        await pilot.press("down")
        assert highlighted(app) == second
        await pilot.press("up")
        assert highlighted(app) == prompts(app)[0]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))

        await open_palette(app, pilot)
        assert app.screen.query_one(PaletteInput).value == ""  # not the last query
        assert app.screen.query_one(PaletteList).highlighted == 0
        await pilot.press(*"error")  # "Toggle error" is a level key's command
        await until(pilot, lambda: highlighted(app).startswith("Toggle error"))
        await pilot.press("enter")
        await until(pilot, lambda: app.flt == EventFilter(levels=frozenset({"error"})))


async def test_a_click_runs_an_entry_and_a_click_outside_closes(settings: Settings) -> None:
    async with running_app(settings, size=(100, 30)) as (app, pilot):
        await pilot.press("4")
        assert app.flt == EventFilter(levels=frozenset({"error"}))

        await open_palette(app, pilot)
        await pilot.click(offset=(50, 29))  # below the box: the dimmed screen
        await until(pilot, lambda: isinstance(app.screen, MainScreen))

        await open_palette(app, pilot, "clear every")
        await until(pilot, lambda: highlighted(app).startswith("Clear every filter"))
        results = app.screen.query_one(PaletteList)
        await pilot.click(results, offset=(4, 0))
        await until(pilot, lambda: app.flt == EMPTY_FILTER)
        assert isinstance(app.screen, MainScreen)


async def test_the_palette_switch_and_an_open_palette_ignore_ctrl_p(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await open_palette(app, pilot, "ab")
        palette = app.screen
        await pilot.press("ctrl+p")  # already open: the same palette, the query kept
        assert app.screen is palette
        assert app.screen.query_one(PaletteInput).value == "ab"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))

        app.use_command_palette = False
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_the_palette_opens_over_the_detail_view_and_closes_back_to_it(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "a", "category": "payment"})
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EventDetailScreen))
        await open_palette(app, pilot, "paym")
        await until(pilot, lambda: highlighted(app).startswith("Toggle category: payment"))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, EventDetailScreen))


class NamesApp(PaletteActions):
    """A bare app with ``names`` toggles (and a typed entry) in its palette."""

    def __init__(self, names: int) -> None:
        super().__init__()
        self.names = names
        self.ran: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("behind the palette")

    def _runner(self, name: str) -> Callable[[], None]:
        return lambda: self.ran.append(name)

    def palette_commands(self) -> Iterator[PaletteEntry]:
        for n in range(self.names):
            yield PaletteCommand(f"Toggle category: name-{n:06d}", "filter · off", self._runner(str(n)))
        yield TypedCommand("Toggle category named “{}”", "filter on any name", self.ran.append)


async def test_a_search_over_many_names_lists_a_bounded_few_and_runs_the_one_typed() -> None:
    app = NamesApp(10_000)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, PaletteScreen) and bool(prompts(app)))
        system = sum(not entry.startswith("Toggle") for entry in prompts(app))
        assert len(prompts(app)) == MAX_DISCOVERED + system

        await pilot.press(*"name-00")  # thousands match: a bounded few are listed
        await until(pilot, lambda: "name-00" in highlighted(app))
        assert len(prompts(app)) <= MAX_HITS + 1

        await pilot.press(*"9876")
        await until(pilot, lambda: highlighted(app).startswith("Toggle category: name-009876"))
        assert any(entry.startswith("Toggle category named “name-009876”") for entry in prompts(app))
        await pilot.press("enter")
        await until(pilot, lambda: app.ran == ["9876"])
        assert not isinstance(app.screen, PaletteScreen)

        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, PaletteScreen))
        await pilot.press(*"zz-x")
        await until(pilot, lambda: prompts(app)[:1] == ["Toggle category named “zz-x”  filter on any name"])
        await pilot.press("enter")
        await until(pilot, lambda: app.ran[-1] == "zz-x")
