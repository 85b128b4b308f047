"""``sidelog prune`` on a database a running ``sidelog serve`` holds: that server prunes it.

Retention judges age by when sidelog received an event, so the tests age rows by
rewriting ``received_at`` with ``sqlite3``. The server's own first retention pass
(a few seconds after start) would race with the command; a first server run leaves
one aged "canary" row, and the second run's first pass announces itself by pruning
it ("retention pruned old events"). Only then are the rows under test aged.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

from tests.hardening.serve_process import ServeProcess
from tests.support.cli import assert_one_line_error, run
from tests.support.wait import until_sync

DAY_MS = 86_400_000


def send(address: tuple[str, int], *events: dict[str, str]) -> None:
    """Events over TCP, acknowledged once committed."""
    payload = b"".join(json.dumps(event).encode() + b"\n" for event in events) + b'{"sync": true}\n'
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert json.loads(reply) == {"ok": True, "stored": len(events)}


def age(db: Path, where: str, days: int = 40) -> int:
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute(
            f"UPDATE events SET received_at = received_at - ? WHERE {where}", (days * DAY_MS,)
        ).rowcount


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=10) as conn:
        return int(conn.execute(sql).fetchone()[0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_prune_asks_the_running_server(tmp_path: Path) -> None:
    db = tmp_path / "live" / "events.db"
    first = ServeProcess(db, http=False)
    try:
        send(first.tcp(), {"message": "canary"})
    finally:
        first.stop()
    assert age(db, "message = 'canary'") == 1

    server = ServeProcess(db)
    try:
        until_sync(
            lambda: (
                count(db, "SELECT count(*) FROM events WHERE message = 'retention pruned old events'") == 1
            ),
            timeout=60,
            message="the server's first retention pass",
        )
        send(
            server.tcp(),
            *({"message": f"old info {n}"} for n in range(3)),
            *({"message": "old failure 7", "type": "error", "category": "payment"} for _ in range(2)),
            {"message": "fresh"},
        )
        assert age(db, "message LIKE 'old %'") == 5

        result = run(["prune", "--db", str(db), "--to", server.endpoints["http"]], tmp_path)
        assert result.returncode == 0, result.stderr
        line = result.stdout.strip()
        where = server.endpoints["http"]
        assert line.startswith(
            f"pruned by the running sidelog at {where}: 5 events deleted, 2 errors archived"
        )
        assert count(db, "SELECT count(*) FROM events WHERE message LIKE 'old %'") == 0
        assert count(db, "SELECT count(*) FROM events_archive WHERE message = 'old failure 7'") == 2
        assert count(db, "SELECT count(*) FROM events WHERE message = 'fresh'") == 1

        # The address may come from SIDELOG_HTTP too; nothing is left to prune.
        again = run(["prune", "--db", str(db)], tmp_path, SIDELOG_HTTP=server.endpoints["http"])
        assert again.returncode == 0, again.stderr
        assert ": 0 events deleted, 0 errors archived" in again.stdout
    finally:
        err = server.stop()
    assert server.process.returncode == 0, err


def test_a_server_without_http_is_named_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "quiet" / "events.db"
    server = ServeProcess(db, http=False)
    try:
        nobody = f"127.0.0.1:{free_port()}"
        result = run(["prune", "--db", str(db), "--to", nobody], tmp_path)
        assert_one_line_error(result, 1, "has no HTTP endpoint", "started with --http off")
        result = run(["prune", "--db", str(db)], tmp_path, SIDELOG_HTTP="off")
        assert_one_line_error(result, 1, "has no HTTP endpoint", "SIDELOG_HTTP is off")
    finally:
        server.stop()
    # Stopped, the database is pruned by the command itself again.
    result = run(["prune", "--db", str(db)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pruned: 0 events deleted")


def test_a_wrong_address_names_the_right_one(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "events.db"
    server = ServeProcess(db)
    try:
        result = run(["prune", "--db", str(db), "--to", f"127.0.0.1:{free_port()}"], tmp_path)
        right = server.endpoints["http"]
        assert_one_line_error(result, 1, f"listens on http {right}", f"sidelog prune --to {right}")
    finally:
        server.stop()


def test_prune_help_names_to(tmp_path: Path) -> None:
    result = run(["prune", "--help"], tmp_path)
    assert "--to HOST:PORT" in result.stdout
