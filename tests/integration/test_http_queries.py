"""GET /v1/events (filters, keyset paging), /v1/errors, resolve/reopen, /v1/health, /sidelog.js."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from sidelog.engine import Engine
from tests.integration.http_support import http_base

pytest_plugins = ["tests.integration.http_fixtures"]


async def ingest(client: Any, engine: Engine, events: list[dict[str, Any]]) -> None:
    url = f"{http_base(engine)}/v1/events?wait=true"
    async with client.post(url, data=orjson.dumps(events), headers={"Content-Type": "application/json"}) as r:
        assert r.status == 200, await r.text()


async def get_json(client: Any, url: str) -> tuple[int, Any]:
    async with client.get(url) as response:
        return response.status, await response.json()


async def test_keyset_paging_walks_every_event_once(http_engine: Engine, client: Any) -> None:
    await ingest(client, http_engine, [{"message": f"m{i}", "category": "paging"} for i in range(25)])
    seen: list[str] = []
    url: str | None = f"{http_base(http_engine)}/v1/events?category=paging&limit=10"
    pages = 0
    while url:
        status, body = await get_json(client, url)
        assert status == 200
        seen.extend(event["message"] for event in body["events"])
        url = http_base(http_engine) + body["next"] if body["next"] else None
        pages += 1
    assert seen == [f"m{i}" for i in reversed(range(25))]
    assert pages == 3


async def test_filters(http_engine: Engine, client: Any) -> None:
    await ingest(
        client,
        http_engine,
        [
            {"message": "card declined", "type": "error", "category": "payment", "userId": "u1"},
            {"message": "login", "category": "auth", "userId": "u2", "sessionId": "s9"},
            {"message": "slow page", "type": "warn", "category": "ui", "details": {"path": "/needle"}},
        ],
    )
    base = f"{http_base(http_engine)}/v1/events"
    cases = {
        "?level=error": ["card declined"],
        "?level=warn,error": ["slow page", "card declined"],
        "?category=auth&category=ui": ["slow page", "login"],
        "?user=u2": ["login"],
        "?session=s9": ["login"],
        "?q=NEEDLE": ["slow page"],
        "?source=client": [],
        "?source=api&level=info": ["login"],
    }
    for query, expected in cases.items():
        status, body = await get_json(client, base + query)
        assert status == 200, query
        assert [e["message"] for e in body["events"] if e["source"] != "system"] == expected, query
    status, body = await get_json(client, base + "?until=0")
    assert body["events"] == []


async def test_bad_query_parameters_are_400_with_reason(http_engine: Engine, client: Any) -> None:
    base = f"{http_base(http_engine)}/v1/events"
    for query, needle in {
        "?level=loud": "level",
        "?limit=0": "limit",
        "?limit=abc": "limit",
        "?before=-3": "before",
        "?since=last+week": "since",
        "?since=inf": "since",
        "?since=1e30": "since",
        "?since=-5m": "since",
        "?until=99999y": "until",
        "?since=1h&until=2h": "until must be later than since",
        "?levle=error": "unknown parameter",
    }.items():
        status, body = await get_json(client, base + query)
        assert status == 400, query
        assert needle in body["error"], query
    status, body = await get_json(client, f"{http_base(http_engine)}/v1/errors?status=maybe")
    assert status == 400
    assert "status" in body["error"]


async def test_errors_resolve_and_reopen(http_engine: Engine, client: Any) -> None:
    await ingest(
        client,
        http_engine,
        [
            {"message": "Payment 12 failed", "type": "error", "category": "payment", "userId": "u1"},
            {"message": "Payment 99 failed", "type": "error", "category": "payment", "userId": "u1"},
        ],
    )
    base = http_base(http_engine)
    status, body = await get_json(client, f"{base}/v1/errors?user=u1")
    assert status == 200
    groups = [g for g in body["errors"] if g["category"] == "payment"]
    assert len(groups) == 1
    assert groups[0]["count"] == 2
    fingerprint = groups[0]["fingerprint"]

    url = f"{base}/v1/errors/{fingerprint}/resolve"
    async with client.post(url, json={"note": "fixed in 1.2"}) as r:
        assert r.status == 200
        group = (await r.json())["group"]
        assert group["status"] == "resolved"
        assert group["resolveNote"] == "fixed in 1.2"
    with sqlite3.connect(http_engine.settings.db) as db:
        assert db.execute(
            "SELECT DISTINCT resolved FROM events WHERE fingerprint = ?", (fingerprint,)
        ).fetchall() == [(1,)]
    status, body = await get_json(client, f"{base}/v1/errors")
    assert fingerprint not in [g["fingerprint"] for g in body["errors"]]
    status, body = await get_json(client, f"{base}/v1/errors?status=resolved")
    assert fingerprint in [g["fingerprint"] for g in body["errors"]]

    async with client.post(f"{base}/v1/errors/{fingerprint}/reopen", json={}) as r:
        assert r.status == 200
        assert (await r.json())["group"]["status"] == "unresolved"


async def test_resolve_unknown_fingerprint_is_404(http_engine: Engine, client: Any) -> None:
    for action in ("resolve", "reopen"):
        url = f"{http_base(http_engine)}/v1/errors/feedfacecafe/{action}"
        async with client.post(url, headers={"Content-Type": "application/json"}) as r:
            assert r.status == 404
            assert (await r.json())["error"] == "no error group with fingerprint 'feedfacecafe'"


async def test_resolve_with_a_bad_note(http_engine: Engine, client: Any) -> None:
    url = f"{http_base(http_engine)}/v1/errors/abc/resolve"
    for body in (b"not json", b'{"note": 5}', b'{"other": 1}'):
        async with client.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
            assert r.status == 400
            assert "note" in (await r.json())["error"]


async def test_health(http_engine: Engine, client: Any) -> None:
    status, body = await get_json(client, f"{http_base(http_engine)}/v1/health")
    assert status == 200
    assert body["status"] == "ok"
    assert any(endpoint.startswith("http 127.0.0.1:") for endpoint in body["endpoints"])
    assert set(body["drops"]) >= {"rejected", "rate_limited", "filtered", "overflow"}


async def test_script_is_served(http_engine: Engine, client: Any) -> None:
    async with client.get(f"{http_base(http_engine)}/sidelog.js") as r:
        assert r.status == 200
        assert r.content_type == "application/javascript"
        text = await r.text()
        etag = r.headers["ETag"]
    assert "logUserAction" in text
    assert "sendBeacon" in text
    async with client.get(f"{http_base(http_engine)}/sidelog.js", headers={"If-None-Match": etag}) as r:
        assert r.status == 304


async def test_search_folds_case_in_history_as_it_does_live(http_engine: Engine, client: Any) -> None:
    await ingest(
        client,
        http_engine,
        [
            {"message": "ÄRGER im Lager"},
            {"message": "Straße gesperrt"},
            {"message": "nothing", "details": {"note": "ÇA VA"}},
        ],
    )
    base = f"{http_base(http_engine)}/v1/events?q="
    for needle, expected in {
        "ärger": ["ÄRGER im Lager"],
        "STRASSE": [],  # an ASCII needle folds A-Z only, like grep -i
        "strasse": [],
        "STRAßE": ["Straße gesperrt"],
        "ça": ["nothing"],
    }.items():
        status, body = await get_json(client, base + needle)
        assert status == 200, needle
        assert [e["message"] for e in body["events"]] == expected, needle
