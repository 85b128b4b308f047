"""Shared fixtures: real settings, a real server on port 0, real SQLite in tmp_path."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from sidelog.config import Settings, load_settings
from sidelog.engine import Engine
from sidelog.server import start_server
from tests.support.postgres import pg_cluster, pg_url  # noqa: F401 - fixtures: a real PostgreSQL per test process

# A shell that starts the suite in the background (``pytest &`` in a script, some CI
# runners) ignores SIGINT in it, and every process the tests start inherits that: the
# tests that stop a ``sidelog`` process with SIGINT (as Ctrl+C would) would wait in vain.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's SIDELOG_*, ENABLE_*, BATCH_* variables or dotenv files."""
    import os

    for name in list(os.environ):
        if name.startswith(("SIDELOG_", "ENABLE_", "BATCH_")) or name in (
            "LOG_LEVEL",
            "MAX_EVENTS_PER_BATCH",
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings on a fresh database in ``tmp_path``, endpoints on free ports, HTTP off."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "db": tmp_path / "db" / "events.db",
            "tcp": "127.0.0.1:0",
            "http": "off",
            "batch_interval_ms": 5,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
async def engine(make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    """An engine started as ``sidelog serve`` starts it (TCP on a free port, HTTP off);
    stopped after the test."""
    running = await start_server(make_settings())
    yield running.engine
    await running.stop()


def tcp_port(engine: Engine) -> int:
    """The real port of the engine's TCP endpoint."""
    for kind, address in engine.endpoints:
        if kind == "tcp":
            return int(address.rsplit(":", 1)[1])
    raise AssertionError("no tcp endpoint")


async def send_lines(port: int, payload: bytes, *, sync: bool = True) -> list[dict[str, Any]]:
    """Send raw bytes (plus a sync line) over TCP; return every reply line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    if sync:
        writer.write(b'{"sync": true}\n')
    writer.write_eof()
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    return [json.loads(line) for line in data.splitlines() if line.strip()]
