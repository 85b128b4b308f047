"""Helpers shared by the spine's integration tests (TCP, store, pipeline, CLI)."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sidelog.engine import Engine
from tests.support.wait import until

USER_ROWS = "source != 'system'"
"""Rows sent by the tests (sidelog's own ``system`` events left out)."""


def rows(db: Path | str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one read query against the database file with the plain ``sqlite3`` module."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def messages(engine: Engine) -> list[str]:
    """Messages of the stored non-system events, in commit order."""
    return [
        row[0]
        for row in rows(engine.settings.db, f"SELECT message FROM events WHERE {USER_ROWS} ORDER BY id")
    ]


def replies_of(data: bytes) -> list[dict[str, Any]]:
    """Decode the reply lines a server sent."""
    return [json.loads(line) for line in data.splitlines() if line.strip()]


async def exchange(
    port: int, payload: bytes, *, sync: bool = True, rcvbuf: int | None = None
) -> list[dict[str, Any]]:
    """Send ``payload`` (plus a sync line), half-close, and return every reply line.

    ``rcvbuf`` shrinks the client's receive buffer so replies back up quickly.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        writer.write(payload)
        if sync:
            writer.write(b'{"sync": true}\n')
        writer.write_eof()
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 60)
    finally:
        writer.close()
        await writer.wait_closed()
    return replies_of(data)


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """``tests.support.wait.until`` under the name these tests use."""
    await until(predicate, timeout, message=what, poll=0.005)


def event_line(**fields: Any) -> bytes:
    """One compact NDJSON line."""
    return json.dumps(fields, separators=(",", ":")).encode() + b"\n"
