"""``sidelog serve`` as a real process: listening lines, clean drain on SIGTERM/SIGINT
(exit 0, every synced event in the file), and a restart on the same file keeps every row."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.config import Settings
from sidelog.server import start_server
from tests.conftest import tcp_port
from tests.integration.spine_support import wait_until
from tests.support.cli import clean_env

LISTENING = re.compile(r"^listening (tcp|unix) (.+)$")


class Server:
    """A ``sidelog serve`` subprocess and the endpoints it printed."""

    def __init__(self, tmp_path: Path, *extra: str) -> None:
        self.db = tmp_path / "data" / "events.db"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sidelog",
                "serve",
                "--tcp",
                "127.0.0.1:0",
                "--http",
                "off",
                "--db",
                str(self.db),
                *extra,
            ],
            cwd=tmp_path,
            env=clean_env(SIDELOG_RATE_LIMIT_BURST="0"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.endpoints: dict[str, str] = {}
        expected = 2 if "--unix" in extra else 1
        assert self.process.stdout is not None
        while len(self.endpoints) < expected:
            line = self.process.stdout.readline()
            assert line, f"serve exited early: {self.process.stderr.read() if self.process.stderr else ''}"
            match = LISTENING.match(line.rstrip("\n"))
            assert match, line
            self.endpoints[match.group(1)] = match.group(2)

    @property
    def port(self) -> int:
        return int(self.endpoints["tcp"].rsplit(":", 1)[1])

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str, str]:
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=20)
        return self.process.returncode, out, err


def send(port: int, lines: bytes, *, sync: bool = True) -> list[dict[str, object]]:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(lines + (b'{"sync": true}\n' if sync else b""))
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


def count(db: Path, where: str = "source != 'system'") -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*), count(DISTINCT message) FROM events WHERE {where}").fetchone()


def batch(prefix: str, n: int) -> bytes:
    return b"".join(b'{"message":"%s %d"}\n' % (prefix.encode(), i) for i in range(n))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_drains_on_signal_and_restart_keeps_every_row(tmp_path: Path, signum: int) -> None:
    server = Server(tmp_path)
    assert server.endpoints["tcp"].startswith("127.0.0.1:")
    assert server.port != 0
    assert send(server.port, batch("first", 5_000)) == [{"ok": True, "stored": 5_000}]
    status, out, err = server.stop(signum)
    assert status == 0, err
    assert "Traceback" not in err
    assert out == ""  # the listening line was the only stdout
    assert "stopped: " in err
    assert "0 unsaved" in err
    assert count(server.db) == (5_000, 5_000)

    again = Server(tmp_path)
    assert send(again.port, batch("second", 100)) == [{"ok": True, "stored": 100}]
    status, _, err = again.stop()
    assert status == 0, err
    assert count(server.db) == (5_100, 5_100)
    assert count(server.db, "message = 'sidelog started'")[0] == 2
    # the WAL was checkpointed into the main file at shutdown
    wal = server.db.with_name("events.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_sigterm_with_events_in_flight(tmp_path: Path) -> None:
    """Whatever the server read before SIGTERM is committed; nothing is stored twice."""
    server = Server(tmp_path)
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(batch("synced", 2_000) + b'{"sync": true}\n')
        reply = b""
        while not reply.endswith(b"\n"):
            reply += sock.recv(65536)
        assert json.loads(reply) == {"ok": True, "stored": 2_000}
        sock.sendall(batch("unsynced", 20_000))
        status, _, err = server.stop()
    assert status == 0, err
    synced = count(server.db, "message LIKE 'synced %'")
    assert synced == (2_000, 2_000)
    total, distinct = count(server.db)
    assert total == distinct  # no duplicates among whatever made it
    match = re.search(r"stopped: (\d+) stored this run", err)
    assert match
    assert int(match.group(1)) == total + count(server.db, "source = 'system'")[0]


def test_serve_prints_one_line_per_endpoint(tmp_path: Path) -> None:
    sock_path = tmp_path / "s.sock"
    server = Server(tmp_path, "--unix", str(sock_path))
    assert set(server.endpoints) == {"tcp", "unix"}
    assert server.endpoints["unix"] == str(sock_path)
    status, _, err = server.stop()
    assert status == 0, err
    assert not sock_path.exists()  # removed on shutdown


async def test_sync_in_flight_at_shutdown_is_still_acknowledged(
    make_settings: Callable[..., Settings],
) -> None:
    """Events read before shutdown are drained, and their sync reply still reaches the
    client before the connection closes (else a client would resend: duplicates)."""
    engine = (await start_server(make_settings(enable_system_logging=False))).engine
    release = asyncio.Event()
    assert engine._batcher is not None
    holding = asyncio.create_task(engine._batcher.call(release.wait))  # the writer is busy
    reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
    writer.write(batch("late", 50) + b'{"sync": true}\n')
    await writer.drain()
    await wait_until(lambda: engine.counters.received == 50, what="the server to read the lines")
    stopping = asyncio.create_task(engine.stop())
    await wait_until(
        lambda: engine._batcher is not None and engine._batcher._stopping, what="shutdown to begin"
    )
    release.set()
    report = await stopping
    await holding
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert report.unsaved == 0
    assert [json.loads(line) for line in data.splitlines()] == [{"ok": True, "stored": 50}]
    assert count(engine.settings.db) == (50, 50)
