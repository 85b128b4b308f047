"""Hostile and malformed input over a real TCP connection into a real SQLite file.

Each bad line gets a precise reply naming the problem and its line number; every valid
line on the same connection is stored exactly once; the counters add up.
"""

from __future__ import annotations

import asyncio
import os
import resource
from collections.abc import Callable

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from tests.conftest import tcp_port
from tests.integration.spine_support import USER_ROWS, exchange, messages, rows, wait_until

GOOD = b'{"message":"%s"}\n'

# (line, expected reason substring or None for a valid line, expected stored messages)
MIX: list[tuple[bytes, str | None]] = [
    (b'{"message":"g1","category":"auth"}\n', None),
    (b'{"message": "broken"\n', "invalid JSON"),
    (b'{"message":"g2"}\n', None),
    (b"42\n", "a line must be a JSON object or array, got a number"),
    (b'"text"\n', "a line must be a JSON object or array, got a string"),
    (b'{"category":"auth"}\n', "message is required"),
    (b'{"message":""}\n', "message must not be empty"),
    (b'{"message":17}\n', "message must be a string, got a number"),
    (b'{"message":"x","type":"loud"}\n', "type 'loud' is not a level"),
    (b'{"message":"x","userId":5}\n', "userId must be a string, got a number"),
    (b'{"message":"x","showToUser":"yes"}\n', "showToUser must be true or false"),
    (b'{"message":"x","timestamp":"soon"}\n', "timestamp 'soon' is not an ISO-8601"),
    (b'{"message":"bad \xc3\x28 utf8"}\n', "invalid JSON"),
    (b'{"message":"x","n":NaN}\n', "invalid JSON"),
    (b'{"message":"x","n":Infinity}\n', "invalid JSON"),
    (b'{"message":"x","a":1,"a":2}\n', "invalid JSON: duplicate key 'a'"),
    (b'{"message":"x","details":{"k":1,"k":2}}\n', "invalid JSON: duplicate key 'k'"),
    (b'{"message" :"x","a":1,"a":2}\n', "invalid JSON: duplicate key 'a'"),
    (b'{"message":"g3 \\":","k" : "v\\":"}\n', None),
    (b'{"message":"x","n":' + b"7" * 5000 + b"}\n", "invalid JSON"),
    (b'{"message":"x","details":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "nested too deeply"),
    (b'\xef\xbb\xbf{"message":"g4"}\n', None),
    (b'{"message":"g5"}\r\n', None),
    (b'{"message":"nul \\u0000 inside"}\n', "message must not contain a NUL character"),
    (b'{"message":"x","details":' + b"[" * 40 + b"]" * 40 + b"}\n", "details nests deeper than 32 levels"),
    (b'{"message":"x","url":"' + b"u" * 8193 + b'"}\n', "url is longer than 8192 bytes"),
    (b'{"message":"x","id":"' + b"i" * 129 + b'"}\n', "id must be 1 to 128 characters"),
    (b"\x00\x01\x02\xff binary garbage\n", "invalid JSON"),
    (b'{"message": "torn\n', "invalid JSON"),  # torn JSON is not text
    (b'{"message":"g6"}\n', None),
]
GOOD_MESSAGES = ["g1", "g2", 'g3 ":', "g4", "g5", "g6"]


async def test_hostile_mix_on_one_connection(engine: Engine) -> None:
    payload = b"".join(line for line, _ in MIX)
    replies = await exchange(tcp_port(engine), payload)
    expected_errors = [(n, reason) for n, (_, reason) in enumerate(MIX, start=1) if reason is not None]
    errors = [reply for reply in replies if "error" in reply]
    assert [reply["line"] for reply in errors] == [n for n, _ in expected_errors]
    for reply, (_, reason) in zip(errors, expected_errors, strict=True):
        assert reason in reply["error"], reply
        assert set(reply) == {"error", "line"}
    ack = replies[-1]
    assert ack == {"ok": True, "stored": len(GOOD_MESSAGES), "rejected": len(expected_errors)}
    assert messages(engine) == GOOD_MESSAGES
    counters = engine.counters
    assert counters.rejected == len(expected_errors)
    assert counters.received == len(GOOD_MESSAGES)
    assert counters.stored == len(GOOD_MESSAGES) + 1  # plus the "sidelog started" system event
    assert counters.filtered == counters.rate_limited == counters.overflow == counters.write_failed == 0


async def test_lone_surrogate_does_not_poison_its_neighbours(engine: Engine) -> None:
    payload = (
        b'{"message":"before"}\n'
        b'[{"message":"a1"},{"message":"cut emoji \\ud83d"},'
        b'{"message":"a3","details":{"e":"\\ud83d\\ude00"}}]\n'
        b'{"message":"solo \\udc00"}\n'
        b'{"message":"after"}\n'
    )
    replies = await exchange(tcp_port(engine), payload)
    assert replies[:-1] == [
        {"error": "message contains a lone surrogate (not valid Unicode)", "line": 2, "index": 1},
        {"error": "message contains a lone surrogate (not valid Unicode)", "line": 3},
    ]
    assert replies[-1] == {"ok": True, "stored": 4, "rejected": 2}
    assert messages(engine) == ["before", "a1", "a3", "after"]
    assert rows(engine.settings.db, "SELECT details FROM events WHERE message = 'a3'") == [
        ('{"e":"\U0001f600"}',)
    ]


async def test_final_line_without_newline_is_stored(engine: Engine) -> None:
    subscription = engine.subscribe()
    replies = await exchange(
        tcp_port(engine), b'{"message":"first"}\n{"message":"last, no newline"}', sync=False
    )
    assert replies == []
    await wait_until(lambda: engine.counters.stored >= 3, what="both events stored")
    assert messages(engine) == ["first", "last, no newline"]
    assert engine.counters.rejected == 0
    subscription.close()


async def test_torn_final_line_is_counted_as_rejected(engine: Engine) -> None:
    replies = await exchange(tcp_port(engine), b'{"message":"whole"}\n{"message":"tor', sync=False)
    assert len(replies) == 1
    assert replies[0]["line"] == 2
    assert replies[0]["error"].startswith("incomplete final line (no newline): invalid JSON")
    await wait_until(lambda: engine.counters.stored >= 2, what="the whole line stored")
    assert messages(engine) == ["whole"]
    assert engine.counters.rejected == 1


async def test_over_long_line_then_good_line(make_settings: Callable[..., Settings]) -> None:
    engine = (await start_server(make_settings(max_line_bytes=1024))).engine
    try:
        long_line = b'{"message":"' + b"L" * 5000 + b'"}\n'
        replies = await exchange(tcp_port(engine), GOOD % b"one" + long_line + GOOD % b"two")
        assert replies == [
            {"error": "line is longer than 1024 bytes; skipped to the next newline", "line": 2},
            {"ok": True, "stored": 2, "rejected": 1},
        ]
        assert messages(engine) == ["one", "two"]
    finally:
        await engine.stop()


async def test_one_mib_default_limit(engine: Engine) -> None:
    limit = 1024 * 1024
    assert engine.settings.max_line_bytes == limit
    head, tail = b'{"message":"', b'"}'
    fits = head + b"F" * (limit - len(head) - len(tail)) + tail
    too_long = head + b"T" * (limit + 1 - len(head) - len(tail)) + tail
    assert (len(fits), len(too_long)) == (limit, limit + 1)
    replies = await exchange(tcp_port(engine), fits + b"\n" + too_long + b"\n" + GOOD % b"after")
    assert replies == [
        {"error": f"line is longer than {limit} bytes; skipped to the next newline", "line": 2},
        {"ok": True, "stored": 2, "rejected": 1},
    ]
    stored = rows(engine.settings.db, f"SELECT length(message) FROM events WHERE {USER_ROWS} ORDER BY id")
    assert stored == [(limit - len(head) - len(tail),), (5,)]


def _rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


async def test_endless_line_keeps_memory_bounded(make_settings: Callable[..., Settings]) -> None:
    limit = 64 * 1024
    engine = (await start_server(make_settings(max_line_bytes=limit))).engine
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
        chunk = b"x" * (256 * 1024)
        rss_before = _rss_bytes()
        peak_pending = 0
        for _ in range(200):  # 50 MiB, no newline
            writer.write(chunk)
            await writer.drain()
            for connection in engine._connections:
                peak_pending = max(peak_pending, connection._decoder.pending_bytes)
        rss_growth = _rss_bytes() - rss_before
        assert peak_pending <= limit
        assert rss_growth < 20 * 1024 * 1024, f"RSS grew by {rss_growth / 1e6:.1f} MB"
        writer.write(b'\n{"message":"still alive"}\n{"sync": true}\n')
        writer.write_eof()
        data = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        assert data.splitlines() == [
            b'{"error":"line is longer than 65536 bytes; skipped to the next newline","line":1}',
            b'{"ok":true,"stored":1,"rejected":1}',
        ]
        assert messages(engine) == ["still alive"]
        assert engine.counters.rejected == 1
    finally:
        await engine.stop()


async def test_http_request_to_the_tcp_port_is_refused(engine: Engine) -> None:
    request = (
        b"POST /v1/events HTTP/1.1\r\n"
        b"Host: localhost:7411\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Length: 22\r\n\r\n"
        b'{"message":"smuggled"}\n'
    )
    replies = await exchange(tcp_port(engine), request)  # the sync line is never answered
    assert replies == []
    assert engine.counters.http_refused == 1
    # the server is alive and nothing from that connection was stored
    assert await exchange(tcp_port(engine), GOOD % b"legit") == [{"ok": True, "stored": 1}]
    assert messages(engine) == ["legit"]
    assert engine.counters.received == 1


async def test_http_header_line_alone_is_refused(engine: Engine) -> None:
    replies = await exchange(tcp_port(engine), b"Host: 127.0.0.1:7411\r\n" + GOOD % b"same read")
    assert replies == []
    assert engine.counters.http_refused == 1
    await wait_until(lambda: engine.clients == 0, what="the connection to close")
    assert messages(engine) == []


async def test_bad_lines_are_counted_per_connection(engine: Engine) -> None:
    """Each connection's sync reply counts only its own lines."""
    port = tcp_port(engine)
    first, second = await asyncio.gather(
        exchange(port, b"\xffbad\x00\n" + GOOD % b"a"),
        exchange(port, GOOD % b"b" + GOOD % b"c"),
    )
    assert first == [{"error": first[0]["error"], "line": 1}, {"ok": True, "stored": 1, "rejected": 1}]
    assert second == [{"ok": True, "stored": 2}]
    assert sorted(messages(engine)) == ["a", "b", "c"]


async def test_connection_reset_mid_line_is_counted(engine: Engine) -> None:
    """A client that dies mid-line (RST, no EOF) still has its torn line counted."""
    import socket
    import struct

    sock = socket.create_connection(("127.0.0.1", tcp_port(engine)))
    sock.sendall(b'{"message":"complete"}\n{"message":"torn')
    await wait_until(lambda: engine.counters.received == 1, what="the complete line")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST
    await wait_until(lambda: engine.clients == 0, what="the reset to be noticed")
    assert engine.counters.rejected == 1
    await wait_until(lambda: engine.counters.stored >= 2, what="the complete line stored")
    assert messages(engine) == ["complete"]
