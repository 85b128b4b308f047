"""The feedback view of an error group, as a snapshot: two reports (one hostile), and two
user-facing messages, one of which users kept reporting after.

The store is real (filled over TCP before the app starts), times are fixed and shown in
UTC, and the view's clock is frozen. Update after a deliberate visual change with
``pytest tests/tui/test_feedback_snapshot.py --snapshot-update`` and look at the SVG.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import RunningServer, start_server
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.screens.feedback import FeedbackScreen
from tests.conftest import send_lines, tcp_port

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
NOW = T0 + 60 * 60_000
MINUTE = 60_000
SHOWN = "Payment failed, please try again"
OTHER = "Your card was declined: use another card"


def _error(session: str, at: int, user_message: str) -> dict[str, Any]:
    return {"message": "card declined", "category": "payment", "type": "error", "sessionId": session,
            "userId": f"user_{session[-1]}", "userMessage": user_message, "ts": T0 + at}  # fmt: skip


EVENTS: list[dict[str, Any]] = [
    _error("sess-1", 0, SHOWN),
    _error("sess-2", 1 * MINUTE, SHOWN),
    _error("sess-3", 2 * MINUTE, SHOWN),
    _error("sess-4", 3 * MINUTE, OTHER),
    {"message": "The pay button does nothing", "category": "feedback", "sessionId": "sess-1",
     "userId": "user_1", "details": {"email": "ada@example.com"}, "ts": T0 + 4 * MINUTE},
    {"message": "charged twice?! \x1b[2J\u202eeciovni", "category": "feedback", "sessionId": "sess-3",
     "ts": T0 + 9 * MINUTE},
]  # fmt: skip


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times in UTC whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class FeedbackApp(App[None]):
    """The feedback view alone, over a started engine."""

    def __init__(self, settings: Settings, fingerprint: str) -> None:
        super().__init__()
        self.settings = settings
        self.fingerprint = fingerprint
        self.engine: Engine | None = None
        self._server: RunningServer | None = None

    async def on_mount(self) -> None:
        self._server = await start_server(self.settings)
        self.engine = self._server.engine
        self.push_screen(
            FeedbackScreen(self.engine, self.fingerprint, detail=EventDetailScreen, clock=lambda: NOW)
        )

    async def on_unmount(self) -> None:
        if self._server is not None:
            await self._server.stop()


@pytest.fixture
def feedback_app(make_settings: Callable[..., Settings], utc: None) -> FeedbackApp:
    settings = make_settings(enable_system_logging=False)

    async def prefill() -> None:
        running = await start_server(settings)
        try:
            payload = b"".join(json.dumps(event).encode() + b"\n" for event in EVENTS)
            await send_lines(tcp_port(running.engine), payload)
        finally:
            await running.stop()

    asyncio.run(prefill())
    with contextlib.closing(sqlite3.connect(settings.db)) as db:
        (fingerprint,) = db.execute("SELECT fingerprint FROM error_groups").fetchone()
    return FeedbackApp(settings, fingerprint)


async def loaded(pilot: Pilot[Any]) -> None:
    """Wait until the view has read the group's feedback."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not (isinstance(pilot.app.screen, FeedbackScreen) and pilot.app.screen.feedback is not None):
        assert loop.time() < deadline, "the feedback view did not load"
        await pilot.pause(0.02)
    await pilot.pause()


def test_feedback_view(snap_compare: Callable[..., bool], feedback_app: FeedbackApp) -> None:
    assert snap_compare(feedback_app, terminal_size=(110, 30), run_before=loaded)
