"""The cold start's first frame: the newest stored events drawn before the engine exists, and
the stream taking over with exactly the same rows (tui/startup.py, tui/widgets/first_page.py).

``HeldApp`` is the real app with its engine start held back: Textual's ``Ready`` (the first
frame is on screen) is recorded instead of starting the engine, so a test can look at the
first page for as long as it likes, then let the start go on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from rich.color import Color
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from sidelog.commands.remote import database_in_use
from sidelog.config import Settings
from sidelog.server import start_server
from sidelog.textsafe import is_safe, safe_text
from sidelog.tui.app import SidelogApp
from sidelog.tui.messages import EngineStarted
from sidelog.tui.widgets.errors import ErrorsPane
from sidelog.tui.widgets.first_page import FirstPage
from sidelog.tui.widgets.healthbar import HealthBar
from sidelog.tui.widgets.histogram import HistogramBar
from sidelog.tui.widgets.standin import StandIn
from sidelog.tui.widgets.stream import StreamView
from tests.conftest import send_lines, tcp_port
from tests.support.wait import until as until_true
from tests.tui.conftest import FAST, query_db, until

NOW = 1_764_500_000_000
"""A fixed "now" for the time column (the events are a few minutes older)."""


class HeldApp(SidelogApp):
    """The app, its engine started only when the test says so."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, clock=lambda: NOW, intervals=FAST)
        self.first_frame = asyncio.Event()
        self.at_handover: tuple[Region, float, int, list[list[tuple[str, Style | None]]]] | None = None
        """The stream as the endpoints bind (before the health bar grows to its two lines)."""
        self.panes_at_handover: dict[str, tuple[Region, list[list[Cell]]]] = {}
        """The histogram and the errors pane then (before they have any data)."""

    def on_ready(self, event: events.Ready) -> None:
        event.prevent_default()  # not SidelogApp.on_ready: the engine waits for ``go``
        self.first_frame.set()

    def go(self) -> None:
        """Start the engine as the first frame would have."""
        SidelogApp.on_ready(self, events.Ready())

    async def on_engine_started(self, _: EngineStarted) -> None:
        for stream in self.query(StreamView):  # then SidelogApp's handler runs
            self.at_handover = (stream.region, stream.scroll_y, stream.virtual_size.height, drawn(stream))
        self.panes_at_handover = side_panes(self)


async def fill(settings: Settings, messages: list[str], **fields: Any) -> None:
    """Store ``messages`` (one minute apart, the newest a minute before ``NOW``) and stop."""
    running = await start_server(settings)
    try:
        stamp = NOW - len(messages) * 60_000
        lines = [
            {"message": message, "category": "cold", "ts": stamp + n * 60_000, **fields}
            for n, message in enumerate(messages)
        ]
        payload = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        replies = await send_lines(tcp_port(running.engine), payload)
        assert replies[-1] == {"ok": True, "stored": len(messages)}
    finally:
        await running.stop()


def drawn(widget: Widget) -> list[list[tuple[str, Style | None]]]:
    """Every visible row of ``widget`` as (text, style) segments: what reaches the screen."""
    strips: list[Strip] = [widget.render_line(y) for y in range(widget.size.height)]
    return [[(segment.text, segment.style) for segment in strip] for strip in strips]


Cell = tuple[str, Color | None, Color | None, bool]
"""One character cell as it looks: character, background, and colour and boldness if visible."""


def side_panes(app: SidelogApp) -> dict[str, tuple[Region, list[list[Cell]]]]:
    """Where the histogram and the errors pane are, and every cell they draw, borders included."""
    panes = {}
    for name in ("histogram", "errors"):
        pane = app.query_one(f"#{name}")
        strips = pane.render_lines(Region(0, 0, *pane.outer_size))
        panes[name] = (pane.region, [cells(strip) for strip in strips])
    return panes


def cells(strip: Strip) -> list[Cell]:
    looks = []
    for segment in strip:
        style = segment.style or Style()
        for char in segment.text:
            ink = not char.isspace()
            looks.append((char, style.bgcolor, style.color if ink else None, bool(style.bold) and ink))
    return looks


def texts(widget: Widget) -> list[str]:
    return ["".join(text for text, _ in row) for row in drawn(widget)]


async def test_the_first_page_shows_the_newest_events_and_the_stream_takes_over_unchanged(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(enable_system_logging=False)
    await fill(settings, [f"event number {n}" for n in range(400)], level="info", userId="u1")
    app = HeldApp(settings)
    async with app.run_test(size=(160, 45)) as pilot:
        await asyncio.wait_for(app.first_frame.wait(), 10)
        page = app.query_one(FirstPage)
        # Before the engine: no engine, no stream, the panes that need it held by stand-ins.
        assert app.engine is None
        assert not app.query(StreamView)
        assert [type(app.query_one(f"#{pane}")) for pane in ("histogram", "errors")] == [StandIn, StandIn]
        assert app.query_one(HealthBar).status == "starting…"
        newest = [
            row[0] for row in query_db(settings.db, "SELECT message FROM events ORDER BY id DESC LIMIT 300")
        ]
        assert [event.message for event in page.events] == newest[::-1]
        shown = texts(page)
        assert shown[-1].rstrip().endswith("event number 399")  # the newest, at the bottom
        assert all("event number" in line for line in shown)
        assert page.has_focus
        first = drawn(page)
        region, scroll, rows = page.region, page.scroll_y, page.virtual_size.height
        stand_ins = side_panes(app)

        app.go()
        await asyncio.wait_for(app.ready.wait(), 10)
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 300)
        await pilot.pause()
        assert not app.query(FirstPage)
        assert [event.message for event in stream.window] == newest[::-1]
        assert stream.has_focus
        # The same place, the same rows, the same looks, the same highlighted row.
        assert app.at_handover == (region, scroll, rows, first)
        assert app.panes_at_handover == stand_ins  # the stand-ins looked like the panes
        assert isinstance(app.query_one("#histogram"), HistogramBar)
        assert isinstance(app.query_one("#errors"), ErrorsPane)
        assert not app.query(StandIn)


async def test_an_empty_store_starts_as_before(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(enable_system_logging=False)
    app = HeldApp(settings)
    async with app.run_test(size=(120, 35)) as pilot:
        await asyncio.wait_for(app.first_frame.wait(), 10)
        assert not app.query(FirstPage)  # no file yet: the usual "starting sidelog…" line
        assert "starting sidelog" in str(app.query_one("#stream-placeholder").render())
        app.go()
        await asyncio.wait_for(app.ready.wait(), 10)
        await until(pilot, lambda: bool(app.query(StreamView)) and not app.query("#stream-placeholder"))


HOSTILE = [
    "[bold red]FAKE[/]",
    "[@click=app.quit]x[/]",
    "csi \x1b[2J\x1b[31mRED\x1b[0m",
    "osc \x1b]0;PWNED\x07 end",
    "c1 \x9b31m bidi \u202eevil\u202c",
]


async def test_hostile_text_stays_inert_in_the_first_page(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(enable_system_logging=False)
    await fill(settings, HOSTILE, userId="[b]u[/b]\x1b[31m")
    app = HeldApp(settings)
    async with app.run_test(size=(200, 40)) as pilot:
        await asyncio.wait_for(app.first_frame.wait(), 10)
        page = app.query_one(FirstPage)
        shown = texts(page)
        screen_text = "\n".join(shown)
        for message in HOSTILE:
            assert safe_text(message) in screen_text, message
        assert all(is_safe(line) for line in shown)
        assert "[b]u[/b]␛[31m" in screen_text  # the user column, literally
        first = drawn(page)
        app.go()
        await asyncio.wait_for(app.ready.wait(), 10)
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == len(HOSTILE))
        await pilot.pause()
        assert app.at_handover is not None
        assert app.at_handover[3] == first
        assert app.is_running  # the click markup did nothing


async def test_keys_before_the_engine_do_no_harm_and_q_quits_cleanly(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(enable_system_logging=False)
    await fill(settings, [f"m{n}" for n in range(50)])
    app = HeldApp(settings)
    async with app.run_test(size=(160, 45)) as pilot:
        await asyncio.wait_for(app.first_frame.wait(), 10)
        await pilot.press("down", "up", "pageup", "end", "enter", "t", "1", "c", "s", "e", "e")
        assert app.engine is None
        assert app.is_running
        assert [event.message for event in app.query_one(FirstPage).events][-1] == "m49"
        app.post_message(events.Key("q", "q"))
        await until_true(lambda: app.return_code is not None, message="the app exited")
    assert app.return_code == 0
    assert app.stop_report is None  # no engine was ever started
    assert not database_in_use(settings.db)
