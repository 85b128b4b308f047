"""Schema version 5: one index per errors-pane order on ``error_groups``; a version-4 file is
upgraded to them, and no page of any order, with or without filters, sorts in a temp B-tree."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from sidelog.store.database import open_schema
from sidelog.store.group_pages import SORTS, GroupCursor, groups_sql
from sidelog.store.migrations import SCHEMA_VERSION, initialise
from tests.store.support import new_store, rows
from tests.support.groups import add_groups


def schema_of(db: Path) -> set[tuple[str, str]]:
    """Every table and index, by name and normalised SQL."""
    return {
        (name, " ".join(sql.split()))
        for name, sql in rows(db, "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
    }


def v4_store(db: Path) -> None:
    """A version-4 file: today's schema without version 5's indexes, the old
    ``(status, last_seen)`` index back, and 300 groups."""
    add_groups(db, 300)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("BEGIN")
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_error_groups_%'"
        ).fetchall():
            conn.execute(f"DROP INDEX {name}")
        conn.execute("CREATE INDEX ix_error_groups_status_last_seen ON error_groups (status, last_seen)")
        conn.execute("PRAGMA user_version = 4")
        conn.execute("COMMIT")


async def test_a_version_4_file_gets_the_group_order_indexes(tmp_path: Path) -> None:
    old, fresh = tmp_path / "v4.db", tmp_path / "fresh.db"
    v4_store(old)
    await new_store(fresh)
    kept = rows(old, "SELECT * FROM error_groups ORDER BY fingerprint")
    assert open_schema(old).version == 4
    assert rows(old, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert schema_of(old) == schema_of(fresh)
    cover = [info[2] for info in rows(old, "PRAGMA index_info(ix_error_groups_status_last_seen)")]
    assert cover == ["status", "last_seen", "last_event_id", "fingerprint"]
    assert rows(old, "SELECT * FROM error_groups ORDER BY fingerprint") == kept
    sql, params = groups_sql(status="unresolved", user=None, limit=5, sort="count")
    assert "ix_error_groups_status_count" in " | ".join(
        step[3] for step in rows(old, f"EXPLAIN QUERY PLAN {sql}", tuple(params))
    )
    assert rows(old, "PRAGMA integrity_check") == [("ok",)]
    assert open_schema(old).version == SCHEMA_VERSION  # opening again changes nothing
    assert schema_of(old) == schema_of(fresh)


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    db = tmp_path_factory.mktemp("group-plans") / "events.db"
    db.touch()
    initialise(db)
    return sqlite3.connect(db)


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("status", ["unresolved", "resolved", None])
@pytest.mark.parametrize("user", [None, "u_1"])
@pytest.mark.parametrize("paged", ["first", "after", "before", "backwards"])
def test_every_group_page_walks_its_index_without_sorting(
    conn: sqlite3.Connection, sort: str, status: str | None, user: str | None, paged: str
) -> None:
    cursor = GroupCursor(sort, tuple(1 for _ in SORTS[sort]), "fp")
    sql, params = groups_sql(
        status=status,
        user=user,
        limit=200,
        sort=sort,
        after=cursor if paged == "after" else None,
        before=cursor if paged == "before" else None,
        backwards=paged == "backwards",
    )
    steps = " | ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    index = f"ix_error_groups_status_{sort}" if status else f"ix_error_groups_{sort}"
    assert f"USING INDEX {index} " in steps + " ", steps
    assert "TEMP B-TREE" not in steps, steps
    if user:
        assert "COVERING INDEX ix_events_user_unresolved" in steps, steps
