"""In the feedback view, ``↑``/``↓`` mark a report and ``enter`` opens its event in the
detail view; a filter asked for there closes the view and applies to the app."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.widgets import Static

from sidelog.config import Settings
from sidelog.events import now_ms
from sidelog.filters import EventFilter
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.screens.feedback import FeedbackScreen, open_feedback
from tests.tui.conftest import running_app, send_events, until


def _feedback_read(app: App[Any]) -> bool:
    return isinstance(app.screen, FeedbackScreen) and app.screen.feedback is not None


def _detail_of(app: App[Any], message: str) -> bool:
    return isinstance(app.screen, EventDetailScreen) and app.screen.event.message == message


async def test_enter_opens_the_marked_report_and_its_filter_applies(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        t0 = now_ms() - 20 * 60_000
        await send_events(
            app,
            {"message": "card declined", "category": "payment", "type": "error", "sessionId": "s-1",
             "ts": t0},
            {"message": "card declined", "category": "payment", "type": "error", "sessionId": "s-2",
             "ts": t0 + 1000},
        )  # fmt: skip
        await send_events(
            app,
            {"message": "older report", "category": "feedback", "sessionId": "s-1", "userId": "u-1",
             "ts": t0 + 60_000},
            {"message": "newer report", "category": "feedback", "sessionId": "s-2", "userId": "u-2",
             "ts": t0 + 120_000},
        )  # fmt: skip
        assert app.engine is not None
        errors = await app.engine.reader.events(EventFilter(levels=frozenset({"error"})), limit=1)
        open_feedback(app, errors[0].fingerprint, EventDetailScreen)
        await until(pilot, lambda: _feedback_read(app))
        screen = app.screen
        assert isinstance(screen, FeedbackScreen)
        assert screen.feedback is not None
        assert [report.message for report in screen.feedback.reports] == ["newer report", "older report"]
        reports = str(screen.query_one("#feedback-reports", Static).visual)
        assert reports.index("▶") < reports.index("newer report") < reports.index("older report")
        assert reports.count("▶") == 1

        await pilot.press("down")  # the second (older) report
        assert screen.selected == 1
        await pilot.press("down")  # past the last: the pane scrolls, the mark stays
        assert screen.selected == 1
        reports = str(screen.query_one("#feedback-reports", Static).visual)
        assert reports.index("newer report") < reports.index("▶") < reports.index("older report")

        await pilot.press("enter")
        await until(pilot, lambda: _detail_of(app, "older report"))
        await pilot.press("escape")  # back to the feedback view, the mark where it was
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("up", "enter")
        await until(pilot, lambda: _detail_of(app, "newer report"))
        await pilot.press("u")  # the detail's "filter to this user": both views close, the filter applies
        await until(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        assert app.flt.user == "u-2"


async def test_enter_is_not_offered_without_reports(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "boom", "category": "jobs", "type": "error"})
        assert app.engine is not None
        error = (await app.engine.reader.events(EventFilter(), limit=1))[0]
        open_feedback(app, error.fingerprint, EventDetailScreen)
        await until(pilot, lambda: _feedback_read(app))
        await pilot.pause()
        assert "enter" not in app.screen.active_bindings  # not offered (the footer does not list it)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)  # nothing opened
