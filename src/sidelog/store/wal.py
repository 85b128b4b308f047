"""Keeping the write-ahead log small: when to checkpoint, and when not to.

SQLite only rewinds the WAL once a checkpoint has copied every frame back into the
database and no reader still needs them; under a steady stream of writes a PASSIVE
checkpoint never catches the tail, so the WAL grows without bound. Three pieces keep
it bounded:

- ``keep_wal_short``, a background task, copies frames back with PASSIVE
  checkpoints on a reader connection (overlapping with ingest, never blocking it);
- ``WalKeeper``, driven by the writer task between batches, runs a TRUNCATE
  checkpoint once the WAL passes ``WAL_CHECKPOINT_BYTES`` and whenever the writer
  has been idle for ``IDLE_CHECKPOINT_S``: with most frames already copied back it
  is a short writer turn, and it is what rewinds the WAL under steady writes;
- ``journal_size_limit`` (``WAL_LIMIT_BYTES``, store/database.py) trims the file
  whenever SQLite rewinds it on its own.

No checkpoint waits long for readers (the busy timeout is ``CHECKPOINT_WAIT_MS`` for
it): a short read (the UI's queries) is waited out, while a reader that holds a
snapshot for long (a ``sqlite3`` shell inside ``BEGIN``) pins the WAL; the keeper
then retries with a growing delay (up to a second) and logs once, rather than
stalling ingest. No checkpoint starts unless the disk has room for what it may add
to the database file: after a disk-full, a checkpoint that fails half-way only grows
the file further.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sidelog.store.async_core import AsyncEngine
from sidelog.store.inflight import InFlight

MIB = 1024 * 1024
WAL_LIMIT_BYTES = 32 * MIB
"""``journal_size_limit``; also the most of the WAL the size budget counts (see store/retention.py)."""
WAL_CHECKPOINT_BYTES = 16 * MIB
"""The writer runs a TRUNCATE checkpoint between batches once the WAL passes this."""
WAL_PRECOPY_BYTES = 4 * MIB
"""The background task copies frames back once the WAL passes this."""
IDLE_CHECKPOINT_S = 1.0
"""After this long with nothing to write, the writer truncates the WAL."""
PINNED_WARNING_S = 30.0
"""A WAL pinned by a reader this long is logged (once per episode)."""
CHECKPOINT_WAIT_MS = 20
"""How long a writer-turn checkpoint waits for readers to finish before giving up."""
_PINNED_RETRY_S = (0.05, 0.1, 0.2, 0.5, 1.0)
_PRECOPY_POLL_S = 0.1
_BACKOFF_S = (1.0, 2.0, 5.0, 15.0, 60.0)
_NO_ROOM_RETRY_S = 2.0
_ROOM_MARGIN_BYTES = 1 * MIB


def wal_path(db_path: Path) -> Path:
    """The write-ahead log beside the database file."""
    return db_path.with_name(db_path.name + "-wal")


def file_size(path: os.PathLike[str] | str) -> int:
    """Size in bytes, 0 for a missing file (the WAL comes and goes)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def room_for_checkpoint(db_path: Path, page_count: int, page_size: int) -> str | None:
    """Why a checkpoint must not start now (no room on the disk), or ``None`` if it may.

    A checkpoint writes the committed database size back into the file: it grows
    the file by up to ``page_count * page_size`` minus its current size.
    """
    growth = page_count * page_size - file_size(db_path)
    if growth <= 0:
        return None
    try:
        free = shutil.disk_usage(db_path.parent).free
    except OSError:
        return None
    if growth + _ROOM_MARGIN_BYTES <= free:
        return None
    need = (growth + _ROOM_MARGIN_BYTES) // MIB
    return f"the disk has {free // MIB} MiB free and the checkpoint may need {need} MiB"


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    """``PRAGMA wal_checkpoint``'s answer."""

    busy: bool
    """It could not finish: a reader pins the WAL, or another checkpoint or writer was running."""
    log_frames: int
    """Frames in the WAL (-1 if the checkpoint could not start)."""
    checkpointed: int
    """Frames copied back into the database."""
    skipped: str | None = None
    """Why it was not attempted (no room on the disk)."""

    @property
    def contended(self) -> bool:
        """Another checkpoint held the lock: worth retrying at the next turn."""
        return self.busy and self.log_frames < 0


class WalKeeper:
    """The writer task's checkpoint policy: when to spend a turn on a checkpoint.

    ``checkpoint`` is the writer's own (``StoreWriter.checkpoint``), so it runs
    between batches and never races a write.
    """

    def __init__(
        self,
        db_path: Path,
        checkpoint: Callable[[], Awaitable[CheckpointResult]],
        log: logging.Logger,
    ) -> None:
        self._wal = wal_path(db_path)
        self._checkpoint = checkpoint
        self._log = log
        self._retry_at = 0.0
        self._failures = 0
        self._pinned_since: float | None = None
        self._pinned_tries = 0
        self._warned = False
        self.checkpoints = 0
        """TRUNCATE checkpoints that completed (for tests and benchmarks)."""
        self.skipped: str | None = None
        """Why the last checkpoint was not started (no room on the disk, a damaged file), until one runs."""

    @property
    def pinned(self) -> bool:
        """The last checkpoint could not reset the WAL: a reader still needs its frames."""
        return self._pinned_since is not None

    def wal_bytes(self) -> int:
        """The WAL's current size on disk."""
        return file_size(self._wal)

    def idle_timeout(self) -> float | None:
        """How long the writer may sleep before an idle checkpoint is due (None: nothing to do)."""
        if self.wal_bytes() == 0:
            return None
        return max(IDLE_CHECKPOINT_S, self._retry_at - time.monotonic())

    async def after_turn(self) -> None:
        """After a batch or a job step: checkpoint if the WAL has grown past its threshold."""
        if self.wal_bytes() > WAL_CHECKPOINT_BYTES and time.monotonic() >= self._retry_at:
            await self._run()

    async def when_idle(self) -> None:
        """The writer has been idle: truncate the WAL if anything is in it."""
        if self.wal_bytes() > 0 and time.monotonic() >= self._retry_at:
            await self._run()

    async def _run(self) -> None:
        now = time.monotonic()
        try:
            result = await self._checkpoint()
        except Exception as exc:  # disk full, I/O error: back off, never loop on it
            delay = _BACKOFF_S[min(self._failures, len(_BACKOFF_S) - 1)]
            self._failures += 1
            self._retry_at = now + delay
            self._log.warning("checkpoint failed (retrying in %.0f s): %s", delay, exc)
            return
        self._failures = 0
        if result.skipped is not None:
            self.skipped = result.skipped
            self._retry_at = now + _NO_ROOM_RETRY_S
            if not self._warned:
                self._warned = True
                self._log.warning("not checkpointing the WAL: %s", result.skipped)
            return
        if result.contended:
            self._retry_at = now + 0.02
            return
        if result.busy:
            # Most readers are short: try again soon, then less and less often.
            self._retry_at = now + _PINNED_RETRY_S[min(self._pinned_tries, len(_PINNED_RETRY_S) - 1)]
            self._pinned_tries += 1
            if self._pinned_since is None:
                self._pinned_since = now
            elif not self._warned and now - self._pinned_since >= PINNED_WARNING_S:
                self._warned = True
                self._log.warning(
                    "the WAL (%d MiB) cannot be reset: a reader has held a read transaction for %.0f s "
                    "(a sqlite3 or Datasette session?)",
                    self.wal_bytes() // MIB,
                    now - self._pinned_since,
                )
            return
        self.checkpoints += 1
        self.skipped = None
        self._pinned_since = None
        self._pinned_tries = 0
        self._warned = False
        self._retry_at = 0.0


async def passive_checkpoint(db_path: Path, reader: AsyncEngine) -> CheckpointResult:
    """Copy committed frames back on a reader connection, if the disk has room.

    PASSIVE never waits for the writer or readers, so it overlaps with ingest. It
    runs on the driver directly: SQLAlchemy would open a transaction first, and
    SQLite refuses a checkpoint inside one.
    """
    async with reader.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        page_size = (await (await driver.execute("PRAGMA page_size")).fetchone())[0]
        page_count = (await (await driver.execute("PRAGMA page_count")).fetchone())[0]
        reason = room_for_checkpoint(db_path, int(page_count), int(page_size))
        if reason is not None:
            return CheckpointResult(True, -1, -1, skipped=reason)
        row = await (await driver.execute("PRAGMA wal_checkpoint(PASSIVE)")).fetchone()
    return CheckpointResult(bool(row[0]), int(row[1]), int(row[2]))


async def keep_wal_short(db_path: Path, reader: AsyncEngine, log: logging.Logger, inflight: InFlight) -> None:
    """Run forever: copy new WAL frames back once the WAL passes ``WAL_PRECOPY_BYTES``.

    A failure (disk full, I/O) is logged on ``log`` and retried after a growing
    delay; a checkpoint that would not fit on the disk is not started.
    """
    wal = wal_path(db_path)
    seen: tuple[int, int] | None = None
    failures = 0
    while True:
        await asyncio.sleep(_PRECOPY_POLL_S)
        try:
            info = os.stat(wal)
        except OSError:
            continue
        stamp = (info.st_size, info.st_mtime_ns)
        if info.st_size <= WAL_PRECOPY_BYTES or stamp == seen:
            continue
        try:
            result = await inflight.run(passive_checkpoint(db_path, reader))
        except Exception as exc:  # a failed checkpoint loses nothing; it is retried later
            delay = _BACKOFF_S[min(failures, len(_BACKOFF_S) - 1)]
            failures += 1
            log.warning("background checkpoint failed (retrying in %.0f s): %s", delay, exc)
            await asyncio.sleep(delay)
            continue
        failures = 0
        seen = stamp
        if result.skipped is not None:
            await asyncio.sleep(_NO_ROOM_RETRY_S)
