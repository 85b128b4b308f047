"""Dialects on the ingest paths: the socket decoder (text lines, joined stacks, counts,
ordering, what stays rejected), a real TCP connection and a real HTTP ``POST /v1/events``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import pytest

from sidelog.engine import Engine
from sidelog.events import Event
from sidelog.ingest.protocol import HttpSighting, Item, LineDecoder, Rejection, SyncRequest
from sidelog.pipeline.counters import Counters
from tests.dialects.conftest import assert_recent, ingest, stored
from tests.support.linear import assert_linear

CLOCK = 1_700_000_000_000
PINO = (
    b'{"level":50,"time":1714564800000,"pid":7,"hostname":"h","msg":"payment failed",'
    b'"err":{"type":"TypeError","message":"boom","stack":"TypeError: boom\\n    at pay (/app/pay.js:3:9)"}}'
)


def decode(data: bytes, counts: dict[str, int] | None = None) -> list[Item]:
    decoder = LineDecoder(clock=lambda: CLOCK, dialect_counts=counts)
    return [*decoder.feed(data), *decoder.finish()]


def summary(items: list[Item]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for item in items:
        if isinstance(item, Event):
            dialect = orjson.loads(item.details or "{}").get("dialect")
            out.append(("event", item.level, item.message, dialect))
        else:
            out.append((type(item).__name__, getattr(item, "line", None)))
    return out


def test_text_json_and_dialects_in_one_stream_keep_their_order() -> None:
    counts: dict[str, int] = {}
    items = decode(
        b"server started\n"
        b'{"message":"native"}\n'
        b"ERROR:shop:payment failed\n"
        b"Traceback (most recent call last):\n"
        b'  File "/app/pay.py", line 3, in charge\n'
        b"ValueError: card declined\n"
        b"\n" + PINO + b"\n"
        b'{"sync": true}\n'
        b'level=warn msg="disk low" disk=/dev/sda\n',
        counts,
    )
    assert summary(items) == [
        ("event", "info", "server started", "text"),
        ("event", "info", "native", None),
        ("event", "error", "payment failed", "text"),
        ("event", "error", "payment failed", "pino"),
        ("SyncRequest", 9),
        ("event", "warn", "disk low", "logfmt"),
    ]
    assert counts == {"text": 2, "pino": 1, "logfmt": 1}
    traceback_event = items[2]
    assert isinstance(traceback_event, Event)
    assert orjson.loads(traceback_event.details or "")["exception"]["type"] == "ValueError"


def test_the_counters_hold_the_dialect_counts() -> None:
    """How the socket endpoints report dialects: the decoder counts into ``Counters``."""
    counters = Counters()
    assert counters.as_dict()["dialects"] == {}
    decoder = LineDecoder(clock=lambda: CLOCK, dialect_counts=counters.dialects)
    decoder.feed(PINO + b"\nplain text\n" + b'{"message":"native"}\n' + PINO + b"\n")
    decoder.finish()
    assert counters.as_dict()["dialects"] == {"pino": 2, "text": 1}


def test_an_open_stack_waits_for_the_next_line_or_a_quiet_connection() -> None:
    decoder = LineDecoder(clock=lambda: CLOCK)
    assert decoder.feed(b"Error: boom\n    at main (/app.js:1:1)\n") == []
    assert decoder.holds_text
    assert decoder.flush_text(idle_s=3600) == []  # not quiet for that long yet
    items = decoder.flush_text(idle_s=0)
    assert summary(items) == [("event", "error", "Error: boom", "text")]
    assert not decoder.holds_text
    assert decoder.flush_text() == []


def test_what_stays_rejected() -> None:
    items = decode(
        b'{"message": "torn\n'
        b"\x00\x01\x02\x03 garbage \xff\n"
        b"[1, 2\n"
        b'{"category":"auth"}\n'
        b'{"message":"x","level":"verbose"}\n'
        b"42\n"
    )
    expected = [
        "invalid JSON: unexpected end",
        "invalid JSON: str is not valid UTF-8",
        "invalid JSON: unexpected end",
        "message is required",
        "level 'verbose' is not a level",
        "a line must be a JSON object or array, got a number",
    ]
    assert len(items) == len(expected)
    for item, reason in zip(items, expected, strict=True):
        assert isinstance(item, Rejection)
        assert item.reason.startswith(reason), item


def test_http_lines_are_still_sighted_between_text_lines() -> None:
    items = decode(b"Error: boom\nPOST /v1/events HTTP/1.1\nHost: localhost\n")
    assert [type(item) for item in items] == [HttpSighting, HttpSighting, Event]


def test_array_elements_in_dialects() -> None:
    counts: dict[str, int] = {}
    items = decode(b'[{"event":"from structlog","level":"warning"}, {"message":"native"}, 5]\n', counts)
    assert summary(items) == [
        ("event", "warn", "from structlog", "structlog"),
        ("event", "info", "native", None),
        ("Rejection", 1),
    ]
    assert counts == {"structlog": 1}
    assert not any(isinstance(item, SyncRequest) for item in items)


async def test_text_and_dialects_over_a_real_tcp_connection(engine: Engine) -> None:
    started = time.time()
    replies = await ingest(
        engine,
        b"\x1b[32mINFO\x1b[0m ready on :3000\n"
        + PINO.replace(b"1714564800000", str(int(started * 1000)).encode())
        + b"\nnot \xff text\n",
    )
    assert replies[0] == {"error": replies[0]["error"], "line": 3}
    assert replies[0]["error"].startswith("invalid JSON")
    rows = await stored(engine)
    assert [(row["level"], row["message"], row["details"]["dialect"]) for row in rows] == [
        ("info", "INFO ready on :3000", "text"),
        ("error", "payment failed", "pino"),
    ]
    for row in rows:
        assert_recent(row["timestamp"], started)


async def test_http_post_reads_dialects_too(http_engine: Engine) -> None:
    base = next(f"http://{address}" for kind, address in http_engine.endpoints if kind == "http")
    structlog_line = b'{"event": "stock low", "level": "warning", "timestamp": "2024-05-01T12:00:00Z"}'
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/v1/events?wait=true", data=PINO) as response:
            assert response.status == 200, await response.text()
        async with session.post(
            f"{base}/v1/events?wait=true",
            data=structlog_line + b"\n" + PINO,
            headers={"Content-Type": "application/x-ndjson"},
        ) as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["accepted"] == 2
    rows = await stored(http_engine)
    assert [(row["level"], row["message"], row["details"]["dialect"]) for row in rows] == [
        ("error", "payment failed", "pino"),
        ("warn", "stock low", "structlog"),
        ("error", "payment failed", "pino"),
    ]
    assert rows[0]["timestamp"] == 1714564800000
    assert rows[0]["details"]["exception"]["type"] == "TypeError"


@pytest.mark.parametrize(
    "line",
    [
        lambda k: b"a=" * k,
        lambda k: b'level=info msg="' + b"\\x" * k,
        lambda k: b"\x1b[" * k,
        lambda k: b"Error" * (k * 2 // 5),
        lambda k: b"a." * k,
        lambda k: b"[" + b"a" * (2 * k) + b"]",
        lambda k: b"panic: x\n" + b"a(" * k,
        lambda k: b"Error: x\n    at " + b"(" * (2 * k),
    ],
)
def test_hostile_text_lines_cost_linear_time(line: Callable[[int], bytes]) -> None:
    """A 1 MiB text line is read on the event loop: it must not take quadratic time."""
    items = decode(line(500_000) + b"\n")
    assert items
    assert all(isinstance(item, Event) for item in items)
    assert_linear(lambda k: decode(line(k) + b"\n"), 50_000)
