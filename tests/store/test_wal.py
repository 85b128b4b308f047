"""The WAL stays bounded: checkpoints are writer turns that never wait for readers, an
idle writer truncates it, a reader holding a snapshot pins it without stalling ingest,
and it is released as soon as that reader lets go."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from asyncio.subprocess import PIPE
from pathlib import Path

from sidelog.events import now_ms
from sidelog.store.wal import MIB, WAL_CHECKPOINT_BYTES, WAL_LIMIT_BYTES, wal_path
from tests.store.support import event, open_stack, write
from tests.support.wait import until

HOLD_A_SNAPSHOT = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN")
conn.execute("SELECT count(*) FROM events").fetchone()
print("reading", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
conn.close()
"""


def wal_size(db: Path) -> int:
    try:
        return os.path.getsize(wal_path(db))
    except FileNotFoundError:
        return 0


async def test_the_wal_stays_bounded_while_writing(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    peak = 0
    async with open_stack(db) as stack:
        limit = (await stack.writer.conn.exec_driver_sql("PRAGMA journal_size_limit")).scalar()
        await stack.writer.conn.rollback()
        for round_ in range(24):  # about 50 MiB of events
            await write(
                stack, [event(f"r{round_}", received_at=now_ms(), details="x" * 4000) for _ in range(500)]
            )
            peak = max(peak, wal_size(db))
        assert stack.writer.wal.checkpoints >= 1
    assert limit == WAL_LIMIT_BYTES
    assert peak <= WAL_CHECKPOINT_BYTES + 8 * MIB


async def test_an_idle_writer_truncates_the_wal(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with open_stack(db) as stack:
        await write(stack, [event("one", received_at=now_ms())])
        assert wal_size(db) > 0
        await until(lambda: wal_size(db) == 0, message="WAL truncated after an idle second")


async def test_a_long_reader_pins_the_wal_without_stalling_writes(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with open_stack(db) as stack:
        await write(stack, [event("first", received_at=now_ms())])
        reader = await asyncio.create_subprocess_exec(
            sys.executable, "-c", HOLD_A_SNAPSHOT, str(db), stdin=PIPE, stdout=PIPE
        )
        try:
            assert reader.stdout is not None
            assert reader.stdin is not None
            assert await reader.stdout.readline() == b"reading\n"
            slowest = 0.0
            for round_ in range(12):  # past the checkpoint threshold: checkpoints are tried
                started = time.perf_counter()
                await write(
                    stack, [event(f"r{round_}", received_at=now_ms(), details="x" * 4000) for _ in range(500)]
                )
                slowest = max(slowest, time.perf_counter() - started)
            await until(lambda: stack.writer.wal.pinned, message="checkpoint found the WAL pinned")
            assert wal_size(db) > WAL_CHECKPOINT_BYTES  # the reader still needs those frames
            assert slowest < 1.0  # no checkpoint waited out the busy timeout (5 s)
            reader.stdin.write(b"done\n")
            await reader.stdin.drain()
            assert await reader.wait() == 0
        finally:
            if reader.returncode is None:
                reader.kill()
                await reader.wait()
        await until(
            lambda: wal_size(db) == 0 and not stack.writer.wal.pinned,
            message="WAL truncated once the reader let go",
        )
