"""Bad Sentry input over real HTTP: each case a 4xx with a JSON reason, or the bad item skipped
and counted with the rest kept; memory bounded; never a 500."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import AsyncIterator, Callable
from typing import Any

import brotli
import orjson

from sidelog.config import Settings
from sidelog.fingerprint import top_frame
from tests.receivers.conftest import Receiver, start_receiver, stored
from tests.receivers.envelopes import EVENT, envelope, event, item, post
from tests.support.writer import spend_eager_write

MIB = 1024 * 1024


async def test_bad_framing_keeps_the_good_items(receiver: Receiver, client: Any) -> None:
    url = f"{receiver.base}/api/1/envelope/"
    good = item("event", event(event_id=None, exception=None, message="kept"))
    status, answer, _ = await post(client, url, b"this is not json\n" + good)
    assert status == 400
    assert "envelope header" in answer["error"]
    status, answer, _ = await post(client, url, b"")
    assert status == 400
    assert "empty body" in answer["error"]
    # An item without a type, then a good one, then one whose length runs past the body.
    body = envelope(b'{"length": 2}\n{}\n' + good + b'{"type": "event", "length": 5000}\n{"short": 1}')
    status, answer, _ = await post(client, url, body)
    assert status == 200
    assert answer["accepted"] == 1
    assert [r["error"] for r in answer["rejected"]] == [
        "item 0 has no type",
        "item 2 (event) declares length 5000 but the envelope ends 4988 bytes short",
    ]
    # An item header that is not JSON: the items before it are kept, the rest skipped.
    status, answer, _ = await post(client, url, envelope(good, b"{nope\n", good))
    assert status == 200
    assert answer["accepted"] == 1
    assert (
        answer["rejected"][0]["error"]
        == "item 1 header is not a JSON object; the rest of the envelope was skipped"
    )
    # The header's DSN names another host: ignored, this is a local inbox.
    header = {"event_id": "7" * 32, "dsn": "https://key@o1.ingest.sentry.io/5"}
    status, answer, _ = await post(client, url, envelope(good, header=header))
    assert (status, answer["id"], answer["accepted"]) == (200, "7" * 32, 1)
    # Nothing usable at all: a 4xx with the reason.
    status, answer, _ = await post(client, url, envelope(b'{"length": 0}\n\n'))
    assert status == 400
    assert answer["error"] == "item 0 has no type"
    rows = await stored(receiver, 3)
    assert [r["message"] for r in rows] == ["kept"] * 3
    health = await receiver.server.engine.health()
    assert health.to_wire()["drops"]["rejected"] == 4  # each refused item, once


async def test_ten_thousand_items(receiver: Receiver, client: Any) -> None:
    log = item("log", {"items": [{"level": "info", "body": "x"}]})
    status, answer, _ = await post(client, f"{receiver.base}/stream", envelope(*([log] * 10_000)))
    assert status == 200
    assert (answer["accepted"], answer["rejectedCount"]) == (1000, 9000)
    assert answer["rejected"][0]["error"] == "more than 1000 items in one envelope; item 1000 skipped"
    assert len(answer["rejected"]) == 100
    await stored(receiver, 1000)


async def test_huge_item_streams_past_in_bounded_memory(receiver: Receiver, client: Any) -> None:
    good = item("event", event(event_id=None, exception=None, message="after the big one"))

    async def body() -> AsyncIterator[bytes]:
        # Sent in 64 KiB pieces so the client itself buffers little: the peak measured
        # is the server's (they share this process).
        chunk = b"x" * (64 * 1024)
        yield envelope(b'{"type": "event", "length": %d}\n' % (50 * MIB))
        for _ in range(50 * 16):
            yield chunk
        yield b'\n{"type": "attachment", "length": %d, "filename": "dump.bin"}\n' % (5 * MIB)
        for _ in range(5 * 16):
            yield chunk
        yield b"\n" + good

    tracemalloc.start()
    try:
        status, answer, _ = await post(client, f"{receiver.base}/api/1/envelope/", body())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 200
    assert answer["accepted"] == 1
    assert "is 52428800 bytes, over the 1048576-byte limit" in answer["rejected"][0]["error"]
    assert answer["counted"] == {"sentry.attachment": 1}
    assert peak < 4 * MIB, f"peak {peak} bytes while 56 MiB streamed through"
    [row] = await stored(receiver, 1)
    assert row["message"] == "after the big one"


async def test_compression_bombs_and_bad_encodings(receiver: Receiver, client: Any) -> None:
    url = f"{receiver.base}/api/1/envelope/"
    inner = envelope(item("event", event(event_id=None)), b'{"type": "attachment"}\n') + b"0" * (100 * MIB)
    for encoding, bomb in (("gzip", gzip.compress(inner)), ("br", brotli.compress(inner, quality=4))):
        assert len(bomb) < 200_000
        status, answer, _ = await post(client, url, bomb, {"Content-Encoding": encoding})
        assert status == 413, encoding
        assert answer["error"] == f"decompressed envelope larger than {64 * MIB} bytes"
    status, answer, _ = await post(
        client, url, gzip.compress(inner[:1000])[:200], {"Content-Encoding": "gzip"}
    )
    assert status == 400
    assert "truncated" in answer["error"]
    status, answer, _ = await post(client, url, b"garbage", {"Content-Encoding": "gzip"})
    assert status == 400
    assert "not valid gzip" in answer["error"]
    status, answer, _ = await post(client, url, b"{}\n", {"Content-Encoding": "zstd"})
    assert status == 415
    assert "Content-Encoding 'zstd'" in answer["error"]
    assert receiver.count() == 0


async def test_deep_exception_chains_and_deep_json(receiver: Receiver, client: Any) -> None:
    chained = [
        {"type": f"Error{i}", "value": f"level {i}", "mechanism": {"source": "__cause__"}}
        for i in range(10_000)
    ]
    deep_json = b'{"contexts": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_000 + b"}"
    somewhat_deep: Any = 1
    for _ in range(60):
        somewhat_deep = [somewhat_deep]
    body = envelope(
        item("event", event(event_id=None, exception={"values": chained})),
        item("event", deep_json),
        item("event", event(event_id=None, extra={"deep": somewhat_deep})),
    )
    status, answer, _ = await post(client, f"{receiver.base}/stream", body)
    assert status == 200
    assert (answer["accepted"], answer["rejectedCount"]) == (2, 1)
    assert "payload is not JSON" in answer["rejected"][0]["error"]
    chain_row, deep_row = await stored(receiver, 2)
    assert chain_row["message"] == "Error9999: level 9999"
    stack = chain_row["details"]["exception"]["stack"]
    assert stack.startswith("[… 9990 earlier chained exceptions omitted]")
    assert stack.count("The above exception was the direct cause") == 9
    assert "…" in orjson.dumps(deep_row["details"]["extra"]).decode()  # cut at the details depth limit


async def test_a_hundred_thousand_frames(make_settings: Callable[..., Settings], client: Any) -> None:
    receiver = await start_receiver(make_settings(http="127.0.0.1:0", max_line_bytes=8 * MIB))
    try:
        frames = [{"filename": f"lib/m{i}.py", "function": f"f{i}", "lineno": i} for i in range(99_999)]
        frames.append({"filename": "app.py", "function": "charge_card", "lineno": 3, "in_app": True})
        doc = event(
            event_id=None,
            exception={"values": [{"type": "RecursionError", "stacktrace": {"frames": frames}}]},
        )
        status, answer, _ = await post(client, f"{receiver.base}/stream", envelope(item("event", doc)))
        assert (status, answer["accepted"]) == (200, 1)
        [row] = await stored(receiver, 1)
        stack = row["details"]["exception"]["stack"]
        assert "[… 99950 older frames omitted: the innermost 50 are kept]" in stack
        assert stack.count('  File "') == 50
        assert top_frame(stack) == "app.py:charge_card"
    finally:
        await receiver.server.stop()


async def test_full_queue_answers_429(make_settings: Callable[..., Settings], client: Any) -> None:
    # The writer waits for 500 events or 60 s, so ten queued events keep the queue full.
    settings = make_settings(
        http="127.0.0.1:0", queue_size=10, batch_interval_ms=60_000, enable_system_logging=False
    )
    receiver = await start_receiver(settings)
    try:
        await spend_eager_write(receiver.server.engine)  # else the idle writer takes the ten at once
        ten = envelope(item("log", {"items": [{"level": "info", "body": f"e{i}"} for i in range(10)]}))
        assert (await post(client, f"{receiver.base}/stream", ten))[0] == 200
        status, answer, headers = await post(
            client, f"{receiver.base}/api/1/envelope/", envelope(item("event", EVENT))
        )
        assert status == 429
        assert headers["Retry-After"] == "1"
        assert "queue full" in answer["error"]
    finally:
        await receiver.server.stop()
    assert receiver.count() == 11  # the ten and the warm-up event


async def test_every_route_keeps_the_host_and_origin_rules(
    make_settings: Callable[..., Settings], client: Any
) -> None:
    settings = make_settings(http="127.0.0.1:0", allowed_origins="http://dev.example:3000")
    receiver = await start_receiver(settings)
    body = envelope(item("event", event(event_id=None)))
    try:
        for path in ("/stream", "/api/1/envelope/", "/api/1/store/", "/v1/logs", "/v1/traces"):
            url = receiver.base + path
            status, answer, _ = await post(client, url, body, {"Origin": "http://evil.example"})
            assert status == 403, path
            assert "Origin 'http://evil.example' is not allowed" in answer["error"], path
            status, answer, _ = await post(client, url, body, {"Host": "evil.example"})
            assert status == 403, path
            assert "Host" in answer["error"], path
        status, _, _ = await post(
            client, f"{receiver.base}/stream", body, {"Origin": "http://dev.example:3000"}
        )
        assert status == 200
        await stored(receiver, 1)
    finally:
        await receiver.server.stop()
    assert receiver.count() == 1
