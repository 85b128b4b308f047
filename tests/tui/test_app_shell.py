"""The app shell: help, palette, detail round trip, narrow layout, quit drains, start-up failure."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from textual import events

from sidelog.commands.remote import database_in_use
from sidelog.config import Settings
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.health import Health
from sidelog.tui.app import SidelogApp
from sidelog.tui.screens.help import HelpScreen, bindings_of
from sidelog.tui.widgets.errors import ErrorsPane
from sidelog.tui.widgets.healthbar import HealthBar
from sidelog.tui.widgets.sidebar import FilterSidebar
from sidelog.tui.widgets.stream import StreamView
from tests.conftest import tcp_port
from tests.support.wait import until as until_true
from tests.support.writer import spend_eager_write
from tests.tui.conftest import FAST, open_palette, query_db, running_app, send_events, until


async def test_help_lists_every_key_of_every_pane(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = "\n".join(str(section.render()) for section in app.screen.query(".help-section"))
        for _, classes in app.help_sections():
            for binding in bindings_of(classes):
                assert app.get_key_display(binding) in shown
                assert (binding.tooltip or binding.description) in shown
        for text in (
            "Resolve",
            "Reopen",
            "Toggle error",
            "Search message and details",
            "Follow",
            "Copy JSON",
        ):
            assert text in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_runs_the_same_actions(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "paid", "category": "payment"})
        await pilot.press("4")
        assert app.flt == EventFilter(levels=frozenset({"error"}))

        await pilot.press("ctrl+p")
        await pilot.press(*"clear")
        await until(
            pilot, lambda: "Clear every filter" in str(app.screen.query_one("PaletteList").highlighted_option)
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.flt == EMPTY_FILTER)

        titles = [command.title for command in app.palette_commands()]
        assert "Toggle category: payment" in titles
        assert "Search message and details" in titles
        assert "Resolve the highlighted error group" not in titles  # no group: not offered
        await open_palette(app, pilot, "paym")
        await until(pilot, lambda: "payment" in str(app.screen.query_one("PaletteList").highlighted_option))
        await pilot.press("enter")
        await until(pilot, lambda: app.flt == EventFilter(categories=frozenset({"payment"})))


async def test_enter_opens_detail_and_filter_to_user_comes_back(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "a", "userId": "carol"}, {"message": "b", "userId": "dave"})
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 2)
        await pilot.press("enter")  # the newest event, under the cursor while following
        await until(pilot, lambda: type(app.screen).__name__ == "EventDetailScreen")
        await pilot.press("u")
        await until(pilot, lambda: app.flt == EventFilter(user="dave"))
        await until(pilot, lambda: [e.message for e in stream.window] == ["b"])


async def test_narrow_terminal_collapses_side_panes_and_keys_bring_them_back(settings: Settings) -> None:
    async with running_app(settings, size=(80, 24)) as (app, pilot):
        sidebar, errors = app.query_one(FilterSidebar), app.query_one(ErrorsPane)
        stream = app.query_one(StreamView)
        await until(pilot, lambda: stream.size.width > 0)
        assert not sidebar.display
        assert not errors.display
        assert stream.size.width >= 78

        await pilot.press("s")
        await until(pilot, lambda: sidebar.has_focus)
        assert sidebar.display
        await pilot.press("s")  # again: hides it, focus goes back to the stream
        assert not sidebar.display
        assert stream.has_focus

        await pilot.press("e")
        await until(pilot, lambda: errors.has_focus)
        assert errors.display
        await pilot.resize_terminal(130, 30)  # widening shows both
        await until(pilot, lambda: sidebar.display and errors.display)


async def test_crossing_a_width_tier_restores_its_default_panes(settings: Settings) -> None:
    async with running_app(settings, size=(110, 30)) as (app, pilot):
        sidebar, errors = app.query_one(FilterSidebar), app.query_one(ErrorsPane)
        stream = app.query_one(StreamView)
        await until(pilot, lambda: sidebar.display and not errors.display)  # the middle tier
        await pilot.press("e")  # shown here by choice
        await until(pilot, lambda: errors.has_focus)
        await pilot.resize_terminal(105, 30)  # same tier: the choice stays
        await pilot.pause()
        assert errors.display

        await pilot.resize_terminal(80, 30)  # narrower tier: its defaults, focus to the stream
        await until(pilot, lambda: not sidebar.display and not errors.display)
        await until(pilot, lambda: stream.has_focus)
        await pilot.resize_terminal(110, 30)  # and back: the earlier choice is forgotten
        await until(pilot, lambda: sidebar.display)
        assert not errors.display


@pytest.mark.parametrize("attempt", range(6))
async def test_quit_right_after_start_exits_cleanly(settings: Settings, attempt: int) -> None:
    """``q`` before the app is ready (at once, or just after the stream mounted), a few
    times over: no late message may reach a torn-down pane, and the exit is clean."""
    when = "stream mounted" if attempt % 2 else "at once"
    app = SidelogApp(settings, intervals=FAST)
    async with app.run_test() as pilot:  # re-raises anything that went wrong inside the app
        if when == "stream mounted":
            await until(pilot, lambda: bool(app.query(StreamView)))
        assert not app.ready.is_set() or when != "at once"
        # Posted as the terminal driver posts it: ``pilot.press`` would wait for panes that
        # the quit is tearing down.
        app.post_message(events.Key("q", "q"))
        await until_exit(app)
    assert app.return_code == 0
    # The engine was stopped even when `q` came while it was still starting: its lock is free.
    assert not database_in_use(settings.db)


async def test_start_up_objects_stay_out_of_collections_while_the_app_runs(settings: Settings) -> None:
    # A full collection over the start-up heap stalls the loop ~100 ms (a filter change
    # missed its 150 ms target on it); frozen while the app runs, released when it ends.
    async with running_app(settings):
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0


async def test_quit_drains_queued_events_before_leaving(make_settings: Callable[..., Settings]) -> None:
    # A long batch interval keeps admitted events queued (not yet written) when `q` arrives.
    settings = make_settings(
        enable_system_logging=False, batch_interval_ms=60_000, max_events_per_batch=100_000
    )
    async with running_app(settings) as (app, pilot):
        assert app.engine is not None
        engine = app.engine
        await spend_eager_write(engine)  # else the idle writer takes the 500 at once
        _, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
        writer.write(b"".join(json.dumps({"message": f"m{i}"}).encode() + b"\n" for i in range(500)))
        await writer.drain()
        await until(pilot, lambda: engine.counters.received == 501)
        assert query_db(settings.db, "SELECT count(*) FROM events") == [(1,)]

        bar = app.query_one(HealthBar)
        await pilot.press("q")
        assert bar.status.startswith("draining")
        await until(pilot, lambda: app.stop_report is not None)
        writer.close()
    assert app.return_code == 0
    assert app.stop_report is not None
    assert app.stop_report.unsaved == 0
    assert query_db(settings.db, "SELECT count(*) FROM events") == [(501,)]


async def test_an_endpoint_in_use_ends_the_app_with_one_reason(
    make_settings: Callable[..., Settings],
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        app = SidelogApp(make_settings(tcp=f"127.0.0.1:{port}"))
        async with app.run_test():
            await until_exit(app)
    assert app.return_code == 1
    assert app.failure is not None
    assert str(port) in app.failure
    assert "\n" not in app.failure


async def until_exit(app: SidelogApp, timeout: float = 10.0) -> None:
    await until_true(lambda: app.return_code is not None, timeout, message="the app exited")


def test_command_line_prints_one_line_when_the_port_is_taken(tmp_path: os.PathLike[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "sidelog", "--tcp", f"127.0.0.1:{port}", "--http", "off", "--db", "x.db"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**os.environ, "TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"},
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sidelog: ")
    assert str(port) in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


async def test_health_bar_shows_every_figure_and_raises_the_alarm(settings: Settings) -> None:
    quiet = replace(FAST, health=3600)  # the snapshot set below must not be overwritten
    async with running_app(settings, size=(160, 30), intervals=quiet) as (app, pilot):
        bar = app.query_one(HealthBar)
        await until(pilot, lambda: bar.health is not None)
        failing = Health(
            endpoints=["tcp 127.0.0.1:7411"],
            clients=2,
            rate=1234.0,
            rate_series=[0, 5, 10],
            stored_total=1_500_000,
            unresolved=3,
            counters={},
            drops={"rejected": 1, "rate_limited": 2, "filtered": 3, "overflow": 4, "write_failed": 9},
            capture_rate=0.5,
            db_bytes=3 * 1024 * 1024,
            db_budget_bytes=500 * 1024 * 1024,
            queue_depth=0,
            queue_capacity=10,
            write_failing=True,
            last_write_error="disk I/O error [bold]x[/]",
            uptime_s=1,
            last_id=1,
        )
        app.workers.cancel_group(app, "health")
        bar.health = failing
        await pilot.pause()
        text = "\n".join(line.plain for line in bar.lines(158))
        for expected in (
            "WRITES FAILING: disk I/O error [bold]x[/]",
            "tcp 127.0.0.1:7411 · 2 clients",
            "1,234/s ▁▅█",
            "1.5M stored",
            "3 unresolved",
            "1 rejected, 2 rate-limited, 3 filtered, 4 overflow",
            "capture 50.0%",
            "db 3.0 MiB / 500.0 MiB",
        ):
            assert expected in text
        assert bar.has_class("-alarm")


def test_sigterm_drains_and_exits_cleanly(tmp_path: os.PathLike[str]) -> None:
    """The real command, headless: events in over TCP, SIGTERM, everything stored, exit 0."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}
    command = [sys.executable, "-m", "sidelog", "--tcp", f"127.0.0.1:{port}", "--http", "off", "--db", "e.db"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        connection = _connect_within(port, timeout=20)
        with connection:
            connection.sendall(
                b"".join(b'{"message": "m%d"}\n' % i for i in range(200)) + b'{"sync": true}\n'
            )
            reply = connection.makefile().readline()
        assert json.loads(reply) == {"ok": True, "stored": 200}
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stderr.strip().splitlines()[-1] == "stopped: 201 stored this run, 0 unsaved, 0 failed writes"
    assert query_db(Path(tmp_path) / "e.db", "SELECT count(*) FROM events WHERE source = 'server'") == [
        (200,)
    ]


def _connect_within(port: int, timeout: float) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # polling for the listener of another process; no event to await
