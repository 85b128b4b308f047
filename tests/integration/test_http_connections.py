"""Many idle (and half-sent) connections neither disturb other clients nor stay forever."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sidelog.engine import Engine
from tests.integration.http_support import FAST, http_base, http_port, rows

pytest_plugins = ["tests.integration.http_fixtures"]

IDLE = 300
HALF_SENT = 50


async def test_idle_connections_do_not_disturb_others(http_engine: Engine, client: Any) -> None:
    port = http_port(http_engine)
    idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(IDLE)]
    half = [await asyncio.open_connection("127.0.0.1", port) for _ in range(HALF_SENT)]
    for _, writer in half:
        writer.write(b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")  # never finished
    try:
        started = time.monotonic()
        for i in range(20):
            url = f"{http_base(http_engine)}/v1/events?wait=true"
            async with client.post(url, data=b'{"message": "%d"}' % i) as r:
                assert r.status == 200
        assert time.monotonic() - started < 5
        assert len(rows(http_engine)) == 20

        # The server closes them once the keep-alive timeout passes: EOF on every one.
        async def closed(reader: asyncio.StreamReader) -> bool:
            return await reader.read() == b""

        async with asyncio.timeout(FAST.keepalive_timeout_s + 10):
            results = await asyncio.gather(*(closed(reader) for reader, _ in idle + half))
        assert all(results)
    finally:
        for _, writer in idle + half:
            writer.close()


async def test_port_in_use_is_a_one_line_startup_error(http_engine: Engine, make_settings: Any) -> None:
    import pytest

    from sidelog.server import StartupError, start_server

    taken = http_base(http_engine).removeprefix("http://")
    with pytest.raises(StartupError) as info:
        await start_server(make_settings(http=taken, db=http_engine.settings.db.with_name("other.db")))
    assert (
        str(info.value)
        == f"cannot listen on http {taken}: address already in use (is another sidelog running?)"
    )
