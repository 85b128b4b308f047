"""The same engine on each store, for the tests that must hold on SQLite and PostgreSQL alike.

A test module under tests/postgres parametrizes a fixture over ``STORES`` and starts its
server with ``start_on``: a SQLite file in ``tmp_path``, or a fresh database on the test
cluster (the ``pg_cluster`` fixture of tests/postgres/conftest.py). No system events, so
every stored event is one the test sent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import RunningServer, start_server
from tests.conftest import send_lines, tcp_port

STORES = ["sqlite", "postgresql"]


async def start_on(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path, **overrides: Any
) -> RunningServer:
    """A server on the store ``request.param`` names."""
    if request.param == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        db: str | Path = await cluster.create_database()
    else:
        db = tmp_path / "db" / "events.db"
    return await start_server(make_settings(db=db, enable_system_logging=False, **overrides))


async def send(engine: Engine, *events: dict[str, Any]) -> None:
    """Send ``events`` over TCP and wait until they are committed."""
    payload = b"".join(orjson.dumps(event) + b"\n" for event in events)
    replies = await send_lines(tcp_port(engine), payload)
    assert replies[-1] == {"ok": True, "stored": len(events)}, replies[-3:]


__all__ = ["STORES", "send", "start_on"]
