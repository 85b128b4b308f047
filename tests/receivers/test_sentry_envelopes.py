"""Sentry envelopes over real HTTP: what is stored, counted, refused, and what bad input costs."""

from __future__ import annotations

import base64
import gzip
import zlib
from collections.abc import Callable
from typing import Any

import brotli
import orjson

from sidelog.config import Settings
from sidelog.fingerprint import top_frame
from tests.receivers.conftest import Receiver, stored
from tests.receivers.envelopes import EVENT, envelope, event, item, post

MIB = 1024 * 1024


async def test_event_fields_and_grouping(receiver: Receiver, client: Any) -> None:
    url = f"{receiver.base}/api/5/envelope/"
    doc = event(
        request={"url": "http://localhost:3000/cart", "headers": {"User-Agent": "Mozilla/5.0 Test"}},
        tags={"category": "payment", "feature": "cart"},
        breadcrumbs={"values": [{"message": "opened cart"}]},
        release="shop@2",
        environment="dev",
    )
    status, answer, _ = await post(
        client, url, envelope(item("event", doc), header={"event_id": EVENT["event_id"]})
    )
    assert status == 200
    assert answer == {"id": EVENT["event_id"], "accepted": 1}
    [row] = await stored(receiver, 1)
    assert (row["level"], row["category"], row["source"]) == ("error", "payment", "sentry.python")
    assert row["message"] == "KeyError: 'sku'"
    assert (row["user_id"], row["url"], row["user_agent"]) == (
        "u_1",
        "http://localhost:3000/cart",
        "Mozilla/5.0 Test",
    )
    details = row["details"]
    assert top_frame(details["exception"]["stack"]) == "shop/cart.py:price_of"
    assert details["trace_id"] == "a" * 32
    assert details["breadcrumbs"] == [{"message": "opened cart"}]
    assert (details["release"], details["environment"], details["platform"]) == ("shop@2", "dev", "python")
    assert details["tags"] == {"category": "payment", "feature": "cart"}
    # The same error with another id, a new number in the message and a library frame
    # on top groups with the first: type + innermost in-app frame.
    deeper = event(event_id="f" * 32, tags={"category": "payment"})
    deeper["exception"] = {"values": [dict(EVENT["exception"]["values"][0])]}  # type: ignore[index]
    frames = [
        *EVENT["exception"]["values"][0]["stacktrace"]["frames"],
        {"filename": "lib.py", "function": "get"},
    ]  # type: ignore[index]
    deeper["exception"]["values"][0]["stacktrace"] = {"frames": frames}
    # The SDK's own fingerprint wins over the default; "{{ default }}" alone is the default.
    chosen = event(event_id="c" * 32, fingerprint=["payments-down"], tags={"category": "payment"})
    chosen_too = event(event_id="d" * 32, fingerprint=["payments-down"], exception=None, message="other")
    default = event(event_id="e" * 32, fingerprint=["{{ default }}"], tags={"category": "payment"})
    body = envelope(*(item("event", doc) for doc in (deeper, chosen, chosen_too, default)))
    assert (await post(client, url, body))[0] == 200
    rows = await stored(receiver, 5)
    first, second, third, fourth, fifth = (r["fingerprint"] for r in rows)
    assert first == second == fifth
    assert third == fourth != first


async def test_message_event_levels_and_browser_agent(receiver: Receiver, client: Any) -> None:
    body = envelope(
        item("event", {"message": "cache warmed", "level": "info", "logger": "shop.cache"}),
        item("event", {"logentry": {"message": "slow %s", "formatted": "slow query"}, "level": "warning"}),
        item("event", {"message": {"formatted": "disk almost full"}, "level": "fatal"}),
    )
    headers = {"Origin": "http://localhost:5173", "User-Agent": "Mozilla/5.0 Page"}
    status, answer, response = await post(client, f"{receiver.base}/api/1/envelope/", body, headers)
    assert status == 200
    assert answer["accepted"] == 3
    assert response["Access-Control-Allow-Origin"] == "http://localhost:5173"
    rows = await stored(receiver, 3)
    assert [(r["level"], r["category"], r["message"]) for r in rows] == [
        ("info", "shop.cache", "cache warmed"),
        ("warn", "sentry", "slow query"),
        ("error", "sentry", "disk almost full"),
    ]
    assert {r["user_agent"] for r in rows} == {"Mozilla/5.0 Page"}  # a page's SDK: its browser


async def test_transactions_spans_and_logs(receiver: Receiver, client: Any) -> None:
    def transaction(name: str, seconds: float, status: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
        trace = {"trace_id": "1" * 32, "span_id": "2" * 16, "op": "http.server", "status": status}
        return {
            "type": "transaction",
            "transaction": name,
            "event_id": name.encode().hex().ljust(32, "0")[:32],
            "start_timestamp": 1_700_000_000.0,
            "timestamp": 1_700_000_000.0 + seconds,
            "contexts": {"trace": trace},
            "spans": spans,
        }

    bad_span = {
        "span_id": "3" * 16,
        "trace_id": "1" * 32,
        "op": "db",
        "description": "SELECT 1",
        "status": "internal_error",
        "start_timestamp": 1_700_000_000.0,
        "timestamp": 1_700_000_000.25,
    }
    ok_span = {**bad_span, "span_id": "4" * 16, "status": "ok"}
    body = envelope(
        item("transaction", transaction("GET /fast", 0.05, "ok", [ok_span])),
        item("transaction", transaction("GET /slow", 2.5, "ok", [])),
        item("transaction", transaction("GET /broken", 0.3, "internal_error", [ok_span, bad_span])),
        item(
            "log",
            {
                "items": [
                    {
                        "timestamp": 1_700_000_001.5,
                        "level": "warn",
                        "body": "low stock",
                        "trace_id": "1" * 32,
                        "attributes": {
                            "sku": {"value": "A1", "type": "string"},
                            "user.id": {"value": "u_9", "type": "string"},
                        },
                    },
                    {"level": "trace", "body": "tick", "attributes": {}},
                    "not an entry",
                ]
            },
            item_count=3,
        ),
    )
    status, answer, _ = await post(client, f"{receiver.base}/stream", body)
    assert status == 200
    assert answer["accepted"] == 6
    assert answer["rejectedCount"] == 1
    assert answer["counted"] == {"sentry.span": 2}
    rows = await stored(receiver, 6)
    summary = [(r["level"], r["category"], r["message"]) for r in rows]
    assert summary == [
        ("info", "trace", "http.server GET /fast: ok, 50 ms"),
        ("warn", "trace", "http.server GET /slow: ok, 2500 ms"),
        ("error", "trace", "http.server GET /broken: internal_error, 300 ms"),
        ("error", "trace", "db SELECT 1: internal_error, 250 ms"),
        ("warn", "log", "low stock"),
        ("debug", "log", "tick"),
    ]
    assert rows[3]["event_uid"] == f"{'1' * 32}-{'3' * 16}"
    assert rows[3]["details"]["transaction"] == "GET /broken"
    assert rows[4]["timestamp"] == 1_700_000_001_500
    assert (rows[4]["user_id"], rows[4]["details"]["attributes"]["sku"]) == ("u_9", "A1")


async def test_items_that_are_only_counted(receiver: Receiver, client: Any) -> None:
    kinds = [
        "session",
        "sessions",
        "client_report",
        "attachment",
        "replay_event",
        "replay_recording",
        "profile",
        "check_in",
        "something_new",
    ]
    body = envelope(
        *(item(kind, b'{"x": 1}') for kind in kinds), item("attachment", b"\x00\xff raw bytes\n\n")
    )
    status, answer, _ = await post(client, f"{receiver.base}/api/1/envelope/", body)
    assert status == 200
    assert answer["accepted"] == 0
    assert answer["counted"] == {f"sentry.{kind}": 2 if kind == "attachment" else 1 for kind in kinds}
    assert receiver.count() == 0


async def test_compressed_envelopes_and_the_legacy_store_route(receiver: Receiver, client: Any) -> None:
    body = envelope(item("event", event(event_id=None)))
    for encoding, data in (
        ("gzip", gzip.compress(body)),
        ("br", brotli.compress(body)),
        ("deflate", zlib.compress(body)),
        ("deflate", zlib.compress(body)[2:-4]),  # raw deflate, as some clients send
    ):
        status, answer, _ = await post(
            client, f"{receiver.base}/api/1/envelope/", data, {"Content-Encoding": encoding}
        )
        assert (status, answer["accepted"]) == (200, 1), encoding
    store = f"{receiver.base}/api/1/store/"
    status, answer, _ = await post(client, store, orjson.dumps(event(event_id="9" * 32)))
    assert (status, answer["id"]) == (200, "9" * 32)
    legacy = base64.b64encode(zlib.compress(orjson.dumps(event(event_id="8" * 32))))
    status, answer, _ = await post(client, store, legacy)
    assert (status, answer["id"]) == (200, "8" * 32)
    status, answer, _ = await post(client, store, b"[1, 2]")
    assert status == 400
    assert "one Sentry event" in answer["error"]
    await stored(receiver, 6)


async def test_items_received_but_not_stored_are_counted_on_the_app(
    make_settings: Callable[..., Settings], client: Any
) -> None:
    from aiohttp import web

    from sidelog.engine import Engine
    from sidelog.ingest.http import build_app
    from sidelog.ingest.http_sentry import RECEIVER_COUNTS

    settings = make_settings(http="127.0.0.1:0")
    engine = Engine(settings)
    await engine.open_store()
    runner = web.AppRunner(build_app(engine, settings))  # the app factory registers the receivers
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        body = envelope(
            item("session", {"sid": "s"}), item("client_report", {}), item("session", {"sid": "t"})
        )
        assert (await post(client, f"{base}/stream", body))[0] == 200
        spans = {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "ok"}, {"name": "fine"}]}]}]}
        headers = {"Content-Type": "application/json"}
        assert (await post(client, f"{base}/v1/traces", orjson.dumps(spans), headers))[0] == 200
        counts = runner.app[RECEIVER_COUNTS].as_dict()
        assert counts == {"sentry.session": 2, "sentry.client_report": 1, "otlp.span": 2}
    finally:
        await runner.cleanup()
        await engine.stop()
