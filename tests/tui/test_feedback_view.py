"""The feedback view (``f`` on an error's detail), the resolution figures in the health bar,
and the detail view over huge and hostile stacks, driven by keys under ``run_test``.

The app is the real one over a real engine and SQLite file; events arrive over its TCP
port. Opening times of the detail view are measured and printed (``-s``), never asserted:
the machine is shared.
"""

from __future__ import annotations

import json
import time
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from sidelog.config import Settings
from sidelog.events import Event, now_ms
from sidelog.filters import EventFilter
from sidelog.textsafe import is_safe
from sidelog.tui.app import SidelogApp
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.screens.feedback import FeedbackScreen
from sidelog.tui.widgets.healthbar import HealthBar
from sidelog.tui.widgets.stack_view import StackView
from tests.tui.conftest import running_app, send_events, until

SHOWN = "Payment failed, please try again"


def _text(screen: FeedbackScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).visual)


def _detail_ready(app: App[Any]) -> bool:
    return isinstance(app.screen, EventDetailScreen) and bool(app.screen.query("#detail-json"))


async def _newest(app: SidelogApp, **flt: Any) -> Event:
    assert app.engine is not None
    events = await app.engine.reader.events(EventFilter(**flt), limit=1)
    assert events
    return events[0]


async def test_f_on_an_error_opens_its_reports_and_what_users_saw(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        t0 = now_ms() - 20 * 60_000
        await send_events(
            app,
            {"message": "card declined", "category": "payment", "type": "error", "sessionId": "s-1",
             "userMessage": SHOWN, "ts": t0},
            {"message": "card declined", "category": "payment", "type": "error", "sessionId": "s-2",
             "userMessage": SHOWN, "ts": t0 + 1000},
        )  # fmt: skip
        await send_events(
            app,
            {"message": "Pay does \x1b[2Jnothing \u202eevil", "category": "feedback", "sessionId": "s-1",
             "details": {"email": "ada@example.com"}, "ts": t0 + 5 * 60_000},
        )  # fmt: skip
        error = await _newest(app, levels=frozenset({"error"}))
        assert error.fingerprint is not None
        app.push_screen(EventDetailScreen(error))
        await until(pilot, lambda: _detail_ready(app))
        await pilot.pause()
        assert app.screen.active_bindings["f"].enabled  # offered on an event of an error group

        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FeedbackScreen) and app.screen.feedback is not None)
        screen = app.screen
        assert isinstance(screen, FeedbackScreen)
        assert screen.fingerprint == error.fingerprint
        reports = _text(screen, "#feedback-reports")
        assert "ada@example.com" in reports
        assert "session s-1" in reports
        assert "Pay does ␛[2Jnothing ⟨U+202E⟩evil" in reports  # shown safely, never interpreted
        assert is_safe(reports)
        messages = _text(screen, "#feedback-messages")
        assert SHOWN in messages
        assert "shown 2× in 2 sessions" in messages
        assert "1 followed by a report within 30 min (50%)" in messages
        assert "payment: card declined" in str(screen.query_one("#feedback-title", Static).visual)
        assert "1 report" in str(screen.query_one("#feedback-note", Static).visual)

        await pilot.press("escape")
        await until(pilot, lambda: _detail_ready(app))


async def test_f_is_not_offered_on_an_event_of_no_group(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "signed in", "category": "auth"})
        event = await _newest(app)
        app.push_screen(EventDetailScreen(event))
        await until(pilot, lambda: _detail_ready(app))
        await pilot.pause()
        assert "f" not in app.screen.active_bindings  # not offered (the footer does not list it)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, EventDetailScreen)  # nothing opened


async def test_a_group_without_feedback_says_how_to_get_some(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "boom", "category": "jobs", "type": "error"})
        error = await _newest(app)
        assert app.engine is not None
        assert error.fingerprint is not None
        app.push_screen(FeedbackScreen(app.engine, error.fingerprint))
        await until(pilot, lambda: isinstance(app.screen, FeedbackScreen) and app.screen.feedback is not None)
        screen = app.screen
        assert isinstance(screen, FeedbackScreen)
        assert "No report names this group" in _text(screen, "#feedback-reports")
        assert "No event of this group carried a userMessage" in _text(screen, "#feedback-messages")


async def test_the_health_bar_shows_the_resolution_rate(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(
            app,
            {"message": "first failure", "category": "jobs", "type": "error"},
            {"message": "second failure", "category": "jobs", "type": "error"},
        )
        assert app.engine is not None
        first = await _newest(app, q="first")
        assert first.fingerprint is not None
        await app.engine.resolve(first.fingerprint)
        bar = app.query_one(HealthBar)

        def shown() -> str:
            return " | ".join(part.plain for part in bar.segments())

        await until(pilot, lambda: "24h: 50% of 2 groups resolved, median" in shown())
        assert "to resolve" in shown()
        assert "24h 50% fixed" in " ".join(part.plain for part in bar.segments(compact=True))


# ------------------------------------------------------------ huge and hostile stacks


class _KeyApp(App[None]):
    """Opens the detail view of one event on ``d``, as Enter does from the stream."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def key_d(self) -> None:
        self.push_screen(EventDetailScreen(self.event))


def _event(stack: str) -> Event:
    details = {"exception": {"type": "Error", "message": "deep", "stack": stack}}
    return Event(message="Error: deep", category="c", level="error", details=json.dumps(details), timestamp=1,
                 received_at=1, fingerprint="fp")  # fmt: skip


async def _open(pilot: Pilot[Any]) -> tuple[StackView, float]:
    started = time.perf_counter()
    await pilot.press("d")
    await until(pilot, lambda: isinstance(pilot.app.screen, EventDetailScreen))
    view = pilot.app.screen.query_one(StackView)
    await until(pilot, lambda: bool(view.rows_text()[0].strip()))
    return view, time.perf_counter() - started


async def test_a_100_000_frame_stack_opens_lazily_and_scrolls_to_its_end() -> None:
    stack = "Traceback (most recent call last):\n" + "".join(
        f'  File "/srv/app/m{i}.py", line {i + 1}, in f{i}\n    x = f{i + 1}()\n' for i in range(100_000)
    ) + "ValueError: too deep\n"  # fmt: skip
    async with _KeyApp(_event(stack)).run_test(size=(100, 30)) as pilot:
        view, took = await _open(pilot)
        print(f"100,000-frame stack: key to first rows {took * 1000:.0f} ms (shared machine)")
        assert view.rows_text()[0].startswith("Traceback (most recent call last):")
        assert view.stack.lines.split_so_far < 20_000  # only the first chunk was split
        assert len(view.stack._parsed) < 200  # only the lines on screen were classified
        await pilot.press("end")
        await until(pilot, lambda: any("ValueError: too deep" in row for row in view.rows_text()))
        await pilot.press("w")  # wrapping lays out every line: one pass
        await until(pilot, lambda: view.wrap)
        assert view.virtual_size.height == 200_002


async def test_a_one_megabyte_line_of_escapes_and_bidi_opens_cut_and_inert() -> None:
    hostile = "Error: " + ("\u202e\x1b]0;pwned\x07\x1b[31m" + "y" * 90) * 10_000  # over 1 MB, one line
    async with _KeyApp(_event(hostile)).run_test(size=(100, 30)) as pilot:
        view, took = await _open(pilot)
        print(f"1 MB single-line stack: key to first rows {took * 1000:.0f} ms (shared machine)")
        row = view.rows_text()[0]
        assert row.startswith("Error: ⟨U+202E⟩␛]0;pwned␇␛[31myyy")
        assert is_safe("".join(view.rows_text()))
        line = view.entry_text(0).plain  # cut, saying how much was left out
        assert line.endswith("more characters: copy as JSON)")
        assert len(line) < 20_000
        assert is_safe(line)
