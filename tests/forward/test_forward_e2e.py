"""Forwarding end to end: a real sidelog forwards to a real OTLP/HTTP receiver.

The receivers are sidelog's own OTLP endpoint (a second server) and a minimal one in
conftest.py that decodes with ``opentelemetry-proto`` and can be made to fail.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import aiohttp

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.forward.destination import parse_destination
from sidelog.forward.forwarder import Forwarder, start_forwarders
from sidelog.server import start_server
from tests.forward.conftest import FAST, OtlpReceiver, endpoint, free_port, send_events, stored_ids
from tests.support.wait import until

SOURCES = ("web", "api", "worker")


def traffic(count: int, start: int = 0) -> list[tuple[str, str]]:
    """``count`` events spread over three sources, numbered per source."""
    return [(SOURCES[i % 3], f"{SOURCES[i % 3]} #{i}") for i in range(start, start + count)]


def forwarder_of(engine: Engine) -> Forwarder:
    (forwarder,) = engine.forwarders
    assert isinstance(forwarder, Forwarder)
    return forwarder


def assert_exactly_once(receiver: OtlpReceiver, engine_db: Any) -> None:
    """Every stored event of the forwarding sidelog arrived once, in id order per source."""
    with sqlite3.connect(engine_db) as db:
        stored = [row[0] for row in db.execute("SELECT id FROM events ORDER BY id")]
    received = receiver.ids()
    assert len(received) == len(set(received)), "an event was sent twice"
    assert sorted(received) == stored
    for source in {record.service for record in receiver.records}:
        ids = [record.sidelog_id for record in receiver.records if record.service == source]
        assert ids == sorted(ids), f"{source}: out of order"


async def test_forwarded_once_in_order_to_a_second_sidelog(
    make_settings: Callable[..., Settings], tmp_path: Any
) -> None:
    target = await start_server(
        make_settings(db=tmp_path / "target" / "events.db", tcp="off", http="127.0.0.1:0", rate_limit_burst=0)
    )
    url = f"otlp+http://{endpoint(target.engine, 'http')}"
    source = await start_server(make_settings(forward=[url], rate_limit_burst=0))
    try:
        await send_events(source.engine, traffic(2000))
        top = stored_ids(source.engine)[-1]
        await until(lambda: forwarder_of(source.engine).cursor >= top, timeout=30, message="all forwarded")
        with sqlite3.connect(target.engine.settings.db) as db:
            await until(
                lambda: db.execute("SELECT count(*) FROM events WHERE category = 'fwd'").fetchone()[0] == 2000
            )
            rows = db.execute(
                "SELECT source, message, level, details FROM events WHERE category = 'fwd' ORDER BY id"
            ).fetchall()
        got = [(s, m) for s, m, _, _ in rows]
        assert sorted(got) == sorted(traffic(2000))  # each once
        for name in SOURCES:  # in order per source (a request groups its records by source)
            assert [m for s, m in got if s == name] == [m for s, m in traffic(2000) if s == name]
        assert {level for _, _, level, _ in rows} == {"info"}
        assert '"sidelog.id"' in rows[0][3]
        health = await source.engine.health()
        (status,) = health.forwarding
        assert status["lag"] == 0
        assert status["failures"] == 0
        assert status["sent"] >= 2000
    finally:
        await source.stop()
        await target.stop()


async def test_receiver_down_then_up_loses_nothing(
    make_settings: Callable[..., Settings], otlp_receiver: OtlpReceiver
) -> None:
    await otlp_receiver.stop()
    otlp_receiver.port = free_port()  # nothing listens there yet: connections are refused
    running = await start_server(make_settings(rate_limit_burst=0))
    try:
        (forwarder,) = start_forwarders(running.engine, [parse_destination(otlp_receiver.url)], FAST)
        await send_events(running.engine, traffic(1000))
        await until(lambda: forwarder.failures >= 3, message="retries while down")
        status = forwarder.status(stored_ids(running.engine)[-1])
        assert status["state"] == "retrying"
        assert "cannot connect" in status["lastError"]
        assert status["lag"] >= 1000
        assert status["failingSince"] is not None
        await send_events(running.engine, traffic(1000, start=1000))  # ingest goes on meanwhile
        await otlp_receiver.start()
        await until(lambda: forwarder.cursor >= stored_ids(running.engine)[-1], timeout=20)
        assert_exactly_once(otlp_receiver, running.engine.settings.db)
        assert otlp_receiver.gzip_requests == otlp_receiver.requests
        assert otlp_receiver.largest_batch <= FAST.batch_size
        assert forwarder.failing_since is None
    finally:
        await running.stop()
    with sqlite3.connect(running.engine.settings.db) as db:
        resumed = db.execute("SELECT details FROM events WHERE message = 'forwarding resumed'").fetchall()
    assert len(resumed) == 1


async def test_5xx_and_429_are_retried(
    make_settings: Callable[..., Settings], otlp_receiver: OtlpReceiver
) -> None:
    otlp_receiver.mode = "503"
    running = await start_server(make_settings())
    try:
        (forwarder,) = start_forwarders(running.engine, [parse_destination(otlp_receiver.url)], FAST)
        await send_events(running.engine, traffic(300))
        await until(lambda: forwarder.failures >= 2)
        assert forwarder.last_error == "HTTP 503: busy"
        otlp_receiver.mode = "429"
        failures = forwarder.failures
        await until(lambda: forwarder.failures >= failures + 2)
        assert forwarder.last_error == "HTTP 429: busy"
        otlp_receiver.mode = "ok"
        await until(lambda: forwarder.cursor >= stored_ids(running.engine)[-1])
        assert_exactly_once(otlp_receiver, running.engine.settings.db)
    finally:
        await running.stop()


async def test_restart_resumes_from_the_cursor(
    make_settings: Callable[..., Settings], otlp_receiver: OtlpReceiver
) -> None:
    settings = make_settings(forward=[otlp_receiver.url], rate_limit_burst=0)
    first = await start_server(settings)
    await send_events(first.engine, traffic(2000))
    await until(lambda: len(otlp_receiver.records) >= 300, message="forwarding under way")
    await first.stop()  # mid-stream: the request under way finishes and its cursor is saved
    with sqlite3.connect(settings.db) as db:
        (saved,) = db.execute("SELECT last_id FROM forward_cursors").fetchone()
    assert saved == max(otlp_receiver.ids())

    second = await start_server(settings)
    try:
        forwarder = forwarder_of(second.engine)
        await send_events(second.engine, traffic(500, start=2000))
        await until(lambda: forwarder.cursor >= stored_ids(second.engine)[-1], timeout=30)
    finally:
        await second.stop()
    assert_exactly_once(otlp_receiver, settings.db)


async def test_a_refused_batch_is_skipped_and_reported(
    make_settings: Callable[..., Settings], otlp_receiver: OtlpReceiver
) -> None:
    otlp_receiver.refuse_if = "poison"
    running = await start_server(make_settings(http="127.0.0.1:0"))
    try:
        (forwarder,) = start_forwarders(running.engine, [parse_destination(otlp_receiver.url)], FAST)
        await send_events(running.engine, traffic(10))
        await until(lambda: len(otlp_receiver.records) >= 10)
        await send_events(running.engine, [("web", "poison pill")])
        await until(lambda: forwarder.skipped >= 1)
        await send_events(running.engine, traffic(10, start=10))
        await until(lambda: forwarder.cursor >= stored_ids(running.engine)[-1])
        await until(lambda: any("refused" in r.message for r in otlp_receiver.records))
        messages = [record.message for record in otlp_receiver.records]
        assert "poison pill" not in messages
        assert all(message in messages for _, message in traffic(20))
        assert len(messages) == len(set(otlp_receiver.ids()))
        health_url = f"http://{endpoint(running.engine, 'http')}/v1/health"
        async with aiohttp.ClientSession() as session, session.get(health_url) as response:
            health = await response.json()
        (status,) = health["forwarding"]
        assert status["skipped"] == 1
        assert status["lastError"] == "HTTP 400: this batch is not welcome"
        assert status["endpoint"] == f"http://127.0.0.1:{otlp_receiver.port}/v1/logs"
    finally:
        await running.stop()
    with sqlite3.connect(running.engine.settings.db) as db:
        (details,) = db.execute(
            "SELECT details FROM events WHERE message = 'forwarding refused a batch' AND level = 'error'"
        ).fetchone()
    assert "HTTP 400" in details


async def test_a_hanging_receiver_times_out_and_ingest_goes_on(
    make_settings: Callable[..., Settings], otlp_receiver: OtlpReceiver
) -> None:
    otlp_receiver.mode = "hang"
    running = await start_server(make_settings())
    options = FAST.__class__(**{**_fields(FAST), "timeout_s": 0.2, "close_timeout_s": 0.3})
    try:
        (forwarder,) = start_forwarders(running.engine, [parse_destination(otlp_receiver.url)], options)
        await send_events(running.engine, traffic(100))
        await until(lambda: forwarder.failures >= 2)
        assert forwarder.last_error == "no answer within the timeout"
        await send_events(running.engine, traffic(500, start=100))  # stored while forwarding hangs
        assert len(stored_ids(running.engine)) >= 600
    finally:
        await running.stop()  # a hung request does not hold shutdown past close_timeout_s


async def test_a_garbage_answer_is_retried(make_settings: Callable[..., Settings]) -> None:
    import asyncio

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\nnot http at all\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    running = await start_server(make_settings())
    try:
        (forwarder,) = start_forwarders(
            running.engine, [parse_destination(f"otlp+http://127.0.0.1:{port}")], FAST
        )
        await send_events(running.engine, traffic(20))
        await until(lambda: forwarder.failures >= 2)
        assert forwarder.last_error
        assert forwarder.cursor == 0
        assert forwarder.status(100)["state"] == "retrying"
    finally:
        await running.stop()
        server.close()


def _fields(options: Any) -> dict[str, Any]:
    return {name: getattr(options, name) for name in options.__slots__}
