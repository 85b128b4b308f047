"""Start-up checks: refuse, in one line and without touching it, a file sidelog cannot use.

Every check here only reads. A file that is not a SQLite database, is truncated or
damaged, was made by a newer sidelog, or cannot be written (the file, its ``-wal``/
``-shm`` or its folder) raises ``StoreError`` before any connection that could
modify it is opened: the file stays byte-identical.

Integrity is ``PRAGMA quick_check``. It reads the whole file (about a second per
few hundred MiB), so files up to ``QUICK_CHECK_SYNC_BYTES`` are checked before
start-up completes and larger ones in the background right after, with every write
held until the check passes (``BackgroundCheck``; the ``StoreWriter`` waits on it).
A file that needs a schema upgrade is always checked first, since upgrading writes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from sidelog.store.errors import StoreError
from sidelog.store.files import side_files
from sidelog.store.migrations import LEGACY_VERSION, SCHEMA_VERSION
from sidelog.store.schema import COLUMNS_ADDED, EVENT_COLUMN_NAMES

QUICK_CHECK_SYNC_BYTES = 64 * 1024 * 1024
"""Files up to this size are quick-checked before start-up completes (well under a second)."""

SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100
_SIDELOG_TABLES = frozenset({"events", "events_archive", "error_groups"})


@dataclass(frozen=True, slots=True)
class StoreCheck:
    """What the start-up checks found (the file passed them)."""

    path: Path
    """The database file, symlinks resolved."""
    version: int
    """Its schema version: 0 for an empty file, ``LEGACY_VERSION`` for an unversioned sidelog file."""
    integrity_deferred: bool
    """``quick_check`` has not run yet (a large file): run ``BackgroundCheck`` before writing."""

    @property
    def new(self) -> bool:
        """The file holds no tables yet: sidelog creates its schema."""
        return self.version == 0


def check_database(db_path: Path, *, sync_limit: int = QUICK_CHECK_SYNC_BYTES) -> StoreCheck:
    """Check ``db_path`` (which must exist) and return what was found, or raise ``StoreError``.

    A zero-byte file is a valid empty database (what ``touch`` or a crash before the
    first write leaves) and is accepted as new.
    """
    path = db_path.resolve()
    size = _check_access(path)
    if size == 0:
        return StoreCheck(path, 0, integrity_deferred=False)
    _check_header(path, size)
    try:
        with contextlib.closing(open_read_only(path)) as conn:
            version = _schema_version(path, conn)
            check_now = size <= sync_limit or (0 < version < SCHEMA_VERSION)
            if check_now and version:
                quick_check(path, conn)
    except sqlite3.DatabaseError as exc:
        raise damaged(path, exc) from None
    return StoreCheck(path, version, integrity_deferred=not check_now and version > 0)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change the file or leave files behind.

    Without a ``-wal`` the file alone is the database, so ``immutable`` reads it
    with no ``-shm``/``-wal`` created; with one, a plain read-only connection sees
    the committed frames in it too.
    """
    return sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)


def read_only_uri(path: Path) -> str:
    """The URI ``open_read_only`` connects to (also usable with ``ATTACH``)."""
    uri = path.as_uri() + "?mode=ro"
    if not side_files(path)[0].exists():
        uri += "&immutable=1"
    return uri


def quick_check(path: Path, conn: sqlite3.Connection) -> None:
    """Raise ``StoreError`` unless ``PRAGMA quick_check`` finds the file sound."""
    try:
        rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    except sqlite3.DatabaseError as exc:
        raise damaged(path, exc) from None
    if rows != [("ok",)]:
        raise damaged(path, rows[0][0] if rows else "quick_check returned nothing")


def damaged(path: Path, reason: object) -> StoreError:
    """The one-line error for a file that fails an integrity check."""
    line = " ".join(str(reason).split())[:200]
    return StoreError(f"the database {path} is damaged ({line})")


def _check_access(path: Path) -> int:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise StoreError(f"cannot open the database {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"cannot open the database {path}: it is not a regular file")
    if not os.access(path, os.R_OK):
        raise StoreError(f"cannot read the database {path}: permission denied")
    # The permission bits count even where access() would not (root): a file someone
    # marked read-only would otherwise open and then fail every write.
    if not os.access(path, os.W_OK) or not info.st_mode & 0o222:
        raise StoreError(
            f"the database {path} is read-only: make it writable (chmod u+w) or use another --db"
        )
    folder = path.parent
    folder_mode = os.stat(folder).st_mode
    if not os.access(folder, os.W_OK | os.X_OK) or not folder_mode & 0o222:
        raise StoreError(
            f"cannot write to the database folder {folder}: permission denied "
            "(SQLite keeps its -wal and -shm files there)"
        )
    for side in side_files(path):
        if side.exists() and (not os.access(side, os.W_OK) or not os.stat(side).st_mode & 0o222):
            raise StoreError(f"the file {side} beside the database is read-only: make it writable")
    return info.st_size


def _check_header(path: Path, size: int) -> None:
    """Refuse what the 100-byte header already shows: not SQLite, truncated, too new."""
    with open(path, "rb") as handle:
        header = handle.read(_HEADER_BYTES)
    if len(header) < _HEADER_BYTES or not header.startswith(SQLITE_MAGIC):
        raise StoreError(
            f"the database {path} is not a SQLite database (its first bytes are not a SQLite header); "
            "move it aside or use another --db"
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise damaged(path, f"its header gives an impossible page size, {page_size}")
    if size % page_size:
        raise damaged(path, f"truncated: {size} bytes is not a whole number of {page_size}-byte pages")
    # The page count is trustworthy only when the change counter matches its stamp.
    if header[24:28] == header[92:96]:
        pages = int.from_bytes(header[28:32], "big")
        if size < pages * page_size:
            raise damaged(path, f"truncated: {size} bytes, its header says {pages * page_size}")
    _refuse_newer(path, int.from_bytes(header[60:64], "big", signed=True))


def _refuse_newer(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the database {path} was made by a newer sidelog (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade sidelog or use another --db"
        )


def _schema_version(path: Path, conn: sqlite3.Connection) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    _refuse_newer(path, version)  # the WAL may hold a newer header than the file
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0:
        if not tables:
            return 0
        if not tables >= _SIDELOG_TABLES:
            names = ", ".join(sorted(tables)[:5])
            raise StoreError(
                f"the database {path} is a SQLite database but not a sidelog store (tables: {names}); "
                "use another --db"
            )
        version = LEGACY_VERSION
    elif not tables >= _SIDELOG_TABLES:
        raise damaged(path, f"sidelog tables are missing: {', '.join(sorted(_SIDELOG_TABLES - tables))}")
    _check_columns(path, conn, version)
    return version


def _check_columns(path: Path, conn: sqlite3.Connection, version: int) -> None:
    """Every column the writer inserts exists (unless a later migration adds it), and no
    unknown column demands a value."""
    columns = {row[1]: row for row in conn.execute("PRAGMA table_info(events)")}
    missing = [
        name for name in EVENT_COLUMN_NAMES if name not in columns and COLUMNS_ADDED.get(name, 0) <= version
    ]
    if missing:
        raise damaged(path, f"table events lacks column {missing[0]}")
    for name, (_cid, _name, _type, notnull, default, _pk) in columns.items():
        if name not in EVENT_COLUMN_NAMES and notnull and default is None:
            raise StoreError(
                f"the database {path} has a column this sidelog does not know (events.{name}); "
                "it was probably made by a newer sidelog"
            )


BACKGROUND_NICENESS = 5
"""How much lower the background check's CPU priority is than the rest of sidelog's."""


def lower_priority(by: int = BACKGROUND_NICENESS) -> None:
    """Lower the calling thread's CPU priority by ``by`` (Linux, where each thread has its
    own; elsewhere, or when refused, nothing changes)."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError):
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + by)


class BackgroundCheck:
    """``quick_check`` of a large file on its own thread, right after start-up.

    The writer awaits ``wait()`` before its first write, so events queue (and
    backpressure applies) until the file is known sound; a damaged file then fails
    every write with the check's one line instead of being modified.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._cancelled = False

    def run(self) -> None:
        """Run the check (blocking; call it on a worker thread). Raises ``StoreError``.

        The check reads the whole file, a core's worth of work for seconds, so it runs on
        a thread of its own at a lower CPU priority (``lower_priority``): on a busy machine
        the UI's first paint and the endpoints come first. Not on the calling thread: an
        unprivileged thread cannot raise its priority again, and the caller is shared.
        """
        failures: list[BaseException] = []

        def check() -> None:
            lower_priority()
            try:
                self._run()
            except BaseException as exc:  # raised again on the calling thread
                failures.append(exc)

        thread = threading.Thread(target=check, name="sidelog-quick-check")
        thread.start()
        thread.join()
        if failures:
            raise failures[0]

    def _run(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            try:
                self._conn = open_read_only(self.path)
            except sqlite3.DatabaseError as exc:
                raise damaged(self.path, exc) from None
        try:
            quick_check(self.path, self._conn)
        except StoreError:
            if not self._cancelled:
                raise
        finally:
            with self._lock:
                self._conn.close()
                self._conn = None

    def cancel(self) -> None:
        """Stop a running check (at shutdown); it then ends without raising."""
        with self._lock:
            self._cancelled = True
            if self._conn is not None:
                self._conn.interrupt()
