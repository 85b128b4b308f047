"""Resolve, reopen, prune and vacuum take only JSON and refuse cross-site browser requests.

A second layer behind the Origin check (README "HTTP API"): ``Content-Type:
application/json`` cannot be sent by a page without a CORS preflight, and browsers
mark every request a page from another site makes with ``Sec-Fetch-Site:
cross-site``. ``POST /v1/events`` is left as it was: ``sendBeacon`` bodies are
``text/plain``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sidelog.engine import Engine
from tests.integration.http_support import http_base, http_port, rows

pytest_plugins = ["tests.integration.http_fixtures"]

STATE_CHANGING = ["/v1/errors/abc/resolve", "/v1/errors/abc/reopen", "/v1/prune", "/v1/vacuum"]
JSON = "application/json"


@pytest.mark.parametrize("path", STATE_CHANGING)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain;charset=UTF-8",  # what a page may send without a preflight
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
        "application/json; charset=latin-1",
        "application/x-ndjson",
    ],
)
async def test_a_body_that_is_not_declared_json_is_415(
    http_engine: Engine, client: Any, path: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    async with client.post(
        f"{http_base(http_engine)}{path}", data=b"{}", headers=headers, skip_auto_headers={"Content-Type"}
    ) as r:
        assert r.status == 415
        reason = (await r.json())["error"]
    assert f"POST {path} needs Content-Type: application/json" in reason


@pytest.mark.parametrize("path", STATE_CHANGING)
async def test_a_cross_site_request_is_403_even_as_json(http_engine: Engine, client: Any, path: str) -> None:
    headers = {"Content-Type": JSON, "Sec-Fetch-Site": "cross-site", "Origin": "http://localhost:3000"}
    async with client.post(f"{http_base(http_engine)}{path}", data=b"{}", headers=headers) as r:
        assert r.status == 403
        assert "refuses cross-site requests" in (await r.json())["error"]


@pytest.mark.parametrize("path", STATE_CHANGING)
async def test_a_foreign_origin_is_still_refused_first(http_engine: Engine, client: Any, path: str) -> None:
    headers = {"Content-Type": "text/plain", "Origin": "http://evil.example"}
    async with client.post(f"{http_base(http_engine)}{path}", data=b"{}", headers=headers) as r:
        assert r.status == 403
        assert "Origin 'http://evil.example' is not allowed" in (await r.json())["error"]


@pytest.mark.parametrize("site", [None, "same-origin", "same-site", "none"])
async def test_json_from_a_tool_or_the_same_site_passes(
    http_engine: Engine, client: Any, site: str | None
) -> None:
    headers = {"Content-Type": JSON} | ({"Sec-Fetch-Site": site} if site else {})
    base = http_base(http_engine)
    for action in ("resolve", "reopen"):
        async with client.post(f"{base}/v1/errors/abc/{action}", headers=headers) as r:
            assert r.status == 404  # past the checks: the group does not exist
    async with client.post(f"{base}/v1/prune", data=b"{}", headers=headers) as r:
        assert r.status == 200


async def test_events_still_take_text_plain_and_beacons(http_engine: Engine, client: Any) -> None:
    url = f"{http_base(http_engine)}/v1/events?wait=true"
    for headers in (
        {"Content-Type": "text/plain"},
        # sendBeacon from an allowed page on another port of this machine: cross-site to the browser.
        {
            "Content-Type": "text/plain;charset=UTF-8",
            "Origin": "http://localhost:3000",
            "Sec-Fetch-Site": "cross-site",
        },
    ):
        async with client.post(url, data=b'{"message": "beacon"}', headers=headers) as r:
            assert r.status == 200, await r.text()
    assert [message for _, message, _ in rows(http_engine)] == ["beacon", "beacon"]


async def test_expect_continue_is_refused_before_the_body(http_engine: Engine) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", http_port(http_engine))
    try:
        writer.write(
            b"POST /v1/prune HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n"), 10)
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 415 "), head


async def test_prune_answers_with_every_figure_of_the_result(http_engine: Engine, client: Any) -> None:
    url = f"{http_base(http_engine)}/v1/prune"
    async with client.post(url, json={}) as r:
        assert r.status == 200
        answer = await r.json()
    assert answer["deleted"] == 0
    assert answer["archived"] == 0
    assert all(isinstance(value, int | float) for value in answer.values())
    assert all("_" not in key for key in answer)  # camelCase, like every other answer
    async with client.post(url, headers={"Content-Type": JSON}) as r:  # an empty body is fine too
        assert r.status == 200


@pytest.mark.parametrize(("query", "body"), [("", b'{"force": true}'), ("", b"[]"), ("?days=1", b"{}")])
async def test_prune_takes_no_options(http_engine: Engine, client: Any, query: str, body: bytes) -> None:
    url = f"{http_base(http_engine)}/v1/prune{query}"
    async with client.post(url, data=body, headers={"Content-Type": JSON}) as r:
        assert r.status == 400
        assert (await r.json())["error"]


@pytest.mark.parametrize("path", ["/v1/prune", "/v1/vacuum"])
async def test_a_query_parameter_on_a_route_without_any_is_named(
    http_engine: Engine, client: Any, path: str
) -> None:
    url = f"{http_base(http_engine)}{path}?days=1"
    async with client.post(url, data=b"{}", headers={"Content-Type": JSON}) as r:
        assert r.status == 400
        assert (await r.json())["error"] == f"unknown parameter 'days' ({path} takes none)"
