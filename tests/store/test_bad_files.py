"""Start-up refuses a file it cannot safely write, in one line, and leaves it byte-identical.

The six cases a developer's machine produces: random bytes, a truncated file, a garbage
page in the middle, zero bytes (accepted: a valid empty database), a file from a newer
sidelog, and a read-only file.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.store.checks import check_database
from sidelog.store.database import StoreError, make_engines, open_schema
from sidelog.store.files import side_files
from sidelog.store.migrations import SCHEMA_VERSION
from sidelog.store.writer import StoreWriter
from tests.store.support import PAGE, event, garbage_page, make_store, rows, sha256


def newer_schema(db: Path) -> None:
    """What a newer sidelog leaves: a higher user_version and a column this one lacks."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE events ADD COLUMN tenant TEXT NOT NULL DEFAULT 'x'")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()


REFUSED = [
    ("random bytes", lambda db: db.write_bytes(os.urandom(8 * PAGE)), "is not a SQLite database"),
    ("truncated", lambda db: os.truncate(db, db.stat().st_size // 2), "is damaged (truncated"),
    ("garbage page in the middle", garbage_page, "is damaged ("),
    ("newer schema", newer_schema, f"made by a newer sidelog (schema {SCHEMA_VERSION + 1}, this one knows"),
    ("read-only file", lambda db: db.chmod(0o444), "is read-only"),
]


@pytest.mark.parametrize(("case", "spoil", "expected"), REFUSED, ids=[case for case, _, _ in REFUSED])
async def test_a_bad_file_is_refused_untouched(
    make_settings: Callable[..., Settings], case: str, spoil: Callable[[Path], None], expected: str
) -> None:
    settings = make_settings()
    await make_store(settings.db)
    spoil(settings.db)
    before = sha256(settings.db)
    engine = Engine(settings)
    with pytest.raises(StoreError) as raised:
        await engine.open_store()
    await engine.stop()
    message = str(raised.value)
    assert expected in message, message
    assert "\n" not in message
    assert sha256(settings.db) == before
    assert not any(side.exists() for side in side_files(settings.db))
    # and it stays refused: nothing about the first attempt made it acceptable
    with pytest.raises(StoreError):
        await open_schema_async(settings.db)
    assert sha256(settings.db) == before


async def open_schema_async(db: Path) -> None:
    await asyncio.to_thread(open_schema, db)


async def test_zero_bytes_is_a_new_store(make_settings: Callable[..., Settings]) -> None:
    """A zero-byte file (``touch``, or a crash before the first write) is a valid empty
    database: sidelog initialises it rather than refuse it."""
    settings = make_settings()
    settings.db.parent.mkdir(parents=True)
    settings.db.touch()
    engine = Engine(settings)
    await engine.open_store()
    await engine.stop()
    assert rows(settings.db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(settings.db, "PRAGMA auto_vacuum") == [(2,)]
    assert rows(settings.db, "SELECT count(*) FROM events") == [(0,)]


async def test_a_large_file_is_checked_in_the_background_with_writes_held(tmp_path: Path) -> None:
    """Above the size limit quick_check runs after start-up; a damaged file then fails
    every write with the check's line and is never modified."""
    db = tmp_path / "events.db"
    await make_store(db)
    garbage_page(db)
    before = sha256(db)
    check = await asyncio.to_thread(open_schema, db, sync_limit=0)  # as if it were large
    assert check.integrity_deferred
    writer_engine, reader_engine = make_engines(db)
    writer = StoreWriter(writer_engine)
    try:
        await writer.open(check)
        for _ in range(2):
            with pytest.raises(StoreError, match="is damaged"):
                await writer.write_batch([event("held", received_at=now_ms())])
    finally:
        await writer.close()
        await writer_engine.dispose()
        await reader_engine.dispose()
    assert sha256(db) == before


async def test_a_sound_large_file_is_written_once_the_check_passes(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    await make_store(db, count=10)
    check = await asyncio.to_thread(open_schema, db, sync_limit=0)
    writer_engine, reader_engine = make_engines(db)
    writer = StoreWriter(writer_engine)
    try:
        await writer.open(check)
        result = await writer.write_batch([event("after the check", received_at=now_ms())])
    finally:
        await writer.close()
        await writer_engine.dispose()
        await reader_engine.dispose()
    assert [e.id for e in result.stored] == [11]


def test_a_file_needing_an_upgrade_is_checked_first_whatever_its_size(tmp_path: Path) -> None:
    import asyncio as aio
    import sqlite3

    db = tmp_path / "events.db"
    aio.run(make_store(db))
    with sqlite3.connect(db) as conn:
        conn.execute("DROP INDEX ix_events_received_at")
        conn.execute("PRAGMA user_version = 0")  # an unversioned file from before versions
    conn.close()
    garbage_page(db)
    before = sha256(db)
    with pytest.raises(StoreError, match="is damaged"):
        check_database(db, sync_limit=0)
    assert sha256(db) == before


def test_a_sqlite_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "notes.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    before = sha256(db)
    with pytest.raises(StoreError, match="not a sidelog store"):
        open_schema(db)
    assert sha256(db) == before
