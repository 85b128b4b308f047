"""``v``: an event's session (then user, then trace) as one timeline by event time, and ``b``:
the repro bundle copied from the event detail, the timeline and the errors pane."""

from __future__ import annotations

from typing import Any

from textual.widgets import OptionList

from sidelog.config import Settings
from sidelog.filters import EventFilter
from sidelog.store.timeline import read_timeline
from sidelog.tui.app import SidelogApp
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.screens.timeline import TimelineScreen
from sidelog.tui.widgets.errors import ErrorsPane
from sidelog.tui.widgets.stream import StreamView
from tests.tui.conftest import running_app, send_events, until

T0 = 1_764_500_000_000
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"

# Sent in this (arrival) order; by event time the session reads click, request, error, toast.
SESSION = (
    {
        "message": "POST /api/pay 500",
        "type": "warn",
        "category": "http",
        "source": "api",
        "sessionId": "s-1",
        "userId": "u-1",
        "ts": T0 + 100,
    },
    {"message": "someone else", "sessionId": "s-2", "userId": "u-2", "ts": T0 + 150},
    {
        "message": "card declined",
        "type": "error",
        "category": "payment",
        "source": "server",
        "sessionId": "s-1",
        "userId": "u-1",
        "ts": T0 + 200,
        "userMessage": "Payment failed, please try again",
    },
    {
        "message": "clicked pay",
        "category": "ui",
        "source": "browser",
        "sessionId": "s-1",
        "userId": "u-1",
        "ts": T0,
    },
    {"message": "user's other tab", "category": "ui", "source": "browser", "userId": "u-1", "ts": T0 + 250},
    {
        "message": "toast shown",
        "category": "ui",
        "source": "browser",
        "sessionId": "s-1",
        "userId": "u-1",
        "ts": T0 + 300,
    },
)


def notes(app: SidelogApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


def timeline_of(app: SidelogApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, TimelineScreen)
    return [event.message for event in screen.timeline.events] if screen.timeline is not None else []


async def open_on(app: SidelogApp, pilot: Any, count: int) -> StreamView:
    stream = app.query_one(StreamView)
    await until(pilot, lambda: len(stream.window) == count)
    return stream


async def test_v_lines_up_a_session_across_sources_by_event_time(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *SESSION)
        stream = await open_on(app, pilot, len(SESSION))
        assert stream.cursor_event is not None
        assert stream.cursor_event.message == "toast shown"  # the newest row, under the cursor
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None)
        assert timeline_of(app) == ["clicked pay", "POST /api/pay 500", "card declined", "toast shown"]
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        listing = screen.query_one(OptionList)
        assert listing.option_count == 4
        assert listing.has_focus
        assert listing.highlighted == 3  # on the event it was opened from
        assert "▶" in str(listing.get_option_at_index(3).prompt)
        assert "the user saw: Payment failed, please try again" in str(listing.get_option_at_index(2).prompt)
        assert "session s-1" in str(screen.query_one("#timeline-title").render())

        await pilot.press("up", "enter")  # the error's detail, then back to the timeline
        await until(pilot, lambda: isinstance(app.screen, EventDetailScreen))
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        assert detail.event.message == "card declined"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("v")  # the same event's user: their other tab too
        await until(pilot, lambda: screen.scope == "user" and len(timeline_of(app)) == 5)
        assert timeline_of(app)[-2:] == ["user's other tab", "toast shown"]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not screen and not isinstance(app.screen, TimelineScreen))
        assert app.flt == EventFilter()


async def test_v_in_the_detail_and_b_copies_the_bundle(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *SESSION)
        stream = await open_on(app, pilot, len(SESSION))
        await pilot.press("up", "up", "up", "enter")
        await until(pilot, lambda: isinstance(app.screen, EventDetailScreen))
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        assert detail.event.message == "card declined"
        assert detail.check_action("copy_bundle", ()) is True
        await pilot.press("b")
        await until(pilot, lambda: app.clipboard.startswith("## card declined"))
        assert "| what the user saw | Payment failed, please try again |" in app.clipboard
        rows = [
            line.split(" | ")[5] for line in app.clipboard.splitlines() if line.startswith(("| 20", "| **20"))
        ]
        assert rows == ["clicked pay", "POST /api/pay 500", "**card declined**"]
        assert any("Repro bundle copied" in note and "OSC 52" in note for note in notes(app))

        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None)
        listing = app.screen.query_one(OptionList)
        assert listing.highlighted == 2  # the error, in its session's time order
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is detail)
        await pilot.press("escape")
        await until(pilot, lambda: stream.screen is app.screen)


async def test_an_event_without_a_session_falls_back_or_says_why(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(
            app,
            {"message": "by trace", "traceId": TRACE, "ts": T0},
            {"message": "by user", "userId": "u-7", "traceId": TRACE, "ts": T0 + 1},
            {"message": "alone", "ts": T0 + 2},
        )
        stream = await open_on(app, pilot, 3)
        await pilot.press("v")  # "alone": no session, user or trace
        await until(pilot, lambda: any("no session, user or trace" in note for note in notes(app)))
        assert not isinstance(app.screen, TimelineScreen)

        await pilot.press("up", "v")  # "by user": its user, then (v) its trace
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None)
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        assert screen.scopes == ["user", "trace"]
        assert screen.scope == "user"
        assert timeline_of(app) == ["by user"]
        await pilot.press("v")
        await until(pilot, lambda: timeline_of(app) == ["by trace", "by user"])
        assert screen.scopes.index(screen.scope) == 1  # the trace
        assert screen.check_action("copy_bundle", ()) is False  # no error here
        await pilot.press("escape")
        await until(pilot, lambda: stream.screen is app.screen)


async def test_the_timeline_is_bounded_and_says_how_many_are_left_out(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        many = [{"message": f"step {n}", "sessionId": "big", "ts": T0 + n} for n in range(1_003)]
        await send_events(app, *many)
        stream = app.query_one(StreamView)
        await until(
            pilot, lambda: stream.cursor_event is not None and stream.cursor_event.message == "step 1002"
        )
        assert app.engine is not None
        small = await read_timeline(app.engine.reader, "session", "big", limit=10)
        assert [e.message for e in small.events] == [f"step {n}" for n in range(993, 1_003)]
        assert small.earlier == 993
        assert small.later == 0
        # From an event older than the newest page: the page around it, half before it.
        old = next(
            e
            for e in (await app.engine.events(EventFilter(session="big"), limit=2_000))
            if e.message == "step 500"
        )
        around = await read_timeline(app.engine.reader, "session", "big", limit=10, around=old)
        assert [e.message for e in around.events] == [f"step {n}" for n in range(495, 505)]
        assert (around.earlier, around.later) == (495, 498)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None)
        assert len(timeline_of(app)) == 1_000
        assert timeline_of(app)[0] == "step 3"
        note = str(app.screen.query_one("#timeline-note").render())
        assert "the newest 1,000 events; 3 earlier ones not shown" in note


async def test_b_and_v_on_an_error_group(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, *SESSION)
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 1)
        await pilot.press("e")
        await until(pilot, lambda: pane.has_focus and pane.highlighted_group is not None)
        await pilot.press("b")
        await until(pilot, lambda: app.clipboard.startswith("## card declined"))
        assert "| group | 1 event · first seen" in app.clipboard
        await pilot.press("v")  # the group's newest event, lined up in its session
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None)
        assert timeline_of(app) == ["clicked pay", "POST /api/pay 500", "card declined", "toast shown"]
        assert app.screen.query_one(OptionList).highlighted == 2


async def test_hostile_text_in_the_timeline_is_shown_safely(settings: Settings) -> None:
    hostile = "\x1b]52;c;ZXZpbA==\x07 [b]bold[/b] \u202egnp.exe"
    async with running_app(settings) as (app, pilot):
        await send_events(
            app, {"message": hostile, "sessionId": "s-h", "userMessage": hostile, "source": hostile, "ts": T0}
        )
        await open_on(app, pilot, 1)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None)
        prompt = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert "\x1b" not in prompt
        assert "\u202e" not in prompt
        assert (
            prompt.count("␛]52;c;ZXZpbA==␇ [b]bold[/b] ⟨U+202E⟩gnp.exe") == 2
        )  # message and what the user saw
