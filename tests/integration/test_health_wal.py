"""Health says when the WAL cannot be kept short: a reader holding a snapshot pins it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sidelog.config import Settings
from sidelog.server import start_server
from tests.conftest import send_lines, tcp_port
from tests.support.wait import until


async def test_a_long_reader_shows_as_a_pinned_wal_then_clears(
    make_settings: Callable[..., Settings],
) -> None:
    running = await start_server(make_settings(enable_system_logging=False))
    engine = running.engine
    reader = sqlite3.connect(engine.settings.db, isolation_level=None)
    try:
        payload = b"".join(b'{"message": "row %d"}\n' % n for n in range(200))
        assert (await send_lines(tcp_port(engine), payload))[-1] == {"ok": True, "stored": 200}
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM events").fetchone() == (200,)  # holds its snapshot

        async def pinned() -> bool:
            return (await engine.health()).wal_pinned

        await until(pinned, message="the idle checkpoint finds the WAL pinned")
        health = await engine.health()
        assert health.wal_bytes > 0
        assert health.to_wire()["wal"]["note"].endswith("pinned by a long reader")
        reader.execute("COMMIT")

        async def released() -> bool:
            health = await engine.health()
            return not health.wal_pinned and health.wal_note() is None

        await until(released, message="the next checkpoint resets the WAL")
    finally:
        reader.close()
        await running.stop()
