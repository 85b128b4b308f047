"""Filters from the keyboard: levels, sidebar facets, search, user, clear; history and live alike."""

from __future__ import annotations

from textual.widgets.option_list import OptionDoesNotExist

from sidelog.config import Settings
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.tui.widgets.sidebar import FilterSidebar, option_id
from sidelog.tui.widgets.stream import StreamView
from sidelog.tui.widgets.summary import FilterSummary
from tests.tui.conftest import running_app, send_events, until

MIX = (
    {"message": "login ok", "type": "info", "category": "auth", "userId": "alice"},
    {"message": "card declined", "type": "error", "category": "payment", "userId": "bob"},
    {"message": "slow query", "type": "warn", "category": "db", "details": {"table": "needle_table"}},
    {"message": "button click", "type": "debug", "category": "ui", "userId": "alice"},
)


def messages(stream: StreamView) -> list[str]:
    return [event.message for event in stream.window]


async def test_level_key_filters_history_and_live_events(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *MIX)
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 4)

        await pilot.press("4")  # toggle "error"

        assert app.flt == EventFilter(levels=frozenset({"error"}))
        await until(pilot, lambda: messages(stream) == ["card declined"])
        assert stream.filter == app.flt
        summary = app.query_one(FilterSummary)
        assert summary.flt.to_query_string() == "?level=error"
        assert "?level=error" in summary.render().plain

        # live events go through the same filter
        await send_events(
            app, {"message": "later info", "type": "info"}, {"message": "later err", "type": "error"}
        )
        await until(pilot, lambda: messages(stream) == ["card declined", "later err"])

        await pilot.press("3")  # add "warn"
        await until(pilot, lambda: messages(stream) == ["card declined", "slow query", "later err"])

        await pilot.press("c")  # one key clears everything
        assert app.flt == EMPTY_FILTER
        await until(pilot, lambda: len(stream.window) == 6)


async def test_sidebar_shows_live_counts_and_toggles_a_category(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *MIX, {"message": "refund", "category": "payment"})
        sidebar = app.query_one(FilterSidebar)
        payment = option_id("categories", "payment")

        def row(option: str) -> str:
            try:
                return str(sidebar.get_option(option).prompt)
            except OptionDoesNotExist:
                return ""

        await until(pilot, lambda: row(payment).endswith(" 2"))
        assert row(option_id("levels", "error")).split()[-1] == "1"
        assert row(option_id("sources", "server")).split()[-1] == "5"

        await pilot.press("s")  # go to the sidebar
        await until(pilot, lambda: sidebar.has_focus)
        sidebar.highlighted = sidebar.get_option_index(payment)
        await pilot.press("space")

        assert app.flt == EventFilter(categories=frozenset({"payment"}))
        stream = app.query_one(StreamView)
        await until(pilot, lambda: messages(stream) == ["card declined", "refund"])
        assert row(payment).startswith("■")
        # the count is live: a new event bumps it without any key press
        await send_events(app, {"message": "chargeback", "category": "payment"})
        await until(pilot, lambda: row(payment).endswith(" 3"))
        await until(pilot, lambda: messages(stream)[-1] == "chargeback")

        await pilot.press("space")  # toggles it off again
        assert app.flt == EMPTY_FILTER


async def test_search_and_user_prompts(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *MIX)
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 4)

        await pilot.press("slash", *"NEEDLE", "enter")  # searches details too, case-insensitively
        assert app.flt == EventFilter(q="NEEDLE")
        await until(pilot, lambda: messages(stream) == ["slow query"])

        await pilot.press("slash", "ctrl+a", "ctrl+k", "enter")  # empty search clears it
        assert app.flt == EMPTY_FILTER

        await pilot.press("at", *"alice", "enter")
        assert app.flt == EventFilter(user="alice")
        await until(pilot, lambda: messages(stream) == ["login ok", "button click"])

        await pilot.press("at", *"zzz", "escape")  # Escape keeps the current filter
        assert app.flt == EventFilter(user="alice")
        assert "?user=alice" in app.query_one(FilterSummary).render().plain

        app.flt = EventFilter(q="ärger & co")  # shown as typed, the ASCII escapes kept
        await until(pilot, lambda: "?q=ärger+%26+co" in app.query_one(FilterSummary).render().plain)
