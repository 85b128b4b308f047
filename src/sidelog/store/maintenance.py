"""Maintenance of a store: offline ``vacuum`` and ``recover``, and the jobs a running server runs.

``vacuum`` and ``recover`` need a store no server is using: they take the database
lock first (a running ``sidelog serve`` makes them refuse), build the new file beside
the old one (0600) and swap it in with a rename, so an interruption leaves the
original untouched.

``ClearJob`` (delete everything stored) and ``ReleaseJob`` (give free pages back) run
inside a server, as short turns of its single writer between ingest batches
(``Engine.run_job``, the UI's command palette), the way retention does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sidelog.store.checks import SQLITE_MAGIC, check_database, read_only_uri
from sidelog.store.errors import StoreError
from sidelog.store.files import DatabaseLock, create_private, side_files
from sidelog.store.migrations import initialise
from sidelog.store.retention import STEP_TARGET_S, JobWriter, incremental_vacuum
from sidelog.store.wal import file_size

_COPY_ROWS = 5000
_TABLES = ("events", "events_archive", "error_groups")
_MIN_ROWID = -(2**63)
_MAX_ROWID = 2**63 - 1
_FIRST_CLEAR_ROWS, _MIN_CLEAR_ROWS, _MAX_CLEAR_ROWS = 500, 50, 20_000
_FIRST_RELEASE_PAGES = 128


@contextlib.contextmanager
def _locked(db_path: Path) -> Iterator[Path]:
    lock = DatabaseLock.for_database(db_path)
    lock.acquire()
    try:
        yield db_path.resolve()
    finally:
        lock.release()


def _scratch(path: Path, tag: str) -> Path:
    scratch = path.with_name(f"{path.name}.{tag}-{os.getpid()}")
    for stale in (scratch, *side_files(scratch)):
        stale.unlink(missing_ok=True)
    create_private(scratch)
    return scratch


def _replace(scratch: Path, path: Path) -> None:
    """Make ``scratch`` the database: durable first, then one atomic rename."""
    fd = os.open(scratch, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(scratch, path)


@dataclass(frozen=True, slots=True)
class VacuumResult:
    """What ``vacuum`` did to the file."""

    bytes_before: int
    """Database plus WAL before."""
    bytes_after: int


def vacuum(db_path: Path) -> VacuumResult:
    """Rebuild the store compactly (``sidelog vacuum``): free pages go back to the disk and
    the file switches to incremental auto-vacuum, so retention can shrink it from then on.

    Refuses (``StoreError``) a file in use, damaged, newer, read-only, or a disk without
    room for the copy. The copy is made with ``VACUUM INTO`` and renamed over the original.
    """
    with _locked(db_path) as path:
        before = file_size(path) + file_size(side_files(path)[0])
        check = check_database(path, sync_limit=_MAX_ROWID)
        if check.new:
            return VacuumResult(before, before)
        scratch = _scratch(path, "vacuum")
        try:
            _vacuum_into(path, scratch)
            # The old file's connection is closed and its WAL folded in: nothing of
            # it survives beside the new file.
            for side in side_files(path):
                side.unlink(missing_ok=True)
            _replace(scratch, path)
        except BaseException:
            for leftover in (scratch, *side_files(scratch)):
                leftover.unlink(missing_ok=True)
            raise
        return VacuumResult(before, file_size(path))


def _vacuum_into(path: Path, scratch: Path) -> None:
    """Write a compact copy of ``path`` (incremental auto-vacuum) into the empty ``scratch``."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        pages, free, size = (
            conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("page_count", "freelist_count", "page_size")
        )
        needed = (pages - free) * size
        room = shutil.disk_usage(path.parent).free
        if needed > room:
            raise StoreError(
                f"not enough disk space to vacuum {path}: the copy needs {needed // 2**20} MiB, "
                f"{room // 2**20} MiB free"
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # VACUUM INTO gives the copy this setting
        conn.execute("VACUUM INTO ?", (str(scratch),))
    except sqlite3.Error as exc:
        raise StoreError(f"cannot vacuum {path}: {exc}") from None
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class RecoverResult:
    """What ``recover`` saved."""

    damaged: Path
    """Where the damaged file was moved (its ``-wal``/``-shm`` beside it)."""
    rows: dict[str, int] = field(default_factory=dict)
    """Rows copied, per table."""
    skipped_ranges: int = 0
    """Unreadable stretches skipped (each a damaged page or subtree)."""


def recover(db_path: Path) -> RecoverResult:
    """Copy what can be read from a damaged store into a new file (``sidelog recover``).

    The new file gets the current schema and every row that reads back; unreadable
    stretches of each table are skipped (their bounds are found by probing rowids, so
    one bad page costs about its own rows). The damaged file is kept as
    ``<name>.damaged-<time>`` (with its ``-wal``/``-shm``), byte for byte. A file
    that is not SQLite at all is refused: there is nothing to copy and it may not be ours.
    """
    with _locked(db_path) as path:
        with open(path, "rb") as handle:
            if not handle.read(len(SQLITE_MAGIC)).startswith(SQLITE_MAGIC):
                raise StoreError(f"{path} is not a SQLite database: nothing to recover")
        scratch = _scratch(path, "recovering")
        try:
            initialise(scratch)
            rows, skipped = _salvage(path, scratch)
        except BaseException:
            for leftover in (scratch, *side_files(scratch)):
                leftover.unlink(missing_ok=True)
            raise
        stamp = time.strftime("%Y%m%dT%H%M%S")
        damaged = path.with_name(f"{path.name}.damaged-{stamp}")
        suffix = 1
        while damaged.exists():
            damaged = path.with_name(f"{path.name}.damaged-{stamp}-{suffix}")
            suffix += 1
        os.rename(path, damaged)
        for side, moved in zip(side_files(path), side_files(damaged), strict=True):
            if side.exists():
                os.rename(side, moved)
        _replace(scratch, path)
        return RecoverResult(damaged, rows, skipped)


def _salvage(source: Path, target: Path) -> tuple[dict[str, int], int]:
    # URI mode on the main connection lets ATTACH take the read-only URI.
    conn = sqlite3.connect(target.as_uri(), uri=True, isolation_level=None)
    copied: dict[str, int] = {}
    skipped = 0
    try:
        conn.execute("PRAGMA synchronous = OFF")  # the finished file is fsynced before the swap
        conn.execute("ATTACH DATABASE ? AS damaged", (read_only_uri(source),))
        for table in _TABLES:
            columns = _shared_columns(conn, table)
            if columns is None:
                continue
            count, gaps = _copy_table(conn, table, columns)
            copied[table] = count
            skipped += gaps
        conn.execute("DETACH DATABASE damaged")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return copied, skipped


def _shared_columns(conn: sqlite3.Connection, table: str) -> str | None:
    try:
        theirs = [row[1] for row in conn.execute(f"PRAGMA damaged.table_info({table})")]
    except sqlite3.DatabaseError:
        return None
    ours = {row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")}
    shared = [name for name in theirs if name in ours]
    return ", ".join(shared) if shared else None


def _readable_after(conn: sqlite3.Connection, table: str, rowid: int) -> bool:
    try:
        conn.execute(f"SELECT rowid FROM damaged.{table} WHERE rowid > ? ORDER BY rowid LIMIT 1", (rowid,))
        return True
    except sqlite3.DatabaseError:
        return False


def _skip_damage(conn: sqlite3.Connection, table: str, cursor: int) -> int:
    """The smallest rowid past ``cursor`` from which the table reads again.

    A seek into a damaged page fails and one past it succeeds, so the boundary is
    found by doubling, then halving.
    """
    step = 1
    while cursor + step < _MAX_ROWID and not _readable_after(conn, table, cursor + step):
        step *= 2
    low, high = cursor + step // 2, min(cursor + step, _MAX_ROWID)
    while high - low > 1:
        middle = (low + high) // 2
        if _readable_after(conn, table, middle):
            high = middle
        else:
            low = middle
    return high


def _copy_table(conn: sqlite3.Connection, table: str, columns: str) -> tuple[int, int]:
    """Copy ``table`` in rowid order, in chunks that shrink near damage and grow past it."""
    copied = gaps = 0
    cursor, chunk = _MIN_ROWID, _COPY_ROWS
    insert = (
        f"INSERT OR IGNORE INTO main.{table} (rowid, {columns}) SELECT rowid, {columns} "
        f"FROM damaged.{table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    while cursor < _MAX_ROWID:
        try:
            before = conn.total_changes
            conn.execute(insert, (cursor, chunk))  # one statement: all of it or none
            added = conn.total_changes - before
        except sqlite3.DatabaseError:
            if chunk > 1:
                chunk = max(1, chunk // 8)
                continue
            cursor = _skip_damage(conn, table, cursor)
            gaps += 1
            continue
        top = conn.execute(f"SELECT max(rowid) FROM main.{table}").fetchone()[0]
        if added == 0 or top is None or top <= cursor:
            break
        copied += added
        cursor = top
        chunk = min(_COPY_ROWS, chunk * 2)
    return copied, gaps


# ------------------------------------------------------- while the server runs


class ClearJob:
    """Delete every stored event and error group, as short writer turns (``Batcher.run_job``).

    Only what was stored when the job began goes: events arriving during the clear are
    kept, and so is the group of any error among them. Each step is one transaction
    sized towards ``STEP_TARGET_S``, like retention, so ingest never waits long. The
    archive of expired errors (``events_archive``) is kept.
    """

    def __init__(self, writer: JobWriter) -> None:
        self._writer = writer
        self._top: int | None = None
        self._rows = _FIRST_CLEAR_ROWS
        self.deleted = 0
        """Events deleted so far."""
        self.groups = 0
        """Error groups deleted."""

    async def step(self) -> bool:
        """One transaction; True while work remains."""
        await self._writer.writable()
        conn = self._writer.conn
        started = time.perf_counter()
        async with conn.begin():
            if self._top is None:
                top = (await conn.exec_driver_sql("SELECT max(id) FROM events")).scalar()
                self._top = int(top or 0)
            result = await conn.exec_driver_sql(
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id <= ? ORDER BY id LIMIT ?)",
                (self._top, self._rows),
            )
            deleted = max(result.rowcount, 0)
            self.deleted += deleted
            if deleted < self._rows:  # the last stretch: the groups go in the same turn
                groups = await conn.exec_driver_sql(
                    "DELETE FROM error_groups WHERE last_event_id IS NULL OR last_event_id <= ?", (self._top,)
                )
                self.groups = max(groups.rowcount, 0)
                return False
        ratio = STEP_TARGET_S / max(time.perf_counter() - started, 1e-4)
        self._rows = int(min(_MAX_CLEAR_ROWS, max(_MIN_CLEAR_ROWS, self._rows * min(2.0, max(0.5, ratio)))))
        return True


class ReleaseJob:
    """Give the file's free pages back to the disk while the server runs (the live ``vacuum``).

    Works on files with ``auto_vacuum=INCREMENTAL`` (every file sidelog creates, and
    every file ``sidelog vacuum`` has rebuilt): ``PRAGMA incremental_vacuum`` a few
    hundred pages per writer turn, then a TRUNCATE checkpoint so the WAL shrinks too.
    Retention keeps a reserve of free pages for new events; this keeps none. An older
    file cannot be converted without a full rewrite, which would stop ingest for as
    long as it takes: the first step refuses it with ``StoreError`` pointing at the
    offline ``sidelog vacuum``.
    """

    def __init__(self, writer: JobWriter, path: Path) -> None:
        self._writer = writer
        self._path = path
        self._pages = _FIRST_RELEASE_PAGES
        self._checked = False
        self.bytes_before = file_size(path) + file_size(side_files(path)[0])
        """Database plus WAL when the job was made."""
        self.released_pages = 0

    @property
    def bytes_after(self) -> int:
        """Database plus WAL now."""
        return file_size(self._path) + file_size(side_files(self._path)[0])

    async def step(self) -> bool:
        """One writer turn; True while work remains."""
        writer = self._writer
        await writer.writable()
        driver = await writer.driver()
        if not self._checked:
            mode = (await (await driver.execute("PRAGMA auto_vacuum")).fetchone())[0]
            if mode != 2:  # 2 = INCREMENTAL
                raise StoreError(
                    f"{self._path} cannot give space back while sidelog runs (it predates incremental "
                    "vacuum): stop sidelog and run `sidelog vacuum` once"
                )
            self._checked = True
        free = (await (await driver.execute("PRAGMA freelist_count")).fetchone())[0]
        if free > 0:
            count = min(int(free), self._pages)
            started = time.perf_counter()
            await incremental_vacuum(driver, count)
            self.released_pages += count
            ratio = STEP_TARGET_S / max(time.perf_counter() - started, 1e-4)
            self._pages = int(min(8192, max(16, self._pages * min(2.0, max(0.5, ratio)))))
            if free > count:
                return True
        await writer.checkpoint("TRUNCATE")  # readers may hold it back: then the WAL shrinks later
        return False
