"""Schema versions: new files are created at the current version, older files upgraded
step by step (numbered functions), and the result is the schema a new file gets."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from sidelog.store.checks import check_database
from sidelog.store.database import open_schema
from sidelog.store.migrations import LEGACY_VERSION, MIGRATIONS, SCHEMA_VERSION, migrate
from tests.store.support import event, insert, new_store, rows

LEGACY_ONLY_INDEXES = ("ix_events_received_at",)
"""Indexes added after the first released schema (dropped to rebuild a legacy file)."""


def schema_of(db: Path) -> set[tuple[str, str]]:
    """Every table and index, by name and normalised SQL."""
    return {
        (name, " ".join(sql.split()))
        for name, sql in rows(db, "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
    }


async def legacy_store(db: Path) -> None:
    """A store as sidelog wrote it before schema versions: no received_at index, user_version 0."""
    await new_store(db)
    insert(db, [event(f"e{i}", received_at=1_700_000_000_000 + i) for i in range(100)])
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        for name in LEGACY_ONLY_INDEXES:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("PRAGMA user_version = 0")


def test_migrations_are_numbered_consecutively() -> None:
    assert [version for version, _ in MIGRATIONS] == list(range(LEGACY_VERSION + 1, SCHEMA_VERSION + 1))


async def test_a_new_store_is_created_at_the_current_version(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    await new_store(db)
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert ("ix_events_received_at",) in rows(db, "SELECT name FROM sqlite_master WHERE type = 'index'")


async def test_an_unversioned_store_is_upgraded_to_the_new_schema(tmp_path: Path) -> None:
    fresh, legacy = tmp_path / "fresh.db", tmp_path / "legacy.db"
    await new_store(fresh)
    await legacy_store(legacy)
    kept = rows(legacy, "SELECT * FROM events ORDER BY id")
    assert check_database(legacy).version == LEGACY_VERSION
    check = open_schema(legacy)
    assert check.version == LEGACY_VERSION  # what was found; the file is now current
    assert rows(legacy, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert schema_of(legacy) == schema_of(fresh)
    assert rows(legacy, "SELECT * FROM events ORDER BY id") == kept
    plan = rows(legacy, "EXPLAIN QUERY PLAN SELECT id FROM events WHERE received_at < 5 ORDER BY received_at")
    assert any("ix_events_received_at" in step[3] for step in plan), plan
    # opening again changes nothing
    assert open_schema(legacy).version == SCHEMA_VERSION
    assert schema_of(legacy) == schema_of(fresh)


@pytest.mark.parametrize("start", range(LEGACY_VERSION, SCHEMA_VERSION + 1))
async def test_migrate_applies_only_the_steps_above_the_files_version(tmp_path: Path, start: int) -> None:
    db = tmp_path / "events.db"
    await legacy_store(db)
    applied = migrate(db, start)
    assert applied == [version for version, _ in MIGRATIONS if version > start]
