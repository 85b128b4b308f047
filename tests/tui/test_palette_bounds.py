"""Very many distinct categories: the sidebar and the palette stay small, searchable and quick.

5,000 distinct names (the live counts name 1,000, the rest add up under "(other)"):
the sidebar lists its 50 busiest and says what it left out, the palette hands over a
bounded number of entries per keystroke, and any typed name can still be filtered on.
"""

from __future__ import annotations

import json

from textual.widgets.option_list import Option

from sidelog.config import Settings
from sidelog.filters import EventFilter
from sidelog.pipeline.live import OTHER
from sidelog.tui.app import SidelogApp
from sidelog.tui.commands import MAX_DISCOVERED, MAX_HITS, PaletteCommand, TypedCommand, match
from sidelog.tui.palette import PaletteList
from sidelog.tui.widgets.sidebar import MAX_VALUES, PALETTE_VALUES, FilterSidebar
from sidelog.tui.widgets.stream import StreamView
from tests.conftest import send_lines, tcp_port
from tests.tui.conftest import open_palette, running_app, until

NAMES = 5000


async def flood(app: SidelogApp, names: int = NAMES) -> None:
    """``names`` events over the real TCP port, each in a category of its own, plus three "busy"."""
    engine = app.engine
    assert engine is not None
    lines = [{"message": "busy", "category": "busy"}] * 3  # first: named before the cap fills
    lines += [{"message": f"m{n}", "category": f"c{n:05d}", "source": f"s{n:05d}"} for n in range(names)]
    payload = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    replies = await send_lines(tcp_port(engine), payload)
    assert replies[-1] == {"ok": True, "stored": names + 3}, replies[-1]


def command_list(app: SidelogApp) -> PaletteList:
    """The open palette's list."""
    return app.screen.query_one(PaletteList)


def options(app: SidelogApp) -> list[Option]:
    """The open palette's entries."""
    return list(command_list(app).options)


async def test_the_sidebar_lists_a_bounded_few_and_says_what_it_left_out(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await flood(app)
        sidebar = app.query_one(FilterSidebar)
        await until(pilot, lambda: app.engine is not None and app.engine.stored_total == NAMES + 3)
        await until(pilot, lambda: any("Ctrl+P" in str(option.prompt) for option in sidebar.options))
        # 3 headings, 4 levels, and per facet: 50 values, "(other)" and a note
        assert sidebar.option_count <= 3 + 4 + 2 * (MAX_VALUES + 2)
        prompts = [str(option.prompt) for option in sidebar.options]
        assert sum(OTHER in prompt for prompt in prompts) == 2  # categories and sources
        notes = [prompt for prompt in prompts if "Ctrl+P" in prompt]
        assert len(notes) == 2, notes
        assert "more" in notes[0]
        assert any("busy" in prompt for prompt in prompts)  # the busiest name is listed
        other_rows = [option for option in sidebar.options if OTHER in str(option.prompt)]
        assert all(option.disabled for option in other_rows)  # "(other)" is a total, not a filter


async def test_the_palette_offers_a_bounded_list_and_finds_any_typed_name(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await flood(app)
        await until(pilot, lambda: app.engine is not None and app.engine.stored_total == NAMES + 3)
        sidebar = app.query_one(FilterSidebar)
        await until(pilot, lambda: OTHER in sidebar._counts["category"])
        entries = list(app.palette_commands())
        toggles = [
            e
            for e in entries
            if isinstance(e, PaletteCommand) and e.title.startswith(("Toggle category:", "Toggle source:"))
        ]
        assert len(toggles) == 2 * PALETTE_VALUES
        assert sum(isinstance(e, TypedCommand) for e in entries) == 2

        await pilot.press("ctrl+p")
        await until(pilot, lambda: command_list(app).option_count > 0)
        assert command_list(app).option_count <= MAX_DISCOVERED + 10

        await pilot.press(*"c0")  # matches thousands of names
        await until(pilot, lambda: any("c00" in str(o.prompt) for o in options(app)), timeout=30)
        assert command_list(app).option_count <= MAX_HITS + 10

        # c04321 arrived past the first 1,000 names: counted under "(other)", listed nowhere,
        # still one typed name away.
        await pilot.press(*"4321")
        typed = "Toggle category named “c04321”"
        await until(pilot, lambda: any(typed in str(o.prompt) for o in options(app)), timeout=30)
        listed = command_list(app)
        listed.highlighted = next(i for i, o in enumerate(options(app)) if typed in str(o.prompt))
        await pilot.press("enter")
        await until(pilot, lambda: app.flt == EventFilter(categories=frozenset({"c04321"})))
        stream = app.query_one(StreamView)
        await until(pilot, lambda: [e.message for e in stream.window] == ["m4321"])


async def test_a_hostile_name_and_query_do_not_freeze_the_palette(settings: Settings) -> None:
    """Textual's own matcher tries every alignment: ``abab…`` against ``aaaaaaaa`` takes
    seconds per title. The palette's matcher is linear."""
    hostile = "ab" * 30
    async with running_app(settings) as (app, pilot):
        engine = app.engine
        assert engine is not None
        line = json.dumps({"message": "x", "category": hostile}).encode() + b"\n"
        await send_lines(tcp_port(engine), line * 3)
        await until(pilot, lambda: engine.stored_total == 3)
        await open_palette(app, pilot, "aaaaaaaa")
        await until(pilot, lambda: any(hostile in str(o.prompt) for o in options(app)))


def test_match_is_linear_and_ranks_whole_words_first() -> None:
    assert match("pay", "Toggle category: payment")[0] > match("pay", "Toggle category: repayment")[0]
    assert match("tcp", "Toggle category: payment")[0] < 0.5 < match("payment", "Toggle category: payment")[0]
    assert match("zz", "Toggle category: payment") == (0.0, [])
    score, offsets = match("aaaaaaaa", "Toggle category: " + "ab" * 30)
    assert score > 0
    assert len(offsets) == 8
