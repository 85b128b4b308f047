"""A first end-to-end check: one event in over TCP, one row out of SQLite."""

from __future__ import annotations

import sqlite3

from sidelog.engine import Engine
from tests.conftest import send_lines, tcp_port


async def test_event_over_tcp_is_stored(engine: Engine) -> None:
    replies = await send_lines(tcp_port(engine), b'{"message": "hello", "type": "warning"}\n')
    assert replies == [{"ok": True, "stored": 1}]
    with sqlite3.connect(engine.settings.db) as db:
        rows = db.execute("SELECT level, message, source FROM events WHERE source != 'system'").fetchall()
    assert rows == [("warn", "hello", "server")]
