"""The connection cap (README "HTTP API", ``SIDELOG_MAX_CONNECTIONS``) on real sockets.

Flooded with idle connections, a server keeps descriptors for its database and its
HTTP API: new events are stored and ``/v1/health`` answers at once, clients past the
cap get one error line and are counted. Out of descriptors anyway, accepting pauses
instead of spinning, is counted, and recovers.
"""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from sidelog.config import Settings, load_settings
from sidelog.ingest.accept import HTTP_RESERVE, default_max_connections
from sidelog.ingest.http import HttpOptions
from sidelog.server import raise_open_file_limit, start_server
from tests.hardening.serve_process import ServeProcess
from tests.support.cli import assert_one_line_error, run
from tests.support.wait import until, until_sync

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc")

HELD = 2000
NOFILE = 1024
JSON = {"Content-Type": "application/json"}


def refusal(cap: int) -> bytes:
    return b'{"error":"too many connections (cap %d)"}\n' % cap


def has_data(sock: socket.socket) -> bool:
    """Whether the server sent ``sock`` anything (or closed it), without waiting."""
    sock.setblocking(False)  # a socket with a timeout would wait out the timeout instead
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    return True


def read_to_end(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def sync_one(address: tuple[str, int], message: str) -> dict[str, object]:
    """Send one event and a sync line over a new TCP connection; return the acknowledgement."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(json.dumps({"message": message}).encode() + b'\n{"sync": true}\n')
        sock.shutdown(socket.SHUT_WR)
        return dict(json.loads(read_to_end(sock)))


def stored_messages(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT message FROM events WHERE source != 'system'")]


def own_descriptors_for(count: int) -> None:
    """This test process holds the clients' ends: it needs ``count`` descriptors to spare."""
    soft = raise_open_file_limit()
    if soft != resource.RLIM_INFINITY and soft < count + 256:
        pytest.skip(f"this process may open only {soft} files")


def test_2000_idle_connections_leave_the_server_storing_and_answering(tmp_path: Path) -> None:
    own_descriptors_for(HELD)
    db = tmp_path / "cap" / "events.db"
    server = ServeProcess(db, nofile=NOFILE)
    cap = default_max_connections(NOFILE)
    clients: list[socket.socket] = []
    try:
        started = time.monotonic()
        clients = [socket.create_connection(server.tcp(), timeout=10) for _ in range(HELD)]
        until_sync(
            lambda: server.health()["counters"]["refused_connections"] == HELD - cap,
            timeout=60,
            message="every connection past the cap refused",
        )
        settled = time.monotonic() - started
        health = server.health()
        assert health["clients"] == cap
        refused = [sock for sock in clients if has_data(sock)]
        held = [sock for sock in clients if sock not in refused]
        assert (len(held), len(refused)) == (cap, HELD - cap)
        assert read_to_end(refused[-1]) == refusal(cap)
        in_use = server.descriptors()
        assert in_use <= NOFILE - HTTP_RESERVE - 16, in_use  # room for SQLite, HTTP and the rest

        status, body, to_store = server.request(
            "POST", "/v1/events?wait=true", b'{"message": "new client at the cap"}', JSON
        )
        assert (status, body["stored"]) == (200, 1), body
        status, _, to_health = server.request("GET", "/v1/health")
        assert status == 200
        assert to_store < 1.0
        assert to_health < 1.0

        # A new socket client is told why, and counted.
        with socket.create_connection(server.tcp(), timeout=10) as late:
            assert read_to_end(late) == refusal(cap)
        assert server.health()["counters"]["refused_connections"] == HELD - cap + 1

        # Once some clients leave, socket clients are served again.
        for sock in held[:5]:
            sock.close()
        until_sync(lambda: server.health()["clients"] == cap - 5, message="freed slots")
        assert sync_one(server.tcp(), "after some left") == {"ok": True, "stored": 1}
        print(
            f"\n{HELD} connections in {settled:.2f} s: {cap} held, {HELD - cap} refused, "
            f"{in_use}/{NOFILE} descriptors in use; at the cap: stored in {to_store * 1000:.0f} ms, "
            f"health in {to_health * 1000:.0f} ms"
        )
    finally:
        for sock in clients:
            sock.close()
        err = server.stop()
    assert server.process.returncode == 0, err
    assert "Traceback" not in err
    assert sorted(stored_messages(db)) == ["after some left", "new client at the cap"]


def test_out_of_descriptors_accepting_pauses_is_counted_and_recovers(tmp_path: Path) -> None:
    """A cap above what the descriptor table holds: ``accept`` fails with EMFILE."""
    nofile, flood = 256, 400
    own_descriptors_for(flood)
    db = tmp_path / "emfile" / "events.db"
    server = ServeProcess(db, nofile=nofile, SIDELOG_MAX_CONNECTIONS="5000")
    clients: list[socket.socket] = []

    def warnings() -> int:
        return sum("cannot accept on tcp" in line for line in server.stderr_lines)

    try:
        clients = [socket.create_connection(server.tcp(), timeout=10) for _ in range(flood)]
        until_sync(lambda: warnings() >= 1, timeout=30, message="a failed accept")
        cpu, wall = server.cpu_seconds(), time.monotonic()
        until_sync(lambda: warnings() >= 4, timeout=30, message="three more retries")
        cpu, wall = server.cpu_seconds() - cpu, time.monotonic() - wall
        assert server.process.poll() is None  # alive
        assert cpu / wall < 0.3, f"{cpu:.2f} s of CPU in {wall:.2f} s: spinning"
        assert warnings() <= wall / 1.0 + 2  # one retry a second, not a busy loop
        line = next(line for line in server.stderr_lines if "cannot accept" in line)
        assert "too many open files" in line
        for sock in clients:
            sock.close()
        clients = []
        until_sync(lambda: _answers(server), timeout=30, message="health answers again")
        assert server.health()["counters"]["accept_failed"] >= 4
        assert sync_one(server.tcp(), "after the flood") == {"ok": True, "stored": 1}
        print(f"\nout of descriptors: {cpu:.3f} s CPU over {wall:.1f} s, {warnings()} paused accepts")
    finally:
        for sock in clients:
            sock.close()
        err = server.stop()
    assert "Traceback" not in err
    assert stored_messages(db) == ["after the flood"]


def _answers(server: ServeProcess) -> bool:
    try:
        return server.health()["status"] == "ok"
    except (OSError, AssertionError, ValueError):
        return False


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), 10)


async def test_tcp_and_unix_share_the_cap_and_a_closed_connection_frees_its_slot(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    running = await start_server(make_settings(max_connections=2, unix=tmp_path / "s.sock"))
    engine = running.engine
    port = int(dict(running.endpoints)["tcp"].rsplit(":", 1)[1])
    opened: list[asyncio.StreamWriter] = []
    try:
        _, tcp_writer = await asyncio.open_connection("127.0.0.1", port)
        _, unix_writer = await asyncio.open_unix_connection(str(tmp_path / "s.sock"))
        opened += [tcp_writer, unix_writer]
        await until(lambda: engine.clients == 2, message="two clients")
        for connect in (
            lambda: asyncio.open_connection("127.0.0.1", port),
            lambda: asyncio.open_unix_connection(str(tmp_path / "s.sock")),
        ):
            reader, writer = await connect()
            opened.append(writer)
            assert await _read_line(reader) == refusal(2)
        assert engine.counters.refused_connections == 2
        tcp_writer.close()
        await until(lambda: engine.clients == 1, message="a slot freed")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        opened.append(writer)
        writer.write(b'{"message": "in a freed slot"}\n{"sync": true}\n')
        writer.write_eof()
        assert json.loads(await _read_line(reader)) == {"ok": True, "stored": 1}
    finally:
        for writer in opened:
            writer.close()
        await running.stop()
    assert stored_messages(engine.settings.db) == ["in a freed slot"]


async def test_http_keeps_a_reserve_and_idle_connections_give_their_slot_back(
    make_settings: Callable[..., Settings],
) -> None:
    options = HttpOptions(keepalive_timeout_s=1.0, shutdown_timeout_s=1.0, body_timeout_s=0.5)
    running = await start_server(make_settings(max_connections=2, http="127.0.0.1:0"), http_options=options)
    engine = running.engine
    endpoints = dict(running.endpoints)
    tcp_port = int(endpoints["tcp"].rsplit(":", 1)[1])
    http_host, http_port = endpoints["http"].rsplit(":", 1)
    opened: list[asyncio.StreamWriter] = []
    connector = aiohttp.TCPConnector(force_close=True)  # no pooled connection holds a slot
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(2):  # socket clients take every slot
                opened.append((await asyncio.open_connection("127.0.0.1", tcp_port))[1])
            await until(lambda: engine.clients == 2, message="at the cap")
            async with session.get(f"http://{endpoints['http']}/v1/health") as response:
                assert response.status == 200  # the reserve
            cap = running.connections
            assert cap is not None
            await until(lambda: cap.open == 2, message="the health connection closed")

            idle = [await asyncio.open_connection(http_host, int(http_port)) for _ in range(HTTP_RESERVE)]
            opened += [writer for _, writer in idle]
            reader, writer = await asyncio.open_connection(http_host, int(http_port))
            opened.append(writer)
            answer = await _read_line(reader)
            assert answer.startswith(b"HTTP/1.1 503 ")
            assert answer.endswith(b'{"error":"too many connections (cap 2)"}')
            assert engine.counters.refused_connections == 1

            # Idle HTTP connections are closed by the server, and their slots come back.
            assert all([await _read_line(r) == b"" for r, _ in idle])
            async with session.get(f"http://{endpoints['http']}/v1/health") as response:
                assert response.status == 200

            # A body that trickles in is cut off too (408), so it cannot pin a slot either.
            reader, writer = await asyncio.open_connection(http_host, int(http_port))
            opened.append(writer)
            writer.write(
                b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"message":'
            )
            answer = await asyncio.wait_for(reader.readuntil(b'"}'), 10)
            assert answer.startswith(b"HTTP/1.1 408 "), answer
            assert b"did not arrive within 0.5 s" in answer
    finally:
        for writer in opened:
            writer.close()
        await running.stop()


def test_the_default_cap_leaves_descriptors_for_the_rest() -> None:
    assert default_max_connections(1024) == 1024 - 64
    assert default_max_connections(1_048_576) == 10_000
    assert default_max_connections(resource.RLIM_INFINITY) == 10_000
    assert default_max_connections(40) == 1
    assert load_settings(max_connections="auto").max_connections is None
    assert load_settings(max_connections="25").max_connections == 25


def test_a_bad_cap_is_one_line(tmp_path: Path) -> None:
    result = run(
        ["serve", "--http", "off", "--tcp", "127.0.0.1:0", "--db", "db/e.db"],
        tmp_path,
        SIDELOG_MAX_CONNECTIONS="0",
    )
    assert_one_line_error(result, 2, "SIDELOG_MAX_CONNECTIONS", "from 1 to 1,000,000")
