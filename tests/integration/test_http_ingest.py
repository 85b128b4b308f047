"""POST /v1/events: every body shape, ?wait=true, and every bad body the issue lists."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Callable
from typing import Any

import orjson

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.filters import EMPTY_FILTER
from tests.integration.http_support import http_base, rows, start
from tests.support.writer import WARM_UP_MESSAGE, spend_eager_write

pytest_plugins = ["tests.integration.http_fixtures"]

JSON = {"Content-Type": "application/json"}


async def post(client: Any, engine: Engine, body: bytes, headers: dict[str, str], query: str = "") -> Any:
    async with client.post(f"{http_base(engine)}/v1/events{query}", data=body, headers=headers) as response:
        return response.status, await response.json(content_type=None), response.headers


async def test_object_array_and_ndjson_are_stored(http_engine: Engine, client: Any) -> None:
    status, body, _ = await post(client, http_engine, b'{"message": "one"}', JSON)
    assert (status, body) == (202, {"accepted": 1, "rejected": []})
    status, body, _ = await post(
        client, http_engine, b'[{"message": "two"}, {"message": "three", "type": "warning"}]', JSON
    )
    assert (status, body) == (202, {"accepted": 2, "rejected": []})
    ndjson = b'{"message": "four"}\n{"message": "five", "level": "error"}\n'
    status, body, _ = await post(
        client, http_engine, ndjson, {"Content-Type": "application/x-ndjson"}, "?wait=true"
    )
    assert status == 200
    assert body["accepted"] == 2
    assert body["stored"] == 2
    assert rows(http_engine) == [
        ("info", "one", "api"),
        ("info", "two", "api"),
        ("warn", "three", "api"),
        ("info", "four", "api"),
        ("error", "five", "api"),
    ]


async def test_wait_answers_after_commit(http_engine: Engine, client: Any) -> None:
    status, body, _ = await post(client, http_engine, b'{"message": "durable"}', JSON, "?wait=true")
    assert status == 200
    assert body["stored"] == 1
    assert rows(http_engine) == [("info", "durable", "api")]  # visible at once, no polling


async def test_partial_rejection_names_index_and_field(http_engine: Engine, client: Any) -> None:
    body_in = b'[{"message": "ok"}, {"message": ""}, {"message": "x", "type": "loud"}, 7]'
    status, body, _ = await post(client, http_engine, body_in, JSON, "?wait=true")
    assert status == 200
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert "message" in body["rejected"][0]["error"]
    assert "type" in body["rejected"][1]["error"]
    assert http_engine.counters.rejected == 3
    assert rows(http_engine) == [("info", "ok", "api")]


async def test_ndjson_with_a_bad_line_keeps_the_others(http_engine: Engine, client: Any) -> None:
    body_in = b'{"message": "a"}\n{not json\n{"message": "b"}\n'
    status, body, _ = await post(client, http_engine, body_in, JSON, "?wait=true")
    assert status == 200
    assert body["accepted"] == 2
    assert body["rejected"][0]["index"] == 1
    assert "invalid JSON" in body["rejected"][0]["error"]


async def test_browser_requests_default_to_source_client(http_engine: Engine, client: Any) -> None:
    headers = {
        "Content-Type": "text/plain;charset=UTF-8",
        "Origin": "http://localhost:5173",
        "User-Agent": "Tester/1",
    }
    status, _, response_headers = await post(
        client, http_engine, b'{"message": "from page"}', headers, "?wait=true"
    )
    assert status == 200
    assert response_headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert rows(http_engine) == [("info", "from page", "client")]
    events = await http_engine.events(EMPTY_FILTER, limit=5)
    assert [e.user_agent for e in events if e.source == "client"] == ["Tester/1"]


async def test_not_json_is_400_and_stores_nothing(http_engine: Engine, client: Any) -> None:
    status, body, _ = await post(client, http_engine, b"hello there", JSON)
    assert status == 400
    assert body["error"].startswith("invalid JSON")
    status, body, _ = await post(client, http_engine, b"42", JSON)
    assert status == 400
    assert "JSON object" in body["error"]
    status, body, _ = await post(client, http_engine, b"", JSON)
    assert status == 400
    assert "empty body" in body["error"]
    status, body, _ = await post(client, http_engine, b'{"message": 5}', JSON)
    assert status == 400
    assert body["error"] == "message must be a string, got a number"
    await post(client, http_engine, b'{"message": "marker"}', JSON, "?wait=true")
    assert rows(http_engine) == [("info", "marker", "api")]


async def test_wrong_content_type_is_415(http_engine: Engine, client: Any) -> None:
    for content_type in (
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ):
        status, body, _ = await post(client, http_engine, b'{"message": "x"}', {"Content-Type": content_type})
        assert status == 415, content_type
        assert "Content-Type" in body["error"]
        assert "application/json" in body["error"]
    status, body, _ = await post(
        client, http_engine, b'{"message": "x"}', {"Content-Type": "application/json; charset=latin-1"}
    )
    assert status == 415
    assert "charset" in body["error"]
    assert rows(http_engine) == []


async def test_two_mib_body_is_413_without_reading_it(http_engine: Engine) -> None:
    port = int(http_base(http_engine).rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    # Declare 2 MiB but send none of it: the answer must come from the header alone.
    writer.write(
        b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2097152\r\n\r\n"
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 413")
    writer.close()


async def test_expect_continue_is_refused_before_the_body_is_sent(http_engine: Engine) -> None:
    port = int(http_base(http_engine).rsplit(":", 1)[1])
    for extra, status in (
        (b"Host: 127.0.0.1\r\nContent-Length: 2097152\r\n", b"413"),
        (b"Host: evil.example\r\nContent-Length: 20\r\n", b"403"),
        (b"Host: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Length: 20\r\n", b"403"),
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /v1/events HTTP/1.1\r\n" + extra + b"Expect: 100-continue\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 " + status), head  # no "100 Continue" first
        writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b'{"message": "continued"}'
    writer.write(
        b"POST /v1/events?wait=true HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    await writer.drain()
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).startswith(b"HTTP/1.1 100")
    writer.write(body)
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).startswith(b"HTTP/1.1 200")
    writer.close()
    assert rows(http_engine) == [("info", "continued", "api")]


async def test_chunked_body_over_the_limit_is_413(http_engine: Engine, client: Any) -> None:
    big = b'[{"message": "' + b"x" * (2 * 1024 * 1024) + b'"}]'

    async def chunks() -> Any:
        for offset in range(0, len(big), 65536):
            yield big[offset : offset + 65536]

    async with client.post(f"{http_base(http_engine)}/v1/events", data=chunks(), headers=JSON) as response:
        assert response.status == 413
        assert "larger than" in (await response.json())["error"]
    assert rows(http_engine) == []


async def test_gzip_and_deflate_bodies_are_accepted(http_engine: Engine, client: Any) -> None:
    body = orjson.dumps([{"message": f"zipped {i}"} for i in range(50)])
    status, answer, _ = await post(
        client, http_engine, gzip.compress(body), {**JSON, "Content-Encoding": "gzip"}, "?wait=true"
    )
    assert (status, answer["accepted"]) == (200, 50)
    status, answer, _ = await post(
        client, http_engine, zlib.compress(body), {**JSON, "Content-Encoding": "deflate"}, "?wait=true"
    )
    assert (status, answer["accepted"]) == (200, 50)
    assert len(rows(http_engine)) == 100


async def test_gzip_bomb_is_413_and_stores_nothing(http_engine: Engine, client: Any) -> None:
    inner = b'[{"message": "bomb", "details": "' + b"A" * (64 * 1024 * 1024) + b'"}]'
    bomb = gzip.compress(inner, compresslevel=9)
    assert len(bomb) < 200_000  # small on the wire, 64 MiB inflated
    status, answer, _ = await post(client, http_engine, bomb, {**JSON, "Content-Encoding": "gzip"})
    assert status == 413
    assert "decompressed body larger than" in answer["error"]
    status, answer, _ = await post(client, http_engine, b"not gzip", {**JSON, "Content-Encoding": "gzip"})
    assert status == 400
    assert "compressed" in answer["error"]
    status, answer, _ = await post(client, http_engine, b"{}", {**JSON, "Content-Encoding": "br"})
    assert status == 415
    assert "Content-Encoding" in answer["error"]
    assert rows(http_engine) == []


async def test_full_queue_answers_429_with_retry_after(
    make_settings: Callable[..., Settings], client: Any
) -> None:
    # The writer waits for 500 events or 60 s, so ten queued events keep the queue full.
    engine = await start(
        make_settings(
            http="127.0.0.1:0", queue_size=10, batch_interval_ms=60_000, enable_system_logging=False
        )
    )
    try:
        await spend_eager_write(engine)  # else the idle writer takes the ten at once
        ten = orjson.dumps([{"message": f"e{i}"} for i in range(10)])
        status, _, _ = await post(client, engine, ten, JSON)
        assert status == 202
        status, answer, headers = await post(client, engine, b'{"message": "one more"}', JSON)
        assert status == 429
        assert headers["Retry-After"] == "1"
        assert "busy" in answer["error"]
        assert engine.counters.overflow == 1
    finally:
        await engine.stop()
    assert [message for _, message, _ in rows(engine)] == [WARM_UP_MESSAGE] + [f"e{i}" for i in range(10)]


async def test_wait_parameter_must_be_boolean(http_engine: Engine, client: Any) -> None:
    status, answer, _ = await post(client, http_engine, b'{"message": "x"}', JSON, "?wait=maybe")
    assert status == 400
    assert "wait" in answer["error"]
    status, answer, _ = await post(client, http_engine, b'{"message": "x"}', JSON, "?wiat=true")
    assert status == 400
    assert "unknown parameter 'wiat'" in answer["error"]
    assert rows(http_engine) == []
