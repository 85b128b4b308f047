"""``sidelog.server``: the one start-up path of ``serve`` and the UI, on real sockets and files.

Every endpoint bound and released, no token file unless a non-loopback bind needs
one, a failed start that leaves nothing behind, a start-up under a connection
flood that fails with one line instead of a crash, and a raised open-file limit.
"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from sidelog.config import Settings, load_settings
from sidelog.engine import StopReport
from sidelog.server import StartupError, needs_token, start_server, token_path
from tests.integration.http_support import FAST
from tests.integration.spine_support import exchange, rows
from tests.support.cli import clean_env


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


async def test_every_endpoint_is_bound_announced_and_released(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    sock_path = tmp_path / "s.sock"
    settings = make_settings(http="127.0.0.1:0", unix=sock_path)
    running = await start_server(settings, http_options=FAST)
    try:
        endpoints = dict(running.endpoints)
        assert list(endpoints) == ["tcp", "unix", "http"]
        assert endpoints["unix"] == str(sock_path)
        assert (running.token, running.token_file) == (None, None)
        assert not token_path(settings).exists()  # loopback only: no token is made
        assert await exchange(_port(endpoints["tcp"]), b'{"message":"over tcp"}\n') == [
            {"ok": True, "stored": 1}
        ]
        async with aiohttp.ClientSession() as session:
            url = f"http://{endpoints['http']}/v1/events?wait=true"
            async with session.post(url, json={"message": "over http"}) as response:
                assert response.status == 200, await response.text()
        reader, writer = await asyncio.open_unix_connection(str(sock_path))
        writer.write(b'{"message":"over unix"}\n{"sync": true}\n')
        writer.write_eof()
        assert json.loads(await asyncio.wait_for(reader.read(), 10)) == {"ok": True, "stored": 1}
        writer.close()
        ((details,),) = rows(settings.db, "SELECT details FROM events WHERE message = 'sidelog started'")
        assert json.loads(details) == {
            "endpoints": [f"{kind} {address}" for kind, address in endpoints.items()]
        }
    finally:
        report = await running.stop()
    assert report == StopReport(unsaved=0, write_failed=0)
    assert rows(settings.db, "SELECT message FROM events WHERE source != 'system' ORDER BY id") == [
        ("over tcp",),
        ("over http",),
        ("over unix",),
    ]
    assert await _refused(_port(endpoints["tcp"]))
    assert await _refused(_port(endpoints["http"]))
    assert not sock_path.exists()


async def test_a_failed_start_releases_what_it_had_bound(make_settings: Callable[..., Settings]) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        tcp = _free_port()
        settings = make_settings(tcp=f"127.0.0.1:{tcp}", http=f"127.0.0.1:{taken}")
        with pytest.raises(StartupError, match=f"cannot listen on http 127.0.0.1:{taken}: address already"):
            await start_server(settings, http_options=FAST)
    # TCP was bound before HTTP failed: its port and the database are free again.
    assert await _refused(tcp)
    again = await start_server(make_settings(tcp=f"127.0.0.1:{tcp}"))
    try:
        assert again.endpoints == [("tcp", f"127.0.0.1:{tcp}")]
    finally:
        await again.stop()


def test_only_a_non_loopback_bind_needs_a_token() -> None:
    assert not needs_token(load_settings(tcp="127.0.0.1:7411", http="[::1]:7412"))
    assert not needs_token(load_settings(tcp="localhost:7411", http="off"))
    assert needs_token(load_settings(tcp="192.0.2.7:7411", http="off", allow_remote=True))
    assert needs_token(load_settings(tcp="off", http="0.0.0.0:7412", allow_remote=True))


FLOOD = """
import asyncio, errno, json, os, resource, socket, sys
from sidelog.config import load_settings
from sidelog.engine import Engine
from sidelog.errors import StartupError
from sidelog.ingest.http import start_http_server
from sidelog.ingest.tcp import start_tcp_server


async def main() -> None:
    settings = load_settings(db=sys.argv[1], tcp="127.0.0.1:0", http="127.0.0.1:0")
    engine = Engine(settings)
    await engine.open_store()
    listener = await start_tcp_server(engine, settings.tcp_endpoint, token=None)
    engine.add_endpoint(listener)
    port = int(listener.address.rsplit(":", 1)[1])
    # A low ceiling, so the flood fills the descriptor table within a few dozen connections.
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 48, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    clients = []
    while True:
        try:
            clients.append(socket.create_connection(("127.0.0.1", port)))
        except OSError as exc:
            assert exc.errno == errno.EMFILE, exc
            break
        await asyncio.sleep(0)  # the server accepts too: both ends fill the table
    outcome = {"connections": len(clients)}
    for name, start in (
        ("http", lambda: start_http_server(engine, settings)),
        ("tcp", lambda: start_tcp_server(engine, settings.tcp_endpoint, token=None)),
    ):
        try:
            started = await start()
        except StartupError as exc:
            outcome[name] = str(exc)
        else:
            outcome[name] = "listening " + started.address
            engine.add_endpoint(started)
    for client in clients:
        client.close()
    await engine.stop()
    print(json.dumps(outcome))


asyncio.run(main())
"""


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc")
def test_a_connection_flood_during_start_up_is_a_startup_error_not_a_crash(tmp_path: Path) -> None:
    """Out of descriptors, asyncio's ``create_server`` once returned a server listening
    nowhere and ``start_http_server`` crashed reading its address (IndexError)."""
    result = subprocess.run(
        [sys.executable, "-c", FLOOD, str(tmp_path / "flood" / "events.db")],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["connections"] > 0
    assert outcome["http"] == "cannot listen on http 127.0.0.1:0: too many open files"
    assert outcome["tcp"] == "cannot listen on tcp 127.0.0.1:0: too many open files"


LOW_LIMIT_SERVE = """
import resource, runpy, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
sys.argv = ["sidelog", "serve", *sys.argv[2:]]
runpy.run_module("sidelog", run_name="__main__")
"""


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="reads another process's limits (Linux)")
def test_serve_raises_its_soft_open_file_limit_to_the_hard_limit(tmp_path: Path) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = 256
    if hard != resource.RLIM_INFINITY and hard <= low:
        pytest.skip(f"the hard limit ({hard}) leaves nothing to raise")
    db = tmp_path / "data" / "events.db"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LOW_LIMIT_SERVE,
            str(low),
            "--tcp",
            "127.0.0.1:0",
            "--http",
            "off",
            "--db",
            str(db),
        ],
        cwd=tmp_path,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening tcp 127.0.0.1:"), process.stderr.read() if process.stderr else ""
        soft_now, hard_now = resource.prlimit(process.pid, resource.RLIMIT_NOFILE)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert hard_now == hard
    assert soft_now == hard if hard != resource.RLIM_INFINITY else soft_now > low
