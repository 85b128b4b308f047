"""Helpers for the store tests: real SQLite files in tmp_path, rows written fast, hashes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sidelog.events import Event, now_ms
from sidelog.pipeline.batcher import Batcher, CommittedBatch
from sidelog.pipeline.counters import Counters, RateMeter
from sidelog.pipeline.queue import IngestQueue, Origin, SyncMarker
from sidelog.store.database import DatabaseLock, create_schema, make_engines, prepare_folder
from sidelog.store.models import event_to_row
from sidelog.store.schema import INSERT_EVENTS_SQL
from sidelog.store.writer import StoreWriter

DAY_MS = 86_400_000


def sha256(path: Path) -> str:
    """The file's content hash (to prove a refused file was not touched)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def event(message: str, *, received_at: int, level: str = "info", details: str | None = None) -> Event:
    """One event as the writer would get it, stamped ``received_at``."""
    return Event(
        message=message,
        category="test",
        level=level,
        details=details,
        timestamp=received_at,
        received_at=received_at,
        source="server",
        resolved=False if level == "error" else None,
    )


def insert(db: Path, events: Iterable[Event], *, first_id: int | None = None) -> None:
    """Insert rows with plain sqlite3 (fast set-up for big stores; no server may run)."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        start = first_id or conn.execute("SELECT coalesce(max(id), 0) + 1 FROM events").fetchone()[0]
        conn.execute("BEGIN")
        conn.executemany(INSERT_EVENTS_SQL, (event_to_row(e, start + i) for i, e in enumerate(events)))
        conn.execute("COMMIT")


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one query on a fresh connection."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


def old_and_young(old: int, young: int, *, error_every: int = 10, pad: int = 0) -> list[Event]:
    """``old`` events 40 days old (every ``error_every``-th an error), then ``young`` from today."""
    now = now_ms()
    details = "x" * pad if pad else None
    made = [
        event(
            f"old {i}",
            received_at=now - 40 * DAY_MS + i,
            level="error" if i % error_every == 0 else "info",
            details=details,
        )
        for i in range(old)
    ]
    made += [event(f"young {i}", received_at=now - 1000 + i) for i in range(young)]
    return made


@dataclass
class Stack:
    """A real writer and batcher on a real file, without endpoints."""

    db: Path
    writer: StoreWriter
    batcher: Batcher
    queue: IngestQueue
    counters: Counters
    published: list[CommittedBatch]


async def new_store(db: Path) -> None:
    """Create a store at ``db`` (current schema) and close it."""
    async with open_stack(db):
        pass


@contextlib.asynccontextmanager
async def open_writer(db: Path) -> AsyncIterator[StoreWriter]:
    """A real writer on a real file, as the engine opens it (no batcher: calls are serial here)."""
    prepare_folder(db)
    lock = DatabaseLock.for_database(db)
    lock.acquire()
    writer_engine, reader_engine = make_engines(db)
    writer = StoreWriter(writer_engine)
    try:
        await writer.open(await create_schema(writer_engine))
        yield writer
    finally:
        await writer.close()
        await writer_engine.dispose()
        await reader_engine.dispose()
        lock.release()


@contextlib.asynccontextmanager
async def open_stack(db: Path, *, interval_s: float = 0.005, batch_size: int = 500) -> AsyncIterator[Stack]:
    """Open the store the way the engine does and run its batcher; stop and close after."""
    import asyncio

    prepare_folder(db)
    lock = DatabaseLock.for_database(db)
    lock.acquire()
    writer_engine, reader_engine = make_engines(db)
    task = None
    writer = StoreWriter(writer_engine)
    try:
        check = await create_schema(writer_engine)
        await writer.open(check)
        queue = IngestQueue(50_000)
        counters = Counters()
        published: list[CommittedBatch] = []
        batcher = Batcher(
            queue,
            writer,
            batch_size=batch_size,
            interval_s=interval_s,
            store_level="debug",
            counters=counters,
            meter=RateMeter(),
            publish=published.append,
        )
        task = asyncio.create_task(batcher.run())
        yield Stack(db, writer, batcher, queue, counters, published)
    finally:
        if task is not None:
            batcher.stop()
            await task
        await writer.close()
        await writer_engine.dispose()
        await reader_engine.dispose()
        lock.release()


async def write(stack: Stack, events: list[Event]) -> Origin:
    """Queue ``events`` with a sync marker and wait until the writer has committed them."""
    import asyncio

    origin = Origin("test")
    committed = asyncio.Event()
    stack.queue.put(events, origin)
    stack.queue.put_marker(SyncMarker(origin, lambda _origin: committed.set()))
    await committed.wait()
    return origin


PAGE = 4096


async def make_store(db: Path, count: int = 3000) -> None:
    """A closed sidelog store with ``count`` events (about a hundred pages)."""
    await new_store(db)
    insert(db, [event(f"event {i}", received_at=now_ms(), details="d" * 100) for i in range(count)])


def garbage_page(db: Path) -> None:
    """Overwrite a page of event rows in the middle of the file with random bytes (chosen
    through SQLite's ``dbstat``, so it stays a table page whatever the schema's layout)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        leaves = [
            page
            for (page,) in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno"
            )
        ]
    assert leaves, "no page of event rows to damage"
    with open(db, "r+b") as handle:
        handle.seek((leaves[len(leaves) // 2] - 1) * PAGE)  # pages are numbered from 1
        handle.write(os.urandom(PAGE))
