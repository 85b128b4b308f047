"""Snapshots of the histogram, time frozen: stacked levels with an error spike, and a jump's
time range drawn bright among dimmed context.

Update after a deliberate visual change with
``pytest tests/tui/test_histogram_snapshot.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.filters import EventFilter
from sidelog.server import RunningServer, start_server
from sidelog.tui.widgets.histogram import HistogramBar
from tests.conftest import send_lines, tcp_port

MIN = 60_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
NOW = T0 + 80 * MIN - 1


def _events() -> list[dict[str, Any]]:
    """A steady mix over 80 minutes, a burst of errors at minute 50, warnings at 20."""
    events: list[dict[str, Any]] = []
    for minute in range(80):
        for n in range(2 + minute % 5):
            events.append(
                {"message": f"ok {n}", "type": "info" if n % 3 else "debug", "ts": T0 + minute * MIN}
            )
        if minute % 9 == 0:
            events.append({"message": "slow", "type": "warn", "ts": T0 + minute * MIN + 5})
    events += [{"message": "pay failed", "type": "error", "ts": T0 + 50 * MIN + n} for n in range(7)]
    events += [{"message": "retry", "type": "warn", "ts": T0 + 20 * MIN + n} for n in range(4)]
    events.append({"message": "clock ahead", "ts": T0 + 400 * MIN})
    return events


class HistogramApp(App[None]):
    """The histogram alone over a real engine on a prefilled store."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.engine: Engine | None = None
        self.running: RunningServer | None = None

    def compose(self) -> ComposeResult:
        yield HistogramBar(clock=lambda: NOW, refresh_every=0.02, id="histogram")

    async def on_mount(self) -> None:
        self.running = await start_server(self.settings)
        self.engine = self.running.engine

    async def on_unmount(self) -> None:
        if self.running is not None:
            await self.running.stop()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times in UTC whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def histogram_app(make_settings: Callable[..., Settings], utc: None) -> HistogramApp:
    settings = make_settings(enable_system_logging=False)

    async def prefill() -> None:
        running = await start_server(settings)
        try:
            payload = b"".join(json.dumps(event).encode() + b"\n" for event in _events())
            await send_lines(tcp_port(running.engine), payload)
        finally:
            await running.stop()

    asyncio.run(prefill())
    return HistogramApp(settings)


async def _counted(pilot: Pilot[Any]) -> None:
    bar = pilot.app.query_one(HistogramBar)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while bar.histogram is None or bar.histogram.total == 0:
        assert loop.time() < deadline, "the histogram did not count"
        await pilot.pause(0.02)
    await pilot.pause()


async def _spike_selected(pilot: Pilot[Any]) -> None:
    await _counted(pilot)
    bar = pilot.app.query_one(HistogramBar)
    done = bar.counts_done
    bar.set_filter(EventFilter(since=T0 + 50 * MIN, until=T0 + 51 * MIN))
    while bar.counts_done == done:
        await pilot.pause(0.02)
    await pilot.pause()


def test_stacked_levels_and_a_spike(snap_compare: Callable[..., bool], histogram_app: HistogramApp) -> None:
    assert snap_compare(histogram_app, terminal_size=(90, 3), run_before=_counted)


def test_a_selected_range_among_dimmed_context(
    snap_compare: Callable[..., bool], histogram_app: HistogramApp
) -> None:
    assert snap_compare(histogram_app, terminal_size=(90, 3), run_before=_spike_selected)
