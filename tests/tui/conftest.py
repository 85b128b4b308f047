"""Helpers for driving the real app: a real engine on port 0, a real SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from sidelog.config import Settings
from sidelog.tui.app import SidelogApp
from tests.conftest import send_lines, tcp_port

Running = tuple[SidelogApp, Pilot[int]]


@asynccontextmanager
async def running_app(
    settings: Settings, *, size: tuple[int, int] = (120, 35), **options: Any
) -> AsyncIterator[Running]:
    """The app under ``run_test``, its engine started and its stream mounted."""
    app = SidelogApp(settings, **options)
    async with app.run_test(size=size) as pilot:
        await asyncio.wait_for(app.ready.wait(), 10)
        yield app, pilot


async def until(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.02)


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
