"""GET /v1/stream: live events, filters, Last-Event-ID replay, heartbeats, slow clients."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import orjson

from sidelog.engine import Engine
from tests.integration.http_support import FAST, http_base, http_port
from tests.support.wait import until

pytest_plugins = ["tests.integration.http_fixtures"]


async def ingest(client: Any, engine: Engine, events: list[dict[str, Any]]) -> None:
    url = f"{http_base(engine)}/v1/events?wait=true"
    async with client.post(url, data=orjson.dumps(events), headers={"Content-Type": "application/json"}) as r:
        assert r.status == 200, await r.text()


async def until_connected(response: Any) -> None:
    async with asyncio.timeout(5):
        while (await response.content.readline()) != b": connected\n":
            pass


async def read_events(response: Any, count: int) -> list[tuple[str | None, dict[str, Any]]]:
    """The next ``count`` SSE messages as ``(id, event)``; skips comments and system events."""
    events: list[tuple[str | None, dict[str, Any]]] = []
    data: str | None = None
    event_id: str | None = None
    async with asyncio.timeout(5):
        while len(events) < count:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line == "":
                if data is not None:
                    event = json.loads(data)
                    if event["source"] != "system":
                        events.append((event_id, event))
                data = event_id = None
            elif line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                data = line[6:]
    return events


async def wait_for(condition: Any, timeout: float = 10.0) -> None:
    await until(condition, timeout)


async def test_live_events_with_filters(http_engine: Engine, client: Any) -> None:
    before = http_engine.clients
    async with client.get(f"{http_base(http_engine)}/v1/stream?level=error&category=payment") as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        await until_connected(stream)
        assert http_engine.clients == before + 1
        await ingest(
            client,
            http_engine,
            [
                {"message": "fine", "category": "payment"},
                {"message": "declined", "type": "error", "category": "payment"},
                {"message": "other", "type": "error", "category": "auth"},
            ],
        )
        [(event_id, event)] = await read_events(stream, 1)
        assert event["message"] == "declined"
        assert event_id == str(event["id"])
    await wait_for(lambda: http_engine.clients == before)


async def test_last_event_id_replays_then_follows_without_gaps(http_engine: Engine, client: Any) -> None:
    await ingest(client, http_engine, [{"message": f"old {i}", "category": "replay"} for i in range(5)])
    async with client.get(f"{http_base(http_engine)}/v1/events?category=replay&limit=5") as r:
        ids = sorted(e["id"] for e in (await r.json())["events"])
    headers = {"Last-Event-ID": str(ids[1])}
    async with client.get(f"{http_base(http_engine)}/v1/stream?category=replay", headers=headers) as stream:
        replayed = await read_events(stream, 3)
        assert [e["message"] for _, e in replayed] == ["old 2", "old 3", "old 4"]
        assert [int(i or 0) for i, _ in replayed] == ids[2:]
        await ingest(client, http_engine, [{"message": "new", "category": "replay"}])
        [(_, live)] = await read_events(stream, 1)
        assert live["message"] == "new"


async def test_heartbeats_keep_a_quiet_stream_alive(http_engine: Engine, client: Any) -> None:
    async with client.get(f"{http_base(http_engine)}/v1/stream") as stream:
        await until_connected(stream)
        async with asyncio.timeout(5):
            while (await stream.content.readline()) != b": ping\n":
                pass


async def test_bad_last_event_id_is_400(http_engine: Engine, client: Any) -> None:
    async with client.get(f"{http_base(http_engine)}/v1/stream", headers={"Last-Event-ID": "abc"}) as r:
        assert r.status == 400
        assert "Last-Event-ID" in (await r.json())["error"]


async def test_client_that_never_reads_is_dropped_and_others_are_served(
    http_engine: Engine, client: Any
) -> None:
    baseline = http_engine.clients
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", http_port(http_engine)))
    await loop.sock_sendall(sock, b"GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    try:
        await wait_for(lambda: http_engine.clients == baseline + 1)
        padding = "x" * 8000
        # ~16 MB of events for a client that reads nothing: far more than socket buffers hold.
        for round_ in range(20):
            batch = [{"message": f"flood {round_}.{i}", "details": {"pad": padding}} for i in range(100)]
            await ingest(client, http_engine, batch)
            if http_engine.clients == baseline:
                break
        await wait_for(lambda: http_engine.clients == baseline, timeout=FAST.stream.write_timeout_s + 5)
        async with client.get(f"{http_base(http_engine)}/v1/health") as r:
            assert r.status == 200
        await ingest(client, http_engine, [{"message": "after"}])  # commits the drop report too
        async with client.get(f"{http_base(http_engine)}/v1/events?source=system&q=stopped+reading") as r:
            assert len((await r.json())["events"]) == 1
    finally:
        sock.close()


async def test_stream_limit_answers_503(http_engine: Engine, client: Any) -> None:
    streams = []
    try:
        for _ in range(FAST.stream.max_clients):
            response = await client.get(f"{http_base(http_engine)}/v1/stream")
            streams.append(response)
            await until_connected(response)
        async with client.get(f"{http_base(http_engine)}/v1/stream") as r:
            assert r.status == 503
            assert "too many live streams" in (await r.json())["error"]
    finally:
        for response in streams:
            response.close()


async def test_stop_ends_open_streams_promptly(make_settings: Any, client: Any) -> None:
    from tests.integration.http_support import start

    engine = await start(make_settings(http="127.0.0.1:0"))
    stopped = False
    try:
        async with client.get(f"{http_base(engine)}/v1/stream") as stream:
            await until_connected(stream)
            started = time.monotonic()
            await engine.stop()
            stopped = True
            assert time.monotonic() - started < 3
            async with asyncio.timeout(5):
                while await stream.content.readline():
                    pass
    finally:
        if not stopped:
            await engine.stop()


async def test_lagging_client_is_told_and_resumes_without_loss(make_settings: Any, client: Any) -> None:
    from sidelog.ingest.http import HttpOptions
    from sidelog.ingest.http_stream import StreamOptions
    from tests.integration.http_support import start

    options = HttpOptions(stream=StreamOptions(heartbeat_s=5, write_timeout_s=20, buffer_bytes=64 * 1024))
    engine = await start(make_settings(http="127.0.0.1:0", enable_system_logging=False), options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_connect(sock, ("127.0.0.1", http_port(engine)))
        await loop.sock_sendall(sock, b"GET /v1/stream?category=lag HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await wait_for(lambda: engine.clients == 1)
        padding = "y" * 8000
        for round_ in range(20):  # 20 committed batches while the client reads nothing
            await ingest(
                client,
                engine,
                [{"message": f"{round_}.{i}", "category": "lag", "details": padding} for i in range(50)],
            )
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)  # now read fast
        received = b""
        async with asyncio.timeout(20):
            while chunk := await loop.sock_recv(sock, 1 << 20):
                received += chunk
    finally:
        sock.close()
    try:
        assert b"event: lagged\n" in received
        seen = [int(line[4:]) for line in received.split(b"\n") if line.startswith(b"id: ")]
        last = json.loads(received.split(b"event: lagged\ndata: ")[1].split(b"\n")[0])["lastEventId"]
        assert last == seen[-1]
        headers = {"Last-Event-ID": str(last)}
        async with client.get(f"{http_base(engine)}/v1/stream?category=lag", headers=headers) as stream:
            rest = await read_events(stream, 1000 - len(seen))
        ids = seen + [int(event_id or 0) for event_id, _ in rest]
        assert len(ids) == len(set(ids)) == 1000  # every event once, none twice
        assert ids == sorted(ids)
    finally:
        await engine.stop()
