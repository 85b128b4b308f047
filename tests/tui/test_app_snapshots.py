"""A few whole-screen snapshots, time frozen: the main layout, a narrow terminal, the help screen.

Update after a deliberate visual change with ``pytest tests/tui/test_app_snapshots.py --snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from sidelog.config import Settings
from sidelog.health import Health
from sidelog.server import start_server
from sidelog.tui.app import SidelogApp
from sidelog.tui.intervals import Intervals
from sidelog.tui.widgets.errors import ErrorsPane
from sidelog.tui.widgets.healthbar import HealthBar
from sidelog.tui.widgets.stream import StreamView
from tests.conftest import send_lines, tcp_port

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
NOW = T0 + 10 * 60_000

EVENTS: list[dict[str, Any]] = [
    {"message": "User signed in", "category": "auth", "userId": "user_0042", "source": "client"},
    {"message": "Card 4242 declined", "type": "error", "category": "payment", "userId": "user_0042"},
    {"message": "GET /api/calls 200 in 35 ms", "category": "api", "source": "middleware"},
    {"message": "Slow query getUserByPhone", "type": "warn", "category": "system"},
    {"message": "Card 1111 declined", "type": "error", "category": "payment", "userId": "user_0007"},
    {"message": "Button click on /checkout", "type": "debug", "category": "ui", "source": "client"},
    {"message": "[bold red]FAKE[/] \x1b]0;pwned\x07 title", "category": "ui", "userId": "mallory"},
    {"message": "Voice call dropped", "type": "error", "category": "calls", "userId": "user_0100"},
]

HEALTH = Health(
    endpoints=["tcp 127.0.0.1:7411", "http 127.0.0.1:7412"],
    clients=2,
    rate=212.0,
    rate_series=[0, 40, 120, 200, 212, 180, 90, 20],
    stored_total=len(EVENTS),
    unresolved=2,
    counters={},
    drops={"rejected": 1, "rate_limited": 0, "filtered": 0, "overflow": 0, "write_failed": 0},
    capture_rate=1.0,
    db_bytes=3 * 1024 * 1024,
    db_budget_bytes=500 * 1024 * 1024,
    queue_depth=0,
    queue_capacity=50_000,
    write_failing=False,
    last_write_error=None,
    uptime_s=600,
    last_id=len(EVENTS),
)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stream times in UTC whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def snapshot_app(make_settings: Callable[..., Settings], utc: None) -> SidelogApp:
    """The app over a database holding ``EVENTS`` one minute apart, with a frozen clock."""
    settings = make_settings(enable_system_logging=False)

    async def prefill() -> None:
        engine = (await start_server(settings)).engine
        try:
            payload = b"".join(
                json.dumps({**event, "ts": T0 + i * 60_000}).encode() + b"\n"
                for i, event in enumerate(EVENTS)
            )
            await send_lines(tcp_port(engine), payload)
        finally:
            await engine.stop()

    asyncio.run(prefill())
    return SidelogApp(settings, clock=lambda: NOW, intervals=Intervals(health=3600))


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the engine, the stream, the groups and the first health figures; then pin the health."""
    app = pilot.app
    assert isinstance(app, SidelogApp)
    await asyncio.wait_for(app.ready.wait(), 10)
    stream, errors, bar = app.query_one(StreamView), app.query_one(ErrorsPane), app.query_one(HealthBar)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while len(stream.window) < len(EVENTS) or len(errors.groups) < 2 or bar.health is None:
        assert loop.time() < deadline, "the app did not settle"
        await pilot.pause(0.02)
    bar.health = HEALTH
    await pilot.pause()


def test_main_view(snap_compare: Callable[..., bool], snapshot_app: SidelogApp) -> None:
    assert snap_compare(snapshot_app, terminal_size=(120, 30), run_before=settle)


def test_narrow_terminal(snap_compare: Callable[..., bool], snapshot_app: SidelogApp) -> None:
    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=settle, press=["4"])


def test_help_screen(snap_compare: Callable[..., bool], snapshot_app: SidelogApp) -> None:
    assert snap_compare(snapshot_app, terminal_size=(100, 40), run_before=settle, press=["question_mark"])
