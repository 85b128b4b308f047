"""The client with sidelog down, restarting, slow or dead: never blocks, exactly once within the bound."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from tests.client.conftest import MakeLogger, flush, free_port, stored, wait_until


def messages(engine: Engine) -> Counter[str]:
    return Counter(row["message"] for row in stored(engine.settings.db, "category != 'system'"))


async def test_sidelog_down_at_start_then_started(
    make_settings: Callable[..., Settings], make_logger: MakeLogger
) -> None:
    port = free_port()
    log = make_logger(f"127.0.0.1:{port}")
    for i in range(300):
        log.event(f"early {i}")
    await wait_until(
        lambda: log.stats()["connects"] == 0 and "cannot connect" in str(log.stats()["last_error"])
    )

    engine = (await start_server(make_settings(tcp=f"127.0.0.1:{port}"))).engine
    try:
        assert await flush(log) is True
        counts = messages(engine)
        assert counts == Counter(f"early {i}" for i in range(300))  # each exactly once
        assert log.stats()["dropped"] == 0
    finally:
        await engine.stop()


async def test_sidelog_restarted_mid_stream_loses_and_repeats_nothing(
    make_settings: Callable[..., Settings], make_logger: MakeLogger
) -> None:
    port = free_port()
    settings = make_settings(tcp=f"127.0.0.1:{port}")
    log = make_logger(f"127.0.0.1:{port}", batch_size=50)
    total = 6000
    produced = threading.Event()
    halfway = threading.Event()

    def produce() -> None:
        for i in range(total):
            log.event(f"event {i}")
            if i == total // 3:
                halfway.set()
            if i % 20 == 0:
                time.sleep(0.0005)  # a steady stream, so the restart lands mid-flight
        produced.set()

    first = (await start_server(settings)).engine
    producer = threading.Thread(target=produce)
    try:
        producer.start()
        await asyncio.to_thread(halfway.wait, 10)
        await first.stop()  # connections cut while batches are in flight and unacknowledged
        second = (await start_server(make_settings(tcp=f"127.0.0.1:{port}"))).engine
        try:
            await asyncio.to_thread(produced.wait, 20)
            assert await flush(log, 20) is True
            counts = messages(second)
        finally:
            await second.stop()
    finally:
        producer.join()
    assert len(counts) == total
    assert set(counts.values()) == {1}, [m for m, n in counts.items() if n > 1][:5]
    stats = log.stats()
    assert stats["connects"] >= 2
    assert stats["dropped"] == 0
    assert stats["acknowledged"] == total


async def test_buffer_overflow_drops_oldest_and_reports_the_count(
    make_settings: Callable[..., Settings], make_logger: MakeLogger
) -> None:
    port = free_port()
    log = make_logger(f"127.0.0.1:{port}", buffer_size=100)
    for i in range(250):
        log.event(f"event {i}")
    await wait_until(lambda: log.stats()["dropped"] == 150)

    engine = (await start_server(make_settings(tcp=f"127.0.0.1:{port}"))).engine
    try:
        assert await flush(log) is True
        assert messages(engine) == Counter(f"event {i}" for i in range(150, 250))

        def reports() -> list[str]:
            rows = stored(engine.settings.db, "category = 'system' AND source = 'server'")
            return [row["message"] for row in rows]

        await wait_until(lambda: len(reports()) == 1)
        assert reports()[0].startswith("sidelog client dropped 150 events")
        report = stored(engine.settings.db, "category = 'system' AND source = 'server'")[0]
        assert report["level"] == "warn"
        assert report["details"]["dropped"] == 150
        assert await flush(log) is True
        assert len(reports()) == 1  # reported once
    finally:
        await engine.stop()


def test_calls_never_block_while_sidelog_is_down(make_logger: MakeLogger) -> None:
    log = make_logger(f"127.0.0.1:{free_port()}", buffer_size=1000)
    started = time.perf_counter()
    for i in range(100_000):
        log.event(f"event {i}", category="load")
        if i % 10_000 == 0:
            log.error(ValueError(i))
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0  # ~0.1 s in practice; a blocked call would take seconds per attempt
    flush_started = time.perf_counter()
    assert log.flush(0.2) is False
    assert time.perf_counter() - flush_started < 2.0
    assert log.stats()["buffered"] <= 2 * 1000 + 2


def test_calls_never_block_when_sidelog_accepts_but_never_reads(make_logger: MakeLogger) -> None:
    """A hung server: the TCP window fills, the sender waits, the app does not."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    accepted: list[socket.socket] = []

    def accept() -> None:
        conn, _ = listener.accept()
        accepted.append(conn)  # never read from

    acceptor = threading.Thread(target=accept)
    acceptor.start()
    try:
        log = make_logger(f"127.0.0.1:{listener.getsockname()[1]}", buffer_size=5000)
        big = "x" * 2000
        started = time.perf_counter()
        for i in range(50_000):
            log.event(f"event {i}", details={"padding": big})
        assert time.perf_counter() - started < 5.0
        acceptor.join(5)
        assert accepted, "the client never connected"
        assert log.flush(0.3) is False  # no acknowledgement from a hung server, and no hang either
        assert log.stats()["connected"] is True
    finally:
        listener.close()
        for conn in accepted:
            conn.close()


async def test_unacknowledged_events_are_resent_with_the_same_ids(
    make_settings: Callable[..., Settings], make_logger: MakeLogger
) -> None:
    """A server that reads a batch and dies before acknowledging it: the batch comes again, same ids."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    seen: list[dict[str, object]] = []

    def crash_after_first_batch() -> None:
        conn, _ = listener.accept()
        data = b""
        while b'{"sync":true}' not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        seen.extend(json.loads(line) for line in data.split(b"\n") if line.startswith(b'{"id"'))
        conn.close()  # gone without acknowledging anything
        listener.close()

    crasher = threading.Thread(target=crash_after_first_batch)
    crasher.start()
    log = make_logger(f"127.0.0.1:{port}", batch_size=20, batch_interval_ms=60_000)  # one batch of 20
    for i in range(20):
        log.event(f"event {i}")
    await asyncio.to_thread(crasher.join, 10)
    assert len(seen) == 20

    engine = (await start_server(make_settings(tcp=f"127.0.0.1:{port}"))).engine
    try:
        assert await flush(log) is True
        rows = stored(engine.settings.db)
    finally:
        await engine.stop()
    assert [row["message"] for row in rows] == [f"event {i}" for i in range(20)]
    assert [row["event_uid"] for row in rows] == [event["id"] for event in seen]
