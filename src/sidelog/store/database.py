"""Opening the SQLite file: folder, lock, start-up checks, schema, PRAGMAs and the two engines.

The writer engine holds the single connection that ever writes and begins its
transactions with ``BEGIN IMMEDIATE`` (it takes the write lock up front, so no
read-then-write upgrade can fail). The reader engine serves short read
transactions beside it; WAL lets them run while the writer commits. PRAGMAs are
applied on every new DBAPI connection via the ``connect`` event.

Opening order (``Engine.open_store``): ``prepare_folder`` (folder, and an empty
0600 file for a new store), ``DatabaseLock.acquire``, ``make_engines`` (connects
nothing yet), ``create_schema`` (the read-only checks of store/checks.py, then
create or upgrade, store/migrations.py), ``StoreWriter.open``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import NullPool

from sidelog.search import register as register_search
from sidelog.store.async_core import AsyncEngine, create_async_engine
from sidelog.store.checks import QUICK_CHECK_SYNC_BYTES, StoreCheck, check_database
from sidelog.store.errors import StoreError
from sidelog.store.files import DatabaseLock, create_private, tighten_mode
from sidelog.store.migrations import SCHEMA_VERSION, initialise, migrate
from sidelog.store.wal import WAL_LIMIT_BYTES, file_size, keep_wal_short, wal_path
from sidelog.store.writer import BUSY_TIMEOUT_MS

__all__ = [
    "DatabaseLock",
    "StoreCheck",
    "StoreError",
    "create_schema",
    "file_size",
    "keep_wal_short",
    "make_engines",
    "open_schema",
    "prepare_folder",
    "wal_path",
]

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA foreign_keys=OFF",
    f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}",
)
"""Applied to every connection. NORMAL is durable across process crashes in WAL
mode; only a power loss can drop the last commits (SQLite's documented trade-off).
``journal_size_limit`` trims the WAL file whenever SQLite rewinds it (store/wal.py)."""


WRITER_CACHE_KIB = 16_384
"""The writer connection's page cache (see ``make_engines``). Smaller saves peak RSS but
not CPU: a 100k-event flood into a 200k-event store (``python -m sidelog.bench.gc_ingest
--store …``) peaked 7.5 MB lower at 8 MiB and 11.5 MB lower at 4 MiB, at 4-5 % more server
CPU per event, on a loaded machine."""
READER_CACHE_KIB = 16_384
"""Each reader connection's page cache (see ``make_engines``). Start-up's facet counts
fill one: ~7 MiB of an idle server's RSS over a 200k-event store (2 MiB instead saves
that, but UI paging needs the cache)."""


def prepare_folder(db_path: Path) -> None:
    """Create the database folder (a new one gets a ``.gitignore``) and, for a new
    store, an empty database file with mode 0600 (see store/files.py)."""
    folder = db_path.parent
    try:
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        if created:
            (folder / ".gitignore").write_text("*\n")
    except OSError as exc:
        raise StoreError(f"cannot create the database folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK):
        raise StoreError(f"cannot write to the database folder {folder}: permission denied")
    try:
        create_private(db_path.resolve())
    except OSError as exc:
        raise StoreError(f"cannot create the database {db_path}: {exc.strerror or exc}") from None


def _install_hooks(engine: AsyncEngine, begin_sql: str, extra_pragmas: tuple[str, ...] = ()) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (SQLAlchemy's
        # documented recipe) so BEGIN is emitted exactly when we say.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS + extra_pragmas:
            cursor.execute(pragma)
        cursor.close()
        register_search(dbapi_connection)  # text search folds case as it does live (search.py)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin_sql)


def make_engines(db_path: Path) -> tuple[AsyncEngine, AsyncEngine]:
    """The writer engine (one connection, ``BEGIN IMMEDIATE``) and the reader engine."""
    url = f"sqlite+aiosqlite:///{db_path}"
    writer = create_async_engine(url, poolclass=NullPool)
    reader = create_async_engine(url, pool_size=4, max_overflow=4)
    # Small caches; the OS page cache holds the rest of the file. The writer's 16 MiB fit
    # the hot index pages of a million-row store: measured with `sidelog bench --only
    # ingest` over 1M events, as fast as 128 MiB (1.02x and 0.85x of executemany against
    # 0.81x) with 90 MB less peak RSS; a 200k-event flood grows the server by ~30 MiB
    # instead of ~45-65 (`python -m sidelog.bench.distinct`). Readers keep 16 MiB:
    # with 4 MiB, `sidelog bench --ui` paged back and filtered 25-30 % slower.
    # The writer never checkpoints on its own: checkpoints are writer turns and a
    # background task (store/wal.py).
    _install_hooks(
        writer, "BEGIN IMMEDIATE", ("PRAGMA wal_autocheckpoint=0", f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
    )
    _install_hooks(reader, "BEGIN", (f"PRAGMA cache_size=-{READER_CACHE_KIB}",))
    return writer, reader


def open_schema(db_path: Path, *, sync_limit: int = QUICK_CHECK_SYNC_BYTES) -> StoreCheck:
    """Check the file (raising ``StoreError`` without touching it), then create or upgrade its schema.

    Blocking; ``create_schema`` runs it on a worker thread.
    """
    check = check_database(db_path, sync_limit=sync_limit)
    try:
        if check.new:
            initialise(check.path)
        elif check.version < SCHEMA_VERSION:
            migrate(check.path, check.version)
    except Exception as exc:  # sqlite3 errors: disk full, I/O, locked by another writer
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"cannot prepare the database {check.path}: {reason}") from None
    tighten_mode(check.path)
    return check


async def create_schema(writer: AsyncEngine) -> StoreCheck:
    """``open_schema`` for the writer engine's file, off the event loop.

    This is the first access to the file, so a path that is a folder, a file that
    is not a SQLite database, a damaged, read-only or newer file all surface here,
    as one line instead of a traceback.
    """
    return await asyncio.to_thread(open_schema, Path(writer.url.database or ""))
