"""Refusals are visible: counted by HTTP status in health, listed with reason and first bytes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.pipeline.counters import Counters
from sidelog.pipeline.refusals import KEEP, SAMPLE_BYTES, RefusalLog
from sidelog.server import start_server
from tests.conftest import send_lines, tcp_port


@pytest.fixture
async def served(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[Engine, str]]:
    running = await start_server(make_settings(http="127.0.0.1:0", enable_system_logging=False))
    yield running.engine, f"http://{dict(running.engine.endpoints)['http']}"
    await running.stop()


async def test_http_and_socket_refusals_are_counted_and_listed(served: tuple[Engine, str]) -> None:
    engine, base = served
    async with aiohttp.ClientSession() as session:
        stray = await session.get(f"{base}/favicon.ico")
        assert stray.status == 404
        ok = await session.post(f"{base}/v1/events?wait=true", json={"message": "kept"})
        assert ok.status == 200
        evil = await session.post(
            f"{base}/v1/events", data=b'{"message":"x"}', headers={"Origin": "https://evil.example"}
        )
        assert evil.status == 403

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: refused while reading
            yield b"\x1b[31m" + b"A" * 65_536
            for _ in range(engine.limits.max_line_bytes // 65_536 + 1):
                yield b"A" * 65_536

        big = await session.post(
            f"{base}/v1/events", data=chunked(), headers={"Content-Type": "application/json"}
        )
        assert big.status == 413
        form = await session.post(
            f"{base}/v1/events", data=b"a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert form.status == 415
        partly = await session.post(f"{base}/v1/events", json=[{"message": "fine"}, {"nope": 1}])
        assert partly.status == 202
        health = await (await session.get(f"{base}/v1/health")).json()
    replies = await send_lines(tcp_port(engine), b'{"message": 5}\n')
    assert "message must be a string" in replies[0]["error"]

    assert health["refused"] == {"403": 1, "404": 1, "413": 1, "415": 1}
    assert health["counters"]["refused"] == health["refused"]
    assert health["captureRate"] < 1.0
    # The three refused posts count against capture once each; the stray GET does not.
    assert engine.counters.refusals.uncounted == 3

    recent = engine.counters.refusals.recent()
    assert [r.status for r in recent] == [None, None, 415, 413, 403, 404]
    tcp_line, element, unsupported, too_big, origin, _ = recent
    assert tcp_line.where.startswith("tcp 127.0.0.1:")
    assert "message must be a string" in tcp_line.reason
    assert element.where.startswith("POST /v1/events 127.0.0.1:")
    assert "message is required" in element.reason
    assert "Content-Type" in unsupported.reason
    assert unsupported.sample == b""  # refused before its body was read
    assert "larger than" in too_big.reason
    assert len(too_big.sample) == SAMPLE_BYTES
    assert too_big.shown_sample().startswith("␛[31mAAA")  # the escape shown, never sent to a terminal
    assert "Origin" in origin.reason or "origin" in origin.reason


def test_the_log_is_bounded_and_capture_never_rounds_to_full() -> None:
    log = RefusalLog()
    for n in range(KEEP * 3):
        log.add(f"tcp peer {n}", "x" * 10_000, status=400 + n % 3, sample=b"y" * 10_000, counted=False)
    recent = log.recent()
    assert len(recent) == KEEP
    assert recent[0].where == f"tcp peer {KEEP * 3 - 1}"
    assert max(len(r.sample) for r in recent) == SAMPLE_BYTES
    assert max(len(r.reason) for r in recent) <= 300
    assert log.by_status == {"400": KEEP, "401": KEEP, "402": KEEP}
    assert log.total == KEEP * 3

    counters = Counters(stored=1_000_000)
    counters.refusals.add("POST /v1/events", "origin refused", status=403, counted=False)
    assert 0.99999 < counters.capture_rate() < 1.0
    from sidelog.tui.widgets.healthbar import capture_text

    assert capture_text(counters.capture_rate(), 1) == "99.9%"
    assert capture_text(counters.capture_rate(), 0) == "99%"
    assert capture_text(1.0, 1) == "100.0%"


async def test_a_request_aiohttp_cannot_parse_is_one_counted_refusal_not_a_traceback(
    served: tuple[Engine, str], caplog: pytest.LogCaptureFixture
) -> None:
    engine, base = served
    host, port = base.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"GET /v1/errors?next=" + b"A" * 20_000 + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split(b" ")[1] == b"400"
    async with aiohttp.ClientSession() as session:
        health = await (await session.get(f"{base}/v1/health")).json()

    assert health["refused"] == {"400": 1}
    (refusal,) = engine.counters.refusals.recent()
    assert refusal.reason.startswith("malformed HTTP request: Got more than 8190 bytes")
    assert refusal.where.startswith("HTTP request 127.0.0.1")
    assert not [record for record in caplog.records if record.exc_info]
