"""The store's files on disk: created private (0600), and locked to one sidelog server.

Events carry user ids, messages and URLs, so the database is readable by its owner
only. SQLite gives the ``-wal`` and ``-shm`` files the database file's own mode, so
creating the database file 0600 before SQLite first opens it covers all three.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sidelog.store.errors import StoreError

PRIVATE_MODE = 0o600
"""Owner read/write only: the database, its ``-wal``/``-shm`` and the lock file."""

SIDE_SUFFIXES = ("-wal", "-shm")
"""The files SQLite keeps beside a WAL-mode database (same name plus the suffix)."""


def create_private(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless something is already there; True if created.

    A zero-byte file is a valid empty SQLite database, so this is how a new store
    begins: SQLite then initialises it and gives its side files the same mode.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def side_files(db_path: Path) -> list[Path]:
    """The database's ``-wal`` and ``-shm`` paths (existing or not)."""
    return [db_path.with_name(db_path.name + suffix) for suffix in SIDE_SUFFIXES]


def tighten_mode(db_path: Path) -> None:
    """Drop group/other permissions from an existing store's files we own.

    Stores made by earlier sidelog versions were created 0644; this only removes
    access, never adds it, and leaves files owned by someone else alone.
    """
    for path in (db_path, *side_files(db_path)):
        with contextlib.suppress(OSError):
            info = os.stat(path)
            if info.st_uid == os.geteuid() and info.st_mode & 0o077:
                os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)


def _open_private(path: Path) -> IO[str]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
    return os.fdopen(fd, "r+")


def _identity_folder() -> Path | None:
    """A per-user folder for locks keyed by device and inode, or None if unsafe.

    ``$XDG_RUNTIME_DIR`` when set, else the temp folder; it must be a real folder
    owned by this user and closed to others (no one else can plant a lock file).
    """
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    folder = base / f"sidelog-{os.geteuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        return None
    return folder


def lock_file(db_path: Path) -> Path:
    """The lock file a server holds for ``db_path``: beside the file it resolves to."""
    real = db_path.resolve()
    return real.with_name(real.name + ".lock")


@dataclass
class DatabaseLock:
    """An advisory lock beside the database: one sidelog server per file.

    ``path`` is ``<database>.lock`` as the caller names it; the lock actually taken
    is keyed by the file itself, twice: beside the *resolved* database path (so a
    symlink or a ``..`` path to the same file meets the same lock) and by device and
    inode in a per-user folder (so a hard link or a case-insensitive spelling does too).
    """

    path: Path
    handles: list[IO[str]] = field(default_factory=list)

    @classmethod
    def for_database(cls, db_path: Path) -> DatabaseLock:
        """The lock of the database at ``db_path``."""
        return cls(db_path.with_name(db_path.name + ".lock"))

    @property
    def database(self) -> Path:
        """The database this lock guards (the lock path without ``.lock``)."""
        return self.path.with_name(self.path.name.removesuffix(".lock"))

    @property
    def handle(self) -> IO[str] | None:
        """The open lock file while held (``None`` when released)."""
        return self.handles[0] if self.handles else None

    def acquire(self) -> None:
        """Take the lock or raise ``StoreError`` naming the process that holds it."""
        real = self.database.resolve()
        paths = [lock_file(real)]
        folder = _identity_folder()
        if folder is not None:
            with contextlib.suppress(OSError):
                info = os.stat(real)
                paths.append(folder / f"{info.st_dev}-{info.st_ino}.lock")
        try:
            for path in paths:
                self._take(path, real)
        except BaseException:
            self.release()
            raise

    def _take(self, path: Path, real: Path) -> None:
        try:
            handle = _open_private(path)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise StoreError(f"the database {real} is in use by another sidelog ({owner})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self.handles.append(handle)

    def release(self) -> None:
        """Release the lock (the files stay; their content is informational)."""
        for handle in reversed(self.handles):
            with contextlib.suppress(OSError):
                fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        self.handles.clear()
