"""What the errors pane reads beside each group: the 24-hour sparkline, the reports count,
regressions and when the pane was last looked at; the queries' plans; the schema step."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from sidelog.store.checks import check_database
from sidelog.store.database import StoreError, open_schema
from sidelog.store.group_activity import (
    BUCKET_MS,
    BUCKETS,
    SparkReader,
    reports_counts,
    reports_mark,
    spark_sql,
)
from sidelog.store.group_marks import LookedJob, looked_at, regressed_since, regressed_sql
from sidelog.store.group_pages import groups_sql
from sidelog.store.migrations import SCHEMA_VERSION, initialise
from tests.conftest import send_lines, tcp_port
from tests.support.group_events import error, feedback, write_events
from tests.support.groups import add_groups

NOW = 1_767_225_600_000 + 5 * 3_600_000 + 123  # 05:00 UTC: the newest bucket began an hour ago
CURRENT = NOW // BUCKET_MS * BUCKET_MS


def rows(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(enable_system_logging=False)


@contextlib.asynccontextmanager
async def engine_over(settings: Settings) -> AsyncIterator[Engine]:
    running = await start_server(settings)
    try:
        yield running.engine
    finally:
        await running.stop()


async def test_the_sparkline_counts_each_groups_events_per_two_hours(settings: Settings) -> None:
    add_groups(settings.db, 3)
    write_events(
        settings.db,
        [
            error("fp000000", CURRENT - 30 * BUCKET_MS),  # a month ago: not in the day
            error("fp000000", CURRENT - 11 * BUCKET_MS + 5),  # the oldest bucket
            *[error("fp000000", CURRENT - 3 * BUCKET_MS + i) for i in range(4)],
            error("fp000001", CURRENT - 3 * BUCKET_MS + 10),
            *[error("fp000000", CURRENT + i) for i in range(2)],  # the bucket still filling
        ],
    )
    async with engine_over(settings) as engine:
        sparks = SparkReader(engine.reader)
        counts = await sparks.counts(["fp000000", "fp000001", "fp000002"], NOW)
        assert counts["fp000000"] == [1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 2]
        assert counts["fp000001"] == [0] * 8 + [1, 0, 0, 0]
        assert counts["fp000002"] == [0] * BUCKETS
        # Two hours on, the day has moved by a bucket: the oldest event left it.
        later = await sparks.counts(["fp000000"], NOW + BUCKET_MS)
        assert later["fp000000"] == [0] * 7 + [4, 0, 0, 2, 0]


async def test_a_day_with_no_event_reads_as_zeros_without_a_scan(settings: Settings) -> None:
    add_groups(settings.db, 2)
    write_events(settings.db, [error("fp000000", CURRENT - 40 * BUCKET_MS)])
    async with engine_over(settings) as engine:
        assert await SparkReader(engine.reader).counts(["fp000000"], NOW) == {"fp000000": [0] * BUCKETS}


async def test_reports_count_each_user_once(settings: Settings) -> None:
    add_groups(settings.db, 3)
    bad = error("fp000002", NOW)
    bad.category, bad.details = "feedback", "not json at all, related_groups"
    write_events(
        settings.db,
        [
            feedback(["fp000000", "fp000001"], NOW, user="u1"),
            feedback(["fp000000"], NOW + 1, user="u1"),  # the same user again
            feedback(["fp000000"], NOW + 2, user="u2"),
            feedback(["fp000000"], NOW + 3, user=None, session="s1"),  # anonymous: by session
            feedback(["fp000002"], NOW + 4, user=None),  # neither: the report itself
            bad,  # details that are not JSON are passed over, not an error
        ],
    )
    async with engine_over(settings) as engine:
        counts = await reports_counts(engine.reader, ["fp000000", "fp000001", "fp000002", "nobody"])
        assert counts == {"fp000000": 3, "fp000001": 1, "fp000002": 1}
        assert await reports_mark(engine.reader) == rows(settings.db, "SELECT max(id) FROM events")[0][0]


async def test_a_regression_is_listed_with_the_resolve_it_undid(settings: Settings) -> None:
    line = json.dumps({"type": "error", "category": "payment", "message": "back again"}).encode() + b"\n"
    async with engine_over(settings) as engine:
        await send_lines(tcp_port(engine), line)
        fingerprint = str(rows(settings.db, "SELECT fingerprint FROM error_groups")[0][0])
        assert await regressed_since(engine.reader, 0) == []
        resolved = await engine.resolve(fingerprint)
        assert resolved is not None
        await send_lines(tcp_port(engine), line)
        (group,) = await regressed_since(engine.reader, 0)
        assert group.fingerprint == fingerprint
        assert group.regressed
        assert group.resolved_at == resolved.resolved_at  # names the regression
        assert await regressed_since(engine.reader, group.last_seen + 1) == []


async def test_the_last_look_is_kept_in_the_database_and_only_moves_forward(settings: Settings) -> None:
    async with engine_over(settings) as engine:
        assert await looked_at(engine.reader) is None
        await engine.run_job(lambda writer: LookedJob(writer, NOW))
        await engine.run_job(lambda writer: LookedJob(writer, NOW - 1000))  # a clock stepped back
    async with engine_over(settings) as engine:  # a restart
        assert await looked_at(engine.reader) == NOW


def test_the_pane_queries_read_indexes_only(tmp_path: Path) -> None:
    db = tmp_path / "plans.db"
    initialise(db)
    with contextlib.closing(sqlite3.connect(db)) as conn:

        def plan(sql: str, params: list[object]) -> str:
            return " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))

        spark = plan(*spark_sql(["a", "b"], [10, 20, 30]))
        assert "COVERING INDEX ix_events_fingerprint (fingerprint=? AND rowid>?)" in spark
        assert "SCAN" not in spark
        regressed = plan(*regressed_sql(0, 10))
        assert "ix_error_groups_status_regressed (status=? AND regressed=? AND last_seen>?)" in regressed
        page = plan(*groups_sql(status="unresolved", user=None, limit=10, hide_snoozed_at=NOW))
        assert "ix_error_groups_status_last_seen" in page
        assert "TEMP B-TREE" not in page
        assert "sqlite_autoindex_group_snoozes_1 (fingerprint=?)" in page


async def test_a_version_5_file_gets_the_triage_tables(tmp_path: Path) -> None:
    old, fresh = tmp_path / "v5.db", tmp_path / "fresh.db"
    add_groups(old, 50)
    initialise(fresh)
    with contextlib.closing(sqlite3.connect(old, isolation_level=None)) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in set(names) - {"events", "events_archive", "error_groups"}:
            conn.execute(f"DROP TABLE {name}")  # what versions 6 and later add
        conn.execute("PRAGMA user_version = 5")
    kept = rows(old, "SELECT * FROM error_groups ORDER BY fingerprint")
    assert open_schema(old).version == 5
    assert rows(old, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    schema = "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
    assert rows(old, schema) == rows(fresh, schema)
    assert rows(old, "SELECT * FROM error_groups ORDER BY fingerprint") == kept
    assert (
        rows(old, "SELECT count(*) FROM group_snoozes")
        == rows(old, "SELECT count(*) FROM view_marks")
        == [(0,)]
    )


def test_a_file_from_a_newer_sidelog_is_still_refused(tmp_path: Path) -> None:
    db = tmp_path / "newer.db"
    initialise(db)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer sidelog"):
        check_database(db)
