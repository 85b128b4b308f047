"""The pipeline between socket and store: batching, rate limits, toggles, store level,
backpressure and overflow, observed through real TCP and real SQLite."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine, Overloaded
from sidelog.events import Event
from sidelog.pipeline.batcher import CommittedBatch
from sidelog.pipeline.queue import Origin
from sidelog.server import start_server
from tests.conftest import tcp_port
from tests.integration.spine_support import USER_ROWS, event_line, exchange, messages, rows, wait_until


@asynccontextmanager
async def running(make_settings: Callable[..., Settings], **overrides: Any) -> AsyncIterator[Engine]:
    engine = (await start_server(make_settings(**overrides))).engine
    try:
        yield engine
    finally:
        await engine.stop()


async def next_batch(subscription: Any, timeout: float = 5.0) -> CommittedBatch:
    batch: CommittedBatch = await asyncio.wait_for(subscription.get(), timeout)
    return batch


async def test_flush_at_max_events_per_batch(make_settings: Callable[..., Settings]) -> None:
    async with running(
        make_settings, max_events_per_batch=10, batch_interval_ms=60_000, enable_system_logging=False
    ) as engine:
        subscription = engine.subscribe()
        reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
        # An event that finds the writer idle is written at once (one eager write per interval)…
        writer.write(event_line(message="first"))
        assert [event.message for event in (await next_batch(subscription, 2.0)).stored] == ["first"]
        # …the ones right behind it wait for the batch to fill or to age.
        writer.write(b"".join(event_line(message=f"e{i}") for i in range(9)))
        await writer.drain()
        with pytest.raises(TimeoutError):  # below the batch size: waits for the (long) interval
            await asyncio.wait_for(subscription.get(), 0.3)
        writer.write(event_line(message="e9"))  # the tenth event triggers the flush
        batch = await next_batch(subscription)
        assert [event.message for event in batch.stored] == [f"e{i}" for i in range(10)]
        # a backlog is flushed at once too (possibly in one larger transaction)
        writer.write(b"".join(event_line(message=f"e{i}") for i in range(10, 35)))
        flushed = 0
        while flushed < 25:
            flushed += len((await next_batch(subscription)).stored)
        assert flushed == 25
        writer.write(b'{"sync": true}\n')
        assert json.loads(await asyncio.wait_for(reader.readline(), 5)) == {"ok": True, "stored": 36}
        writer.close()
        assert messages(engine) == ["first"] + [f"e{i}" for i in range(35)]


async def test_flush_at_batch_interval(make_settings: Callable[..., Settings]) -> None:
    async with running(
        make_settings, max_events_per_batch=500, batch_interval_ms=200, enable_system_logging=False
    ) as engine:
        subscription = engine.subscribe()
        loop = asyncio.get_running_loop()
        reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
        writer.write(event_line(message="first"))  # finds the writer idle: written at once
        assert [event.message for event in (await next_batch(subscription)).stored] == ["first"]
        sent_at = loop.time()
        writer.write(event_line(message="a") + event_line(message="b") + event_line(message="c"))
        await writer.drain()
        batch = await next_batch(subscription)  # no sync, far below the batch size
        waited = loop.time() - sent_at
        assert [event.message for event in batch.stored] == ["a", "b", "c"]
        assert [event.id for event in batch.stored] == sorted(event.id for event in batch.stored)
        assert 0.15 <= waited < 2.0  # behind an eager write: the interval, not at once
        writer.close()


async def test_batching_off_commits_one_by_one(make_settings: Callable[..., Settings]) -> None:
    async with running(make_settings, batch_events=False, enable_system_logging=False) as engine:
        subscription = engine.subscribe()
        assert await exchange(tcp_port(engine), b"".join(event_line(message=str(i)) for i in range(5))) == [
            {"ok": True, "stored": 5}
        ]
        sizes = []
        while (batch := subscription.get_nowait()) is not None:
            sizes.append(len(batch.stored))
        assert sizes == [1, 1, 1, 1, 1]


async def test_rate_limit_drops_count_and_report(make_settings: Callable[..., Settings]) -> None:
    async with running(make_settings, rate_limit_burst=5, rate_limit_interval_s=0.3) as engine:
        subscription = engine.subscribe()
        payload = b"".join(event_line(message=f"api {i}", category="api") for i in range(12))
        payload += b"".join(event_line(message=f"ui {i}", category="ui") for i in range(3))
        payload += b"".join(event_line(message=f"c {i}", category="api", source="client") for i in range(2))
        replies = await exchange(tcp_port(engine), payload)
        assert replies == [{"ok": True, "stored": 10, "rate_limited": 7}]
        assert engine.counters.rate_limited == 7
        stored = messages(engine)
        assert [m for m in stored if m.startswith("api")] == [f"api {i}" for i in range(5)]
        assert len(stored) == 10

        report: Event | None = None
        while report is None:
            batch = await next_batch(subscription, timeout=5.0)
            report = next((e for e in batch.stored if e.message.startswith("rate limit")), None)
        assert report.source == "system"
        assert report.category == "system"
        assert report.level == "warn"
        assert report.message == "rate limit: dropped 7 server/api events"
        assert json.loads(report.details or "")["dropped"] == 7
        assert engine.counters.as_dict()["rate_limited"] == 7
        assert (await engine.health()).drops["rate_limited"] == 7


@pytest.mark.parametrize(
    ("setting", "kept"),
    [
        ({"enable_client_logging": False}, ["server", "api", "middleware", "convex"]),
        ({"enable_server_logging": False}, ["client", "convex"]),
        ({"enable_event_logging": False}, []),
        ({"log_level": "warn"}, ["warn client", "error server"]),
    ],
)
async def test_toggles_and_log_level_count_as_filtered(
    make_settings: Callable[..., Settings], setting: dict[str, Any], kept: list[str]
) -> None:
    async with running(make_settings, **setting) as engine:
        payload = b"".join(
            event_line(message=source, source=source)
            for source in ("server", "client", "api", "middleware", "convex")
        )
        if "log_level" in setting:
            payload = (
                event_line(message="debug api", type="debug", source="api")
                + event_line(message="info server", type="info")
                + event_line(message="warn client", type="warn", source="client")
                + event_line(message="error server", type="error")
            )
        total = payload.count(b"\n")
        replies = await exchange(tcp_port(engine), payload)
        filtered = total - len(kept)
        expected: dict[str, Any] = {"ok": True, "stored": len(kept)}
        if filtered:
            expected["filtered"] = filtered
        assert replies == [expected]
        assert messages(engine) == kept
        assert engine.counters.filtered == filtered
        assert engine.counters.received == total


async def test_system_logging_toggle(make_settings: Callable[..., Settings]) -> None:
    async with running(make_settings, enable_system_logging=False) as engine:
        await exchange(tcp_port(engine), event_line(message="user event"))
        assert rows(engine.settings.db, "SELECT count(*) FROM events WHERE source = 'system'") == [(0,)]
    async with running(make_settings) as engine:
        await exchange(tcp_port(engine), event_line(message="user event 2"))
        assert rows(engine.settings.db, "SELECT message FROM events WHERE source = 'system'") == [
            ("sidelog started",)
        ]


async def test_store_level_publishes_low_events_live_only(make_settings: Callable[..., Settings]) -> None:
    async with running(make_settings, store_level="warn", enable_system_logging=False) as engine:
        subscription = engine.subscribe()
        payload = b"".join(
            event_line(message=level, type=level) for level in ("debug", "info", "warn", "error")
        )
        assert await exchange(tcp_port(engine), payload) == [{"ok": True, "stored": 2}]
        assert messages(engine) == ["warn", "error"]
        live: list[Event] = []
        stored: list[Event] = []
        while len(live) + len(stored) < 4:
            batch = await next_batch(subscription)
            live.extend(batch.live_only)
            stored.extend(batch.stored)
        assert [e.message for e in live] == ["debug", "info"]
        assert all(e.id is None for e in live)
        assert [e.message for e in stored] == ["warn", "error"]
        assert all(e.id is not None for e in stored)
        assert engine.counters.live_only == 2
        assert engine.counters.filtered == 0
        assert engine.stored_total == 2


async def test_backpressure_pauses_reading_and_loses_nothing(make_settings: Callable[..., Settings]) -> None:
    capacity = 200
    async with running(
        make_settings,
        queue_size=capacity,
        max_events_per_batch=100,
        rate_limit_burst=0,
        enable_system_logging=False,
    ) as engine:
        line = event_line(message="bp 00000")
        count = 10_000
        payload = b"".join(event_line(message=f"bp {i:05}") for i in range(count))
        paused_seen = False
        peak = 0
        done = False

        async def watch() -> None:
            nonlocal paused_seen, peak
            while not done:
                peak = max(peak, len(engine.queue))
                paused_seen = paused_seen or any(c._paused for c in engine._connections)
                await asyncio.sleep(0)

        watcher = asyncio.create_task(watch())
        replies = await exchange(tcp_port(engine), payload)
        done = True
        await watcher
        assert replies == [{"ok": True, "stored": count}]
        assert paused_seen
        # bounded: the capacity plus at most one socket read's worth of lines
        assert peak <= capacity + 256 * 1024 // len(line) + 1
        assert engine.counters.overflow == 0
        assert rows(
            engine.settings.db, f"SELECT count(*), count(DISTINCT message) FROM events WHERE {USER_ROWS}"
        ) == [(count, count)]


async def test_try_admit_overflows_when_full(make_settings: Callable[..., Settings]) -> None:
    async with running(make_settings, queue_size=10, enable_system_logging=False) as engine:
        origin = Origin("http")
        engine.admit([Event(message=f"m{i}") for i in range(10)], origin)  # no await: the writer cannot drain
        assert engine.queue.full
        with pytest.raises(Overloaded):
            engine.try_admit([Event(message="x"), Event(message="y")], origin)
        assert engine.counters.overflow == 2
        await engine.wait_committed(origin)
        assert origin.stored == 10
        engine.try_admit([Event(message="room again")], origin)
        await engine.wait_committed(origin)
        assert origin.stored == 11
        assert (await engine.health()).drops["overflow"] == 2


async def test_health_counts_add_up(engine: Engine) -> None:
    await exchange(
        tcp_port(engine), event_line(message="ok") + b"\xffbad\x00\n" + event_line(message="e", type="error")
    )
    await wait_until(lambda: engine.stored_total >= 3, what="three stored")
    health = (await engine.health()).to_wire()
    assert health["counters"]["received"] == 2
    assert health["counters"]["rejected"] == 1
    assert health["storedTotal"] == 3
    assert health["unresolvedErrors"] == 1
    assert 0 < health["captureRate"] < 1.0  # a refused line is an input not stored
    assert health["endpoints"] == [f"tcp 127.0.0.1:{tcp_port(engine)}"]
    assert health["status"] == "ok"


async def test_failed_write_is_counted_acknowledged_and_recovers(
    make_settings: Callable[..., Settings],
) -> None:
    """A batch the database refuses (after retries) is counted as write_failed, the sync
    reply says so, the health alarm is raised, and the next batch is written."""
    async with running(make_settings, enable_system_logging=False) as engine:
        db = engine.settings.db
        with sqlite3.connect(db) as conn:
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.message = 'poison' "
                "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            )
        payload = event_line(message="innocent") + event_line(message="poison")
        replies = await exchange(tcp_port(engine), payload)
        assert replies == [{"ok": False, "stored": 0, "failed": 2}]
        assert engine.counters.write_failed == 2
        health = await engine.health()
        assert health.write_failing
        assert "disk on fire" in (health.last_write_error or "")
        assert health.drops["write_failed"] == 2
        assert await exchange(tcp_port(engine), event_line(message="later")) == [{"ok": True, "stored": 1}]
        assert not (await engine.health()).write_failing
        assert messages(engine) == ["later"]


async def test_slow_subscriber_loses_oldest_batches_not_memory(
    make_settings: Callable[..., Settings],
) -> None:
    async with running(make_settings, enable_system_logging=False) as engine:
        subscription = engine.subscribe(maxsize=2)
        for i in range(5):
            origin = Origin(f"o{i}")
            engine.admit([Event(message=f"b{i}")], origin)
            await engine.wait_committed(origin)
        assert subscription.lagged == 3
        kept = [subscription.get_nowait(), subscription.get_nowait()]
        assert [b.stored[0].message for b in kept if b is not None] == ["b3", "b4"]
        assert subscription.get_nowait() is None
        subscription.close()
        origin = Origin("after close")
        engine.admit([Event(message="unseen")], origin)
        await engine.wait_committed(origin)
        assert subscription.get_nowait() is None
