"""The Unix-socket endpoint: same protocol as TCP, mode 0600, never steals a live
server's path, replaces a stale one."""

from __future__ import annotations

import asyncio
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.config import Settings
from sidelog.filters import EMPTY_FILTER
from sidelog.server import StartupError, start_server
from tests.integration.spine_support import messages, replies_of


async def unix_exchange(path: Path, payload: bytes) -> list[dict[str, object]]:
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(payload + b'{"sync": true}\n')
    writer.write_eof()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    return replies_of(data)


@pytest.fixture
def sock_path(tmp_path: Path) -> Path:
    return tmp_path / "sl.sock"


async def test_unix_socket_mode_and_protocol(make_settings: Callable[..., Settings], sock_path: Path) -> None:
    engine = (await start_server(make_settings(unix=sock_path, tcp="off"))).engine
    try:
        mode = sock_path.stat().st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600
        assert engine.endpoints == [("unix", str(sock_path))]
        replies = await unix_exchange(sock_path, b'{"message":"via unix","level":"warning"}\n{"message":5}\n')
        assert replies == [
            {"error": "message must be a string, got a number", "line": 2},
            {"ok": True, "stored": 1, "rejected": 1},
        ]
        assert messages(engine) == ["via unix"]
        (event,) = [e for e in await engine.events(EMPTY_FILTER) if e.message == "via unix"]
        assert (event.source, event.level) == ("server", "warn")
        # HTTP over the Unix socket is refused the same way
        reader, writer = await asyncio.open_unix_connection(str(sock_path))
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        assert engine.counters.http_refused == 1
    finally:
        await engine.stop()
    assert not sock_path.exists()


async def test_refuses_a_path_a_live_server_owns(
    make_settings: Callable[..., Settings], sock_path: Path, tmp_path: Path
) -> None:
    first = await start_server(make_settings(unix=sock_path, tcp="off"))
    try:
        with pytest.raises(StartupError, match="a running server already owns it"):
            await start_server(make_settings(unix=sock_path, tcp="off", db=tmp_path / "other" / "events.db"))
        # the first server still owns and serves its socket
        assert (await unix_exchange(sock_path, b'{"message":"still mine"}\n'))[-1] == {
            "ok": True,
            "stored": 1,
        }
    finally:
        await first.stop()


async def test_replaces_a_stale_socket(make_settings: Callable[..., Settings], sock_path: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock_path))
    stale.close()  # the file stays behind, as after a crash
    assert stat.S_ISSOCK(sock_path.stat().st_mode)
    engine = (await start_server(make_settings(unix=sock_path, tcp="off"))).engine
    try:
        assert await unix_exchange(sock_path, b'{"message":"fresh"}\n') == [{"ok": True, "stored": 1}]
    finally:
        await engine.stop()


async def test_refuses_a_path_that_is_not_a_socket(
    make_settings: Callable[..., Settings], sock_path: Path
) -> None:
    sock_path.write_text("precious data")
    with pytest.raises(StartupError, match="the path exists and is not a socket"):
        await start_server(make_settings(unix=sock_path, tcp="off"))
    assert sock_path.read_text() == "precious data"
