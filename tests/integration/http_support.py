"""Helpers for the HTTP API tests: a started engine with the HTTP server on port 0."""

from __future__ import annotations

import sqlite3
from typing import Any

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.ingest.http import HttpOptions
from sidelog.ingest.http_stream import StreamOptions
from sidelog.server import start_server

FAST = HttpOptions(
    keepalive_timeout_s=2.0,
    shutdown_timeout_s=1.0,
    stream=StreamOptions(heartbeat_s=0.2, write_timeout_s=0.5, queue_batches=64, max_clients=16),
)


def http_base(engine: Engine) -> str:
    """``http://127.0.0.1:PORT`` of the engine's HTTP endpoint."""
    for kind, address in engine.endpoints:
        if kind == "http":
            return f"http://{address}"
    raise AssertionError("no http endpoint")


def http_port(engine: Engine) -> int:
    """The real port of the HTTP endpoint."""
    return int(http_base(engine).rsplit(":", 1)[1])


async def start(settings: Settings, options: HttpOptions = FAST) -> Engine:
    """A started engine with its HTTP server (through the same start-up as ``sidelog serve``)."""
    return (await start_server(settings, http_options=options)).engine


def rows(engine: Engine, where: str = "source != 'system'") -> list[tuple[Any, ...]]:
    """``(level, message, source)`` of stored rows, oldest first (straight from SQLite)."""
    with sqlite3.connect(engine.settings.db) as db:
        return db.execute(f"SELECT level, message, source FROM events WHERE {where} ORDER BY id").fetchall()
