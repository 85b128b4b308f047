"""A disk that fills up, run in its own mount namespace on a small tmpfs (root only).

``python -m tests.store.disk_full_scenario FOLDER`` (under ``unshare -m``) mounts a
48 MiB tmpfs on FOLDER, builds a store, leaves less free space than a checkpoint of
the WAL may need, and reports as JSON what the checkpoints did; then frees the space
and reports again. Exit status 77: the mount was not possible (the test skips).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sidelog.events import now_ms
from sidelog.store.database import make_engines
from sidelog.store.wal import MIB, passive_checkpoint, wal_path
from tests.store.support import event, open_stack, write
from tests.support.wait import until


def fill(ballast: Path, leave: int) -> None:
    """Write ``ballast`` until only ``leave`` bytes stay free on its disk."""
    with open(ballast, "wb") as handle:
        chunk = b"\0" * MIB
        while shutil.disk_usage(ballast.parent).free - len(chunk) > leave:
            handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())


async def scenario(folder: Path) -> dict[str, Any]:
    db = folder / "events.db"
    report: dict[str, Any] = {}
    async with open_stack(db) as stack:
        await write(stack, [event("base", received_at=now_ms(), details="x" * 4000) for _ in range(2000)])
        await until(lambda: os.path.getsize(wal_path(db)) == 0, message="WAL truncated when idle")
        fill(folder / "ballast", leave=8 * MIB)
        # new pages: the WAL holds about 7 MiB the database file does not have yet
        await write(stack, [event("more", received_at=now_ms(), details="y" * 4000) for _ in range(1500)])
        report["free_mib"] = shutil.disk_usage(folder).free / MIB
        report["db_before"] = os.path.getsize(db)
        report["wal_before"] = os.path.getsize(wal_path(db))
        await until(lambda: stack.writer.wal.skipped is not None, message="an idle checkpoint was considered")
        _writer_engine, reader_engine = make_engines(db)
        try:
            background = await passive_checkpoint(db, reader_engine)
        finally:
            await reader_engine.dispose()
            await _writer_engine.dispose()
        report["skipped"] = stack.writer.wal.skipped
        report["background_skipped"] = background.skipped
        report["db_while_short"] = os.path.getsize(db)
        report["wal_while_short"] = os.path.getsize(wal_path(db))
        (folder / "ballast").unlink()  # the developer frees some space
        await until(lambda: os.path.getsize(wal_path(db)) == 0, timeout=20, message="WAL truncated after")
        report["checkpoints"] = stack.writer.wal.checkpoints
        origin = await write(stack, [event("after", received_at=now_ms())])
        report["stored_after"] = origin.stored
        report["write_failed"] = stack.counters.write_failed
    return report


def main() -> int:
    folder = Path(sys.argv[1])
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        print(json.dumps({"skip": mounted.stderr.decode(errors="replace").strip()}))
        return 77
    try:
        print(json.dumps(asyncio.run(scenario(folder))))
    finally:
        with contextlib.suppress(Exception):
            subprocess.run(["umount", "-l", str(folder)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
