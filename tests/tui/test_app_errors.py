"""The errors pane: resolve (with a note) and reopen by key, written to the database; Enter filters."""

from __future__ import annotations

from sidelog.config import Settings
from sidelog.filters import EventFilter
from sidelog.textsafe import is_safe
from sidelog.tui.widgets.errors import ErrorsPane
from sidelog.tui.widgets.sidebar import FilterSidebar
from sidelog.tui.widgets.stream import StreamView
from tests.tui.conftest import query_db, running_app, send_events, until

ERRORS = (
    {"message": "card 4242 declined", "type": "error", "category": "payment", "ts": 1_000},
    {"message": "card 1111 declined", "type": "error", "category": "payment", "ts": 2_000},
    {"message": "socket closed", "type": "error", "category": "calls", "ts": 3_000},
    {"message": "fine", "type": "info", "ts": 4_000},
)


def group_rows(settings: Settings) -> dict[str, tuple[str, str | None]]:
    rows = query_db(settings.db, "SELECT message, status, resolve_note FROM error_groups")
    return {message: (status, note) for message, status, note in rows}


async def test_resolve_with_note_then_reopen_writes_the_database(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *ERRORS)
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 2)
        # newest activity first, with counts
        assert [(g.category, g.count) for g in pane.groups] == [("calls", 1), ("payment", 2)]
        assert pane.border_title == "Unresolved errors · 2"

        await pilot.press("e")
        await until(pilot, lambda: pane.has_focus)
        await pilot.press("down")
        assert pane.highlighted_group is not None
        assert pane.highlighted_group.category == "payment"
        await pilot.press("r", *"flaky card", "enter")

        await until(pilot, lambda: group_rows(settings)["card 1111 declined"] == ("resolved", "flaky card"))
        assert query_db(
            settings.db, "SELECT count(*) FROM events WHERE fingerprint IS NOT NULL AND resolved = 1"
        ) == [(2,)]
        # it stays listed, marked, under the cursor, so `u` can undo it
        await until(pilot, lambda: pane.groups[1].status == "resolved")
        assert pane.highlighted == 1
        assert "✓ resolved" in str(pane.get_option_at_index(1).prompt)
        assert pane.border_title == "Unresolved errors · 1"
        assert not pane.check_action("resolve", ())

        await pilot.press("u")
        await until(pilot, lambda: group_rows(settings)["card 1111 declined"] == ("unresolved", None))
        await until(pilot, lambda: pane.groups[1].status == "unresolved")
        assert query_db(settings.db, "SELECT count(*) FROM events WHERE resolved = 1") == [(0,)]


async def test_escape_cancels_a_resolve(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *ERRORS)
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 2)
        await pilot.press("e", "r", *"oops", "escape")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]
        assert {status for status, _ in group_rows(settings).values()} == {"unresolved"}


async def test_resolve_survives_a_restart(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *ERRORS)
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 2)
        await pilot.press("e", "r", "enter")  # no note
        await until(pilot, lambda: group_rows(settings)["socket closed"] == ("resolved", None))
        await pilot.press("q")
        await until(pilot, lambda: app.stop_report is not None)

    async with running_app(settings) as (app, pilot):
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 1)
        assert pane.groups[0].category == "payment"
        await pilot.press("e", "t")  # the "all groups" view lists it as resolved
        await until(pilot, lambda: len(pane.groups) == 2)
        assert {g.category: g.status for g in pane.groups} == {"calls": "resolved", "payment": "unresolved"}


async def test_enter_on_a_group_shows_its_events(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *ERRORS)
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 2)
        await pilot.press("e", "down", "enter")

        fingerprint = pane.groups[1].fingerprint
        assert app.flt == EventFilter(fingerprint=fingerprint)
        stream = app.query_one(StreamView)
        await until(
            pilot, lambda: [e.message for e in stream.window] == ["card 4242 declined", "card 1111 declined"]
        )
        assert stream.has_focus


async def test_a_regressed_group_is_marked(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, ERRORS[2])
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 1)
        await pilot.press("e", "r", "enter")
        await until(pilot, lambda: group_rows(settings)["socket closed"][0] == "resolved")
        await send_events(app, {"message": "socket closed", "type": "error", "category": "calls"})
        await until(pilot, lambda: pane.groups[0].regressed and pane.groups[0].status == "unresolved")
        assert "↻ regressed" in str(pane.get_option_at_index(0).prompt)


async def test_hostile_text_in_side_panes_is_shown_literally(settings: Settings) -> None:
    hostile = "[@click=app.quit]x[/] [bold red]FAKE[/] \x1b]52;c;cHduZWQ=\x07 \u202eevil \x9b31m"
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": hostile, "type": "error", "category": hostile, "source": hostile})
        pane, sidebar = app.query_one(ErrorsPane), app.query_one(FilterSidebar)
        await until(pilot, lambda: len(pane.groups) == 1)
        await until(pilot, lambda: sidebar.option_count == 9)  # 3 headings, 4 levels, 1 category, 1 source
        prompts = [str(pane.get_option_at_index(0).prompt)]
        prompts += [str(option.prompt) for option in sidebar.options]
        prompts += [command.title for command in app.palette_commands()]
        for text in prompts:
            assert is_safe(text), repr(text)
        assert (
            "[@click=app.quit]x[/] [bold red]fake[/] ␛]52;c;chduzwq=␇ ⟨U+202E⟩evil ⟨U+009B⟩31m" in prompts[0]
        )
        await pilot.press("e", "enter")  # the markup in the message did not become a live quit link
        assert app.return_code is None


async def test_cursor_follows_the_newest_group_only_from_the_top(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *ERRORS)
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 2)
        await pilot.press("e")
        await send_events(app, {"message": "disk full", "type": "error", "category": "system"})
        await until(pilot, lambda: len(pane.groups) == 3)
        assert pane.highlighted_group is not None
        assert pane.highlighted_group.message == "disk full"  # was on top: follows the newest

        await pilot.press("down")
        await send_events(app, {"message": "quota hit", "type": "error", "category": "api"})
        await until(pilot, lambda: len(pane.groups) == 4)
        assert pane.highlighted == 2
        assert pane.highlighted_group is not None
        assert pane.highlighted_group.message == "socket closed"  # moved away from the top: stays put


async def test_title_counts_every_unresolved_group_beyond_the_listed_ones(settings: Settings) -> None:
    from sidelog.tui.widgets.errors import GROUP_LIMIT

    async with running_app(settings) as (app, pilot):
        many = [
            {"message": f"failure kind {chr(65 + i // 26)}{chr(65 + i % 26)}", "type": "error"}
            for i in range(110)
        ]
        await send_events(app, *many)
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: pane.border_title == f"Unresolved errors · 110 (newest {GROUP_LIMIT})")
        assert len(pane.groups) == GROUP_LIMIT
        await pilot.press("e", "r", "enter")
        await until(pilot, lambda: pane.border_title == f"Unresolved errors · 109 (newest {GROUP_LIMIT})")
