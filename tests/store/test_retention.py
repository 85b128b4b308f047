"""Retention and the size budget: short writer turns between batches, victims by age
through ``ix_events_received_at`` whatever the clock did, errors archived first,
the WAL counted in the budget and free pages handed back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.server import start_server
from sidelog.store import retention
from sidelog.store.retention import FUTURE_SLACK_MS, used_bytes
from sidelog.store.wal import MIB, wal_path
from tests.conftest import tcp_port
from tests.store.support import DAY_MS, event, insert, new_store, old_and_young, open_stack, rows, write

RETENTION = 30 * DAY_MS


async def test_retention_runs_in_short_turns_while_syncs_keep_being_answered(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(retention_days=30, db_budget_mb=0, batch_interval_ms=50)
    await new_store(settings.db)
    insert(settings.db, old_and_young(60_000, 1_000))
    engine = (await start_server(settings)).engine
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
        prune = asyncio.create_task(engine.prune())
        latencies: list[float] = []
        during: list[float] = []
        wal_peak = 0
        while not prune.done():
            started = time.perf_counter()
            writer.write(b'{"message": "during retention"}\n{"sync": true}\n')
            await writer.drain()
            await reader.readline()
            latencies.append(time.perf_counter() - started)
            if not prune.done():
                during.append(latencies[-1])
            wal_peak = max(wal_peak, os.path.getsize(wal_path(settings.db)))
        result = await prune
        writer.close()
    finally:
        await engine.stop()
    assert (result.deleted, result.archived) == (60_000, 6_000)
    # Many turns, each short; syncs were answered between them, not after the whole pass.
    assert result.steps >= 10, result
    assert result.longest_step_s < 0.5, result  # ~20 ms each when the machine is not overloaded
    assert len(during) >= 5, (len(during), result)
    assert max(latencies) < 1.0, sorted(latencies)[-5:]
    assert wal_peak <= 64 * MIB
    assert rows(settings.db, "SELECT count(*) FROM events_archive") == [(6_000,)]
    assert rows(settings.db, "SELECT count(*) FROM events WHERE message LIKE 'old %'") == [(0,)]
    assert rows(settings.db, "SELECT count(*) FROM events WHERE message LIKE 'young %'") == [(1_000,)]


async def test_a_clock_jump_does_not_stop_retention(tmp_path: Path) -> None:
    """Ids follow commit order, stamps follow the clock: a stamp far in the future
    (the clock was years ahead) blocks nothing and goes once a later event expires;
    one an hour ahead is plausible and stays; one in the past is taken at its word."""
    db = tmp_path / "events.db"
    await new_store(db)
    now = now_ms()
    years = 10 * 365 * DAY_MS
    plan = [
        ("old", now - 40 * DAY_MS),
        ("old", now - 40 * DAY_MS + 1),
        ("far future, before expired events", now + years),
        ("old", now - 39 * DAY_MS),
        ("an hour ahead", now + 3_600_000),
        ("young", now - DAY_MS),
        ("clock set back", now - 50 * DAY_MS),
        ("young", now - 1000),
        ("far future, after every expired event", now + years),
        ("young", now),
    ]
    insert(db, [event(message, received_at=stamp) for message, stamp in plan])
    async with open_stack(db) as stack:
        result = await stack.writer.prune(older_than=now - RETENTION, budget_bytes=None)
    kept = [message for (message,) in rows(db, "SELECT message FROM events ORDER BY id")]
    assert kept == ["an hour ahead", "young", "young", "far future, after every expired event", "young"]
    assert result.deleted == 5


async def test_a_far_future_error_is_archived_with_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    await new_store(db)
    now = now_ms()
    insert(
        db,
        [
            event("future error", received_at=now + FUTURE_SLACK_MS + 60_000, level="error"),
            event("old error", received_at=now - 40 * DAY_MS, level="error"),
        ],
    )
    async with open_stack(db) as stack:
        result = await stack.writer.prune(older_than=now - RETENTION, budget_bytes=None)
    assert (result.deleted, result.archived) == (2, 2)
    assert sorted(m for (m,) in rows(db, "SELECT message FROM events_archive")) == [
        "future error",
        "old error",
    ]


async def test_the_budget_deletes_the_oldest_received_non_errors_first(tmp_path: Path) -> None:
    """Victims by ``received_at``, not id: here the highest ids are the oldest."""
    db = tmp_path / "events.db"
    await new_store(db)
    now = now_ms()
    count = 20_000
    insert(
        db,
        [
            event(
                f"e{i}",
                received_at=now - i * 1000,
                level="error" if i % 50 == 0 else "info",
                details="x" * 200,
            )
            for i in range(count)
        ],
    )
    async with open_stack(db) as stack:
        async with stack.writer.conn.begin():
            before = await used_bytes(stack.writer.conn)
        budget = before * 2 // 3
        result = await stack.writer.prune(older_than=None, budget_bytes=budget)
        async with stack.writer.conn.begin():
            after = await used_bytes(stack.writer.conn)
        wal = os.path.getsize(wal_path(db))
    assert after + min(wal, 32 * MIB) <= budget or after <= budget
    assert result.deleted > 0
    survivors = [i for (i,) in rows(db, "SELECT id FROM events WHERE level != 'error' ORDER BY id")]
    # Ids 1.. are the youngest: what is left of the non-errors is a prefix of them.
    assert survivors == [i for i in range(1, count + 1) if (i - 1) % 50][: len(survivors)]
    assert rows(db, "SELECT count(*) FROM events WHERE level = 'error'") == [(count // 50,)]


async def test_the_budget_counts_the_wal(tmp_path: Path) -> None:
    """Data under budget, data plus a WAL pinned by a reader over it: some events go
    (the WAL is on the disk too) but not all of them (deleting cannot shrink it)."""
    db = tmp_path / "events.db"
    await new_store(db)
    insert(db, [event(f"e{i}", received_at=now_ms() - i, details="x" * 200) for i in range(5_000)])
    async with open_stack(db) as stack:
        pinning = sqlite3.connect(db)
        try:
            pinning.execute("BEGIN")
            pinning.execute("SELECT count(*) FROM events").fetchone()
            await write(
                stack, [event(f"n{i}", received_at=now_ms(), details="y" * 400) for i in range(6_000)]
            )
            wal = os.path.getsize(wal_path(db))
            async with stack.writer.conn.begin():
                data = await used_bytes(stack.writer.conn)
            budget = data + wal // 2
            result = await stack.writer.prune(older_than=None, budget_bytes=budget)
        finally:
            pinning.close()
    assert wal > 2 * MIB
    assert 0 < result.deleted < 11_000


async def test_pruning_hands_free_pages_back_to_the_disk(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    await new_store(db)
    insert(db, old_and_young(40_000, 100, pad=1000))
    assert rows(db, "PRAGMA auto_vacuum") == [(2,)]  # INCREMENTAL, as every new store
    pages_before = rows(db, "PRAGMA page_count")[0][0]
    async with open_stack(db) as stack:
        result = await stack.writer.prune(older_than=now_ms() - RETENTION, budget_bytes=None)
    pages, free = rows(db, "PRAGMA page_count")[0][0], rows(db, "PRAGMA freelist_count")[0][0]
    assert result.released_pages > 0
    assert pages < pages_before // 2
    assert free <= 4096
    assert os.path.getsize(db) == pages * rows(db, "PRAGMA page_size")[0][0]


async def test_steps_adapt_to_stay_short(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    await new_store(db)
    insert(db, old_and_young(50_000, 10))
    async with open_stack(db) as stack:
        job = stack.writer.retention(older_than=now_ms() - RETENTION, budget_bytes=None)
        await stack.batcher.run_job(job.step)
    assert job.result.deleted == 50_000
    assert len(job.step_seconds) >= 10
    assert statistics.median(job.step_seconds) < 0.05, sorted(job.step_seconds)[-5:]


async def test_engine_prune_counts_and_facets(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(retention_days=30)
    await new_store(settings.db)
    insert(settings.db, old_and_young(300, 7, error_every=3))
    engine = Engine(settings)
    await engine.open_store()
    try:
        result = await engine.prune()
        assert (result.deleted, result.archived) == (300, 100)
        assert engine.stored_total == 7
    finally:
        await engine.stop()


async def test_a_pass_that_removes_nothing_leaves_the_counts_unread(
    make_settings: Callable[..., Settings],
) -> None:
    """The hourly pass usually removes nothing: then the facet counts stand as they are
    (a recount walks three indexes and leaves the heap larger); one that removes recounts."""
    settings = make_settings(retention_days=30)
    await new_store(settings.db)
    insert(settings.db, old_and_young(0, 5))
    engine = Engine(settings)
    await engine.open_store()
    try:
        assert engine.stored_total == 5
        insert(settings.db, old_and_young(20, 2))  # behind the engine's back: only a recount sees them
        result = await engine.prune()
        assert (result.deleted, engine.stored_total) == (20, 7)
        insert(settings.db, old_and_young(0, 4))
        result = await engine.prune()
        assert (result.deleted, engine.stored_total) == (0, 7)  # not re-read
    finally:
        await engine.stop()


async def test_every_retention_statement_walks_the_received_at_index(tmp_path: Path) -> None:
    """With errors spread through the table, a plan through ix_events_level would read
    every error on each step (it did: 50 rows took 200 ms on a million-event store)."""
    db = tmp_path / "events.db"
    await new_store(db)
    insert(db, old_and_young(2_000, 10, error_every=2))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        statements = [
            (retention.EXPIRED_BOUND_SQL, (1, 1)),
            (retention.highest_id_sql(retention.UP_TO), (1, 1, 1)),
            (retention.archive_sql(retention.UP_TO), (1, 1, 1)),
            (retention.delete_sql(retention.UP_TO), (1, 1, 1)),
            (retention.archive_sql(retention.EXPIRED), (1,)),
            (retention.delete_sql(retention.EXPIRED), (1,)),
            (retention.archive_sql(retention.FAR_FUTURE), (1, 1, 1)),
            (retention.delete_sql(retention.FAR_FUTURE), (1, 1, 1)),
            (retention.BUDGET_BOUND_SQL, (1,)),
            (retention.delete_sql(retention.UP_TO, keep_errors=True), (1, 1, 1)),
        ]
        for analyzed in (False, True):  # without statistics (as sidelog runs) and with them
            if analyzed:
                conn.execute("ANALYZE")
            for sql, params in statements:
                plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
                assert any("ix_events_received_at" in step for step in plan), (sql, plan)
                assert not any("ix_events_level" in step for step in plan), (sql, plan)
                assert not any("TEMP B-TREE" in step for step in plan), (sql, plan)
