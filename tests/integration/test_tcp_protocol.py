"""The TCP protocol's good paths: sync acknowledgements, aliases, defaults, limits,
idempotency and replies that never block ingest."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime

from sidelog.engine import Engine
from tests.conftest import tcp_port
from tests.integration.spine_support import USER_ROWS, event_line, exchange, messages, rows, wait_until

COLUMNS = (
    "event_uid, category, level, message, details, user_id, session_id, url, user_agent, "
    "timestamp, source, show_to_user, user_message, resolved, fingerprint"
)


def stored_rows(engine: Engine) -> list[dict[str, object]]:
    names = [name.strip() for name in COLUMNS.split(",")]
    found = rows(engine.settings.db, f"SELECT {COLUMNS} FROM events WHERE {USER_ROWS} ORDER BY id")
    return [dict(zip(names, row, strict=True)) for row in found]


async def test_sync_with_nothing_sent(engine: Engine) -> None:
    assert await exchange(tcp_port(engine), b"") == [{"ok": True, "stored": 0}]


async def test_sync_acknowledges_committed_rows(engine: Engine) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
    writer.write(event_line(message="a") + event_line(message="b") + b'{"sync": true}\n')
    first = json.loads(await asyncio.wait_for(reader.readline(), 10))
    assert first == {"ok": True, "stored": 2}
    # durable: visible to another connection the moment the ack arrives
    assert messages(engine) == ["a", "b"]
    writer.write(b"\xffoops\x00\n" + event_line(message="c") + b'{"sync": true}\n')
    error = json.loads(await asyncio.wait_for(reader.readline(), 10))
    assert error["line"] == 4
    second = json.loads(await asyncio.wait_for(reader.readline(), 10))
    assert second == {"ok": True, "stored": 3, "rejected": 1}  # counts are per connection, cumulative
    assert messages(engine) == ["a", "b", "c"]
    writer.close()
    await writer.wait_closed()


async def test_sync_is_not_mistaken_for_an_event(engine: Engine) -> None:
    replies = await exchange(tcp_port(engine), b'{"sync": true}\n{"message":"m","sync":true}\n')
    assert replies == [{"ok": True, "stored": 0}, {"ok": True, "stored": 1}]
    assert stored_rows(engine)[0]["details"] == '{"sync":true}'


async def test_defaults_on_a_socket(engine: Engine) -> None:
    await exchange(tcp_port(engine), event_line(message="plain") + event_line(message="bad", type="error"))
    plain, error = stored_rows(engine)
    assert plain == {
        "event_uid": None,
        "category": "general",
        "level": "info",
        "message": "plain",
        "details": None,
        "user_id": None,
        "session_id": None,
        "url": None,
        "user_agent": None,
        "timestamp": plain["timestamp"],
        "source": "server",
        "show_to_user": None,
        "user_message": None,
        "resolved": None,
        "fingerprint": None,
    }
    received = rows(engine.settings.db, "SELECT received_at FROM events WHERE message = 'plain'")[0][0]
    assert plain["timestamp"] == received  # default: time received
    assert error["level"] == "error"
    assert error["resolved"] == 0
    assert isinstance(error["fingerprint"], str)


async def test_every_alias_and_unknown_fields(engine: Engine) -> None:
    line = event_line(
        msg="aliased",
        level="CRITICAL",
        category="Payment",
        user_id="u1",
        session_id="s1",
        user_agent="curl/8",
        ts="2024-05-01T12:00:00Z",
        show_to_user=True,
        user_message="Sorry!",
        url="http://localhost:3000/pay",
        source="Client",
        orderId=42,
        tags=["x"],
    )
    assert await exchange(tcp_port(engine), line) == [{"ok": True, "stored": 1}]
    (row,) = stored_rows(engine)
    assert row["message"] == "aliased"
    assert row["level"] == "error"
    assert row["category"] == "payment"
    assert (row["user_id"], row["session_id"], row["user_agent"]) == ("u1", "s1", "curl/8")
    assert row["timestamp"] == int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp() * 1000)
    assert (row["show_to_user"], row["user_message"]) == (1, "Sorry!")
    assert row["url"] == "http://localhost:3000/pay"
    assert row["source"] == "client"
    assert json.loads(str(row["details"])) == {"orderId": 42, "tags": ["x"]}
    assert row["resolved"] == 0


async def test_level_aliases_on_the_wire(engine: Engine) -> None:
    spellings = ["warning", "err", "fatal", "critical", "trace", "WARN", "Debug", "INFO", "Error"]
    payload = b"".join(event_line(message=s, type=s) for s in spellings)
    assert await exchange(tcp_port(engine), payload) == [{"ok": True, "stored": len(spellings)}]
    levels = [row["level"] for row in stored_rows(engine)]
    assert levels == ["warn", "error", "error", "error", "debug", "warn", "debug", "info", "error"]


async def test_timestamps_in_ms_and_iso(engine: Engine) -> None:
    payload = (
        event_line(message="ms", timestamp=1_700_000_000_123)
        + event_line(message="iso", timestamp="2023-11-14T22:13:20.123+00:00")
        + event_line(message="ts", ts=5)
    )
    await exchange(tcp_port(engine), payload)
    assert [row["timestamp"] for row in stored_rows(engine)] == [1_700_000_000_123, 1_700_000_000_123, 5]


async def test_limits_on_the_wire(engine: Engine) -> None:
    deep: object = "leaf"
    for _ in range(32):
        deep = {"k": deep}
    payload = (
        event_line(message="fits", url="u" * 8192, id="i" * 128, details=deep)
        + event_line(message="too deep", details={"wrap": deep})
        + event_line(message="long url", url="u" * 8193)
        + event_line(message="long id", id="i" * 129)
        + event_line(message="M" * 100_000)
    )
    replies = await exchange(tcp_port(engine), payload)
    assert replies == [
        {"error": "details nests deeper than 32 levels", "line": 2},
        {"error": "url is longer than 8192 bytes", "line": 3},
        {"error": "id must be 1 to 128 characters", "line": 4},
        {"ok": True, "stored": 2, "rejected": 3},
    ]
    assert [len(m) for m in messages(engine)] == [4, 100_000]


async def test_idempotent_id_across_lines_and_within_one_batch(engine: Engine) -> None:
    port = tcp_port(engine)
    first = event_line(message="once", id="order-7") + event_line(message="again", id="order-7")
    array = b'[{"message":"in array","id":"k1"},{"message":"in array dup","id":"k1"},{"message":"free"}]\n'
    # Accepted, not stored twice: the reply says how many were already there.
    assert await exchange(port, first + array) == [{"ok": True, "stored": 5, "duplicates": 2}]
    assert await exchange(port, event_line(message="later", id="order-7")) == [
        {"ok": True, "stored": 1, "duplicates": 1}
    ]
    assert messages(engine) == ["once", "in array", "free"]
    assert engine.counters.duplicates == 3
    uids = rows(engine.settings.db, "SELECT event_uid FROM events WHERE event_uid IS NOT NULL ORDER BY id")
    assert uids == [("order-7",), ("k1",)]


async def test_replies_never_block_ingest(engine: Engine) -> None:
    """A client that never reads loses replies, not events."""
    good = 3_000
    bad_per_good = 40
    parts = []
    for i in range(good):
        parts.append(b"\xff\x00\n" * bad_per_good)
        parts.append(event_line(message=f"good {i}"))
    replies = await exchange(tcp_port(engine), b"".join(parts), rcvbuf=4096)
    ack = replies[-1]
    assert ack == {"ok": True, "stored": good, "rejected": good * bad_per_good}
    assert engine.counters.replies_dropped > 0  # replies were shed rather than blocking the reader
    assert len(replies) - 1 + engine.counters.replies_dropped == good * bad_per_good
    assert rows(
        engine.settings.db, f"SELECT count(*), count(DISTINCT message) FROM events WHERE {USER_ROWS}"
    ) == [(good, good)]


async def test_auth_line_from_a_loopback_client_is_harmless(engine: Engine) -> None:
    """A client configured with a token (SIDELOG_TOKEN) still works against a local sidelog."""
    replies = await exchange(tcp_port(engine), b'{"auth": "whatever"}\n' + event_line(message="after auth"))
    assert replies == [{"ok": True, "stored": 1}]
    assert engine.counters.auth_failed == 0
    assert messages(engine) == ["after auth"]


async def test_connection_count(engine: Engine) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
    writer.write(b'{"sync": true}\n')
    await reader.readline()
    assert engine.clients == 1
    writer.close()
    await writer.wait_closed()
    await wait_until(lambda: engine.clients == 0, what="the connection to be counted out")


async def test_sync_flood_without_reading_keeps_memory_bounded(engine: Engine) -> None:
    """Even acknowledgements stop being buffered for a client that never reads them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", tcp_port(engine)))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(b'{"sync":true}\n')
    await reader.readline()
    (connection,) = engine._connections
    # a small kernel send buffer too, so the server's own buffer fills sooner
    connection._transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    chunk = b'{"sync":true}\n' * 10_000
    for _ in range(25):  # 3.5 MiB of sync lines: 5.7 MiB of acknowledgements if all were kept
        writer.write(chunk)
        await writer.drain()
    writer.write(event_line(message="after the flood") + b'{"sync":true}\n')
    await writer.drain()
    await wait_until(lambda: engine.stored_total >= 2, what="the last event")
    assert connection._transport.get_write_buffer_size() <= 4 * 1024 * 1024 + 64
    assert engine.counters.replies_dropped > 0
    writer.close()
    await writer.wait_closed()
    assert messages(engine) == ["after the flood"]
