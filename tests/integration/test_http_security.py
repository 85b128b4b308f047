"""Host and Origin allowlists, CORS, preflight, unknown routes, remote tokens."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Callable
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.ingest.http_security import AccessPolicy, ApiError, split_host
from sidelog.server import ensure_token, token_path
from tests.integration.http_support import http_base, http_port, rows, start

pytest_plugins = ["tests.integration.http_fixtures"]

EVENT = b'{"message": "should not be stored"}'

ROUTES = [
    ("POST", "/v1/events"),
    ("GET", "/v1/events"),
    ("GET", "/v1/errors"),
    ("POST", "/v1/errors/abc/resolve"),
    ("POST", "/v1/errors/abc/reopen"),
    ("POST", "/v1/prune"),
    ("GET", "/v1/health"),
    ("GET", "/v1/stream"),
    ("GET", "/sidelog.js"),
    ("GET", "/no/such/route"),
    ("OPTIONS", "/v1/events"),
]


async def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send one request with exactly these headers; return status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_foreign_host_is_refused_on_every_route(
    http_engine: Engine, client: Any, method: str, path: str
) -> None:
    headers = {"Host": "evil.example", "Content-Type": "application/json"}
    async with client.request(method, f"{http_base(http_engine)}{path}", data=EVENT, headers=headers) as r:
        assert r.status == 403
        answer = await r.json()
        assert "Host 'evil.example' is not allowed" in answer["error"]
        assert "Access-Control-Allow-Origin" not in r.headers
    assert rows(http_engine) == []


async def test_host_with_rebinding_port_and_missing_host(http_engine: Engine) -> None:
    port = http_port(http_engine)
    status, body = await raw_request(
        port, f"GET /v1/health HTTP/1.1\nHost: evil.example:{port}\nConnection: close\n"
    )
    assert status == 403
    assert b"not allowed" in body
    status, body = await raw_request(port, "GET /v1/health HTTP/1.0\n")
    assert status == 403
    assert b"missing Host" in body
    for host in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "app.localhost"):
        status, _ = await raw_request(port, f"GET /v1/health HTTP/1.1\nHost: {host}\nConnection: close\n")
        assert status == 200, host


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Content-Type": "application/json"},
        # The "simple" request a page can send without a preflight.
        {"Origin": "http://evil.example", "Content-Type": "text/plain;charset=UTF-8"},
        # What navigator.sendBeacon(url, string) sends from such a page.
        {
            "Origin": "https://evil.example",
            "Content-Type": "text/plain;charset=UTF-8",
            "Sec-Fetch-Mode": "no-cors",
            "Sec-Fetch-Site": "cross-site",
        },
        {"Origin": "http://localhost.evil.example:3000", "Content-Type": "text/plain"},
        {"Origin": "null", "Content-Type": "text/plain"},
        {"Origin": "file://", "Content-Type": "text/plain"},
    ],
)
async def test_cross_origin_posts_are_refused_and_store_nothing(
    http_engine: Engine, client: Any, headers: dict[str, str]
) -> None:
    async with client.post(f"{http_base(http_engine)}/v1/events?wait=true", data=EVENT, headers=headers) as r:
        assert r.status == 403
        assert "Origin" in (await r.json())["error"]
        assert "Access-Control-Allow-Origin" not in r.headers
    async with client.post(f"{http_base(http_engine)}/v1/events?wait=true", data=b'{"message": "ok"}') as r:
        assert r.status == 200
    assert rows(http_engine) == [("info", "ok", "api")]


async def test_cross_origin_reads_are_refused(http_engine: Engine, client: Any) -> None:
    for path in ("/v1/events", "/v1/errors", "/v1/health", "/v1/stream"):
        async with client.get(
            f"{http_base(http_engine)}{path}", headers={"Origin": "http://evil.example"}
        ) as r:
            assert r.status == 403, path


async def test_allowed_origin_is_echoed_never_wildcard(http_engine: Engine, client: Any) -> None:
    for origin in ("http://localhost:3000", "https://127.0.0.1:8443", "http://[::1]:5173"):
        async with client.get(f"{http_base(http_engine)}/v1/health", headers={"Origin": origin}) as r:
            assert r.status == 200
            assert r.headers["Access-Control-Allow-Origin"] == origin
            assert r.headers["Vary"] == "Origin"
    async with client.get(f"{http_base(http_engine)}/v1/health") as r:
        assert "Access-Control-Allow-Origin" not in r.headers
        assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_preflight(http_engine: Engine, client: Any) -> None:
    url = f"{http_base(http_engine)}/v1/events"
    asking = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-evil",
    }
    async with client.options(url, headers={"Origin": "http://localhost:3000", **asking}) as r:
        assert r.status == 204
        assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        assert r.headers["Access-Control-Allow-Headers"] == "content-type"
        assert r.headers["Vary"] == "Origin"
    async with client.options(url, headers={"Origin": "http://evil.example", **asking}) as r:
        assert r.status == 403
        assert "Access-Control-Allow-Origin" not in r.headers
    async with client.options(
        f"{http_base(http_engine)}/nope", headers={"Origin": "http://localhost:1"}
    ) as r:
        assert r.status == 404


async def test_configured_hosts_and_origins(make_settings: Callable[..., Settings], client: Any) -> None:
    engine = await start(
        make_settings(
            http="127.0.0.1:0", allowed_hosts=["sidelog.test"], allowed_origins=["http://dev.test:3000/"]
        )
    )
    try:
        headers = {"Host": "sidelog.test:7412", "Origin": "http://dev.test:3000"}
        async with client.post(f"{http_base(engine)}/v1/events?wait=true", data=EVENT, headers=headers) as r:
            assert r.status == 200
            assert r.headers["Access-Control-Allow-Origin"] == "http://dev.test:3000"
        async with client.get(
            f"{http_base(engine)}/v1/health", headers={"Origin": "http://dev.test:3001"}
        ) as r:
            assert r.status == 403
    finally:
        await engine.stop()
    assert rows(engine) == [("info", "should not be stored", "client")]


async def test_unknown_route_and_method_are_json(http_engine: Engine, client: Any) -> None:
    async with client.get(f"{http_base(http_engine)}/v2/events") as r:
        assert r.status == 404
        assert "no such route" in (await r.json())["error"]
    async with client.delete(f"{http_base(http_engine)}/v1/events") as r:
        assert r.status == 405
        assert "not allowed" in (await r.json())["error"]
        assert "POST" in r.headers["Allow"]


def test_split_host() -> None:
    assert split_host("LocalHost:7412") == "localhost"
    assert split_host("[::1]:7412") == "::1"
    assert split_host("127.0.0.1") == "127.0.0.1"
    assert split_host("example.com.") == "example.com"


def test_remote_policy_requires_the_token_from_remote_peers() -> None:
    policy = AccessPolicy.build(bind_host="0.0.0.0", allowed_hosts=[], allowed_origins=[], remote=True)
    policy.check_token(None, "127.0.0.1", "s3cret")  # loopback peers need none
    policy.check_token("Bearer s3cret", "192.0.2.7", "s3cret")
    for header in (None, "Bearer wrong", "Basic s3cret", "s3cret"):
        with pytest.raises(ApiError) as info:
            policy.check_token(header, "192.0.2.7", "s3cret")
        assert info.value.status == 401
    local = AccessPolicy.build(bind_host="127.0.0.1", allowed_hosts=[], allowed_origins=[], remote=False)
    local.check_token(None, "192.0.2.7", None)


def test_specific_remote_bind_address_is_an_allowed_host() -> None:
    policy = AccessPolicy.build(bind_host="192.0.2.10", allowed_hosts=[], allowed_origins=[], remote=True)
    policy.check_host("192.0.2.10:7412")
    with pytest.raises(ApiError):
        policy.check_host("192.0.2.11:7412")


def test_token_file_is_generated_private_and_reused(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    token = ensure_token(settings)
    path = token.file
    assert path == token_path(settings)
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token.value
    assert len(token.value) >= 32
    assert path.read_text().strip() == token.value
    assert ensure_token(settings) == token
    again = ensure_token(make_settings())
    assert again.file == path
    assert again.value == token.value
    configured = ensure_token(make_settings(token="given"))
    assert configured.file is None
    assert configured.value == "given"


async def test_the_token_stands_in_for_the_host_check(
    make_settings: Callable[..., Settings], client: Any
) -> None:
    engine = await start(make_settings(http="127.0.0.1:0", token="s3cret"))
    try:
        url = f"{http_base(engine)}/v1/health"
        async with client.get(url, headers={"Host": "box.lan:7412", "Authorization": "Bearer s3cret"}) as r:
            assert r.status == 200
        async with client.get(url, headers={"Host": "box.lan:7412", "Authorization": "Bearer nope"}) as r:
            assert r.status == 403
        headers = {"Authorization": "Bearer s3cret", "Origin": "http://evil.example"}
        async with client.get(url, headers=headers) as r:
            assert r.status == 403  # the Origin check still applies
    finally:
        await engine.stop()
