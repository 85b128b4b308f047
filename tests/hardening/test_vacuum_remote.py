"""``sidelog vacuum`` on a database a running ``sidelog serve`` holds: that server gives
its free pages back (``POST /v1/vacuum``) while it keeps storing events.

Free pages are made the way a user's ``sqlite3`` session would make them: a
``DELETE`` on the live file (the server tolerates another writer).
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.hardening.serve_process import ServeProcess
from tests.support.cli import assert_one_line_error, run


def send(address: tuple[str, int], events: list[dict[str, str]]) -> None:
    """Events over TCP, acknowledged once committed."""
    payload = b"".join(json.dumps(event).encode() + b"\n" for event in events) + b'{"sync": true}\n'
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert json.loads(reply)["ok"] is True


def free_pages(db: Path) -> int:
    with sqlite3.connect(db, timeout=10) as conn:
        return int(conn.execute("PRAGMA freelist_count").fetchone()[0])


def test_vacuum_asks_the_running_server_and_ingest_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "live" / "events.db"
    server = ServeProcess(db)
    try:
        padding = "x" * 2000
        send(server.tcp(), [{"message": f"bulky {n}", "details": {"pad": padding}} for n in range(3000)])
        with sqlite3.connect(db, timeout=10) as conn:
            deleted = conn.execute("DELETE FROM events WHERE message LIKE 'bulky %'").rowcount
        assert deleted == 3000
        assert free_pages(db) > 1000

        result = run(["vacuum", "--db", str(db), "--to", server.endpoints["http"]], tmp_path)
        assert result.returncode == 0, result.stderr
        line = result.stdout.strip()
        found = re.fullmatch(
            rf"vacuumed by the running sidelog at {re.escape(server.endpoints['http'])}: database and WAL "
            r"([\d,]+) → ([\d,]+) bytes \(([\d,]+) freed, ([\d,]+) pages released\)",
            line,
        )
        assert found, line
        before, after, freed, pages = (int(group.replace(",", "")) for group in found.groups())
        assert after < before
        assert freed == before - after
        assert pages > 1000
        assert free_pages(db) == 0

        send(server.tcp(), [{"message": "after the vacuum"}])  # the server still stores
        with sqlite3.connect(db, timeout=10) as conn:
            assert (
                conn.execute("SELECT count(*) FROM events WHERE message = 'after the vacuum'").fetchone()[0]
                == 1
            )
    finally:
        err = server.stop()
    assert server.process.returncode == 0, err


def test_vacuum_of_a_running_server_without_http_says_so(tmp_path: Path) -> None:
    db = tmp_path / "quiet" / "events.db"
    server = ServeProcess(db, http=False)
    try:
        result = run(["vacuum", "--db", str(db)], tmp_path, SIDELOG_HTTP="off")
        assert_one_line_error(result, 1, "has no HTTP endpoint", "cannot be asked to vacuum")
    finally:
        server.stop()
    stopped = run(["vacuum", "--db", str(db)], tmp_path)  # stopped: the command compacts the file itself
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.startswith(f"vacuumed {db}: ")


def test_the_route_refuses_options_and_plain_text(tmp_path: Path) -> None:
    db = tmp_path / "route" / "events.db"
    server = ServeProcess(db)
    url = f"http://{server.endpoints['http']}/v1/vacuum"
    try:
        for body, content_type, status, reason in (
            (b'{"full": true}', "application/json", 400, "vacuum takes no options"),
            (b"{}", "text/plain", 415, "needs Content-Type: application/json"),
        ):
            request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == status
            assert reason in json.loads(refused.value.read())["error"]
    finally:
        server.stop()
