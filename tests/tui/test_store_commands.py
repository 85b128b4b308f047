"""Prune, clear and vacuum from the command palette, on the app's own running server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sidelog.config import Settings
from sidelog.tui.app import SidelogApp
from sidelog.tui.palette import PaletteList
from sidelog.tui.screens.confirm import ConfirmScreen
from sidelog.tui.store_commands import CLEAR_TITLE, PRUNE_TITLE, VACUUM_TITLE
from sidelog.tui.widgets.stream import StreamView
from tests.conftest import send_lines, tcp_port
from tests.store.support import new_store
from tests.tui.conftest import open_palette, query_db, running_app, send_events, until


async def run_command(app: SidelogApp, pilot: object, query: str, title: str) -> None:
    """Open the palette, type ``query``, choose the entry called ``title``."""
    await open_palette(app, pilot, query)  # type: ignore[arg-type]
    await until(pilot, lambda: title in str(app.screen.query_one(PaletteList).highlighted_option), 30)  # type: ignore[arg-type]
    await pilot.press("enter")  # type: ignore[attr-defined]


def notes(app: SidelogApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_clear_asks_first_then_deletes_every_event_and_group(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "a"}, {"message": "boom", "type": "error"}, {"message": "c"})
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 3)

        await run_command(app, pilot, "stored", CLEAR_TITLE)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")  # no: nothing happens
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert query_db(settings.db, "SELECT count(*) FROM events") == [(3,)]

        await run_command(app, pilot, "stored", CLEAR_TITLE)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: any("Cleared 3 events and 1 error groups" in n for n in notes(app)), 30)
        assert query_db(settings.db, "SELECT count(*) FROM events") == [(0,)]
        assert query_db(settings.db, "SELECT count(*) FROM error_groups") == [(0,)]
        assert app.engine is not None
        assert app.engine.stored_total == 0
        await until(pilot, lambda: stream.window == [])

        await send_events(app, {"message": "after"})  # ingest went on
        await until(pilot, lambda: [e.message for e in stream.window] == ["after"])


async def test_prune_now_applies_retention_through_the_server(make_settings: object, tmp_path: Path) -> None:
    settings = make_settings(enable_system_logging=False)  # type: ignore[operator]
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "kept"})
        await run_command(app, pilot, "prune", PRUNE_TITLE)
        await until(pilot, lambda: any(n.startswith("Pruned 0 events") for n in notes(app)), 30)
        assert query_db(settings.db, "SELECT message FROM events") == [("kept",)]  # nothing expired


async def test_vacuum_gives_free_pages_back_after_confirmation(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        assert app.engine is not None
        big = json.dumps({"message": "big", "details": {"pad": "x" * 4000}}).encode() + b"\n"
        await send_lines(tcp_port(app.engine), big * 3000)  # about 12 MiB
        await run_command(app, pilot, "stored", CLEAR_TITLE)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: any(n.startswith("Cleared") for n in notes(app)), 30)
        free = query_db(settings.db, "PRAGMA freelist_count")[0][0]
        assert free > 1000  # retention's reserve aside, clearing frees pages

        await run_command(app, pilot, "vacuum", VACUUM_TITLE)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: any(n.startswith("Vacuumed") for n in notes(app)), 30)
        assert query_db(settings.db, "PRAGMA freelist_count") == [(0,)]


async def test_vacuum_of_an_old_file_says_to_use_the_offline_command(settings: Settings) -> None:
    await new_store(settings.db)
    with sqlite3.connect(settings.db) as conn:  # as files made before incremental vacuum
        conn.execute("PRAGMA auto_vacuum = NONE")
        conn.execute("VACUUM")
    conn.close()
    async with running_app(settings) as (app, pilot):
        await run_command(app, pilot, "vacuum", VACUUM_TITLE)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: any("Vacuum failed" in n for n in notes(app)), 30)
        assert any("sidelog vacuum" in n for n in notes(app))
        assert query_db(settings.db, "PRAGMA auto_vacuum") == [(0,)]  # untouched
