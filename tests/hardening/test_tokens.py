"""Named and read-only tokens on a shared server, over real sockets from a non-loopback peer.

The server binds this machine's LAN address (``--allow-remote``), and the test
connects to that address, so the server sees a remote peer: the token rules apply.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sidelog.config import Settings
from sidelog.ingest.tokens import Identity, TokenFileError, TokenTable, load_tokens_file, parse_tokens
from sidelog.server import RunningServer, start_server
from tests.support.lan import lan_address
from tests.support.wait import until

ALICE = "alice-7Qm2xV9pLk4Rt8Zs3Wn6Yb1Hc5"
VIEWER = "viewer-Jd8Fq2Lp6Xs4Nv9Tb3Kw7Mr1"
SHARED = "shared-Pz5Gh1Uc8Ey3Ra6Dk2Vn9Sj4"


def write_tokens(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
async def shared(make_settings: Callable[..., Settings], tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A server on the LAN address with the shared token and a tokens file (alice, a viewer)."""
    host = lan_address()
    tokens = write_tokens(
        tmp_path / "tokens", f"# team\nalice {ALICE}\n\ngrafana {VIEWER} read-only  # dashboards\n"
    )
    settings = make_settings(
        tcp=f"{host}:0", http=f"{host}:0", allow_remote=True, token=SHARED, tokens_file=tokens
    )
    running = await start_server(settings)
    yield running
    await running.stop()


def address(running: RunningServer, kind: str) -> str:
    return dict(running.endpoints)[kind]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def stored(base: str, message: str) -> dict[str, Any]:
    """The one stored event with ``message``, read back with the viewer token."""
    found: list[dict[str, Any]] = []

    async def present() -> bool:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{base}/v1/events", params={"q": message}, headers=auth(VIEWER)) as r,
        ):
            assert r.status == 200, await r.text()
            found[:] = [e for e in (await r.json())["events"] if e["message"] == message]
            return bool(found)

    await until(present, message=f"{message!r} stored")
    assert len(found) == 1
    return found[0]


async def test_every_http_path_names_the_client(shared: RunningServer) -> None:
    base = f"http://{address(shared, 'http')}"
    otlp = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "via otlp"}}]}]}]}
    async with aiohttp.ClientSession(headers=auth(ALICE)) as session:
        posts: list[tuple[str, dict[str, Any]]] = [
            ("/v1/events", {"json": {"message": "via events", "details": {"client": "mallory", "k": 1}}}),
            ("/api/1/store/", {"json": {"message": "via sentry", "level": "error"}}),
            ("/v1/logs", {"json": otlp}),
            ("/v1/feedback", {"json": {"message": "via feedback"}}),
        ]
        for path, body in posts:
            async with session.post(base + path, **body) as r:
                assert r.status < 300, (path, r.status, await r.text())
        record = {"msg": "via logging", "levelname": "INFO", "name": "app", "created": "1700000000.5"}
        async with session.get(f"{base}/v1/logging", params=record) as r:
            assert r.status < 300, await r.text()
    events = {m: await stored(base, m) for m in ("via events", "via sentry", "via otlp", "via logging")}
    for message, event in events.items():
        assert event["details"]["client"] == "alice", (message, event["details"])
    assert events["via events"]["details"]["k"] == 1  # the rest of details kept
    feedback = await stored(base, "via feedback")
    assert feedback["details"]["client"] == "alice"


async def test_shared_token_is_unnamed_and_no_token_is_refused(shared: RunningServer) -> None:
    base = f"http://{address(shared, 'http')}"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/v1/events", json={"message": "shared"}, headers=auth(SHARED)) as r:
            assert r.status == 202
        for headers in ({}, auth("wrong-" + SHARED)):
            async with session.get(f"{base}/v1/health", headers=headers) as r:
                assert r.status == 401
                assert "authentication required" in (await r.json())["error"]
    event = await stored(base, "shared")
    assert "client" not in (event.get("details") or {})


async def test_read_only_token_reads_but_never_writes(shared: RunningServer) -> None:
    base = f"http://{address(shared, 'http')}"
    async with aiohttp.ClientSession(headers=auth(VIEWER)) as session:
        for path in ("/v1/health", "/v1/events", "/v1/errors", "/sidelog.js"):
            async with session.get(base + path) as r:
                assert r.status == 200, (path, await r.text())
        async with session.get(f"{base}/v1/stream") as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/event-stream")
        refused: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", "/v1/events", {"json": {"message": "sneaky"}}),
            ("POST", "/v1/prune", {"json": {}}),
            ("POST", "/v1/errors/abc/resolve", {"json": {}}),
            ("POST", "/api/1/store/", {"json": {"message": "sneaky"}}),
            ("POST", "/v1/logs", {"json": {"resourceLogs": []}}),
            ("POST", "/v1/feedback", {"json": {"message": "sneaky"}}),
            ("GET", "/v1/logging", {"params": {"msg": "sneaky", "levelname": "INFO"}}),
        ]
        for method, path, body in refused:
            async with session.request(method, base + path, **body) as r:
                assert r.status == 403, (path, r.status)
                reason = (await r.json())["error"]
                assert "'grafana' is read-only" in reason
                assert "\n" not in reason
    assert shared.engine.counters.stored == 1  # only sidelog's own "started" event


async def tcp_exchange(host_port: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    host, port = host_port.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)  # until the server closes or EOF
    writer.close()
    return [json.loads(line) for line in data.splitlines()]


async def test_tcp_named_read_only_and_unknown_tokens(shared: RunningServer) -> None:
    tcp = address(shared, "tcp")
    base = f"http://{address(shared, 'http')}"
    host, port = tcp.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        json.dumps({"auth": ALICE}).encode()
        + b'\n{"message": "over tcp", "details": {"client": "mallory"}}\n{"sync": true}\n'
    )
    writer.write_eof()
    reply = json.loads(await asyncio.wait_for(reader.readline(), 5))
    writer.close()
    assert reply == {"ok": True, "stored": 1}
    assert (await stored(base, "over tcp"))["details"]["client"] == "alice"

    read_only = await tcp_exchange(tcp, [{"auth": VIEWER}, {"message": "sneaky"}])
    assert read_only == [{"error": "the token of 'grafana' is read-only: it cannot send events", "line": 1}]
    unknown = await tcp_exchange(tcp, [{"auth": "nope-" + ALICE}, {"message": "sneaky"}])
    assert "authentication required" in unknown[0]["error"]
    assert len(unknown) == 1


def test_token_table_matches_every_entry() -> None:
    table = TokenTable(SHARED, parse_tokens(f"alice {ALICE}\ngrafana {VIEWER} read-only\n"))
    assert table.match(SHARED) == Identity(None, False)
    assert table.match_bearer(f"Bearer {ALICE}").name == "alice"  # type: ignore[union-attr]
    assert table.match_bearer(f"bearer  {VIEWER} ").read_only  # type: ignore[union-attr]
    assert table.match(ALICE[:-1]) is None
    assert table.match("") is None
    assert table.match_bearer(f"Basic {ALICE}") is None
    with pytest.raises(TokenFileError, match="also the shared token"):
        TokenTable(SHARED, parse_tokens(f"bob {SHARED}\n"))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (f"alice {ALICE}\nalice {VIEWER}\n", "tokens:2: client 'alice' is already named on line 1"),
        (f"alice {ALICE}\nbob {ALICE}\n", "tokens:2: the token of 'bob' is already used on line 1"),
        ("alice short-token\n", "tokens:1: the token of 'alice' has 11 characters; use at least 16"),
        (f"alice {ALICE} admin\n", "tokens:1: unknown flag 'admin'"),
        (f"alice {ALICE} read-only read-only\n", "tokens:1: unknown flag 'read-only'"),
        ("alice\n", "tokens:1: expected 'NAME TOKEN [read-only]'"),
        (f"al/ice {ALICE}\n", "tokens:1: client name 'al/ice' must be"),
    ],
)
def test_malformed_tokens_file(tmp_path: Path, text: str, needle: str) -> None:
    path = write_tokens(tmp_path / "tokens", text)
    with pytest.raises(TokenFileError) as caught:
        load_tokens_file(path)
    message = str(caught.value)
    assert needle in message
    assert "\n" not in message


def test_tokens_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = write_tokens(tmp_path / "tokens", f"alice {ALICE}\n", mode=0o644)
    with pytest.raises(TokenFileError, match=r"may be read by other users \(mode 0644\); .*chmod 600"):
        load_tokens_file(path)
    with pytest.raises(TokenFileError, match="does not exist"):
        load_tokens_file(tmp_path / "missing")
