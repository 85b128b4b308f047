"""The errors pane over 10,000 groups, as a snapshot: sparklines, reports, "new" and
regressed marks, the snoozed count in the title. The clock is frozen and every row's
data is written into the file before sidelog opens it.

Update after a deliberate visual change with ``pytest tests/tui/test_errors_snapshot.py
--snapshot-update`` and look at the SVG.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from sidelog.config import Settings
from sidelog.server import RunningServer, start_server
from sidelog.store.group_activity import BUCKET_MS
from sidelog.tui.styles import stylesheet_path
from sidelog.tui.widgets.errors import GROUP_LIMIT, ErrorsPane
from tests.support.group_events import error, feedback, write_events
from tests.support.groups import BASE_MS, add_groups

GROUPS = 10_000
NOW = BASE_MS + GROUPS * 1000 + 90_000
"""Ninety seconds after the newest group's last event."""
LOOKED = NOW - 95_000
"""The pane was last looked at 95 s before: groups first seen since then are new."""


class PaneApp(App[None]):
    """The errors pane alone, over a sidelog started on the test's file."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(css_path=stylesheet_path())
        self.settings = settings
        self.running: RunningServer | None = None

    def compose(self) -> ComposeResult:
        yield ErrorsPane(clock=lambda: NOW, reload_every=0.05, ages_every=3600, id="errors")

    async def on_mount(self) -> None:
        self.running = await start_server(self.settings)
        self.query_one(ErrorsPane).attach(self.running.engine)

    async def on_unmount(self) -> None:
        if self.running is not None:
            await self.running.stop()


def prefill(settings: Settings) -> None:
    """10,000 groups; a day of events for the newest ones; reports; a regression; a snooze."""
    db = settings.db
    add_groups(db, GROUPS)
    newest = [f"fp{i:06d}" for i in range(GROUPS - 1, GROUPS - 13, -1)]
    events = []
    for rank, fingerprint in enumerate(newest):
        for bucket in range(12):
            for n in range((rank + 1) * (bucket * 7 % 5) % 9):
                events.append(error(fingerprint, NOW - (11 - bucket) * BUCKET_MS - 1000 * n - 5000))
    events.sort(key=lambda event: event.received_at)
    events += [
        feedback([newest[0], newest[2]], NOW - 1000, user="u1"),
        feedback([newest[0]], NOW - 900, user="u2"),
    ]
    write_events(db, events)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute(
            "UPDATE error_groups SET regressed = 1, resolved_at = ? WHERE fingerprint = ?",
            (LOOKED, newest[1]),
        )
        conn.execute(
            "INSERT INTO group_snoozes (fingerprint, snoozed_at, until_ms) VALUES (?, ?, ?)",
            (newest[3], NOW - 1000, NOW + 3 * 3_600_000),
        )
        conn.execute("INSERT INTO view_marks (name, looked_at) VALUES ('errors', ?)", (LOOKED,))
        conn.execute(  # two groups first seen since that look
            "UPDATE error_groups SET first_seen = ? WHERE fingerprint IN (?, ?)", (NOW - 30_000, *newest[4:6])
        )


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the first page with its sparklines and reports."""
    pane = pilot.app.query_one(ErrorsPane)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while len(pane.groups) < GROUP_LIMIT or "✉" not in str(pane.get_option_at_index(0).prompt):
        assert loop.time() < deadline, "the pane did not settle"
        await pilot.pause(0.02)
    await pilot.pause()


@pytest.fixture
def pane_app(make_settings: Callable[..., Settings]) -> PaneApp:
    settings = make_settings(enable_system_logging=False)
    prefill(settings)
    return PaneApp(settings)


def test_errors_pane_over_ten_thousand_groups(snap_compare: Callable[..., bool], pane_app: PaneApp) -> None:
    assert snap_compare(pane_app, terminal_size=(40, 30), run_before=settle)
