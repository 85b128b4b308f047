"""Helpers for driving the UI: a real engine on port 0, a real SQLite file in tmp_path.

``running_app`` runs the whole ``SidelogApp``; ``StreamApp`` runs the stream alone over
an engine the test started (test_stream.py, test_detail.py, test_hostile.py share it).
Every wait goes through ``until``; the app runs with ``FAST`` intervals, so no test
waits on a one-second timer.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from sidelog.config import Settings
from sidelog.engine import Engine, Subscription
from sidelog.events import Event
from sidelog.tui.app import SidelogApp
from sidelog.tui.intervals import Intervals
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.widgets.stream import StreamView
from sidelog.tui.widgets.stream_history import PageSizes
from tests.conftest import send_lines, tcp_port

Running = tuple[SidelogApp, Pilot[int]]

FAST = Intervals(frame=0.01, flood_frame=0.02, counts=0.05, health=0.05, errors_reload=0.05, ages=0.5)
"""Short timers for tests (the defaults are for people)."""


@asynccontextmanager
async def running_app(
    settings: Settings, *, size: tuple[int, int] = (120, 35), **options: Any
) -> AsyncIterator[Running]:
    """The app under ``run_test``, its engine started and its stream mounted."""
    options.setdefault("intervals", FAST)
    app = SidelogApp(settings, **options)
    async with app.run_test(size=size) as pilot:
        await asyncio.wait_for(app.ready.wait(), 10)
        yield app, pilot


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.01)


async def send_events(app: SidelogApp, *events: dict[str, Any]) -> None:
    """Send events over the app engine's real TCP port and wait until they are committed."""
    assert app.engine is not None
    payload = b"".join(json.dumps(event).encode() + b"\n" for event in events)
    replies = await send_lines(tcp_port(app.engine), payload)
    assert replies[-1] == {"ok": True, "stored": len(events)}, replies


def query_db(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows straight from the SQLite file (not through sidelog)."""
    with sqlite3.connect(path) as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Quiet settings: no system events, so tests see only what they send."""
    return make_settings(enable_system_logging=False)


# ------------------------------------------------------------- the stream alone


class StreamApp(App[None]):
    """The stream alone over a started engine, fed every committed batch as it comes."""

    def __init__(self, engine: Engine, *, sizes: PageSizes | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.sizes = sizes
        self.selected: list[Event] = []
        self.follow_changes: list[tuple[bool, int]] = []
        self.detail_results: list[Any] = []
        self._subscription: Subscription | None = None

    def compose(self) -> ComposeResult:
        yield StreamView(self.engine, sizes=self.sizes, id="stream")

    def on_mount(self) -> None:
        self._subscription = self.engine.subscribe()
        self.run_worker(self._pump(), name="test-pump", group="test-pump")
        self.query_one(StreamView).focus()

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    async def _pump(self) -> None:
        assert self._subscription is not None
        stream = self.query_one(StreamView)
        async for batch in self._subscription:
            stream.add_batch(batch)

    def on_stream_view_event_selected(self, message: StreamView.EventSelected) -> None:
        self.selected.append(message.event)
        self.push_screen(EventDetailScreen(message.event), self.detail_results.append)

    def on_stream_view_follow_changed(self, message: StreamView.FollowChanged) -> None:
        self.follow_changes.append((message.following, message.new_since_pause))


def lines(count: int, start: int = 0, **fields: Any) -> bytes:
    """``count`` NDJSON events ``msg <n>`` (category ``test``) with extra ``fields``."""
    return b"".join(
        json.dumps({"message": f"msg {n}", "category": "test", **fields}).encode() + b"\n"
        for n in range(start, start + count)
    )


def messages_of_tests(stream: StreamView) -> list[str]:
    """Messages of the ``test`` events in the stream's window, oldest first."""
    return [event.message for event in stream.window if event.category == "test"]


async def open_palette(app: SidelogApp, pilot: Pilot[Any], query: str = "") -> None:
    """Ctrl+P, then type ``query`` once the palette's input has the keyboard (keys pressed
    before that would reach the main screen and its bindings instead)."""
    from sidelog.tui.palette import PaletteInput, PaletteScreen

    await pilot.press("ctrl+p")
    await until(
        pilot, lambda: isinstance(app.screen, PaletteScreen) and isinstance(app.focused, PaletteInput)
    )
    if query:
        await pilot.press(*query)
