"""The batch interval is the longest an event waits: an idle writer writes at once, a burst still batches."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from tests.conftest import tcp_port
from tests.integration.spine_support import event_line, messages
from tests.support.wait import until

LONG_INTERVAL_MS = 5_000
"""Far longer than any wait below: whatever is committed in time was not waiting for it."""


@asynccontextmanager
async def quiet_engine(make_settings: Callable[..., Settings], **overrides: Any) -> AsyncIterator[Engine]:
    settings = make_settings(batch_interval_ms=LONG_INTERVAL_MS, enable_system_logging=False, **overrides)
    engine = (await start_server(settings)).engine
    try:
        yield engine
    finally:
        await engine.stop()


async def test_an_event_sent_to_an_idle_engine_is_committed_at_once(
    make_settings: Callable[..., Settings],
) -> None:
    async with quiet_engine(make_settings) as engine:
        subscription = engine.subscribe()
        _, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
        writer.write(event_line(message="alone"))  # no sync: only the writer decides when
        await writer.drain()
        await until(lambda: engine.counters.stored == 1, timeout=1.0, message="committed within 1 s")
        batch = subscription.get_nowait()
        assert batch is not None
        assert [event.message for event in batch.stored] == ["alone"]
        assert messages(engine) == ["alone"]
        writer.close()


async def test_a_burst_still_fills_its_batches(make_settings: Callable[..., Settings]) -> None:
    batch_size, count = 100, 5_000
    async with quiet_engine(make_settings, max_events_per_batch=batch_size, rate_limit_burst=0) as engine:
        subscription = engine.subscribe(maxsize=10_000)
        reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
        writer.write(b"".join(event_line(message=f"b{i}") for i in range(count)) + b'{"sync": true}\n')
        await writer.drain()
        assert json.loads(await asyncio.wait_for(reader.readline(), 30)) == {"ok": True, "stored": count}
        writer.close()
        sizes = []
        while (batch := subscription.get_nowait()) is not None:
            sizes.append(len(batch.stored))
        assert sum(sizes) == count, sizes
        # Only the write that met the idle writer and the one the sync flushed may be short:
        # every batch in between waited until it was full.
        assert all(size >= batch_size for size in sizes[1:-1]), sizes
        assert len(sizes) <= count // batch_size + 2, sizes
        assert messages(engine) == [f"b{i}" for i in range(count)]
