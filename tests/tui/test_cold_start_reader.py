"""The first page read with plain ``sqlite3`` (store/first_page.py): the store's newest events
exactly as the engine reads them, or nothing at all for any store it should not touch."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.config import Settings
from sidelog.filters import EMPTY_FILTER
from sidelog.server import start_server
from sidelog.store import first_page
from sidelog.store.event_rows import EVENT_COLUMNS
from sidelog.store.first_page import read_first_page
from sidelog.store.location import StoreLocation, parse_location
from sidelog.store.migrations import SCHEMA_VERSION
from sidelog.store.schema import EVENT_COLUMN_NAMES
from tests.conftest import send_lines, tcp_port


@pytest.fixture
async def filled(make_settings: Callable[..., Settings]) -> Settings:
    """A store of 30 events (``m0`` … ``m29``, one user, one error), the engine stopped."""
    settings = make_settings(enable_system_logging=False)
    running = await start_server(settings)
    try:
        lines = [
            {"message": f"m{n}", "category": "cold", "level": "error" if n == 7 else "info", "userId": "u1"}
            for n in range(30)
        ]
        payload = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        replies = await send_lines(tcp_port(running.engine), payload)
        assert replies[-1] == {"ok": True, "stored": 30}
    finally:
        await running.stop()
    return settings


async def test_the_newest_page_oldest_first_as_the_engine_reads_it(filled: Settings) -> None:
    page = read_first_page(filled.store, 12)
    assert [event.message for event in page] == [f"m{n}" for n in range(18, 30)]
    running = await start_server(filled)
    try:
        expected = list(reversed(await running.engine.events(EMPTY_FILTER, limit=12)))
    finally:
        await running.stop()
    assert page == expected  # every field, converted by the store's own row conversion


async def test_a_limit_past_the_store_gives_every_event(filled: Settings) -> None:
    assert len(read_first_page(filled.store, 300)) == 30
    assert read_first_page(filled.store, 0) == []


@pytest.mark.parametrize("version", [SCHEMA_VERSION - 1, SCHEMA_VERSION + 1, 0])
async def test_a_store_at_another_schema_version_gives_nothing(
    filled: Settings, tmp_path: Path, version: int
) -> None:
    copy = tmp_path / "other.db"
    shutil.copyfile(filled.db, copy)
    with sqlite3.connect(copy) as db:
        db.execute(f"PRAGMA user_version = {version}")
    assert read_first_page(StoreLocation(copy), 10) == []
    with sqlite3.connect(copy) as db:  # and the file is left as it was
        assert db.execute("PRAGMA user_version").fetchone() == (version,)


def test_a_missing_file_gives_nothing_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "events.db"
    assert read_first_page(StoreLocation(missing), 10) == []
    assert not missing.parent.exists()
    assert read_first_page(StoreLocation(tmp_path / "events.db"), 10) == []
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_sqlite_gives_nothing(tmp_path: Path) -> None:
    junk = tmp_path / "events.db"
    junk.write_bytes(b"not a database\n" * 400)
    assert read_first_page(StoreLocation(junk), 10) == []
    assert junk.read_bytes() == b"not a database\n" * 400
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    assert read_first_page(StoreLocation(folder), 10) == []


def test_a_sqlite_file_without_sidelog_tables_gives_nothing(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
        db.execute(f"PRAGMA user_version = {first_page.SCHEMA_VERSION}")
    assert read_first_page(StoreLocation(other), 10) == []


def test_a_file_whose_newest_page_never_ends_gives_nothing(tmp_path: Path) -> None:
    """A crafted file: ``events`` is a view over an endless recursive query. The read is
    interrupted at its deadline instead of holding the UI's first frame back for ever."""
    crafted = tmp_path / "crafted.db"
    columns = ", ".join(f"n AS {name}" for name in EVENT_COLUMNS)
    with sqlite3.connect(crafted) as db:
        db.execute(
            "CREATE VIEW events AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
            f"SELECT {columns} FROM r"
        )
        db.execute(f"PRAGMA user_version = {first_page.SCHEMA_VERSION}")
    assert read_first_page(StoreLocation(crafted), 10) == []


def test_a_postgresql_store_gives_nothing() -> None:
    location = parse_location("postgresql://sidelog:secret@127.0.0.1:1/sidelog")
    assert location.is_postgres
    assert read_first_page(location, 10) == []


def test_the_reader_knows_the_schema_this_sidelog_writes() -> None:
    # A new migration or column must be taught to store/first_page.py and store/event_rows.py
    # (until then the first page would only be skipped, never wrong).
    assert first_page.SCHEMA_VERSION == SCHEMA_VERSION
    assert EVENT_COLUMNS == EVENT_COLUMN_NAMES
