"""Volume: every event stored exactly once over one and over ten connections."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from tests.conftest import tcp_port
from tests.integration.spine_support import USER_ROWS, exchange, rows


def payload(connection: int, count: int) -> bytes:
    line = '{{"message":"scale c{c} n{i}","category":"load","type":"info","userId":"u{u}"}}\n'
    return "".join(line.format(c=connection, i=i, u=i % 500) for i in range(count)).encode()


async def started(make_settings: Callable[..., Settings]) -> Engine:
    engine = (await start_server(make_settings(rate_limit_burst=0, batch_interval_ms=50))).engine
    return engine


def assert_stored_once(engine: Engine, expected: int) -> None:
    ((count, distinct),) = rows(
        engine.settings.db, f"SELECT count(*), count(DISTINCT message) FROM events WHERE {USER_ROWS}"
    )
    assert (count, distinct) == (expected, expected)
    assert engine.counters.rejected == engine.counters.overflow == engine.counters.write_failed == 0


@pytest.mark.slow
async def test_100k_events_over_one_connection(make_settings: Callable[..., Settings]) -> None:
    engine = await started(make_settings)
    try:
        data = payload(0, 100_000)
        began = time.monotonic()
        replies = await exchange(tcp_port(engine), data)
        elapsed = time.monotonic() - began
        assert replies == [{"ok": True, "stored": 100_000}]
        assert_stored_once(engine, 100_000)
        print(f"100k events over one connection: {elapsed:.2f} s")
    finally:
        await engine.stop()


@pytest.mark.slow
async def test_50k_events_over_ten_connections(make_settings: Callable[..., Settings]) -> None:
    engine = await started(make_settings)
    try:
        port = tcp_port(engine)
        began = time.monotonic()
        results = await asyncio.gather(*(exchange(port, payload(c, 5_000)) for c in range(10)))
        elapsed = time.monotonic() - began
        assert results == [[{"ok": True, "stored": 5_000}]] * 10
        assert_stored_once(engine, 50_000)
        print(f"50k events over ten connections: {elapsed:.2f} s")
    finally:
        await engine.stop()
