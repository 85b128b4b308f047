"""Events partitioned by day on PostgreSQL: where rows land, exact keys across partitions,
retention by dropping whole days, and the upgrade of a database an older sidelog wrote.

The writer and retention job run directly (as the batcher runs them) on a fresh database
of the test cluster, so each test can place events on chosen days.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from sidelog.config import Settings
from sidelog.events import Event, now_ms
from sidelog.server import start_server
from sidelog.store.location import parse_location
from sidelog.store.migrations import SCHEMA_VERSION
from sidelog.store.opening import make_pg_engines
from sidelog.store.pg_partitions import DAY_MS, DAYS_AHEAD, partition_name
from sidelog.store.pg_retention import PgRetentionJob
from sidelog.store.pg_schema import prepare_schema
from sidelog.store.pg_writer import PgStoreWriter
from tests.support.wait import until

TODAY = now_ms() // DAY_MS


async def open_writer(url: str) -> PgStoreWriter:
    location = parse_location(url)
    writer_engine, _reader = make_pg_engines(location)
    await _reader.dispose()
    await prepare_schema(writer_engine, location.display())
    writer = PgStoreWriter(writer_engine, location.display())
    await writer.open()
    return writer


@pytest.fixture
async def writer(pg_url: str) -> AsyncIterator[PgStoreWriter]:
    opened = await open_writer(pg_url)
    yield opened
    await opened.close()
    await opened._engine.dispose()


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pg_url)
    yield conn
    await conn.close()


def event(
    message: str, day: int, *, uid: str | None = None, error: bool = False, at: int = 3600_000
) -> Event:
    stamp = day * DAY_MS + at
    return Event(
        message=message,
        category="app",
        level="error" if error else "info",
        timestamp=stamp,
        received_at=stamp,
        uid=uid,
        fingerprint=f"fp-{message}" if error else None,
        resolved=False if error else None,
    )


async def run(job: PgRetentionJob) -> PgRetentionJob:
    while await job.step():
        pass
    return job


async def where(db: asyncpg.Connection, message: str) -> str:
    return str(await db.fetchval("SELECT tableoid::regclass::text FROM events WHERE message = $1", message))


async def test_events_land_in_their_day_and_partitions_are_made_ahead(
    writer: PgStoreWriter, db: asyncpg.Connection
) -> None:
    assert await db.fetchval("SELECT relkind::text FROM pg_class WHERE relname = 'events'") == "p"
    for ahead in range(DAYS_AHEAD + 1):
        assert await db.fetchval("SELECT to_regclass($1)::text", partition_name(TODAY + ahead)) is not None
    await writer.write_batch([event("now", TODAY), event("old", TODAY - 40), event("ancient", TODAY - 5000)])
    assert await where(db, "now") == partition_name(TODAY)
    assert await where(db, "old") == partition_name(TODAY - 40)  # made on demand
    assert await where(db, "ancient") == "events_default"


async def test_a_day_whose_rows_sit_in_the_default_partition_keeps_landing_there(
    writer: PgStoreWriter, db: asyncpg.Connection
) -> None:
    stamp = (TODAY - 50) * DAY_MS + 5  # no partition for that day yet: the default one takes it
    await db.execute(
        "INSERT INTO events (category, level, message, timestamp, received_at, source) "
        "VALUES ('app', 'info', 'early', $1, $1, 'tcp')",
        stamp,
    )
    result = await writer.write_batch([event("late", TODAY - 50)])
    assert len(result.stored) == 1
    assert await where(db, "late") == "events_default"
    assert TODAY - 50 in writer.partitions.refused  # not tried again with every batch
    job = await run(PgRetentionJob(writer, older_than=(TODAY - 10) * DAY_MS))
    assert job.result.deleted == 2  # default rows go one by one
    assert await db.fetchval("SELECT count(*) FROM events_default") == 0


async def test_a_key_is_stored_once_across_days_and_batches(
    writer: PgStoreWriter, db: asyncpg.Connection
) -> None:
    first = await writer.write_batch([event("a", TODAY - 1, uid="k1"), event("a2", TODAY - 1, uid="k1")])
    again = await writer.write_batch([event("b", TODAY, uid="k1"), event("c", TODAY, uid="k2")])
    assert (len(first.stored), len(first.duplicates)) == (1, 1)
    assert [e.message for e in again.stored] == ["c"]
    assert [e.message for e in again.duplicates] == ["b"]
    rows = await db.fetch("SELECT event_uid, count(*) AS n FROM events GROUP BY event_uid ORDER BY 1")
    assert [(row["event_uid"], row["n"]) for row in rows] == [("k1", 1), ("k2", 1)]


async def test_two_writers_store_each_key_once_and_count_groups_exactly(
    pg_url: str, db: asyncpg.Connection
) -> None:
    writers = [await open_writer(pg_url) for _ in range(2)]

    async def send(writer: PgStoreWriter, offset: int) -> None:
        for batch in range(20):
            keys = range(batch * 50 + offset, batch * 50 + offset + 60)  # overlaps the other writer's
            day = TODAY - (batch % 3)
            await writer.write_batch([event(f"e{n % 4}", day, uid=f"u{n}", error=n % 2 == 0) for n in keys])

    try:
        await asyncio.gather(send(writers[0], 0), send(writers[1], 25))
    finally:
        for opened in writers:
            await opened.close()
            await opened._engine.dispose()
    assert await db.fetchval("SELECT count(*) - count(DISTINCT event_uid) FROM events") == 0
    assert await db.fetchval("SELECT count(*) FROM events") == await db.fetchval(
        "SELECT count(*) FROM event_uids"
    )
    stored = dict(await db.fetch("SELECT fingerprint, count(*) FROM events WHERE level = 'error' GROUP BY 1"))
    counted = dict(await db.fetch("SELECT fingerprint, count FROM error_groups"))
    assert stored == counted
    assert sum(counted.values()) > 0


async def test_retention_drops_expired_days_after_archiving_their_errors(
    writer: PgStoreWriter, db: asyncpg.Connection
) -> None:
    await writer.write_batch(
        [event(f"i{n}", TODAY - 10 - n % 3, uid=f"old{n}") for n in range(30)]
        + [event("boom", TODAY - 11, error=True), event("far", TODAY - 5000, error=True)]
        + [event("cut-off day", TODAY - 5, at=1000), event("new", TODAY)]
    )
    older_than = (TODAY - 5) * DAY_MS + 2000  # the cut-off's day is only partly expired: kept
    job = await run(PgRetentionJob(writer, older_than=older_than))
    assert (job.result.deleted, job.result.archived) == (32, 2)
    assert sorted(job.dropped_days) == [TODAY - 12, TODAY - 11, TODAY - 10]
    for day in job.dropped_days:
        assert await db.fetchval("SELECT to_regclass($1)", partition_name(day)) is None
    assert sorted(await db.fetchval("SELECT array_agg(message) FROM events_archive")) == ["boom", "far"]
    assert sorted(await db.fetchval("SELECT array_agg(message) FROM events")) == ["cut-off day", "new"]
    assert await db.fetchval("SELECT count(*) FROM event_uids") == 0
    again = await writer.write_batch([event("resent", TODAY, uid="old1")])  # its event is gone
    assert len(again.stored) == 1


async def test_a_drop_waits_for_a_reader_only_briefly_and_ingest_goes_on(
    writer: PgStoreWriter, db: asyncpg.Connection
) -> None:
    await writer.write_batch([event("old", TODAY - 9), event("boom", TODAY - 9, error=True)])
    reader = db.transaction()
    await reader.start()
    await db.fetchval("SELECT count(*) FROM events")  # holds a share lock on every partition
    job = PgRetentionJob(writer, older_than=(TODAY - 1) * DAY_MS, drop_tries=3)
    while await job.step():
        # Between the turns the batcher writes: each batch commits while the drop is blocked.
        await writer.write_batch([event("meanwhile", TODAY)])
    assert job.skipped_days == [TODAY - 9]
    assert (job.result.deleted, job.result.archived) == (0, 1)  # archived before the drop was tried
    await reader.rollback()
    done = await run(PgRetentionJob(writer, older_than=(TODAY - 1) * DAY_MS))
    assert (done.result.deleted, done.result.archived, done.dropped_days) == (2, 0, [TODAY - 9])
    assert await db.fetchval("SELECT count(*) FROM events_archive") == 1


async def test_the_size_budget_is_sqlite_only(
    pg_url: str, db: asyncpg.Connection, make_settings: Callable[..., Settings]
) -> None:
    running = await start_server(make_settings(db=pg_url, db_budget_mb=1, retention_days=0))
    try:
        engine = running.engine
        engine.admit([Event(message=f"m{n}", category="app", received_at=now_ms()) for n in range(50)], None)

        async def stored() -> bool:
            return int(await db.fetchval("SELECT count(*) FROM events WHERE category = 'app'")) == 50

        await until(stored, message="the 50 events stored")
        assert await db.fetchval("SELECT pg_database_size(current_database())") > 1024 * 1024  # over budget
        result = await engine.prune()
        assert result.deleted == 0
        assert await stored()
    finally:
        await running.stop()


async def test_an_unpartitioned_database_is_upgraded_in_place(
    pg_url: str, db: asyncpg.Connection, make_settings: Callable[..., Settings]
) -> None:
    await db.execute(
        "CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, event_uid text, "
        "category text NOT NULL, level text NOT NULL, message text NOT NULL, details jsonb, user_id text, "
        "session_id text, url text, user_agent text, timestamp bigint NOT NULL, received_at bigint NOT NULL, "
        "source text NOT NULL, show_to_user bigint, user_message text, resolved bigint, fingerprint text, "
        "trace_id text)"
    )
    await db.execute(
        "CREATE UNIQUE INDEX ux_events_event_uid ON events (event_uid) WHERE event_uid IS NOT NULL"
    )
    await db.execute("CREATE INDEX ix_events_level ON events (level)")
    await db.execute("CREATE TABLE sidelog_schema (one boolean PRIMARY KEY DEFAULT true, version integer)")
    await db.execute("INSERT INTO sidelog_schema (version) VALUES (7)")
    for n, day in enumerate((TODAY - 3, TODAY - 1, TODAY)):
        await db.execute(
            "INSERT INTO events (event_uid, category, level, message, timestamp, received_at, source) "
            "VALUES ($1, 'app', 'info', $2, $3, $3, 'tcp')",
            f"k{n}",
            f"m{n}",
            day * DAY_MS + 1000,
        )
    running = await start_server(make_settings(db=pg_url))
    try:
        assert await db.fetchval("SELECT version FROM sidelog_schema") == SCHEMA_VERSION
        assert await db.fetchval("SELECT relkind::text FROM pg_class WHERE relname = 'events'") == "p"
        assert await where(db, "m0") == partition_name(TODAY - 3)
        rows = await db.fetch(
            "SELECT id, message FROM events WHERE source = 'tcp' ORDER BY id"
        )  # not its own start event
        assert [(row["id"], row["message"]) for row in rows] == [(1, "m0"), (2, "m1"), (3, "m2")]
        running.engine.admit([event("dup", TODAY, uid="k1"), event("fresh", TODAY, uid="k9")], None)

        async def fresh_stored() -> bool:
            return bool(await db.fetchval("SELECT count(*) FROM events WHERE message = 'fresh'"))

        await until(fresh_stored, message="the new event stored")
        keyed = await db.fetch("SELECT id, message FROM events WHERE event_uid IN ('k1', 'k9') ORDER BY id")
        assert [row["message"] for row in keyed] == ["m1", "fresh"]  # the old key still counts
        assert keyed[1]["id"] > 3  # new ids continue after the copied ones
    finally:
        await running.stop()
