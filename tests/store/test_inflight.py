"""A store read whose caller is cancelled still finishes, and ``drain`` waits for it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from sidelog.store.database import make_engines, open_schema, prepare_folder
from sidelog.store.reader import StoreReader
from tests.support.wait import until

SLOW_SQL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000) SELECT count(*) FROM n"
)


async def _scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.exec_driver_sql(sql)).scalar_one())


def _driver_threads() -> int:
    return sum(1 for t in threading.enumerate() if "_connection_worker_thread" in t.name)


async def test_cancelled_caller_leaves_the_query_to_finish_and_drain_waits(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    prepare_folder(db)
    open_schema(db)
    writer, engine = make_engines(db)
    reader = StoreReader(engine)
    threads_before = _driver_threads()
    caller = asyncio.create_task(reader.inflight.run(_scalar(engine, SLOW_SQL)))
    await asyncio.sleep(0)  # one turn of the loop: the caller starts the read and waits on it
    assert reader.inflight.pending == 1
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert reader.inflight.pending == 1  # the read itself was not cut short
    await reader.inflight.drain(timeout=60)
    assert reader.inflight.pending == 0
    assert await reader.count() == 0  # the pool still serves reads: no connection was invalidated
    await engine.dispose()
    await writer.dispose()
    await until(lambda: _driver_threads() <= threads_before, message="every driver thread stopped")


async def test_a_failed_orphan_read_is_not_reported_as_never_retrieved(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    prepare_folder(db)
    open_schema(db)
    writer, engine = make_engines(db)
    reader = StoreReader(engine)
    caller = asyncio.create_task(reader.inflight.run(_scalar(engine, "SELECT no_such_column FROM events")))
    await asyncio.sleep(0)  # one turn of the loop: the caller starts the read and waits on it
    assert reader.inflight.pending == 1
    caller.cancel()
    await asyncio.gather(caller, return_exceptions=True)
    await reader.inflight.drain()
    assert reader.inflight.pending == 0
    await engine.dispose()
    await writer.dispose()


async def test_a_read_asked_for_once_the_reads_are_closed_is_refused_and_opens_no_connection(
    tmp_path: Path,
) -> None:
    """A pane reloading while the engine stops must not open a pool connection after the
    pools were disposed of: nobody would close it (a ResourceWarning at collection)."""
    db = tmp_path / "events.db"
    prepare_folder(db)
    open_schema(db)
    writer, engine = make_engines(db)
    reader = StoreReader(engine)
    assert await reader.count() == 0
    await reader.inflight.close()
    await engine.dispose()
    opened_before = engine.pool.checkedin() + engine.pool.checkedout()
    with pytest.raises(asyncio.CancelledError):
        await reader.count()
    assert engine.pool.checkedin() + engine.pool.checkedout() == opened_before == 0
    assert reader.inflight.pending == 0
    await writer.dispose()
