"""Client-test helpers: loggers that are always closed, and reading what sidelog stored."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sidelog_client.config import ClientConfig
from sidelog_client.logger import EventLogger

MakeLogger = Callable[..., EventLogger]


@pytest.fixture
def make_logger() -> Iterator[MakeLogger]:
    """``EventLogger`` factory ignoring the environment (unless ``config=`` is given), fast to reconnect."""
    created: list[EventLogger] = []

    def make(address: str, **options: Any) -> EventLogger:
        options.setdefault("config", ClientConfig())
        options.setdefault("reconnect_min_s", 0.02)
        options.setdefault("reconnect_max_s", 0.2)
        options.setdefault("batch_interval_ms", 10)
        logger = EventLogger(address, **options)
        created.append(logger)
        return logger

    yield make
    for logger in created:
        logger.close(timeout=0.5)


def free_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stored(db: Path, where: str = "source != 'system'", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of the events table as dicts (``details`` decoded), in commit order."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(f"SELECT * FROM events WHERE {where} ORDER BY id", params).fetchall()
    result = []
    for row in rows:
        item = dict(row)
        if item["details"] is not None:
            item["details"] = json.loads(item["details"])
        result.append(item)
    return result


async def flush(logger: EventLogger, timeout: float = 10.0) -> bool:
    """``flush`` blocks its thread, so run it off the event loop the engine lives on."""
    return await asyncio.to_thread(logger.flush, timeout)


async def wait_until(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds (the client works on its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
