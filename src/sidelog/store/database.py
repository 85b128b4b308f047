"""Opening the SQLite file: folder, lock, PRAGMAs and the two SQLAlchemy engines.

The writer engine holds the single connection that ever writes and begins its
transactions with ``BEGIN IMMEDIATE`` (it takes the write lock up front, so no
read-then-write upgrade can fail). The reader engine serves short read
transactions beside it; WAL lets them run while the writer commits. PRAGMAs are
applied on every new DBAPI connection via the ``connect`` event.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from sidelog.store.schema import metadata

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA foreign_keys=OFF",
)
"""Applied to every connection. NORMAL is durable across process crashes in WAL
mode; only a power loss can drop the last commits (SQLite's documented trade-off)."""


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message is the one line to show."""


def prepare_folder(db_path: Path) -> None:
    """Create the database folder; a new ``.sidelog``-style folder gets a ``.gitignore``."""
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


@dataclass
class DatabaseLock:
    """An advisory lock beside the database: one sidelog server per file."""

    path: Path
    handle: Any = None

    def acquire(self) -> None:
        """Take the lock or raise ``StoreError`` naming the process that holds it."""
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the server's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise StoreError(
                f"the database {self.path.with_suffix('')} is in use by another sidelog ({owner})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self.handle = handle

    def release(self) -> None:
        """Release the lock (the file stays; its content is informational)."""
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


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

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin_sql)


def make_engines(db_path: Path) -> tuple[AsyncEngine, AsyncEngine]:
    """The writer engine (one connection, ``BEGIN IMMEDIATE``) and the reader engine."""
    url = f"sqlite+aiosqlite:///{db_path}"
    writer = create_async_engine(url, poolclass=NullPool)
    reader = create_async_engine(url, pool_size=4, max_overflow=4)
    # The writer keeps the hot index pages of a million-row store in its own cache
    # (measured: index inserts slow down sharply once they miss it); readers mostly
    # touch recent pages and share the OS page cache.
    _install_hooks(writer, "BEGIN IMMEDIATE", ("PRAGMA wal_autocheckpoint=0", "PRAGMA cache_size=-131072"))
    _install_hooks(reader, "BEGIN", ("PRAGMA cache_size=-16384",))
    return writer, reader


CHECKPOINT_WAL_BYTES = 16 * 1024 * 1024
"""Checkpoint once the WAL passes this size (the writer itself never checkpoints)."""


async def checkpoint(reader: AsyncEngine, mode: str = "PASSIVE") -> None:
    """Copy committed WAL pages into the database file on a reader connection.

    The writer runs with ``wal_autocheckpoint=0`` so that this I/O (and its fsync)
    happens on another connection's thread, overlapping with ingest instead of
    stalling a commit. PASSIVE never blocks the writer or readers.
    """
    async with reader.connect() as conn:
        await conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")


def wal_path(db_path: Path) -> Path:
    """The write-ahead log beside the database file."""
    return db_path.with_name(db_path.name + "-wal")


def file_size(path: os.PathLike[str] | str) -> int:
    """Size in bytes, 0 for a missing file (the WAL comes and goes)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


async def keep_wal_short(db_path: Path, reader: AsyncEngine, log: logging.Logger) -> None:
    """Run forever: checkpoint whenever the WAL passes ``CHECKPOINT_WAL_BYTES`` (see ``checkpoint``).

    A failed checkpoint is logged on ``log`` and retried; it loses nothing.
    """
    wal = wal_path(db_path)
    while True:
        await asyncio.sleep(0.25)
        if file_size(wal) > CHECKPOINT_WAL_BYTES:
            try:
                await checkpoint(reader)
            except Exception as exc:  # a failed checkpoint is retried; it loses nothing
                log.warning("checkpoint failed: %s", exc)


async def create_schema(writer: AsyncEngine) -> None:
    """Create missing tables and indexes (idempotent).

    This is the first connection to the file, so a path that is a folder or a file
    that is not a SQLite database surfaces here, as one line instead of a traceback.
    """
    try:
        async with writer.begin() as conn:
            await conn.run_sync(metadata.create_all)
    except DBAPIError as exc:
        reason = str(exc.orig) if exc.orig is not None else str(exc)
        url = writer.url.database
        raise StoreError(f"cannot open the database {url}: {reason.splitlines()[0]}") from None
