"""Offline maintenance: ``vacuum`` compacts a store and switches it to incremental
auto-vacuum; ``recover`` copies what reads from a damaged store into a new one and
keeps the damaged file aside, byte for byte."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.config import Settings, load_settings
from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.store.checks import check_database
from sidelog.store.database import StoreError
from sidelog.store.maintenance import recover, vacuum
from sidelog.store.migrations import SCHEMA_VERSION
from tests.store.support import event, garbage_page, insert, make_store, new_store, rows, sha256


def legacy_layout(db: Path) -> None:
    """Rebuild ``db`` with auto_vacuum NONE, as stores made before INCREMENTAL were."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA auto_vacuum = NONE")
        conn.execute("VACUUM")


async def test_vacuum_compacts_and_switches_to_incremental(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    await new_store(db)
    insert(db, [event(f"e{i}", received_at=now_ms(), details="x" * 500) for i in range(20_000)])
    legacy_layout(db)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("DELETE FROM events WHERE id % 4 != 0")
    assert rows(db, "PRAGMA auto_vacuum") == [(0,)]
    kept = rows(db, "SELECT * FROM events ORDER BY id")
    result = vacuum(db)
    assert result.bytes_after < result.bytes_before / 2
    assert rows(db, "PRAGMA auto_vacuum") == [(2,)]
    assert rows(db, "PRAGMA freelist_count") == [(0,)]
    assert rows(db, "SELECT * FROM events ORDER BY id") == kept
    assert (os.stat(db).st_mode & 0o777) == 0o600
    assert check_database(db).version == SCHEMA_VERSION


async def test_vacuum_refuses_a_store_in_use(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    engine = Engine(settings)
    await engine.open_store()
    try:
        with pytest.raises(StoreError, match="in use by another sidelog"):
            await asyncio.to_thread(vacuum, settings.db)
    finally:
        await engine.stop()


async def test_vacuum_refuses_a_damaged_store(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    await make_store(db)
    garbage_page(db)
    before = sha256(db)
    with pytest.raises(StoreError, match="is damaged"):
        vacuum(db)
    assert sha256(db) == before


async def test_recover_saves_what_reads_and_keeps_the_damaged_file(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    await make_store(db, count=3000)
    garbage_page(db)
    damaged_hash = sha256(db)
    result = recover(db)
    assert result.damaged.name.startswith("events.db.damaged-")
    assert sha256(result.damaged) == damaged_hash
    assert result.skipped_ranges >= 1
    saved = result.rows["events"]
    assert 2800 <= saved < 3000  # one page's worth lost, not more
    assert rows(db, "SELECT count(*) FROM events") == [(saved,)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert check_database(db).version == SCHEMA_VERSION
    assert (os.stat(db).st_mode & 0o777) == 0o600
    # sidelog opens the recovered store and carries on above the highest saved id
    engine = Engine(load_settings(db=db, tcp="off", http="off"))
    await engine.open_store()
    await engine.stop()


def test_recover_refuses_what_is_not_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    db.write_bytes(os.urandom(4096))
    before = sha256(db)
    with pytest.raises(StoreError, match="not a SQLite database"):
        recover(db)
    assert sha256(db) == before
    assert [path.name for path in tmp_path.iterdir()] == ["events.db", "events.db.lock"]
