"""Opening the store a ``--db`` names: the SQLite file, or a shared PostgreSQL database.

``Engine.open_store`` calls ``open_store``; what differs between the two stays here.
SQLite: folder, the single-server lock, start-up checks, schema, the two engines
(store/database.py). PostgreSQL: no lock (several servers share the database), a
writer engine whose one connection writes and a reader pool, both rewriting the
store's SQL on the way to asyncpg (store/pg_sql.py), the schema created or checked
under an advisory lock (store/pg_schema.py), and the writer of store/pg_writer.py.

The PostgreSQL modules (and SQLAlchemy's PostgreSQL dialect under them) are imported
only when a ``postgresql://`` URL is opened: a SQLite store never loads them, which
keeps them off the UI's cold start.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.pool import NullPool

from sidelog.pipeline.batcher import CommittedBatch
from sidelog.store.async_core import AsyncEngine, create_async_engine
from sidelog.store.database import DatabaseLock, create_schema, keep_wal_short, make_engines, prepare_folder
from sidelog.store.errors import StoreError
from sidelog.store.location import StoreLocation
from sidelog.store.reader import StoreReader
from sidelog.store.writer import StoreWriter

if TYPE_CHECKING:
    from sidelog.store.pg_live import Follower

_PG_WRITER_MODULE = "sidelog.store.pg_writer"

READER_POOL = 4
"""Reader connections kept open (as many more may open under load)."""


@dataclass(frozen=True, slots=True)
class OpenStore:
    """The writer, the reader and the two engines under them (disposed by ``Engine.stop``)."""

    writer: StoreWriter
    reader: StoreReader
    engines: tuple[AsyncEngine, AsyncEngine]

    @property
    def is_sqlite(self) -> bool:
        """A SQLite file (which has a WAL to keep short)."""
        pg_writer = sys.modules.get(_PG_WRITER_MODULE)  # never imported: no PostgreSQL writer exists
        return pg_writer is None or not isinstance(self.writer, pg_writer.PgStoreWriter)

    live: Follower | None = None
    """For a shared PostgreSQL store: what publishes other servers' batches (store/pg_live.py)."""

    def upkeep(
        self, path: Path, publish: Callable[[CommittedBatch], None], log: logging.Logger
    ) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        """The store's own background work, ``(task name, coroutine)``: keeping a SQLite WAL
        short (store/wal.py), or publishing other servers' batches and triage changes of a
        shared PostgreSQL."""
        work: list[tuple[str, Coroutine[Any, Any, None]]] = []
        if self.is_sqlite:
            work.append(
                ("sidelog-checkpoints", keep_wal_short(path, self.engines[1], log, self.reader.inflight))
            )
        if self.live is not None:
            follow = self.live.run(
                lambda events: publish(CommittedBatch(events)),
                lambda: publish(CommittedBatch([], groups_changed=True)),
            )
            work.append(("sidelog-follow", follow))
        return work


async def open_store(location: StoreLocation, lock: DatabaseLock, log: logging.Logger) -> OpenStore:
    """Open (creating if needed) the store at ``location``; ``StoreError`` with one line if not."""
    if location.url is not None:
        return await _open_postgres(location, log)
    assert location.path is not None
    prepare_folder(location.path)
    lock.acquire()
    writer_engine, reader_engine = make_engines(location.path)
    check = await create_schema(writer_engine)
    writer = StoreWriter(writer_engine)
    await writer.open(check)
    return OpenStore(writer, StoreReader(reader_engine), (writer_engine, reader_engine))


def make_pg_engines(location: StoreLocation) -> tuple[AsyncEngine, AsyncEngine]:
    """The writer engine (its connection is held open by the writer) and the reader pool."""
    from sidelog.store.pg_sql import install

    assert location.url is not None
    # ``details`` comes back as its JSON text, as SQLite returns it (not parsed into a dict).
    writer = create_async_engine(location.url, poolclass=NullPool, json_deserializer=_as_text)
    # Pinged before use: after the database server restarted, a pooled connection is dead.
    reader = create_async_engine(
        location.url,
        pool_size=READER_POOL,
        max_overflow=READER_POOL,
        pool_pre_ping=True,
        json_deserializer=_as_text,
    )
    for engine in (writer, reader):
        install(engine)
    return writer, reader


def _as_text(text: str) -> str:
    return text


async def _open_postgres(location: StoreLocation, log: logging.Logger) -> OpenStore:
    import asyncpg  # the optional extra: only a PostgreSQL store needs it
    from sqlalchemy.exc import DBAPIError

    from sidelog.store.pg_live import Follower
    from sidelog.store.pg_outage import SharedPgWriter, SharedReader
    from sidelog.store.pg_schema import describe, prepare_schema

    display = location.display()
    writer_engine, reader_engine = make_pg_engines(location)
    try:
        await prepare_schema(writer_engine, display)
        writer = SharedPgWriter(writer_engine, display)
        reader = SharedReader(reader_engine, display)
        try:
            await writer.open()
            live = Follower(reader_engine.url, writer.instance, reader, log, mark=writer.last_id)
            writer.on_stored = live.own
            await live.listen()
        except (DBAPIError, OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"cannot open the database {display}: {describe(exc)}") from None
    except BaseException:
        for engine in (writer_engine, reader_engine):
            await engine.dispose()
        raise
    return OpenStore(writer, reader, (writer_engine, reader_engine), live)
