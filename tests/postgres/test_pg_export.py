"""``sidelog export`` and ``export --bundle`` on a PostgreSQL store (commands/pg_read.py).

The same output as from a SQLite file, read in keyset pages through the store's read
path (a page size of a few rows here, so the paging itself is exercised), and the
same one-line errors for a database that cannot be read or a group that is not there.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from sidelog import cli
from sidelog.commands import pg_read
from sidelog.config import Settings
from sidelog.server import start_server
from tests.conftest import send_lines, tcp_port
from tests.support.postgres import PostgresCluster, free_port


async def _seed(url: str, make_settings: Callable[..., Settings]) -> str:
    """30 events (every third an error of session s1, one group) through a real server; its fingerprint."""
    server = await start_server(make_settings(db=url, enable_system_logging=False))
    try:
        lines = b"".join(
            orjson.dumps(
                {
                    "message": "=cmd|' /C calc'!A0" if n == 4 else f"event {n}",
                    "level": "error" if n % 3 == 0 else "info",
                    "sessionId": "s1",
                    "details": {"n": n, "nested": {"ok": True}},
                }
            )
            + b"\n"
            for n in range(30)
        )
        assert (await send_lines(tcp_port(server.engine), lines))[-1] == {"ok": True, "stored": 30}
        return (await server.engine.groups(limit=1))[0].fingerprint
    finally:
        await server.stop()


def test_export_reads_a_postgres_store_page_by_page(
    pg_cluster: PostgresCluster,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = asyncio.run(pg_cluster.create_database())
    fingerprint = asyncio.run(_seed(url, make_settings))
    monkeypatch.setattr(pg_read, "PAGE", 7)

    out = tmp_path / "all.jsonl"
    assert cli.main(["export", "--db", url, "-o", str(out)]) == 0
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [event["message"] for event in events if event["message"] != "=cmd|' /C calc'!A0"] == [
        f"event {n}" for n in range(30) if n != 4
    ]
    assert [event["id"] for event in events] == sorted(event["id"] for event in events)
    assert events[1]["details"] == {"n": 1, "nested": {"ok": True}}  # jsonb back as the same object
    assert "exported 30 events" in capsys.readouterr().err

    table = tmp_path / "errors.csv"
    assert cli.main(["export", "--db", url, "--level", "error", "--format", "csv", "-o", str(table)]) == 0
    with table.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["message"] for row in rows] == [f"event {n}" for n in range(0, 30, 3)]

    bundle = tmp_path / "bundle.md"
    assert cli.main(["export", "--db", url, "--bundle", fingerprint, "--events", "5", "-o", str(bundle)]) == 0
    text = bundle.read_text()
    assert "event 27" in text  # the newest error…
    assert "event 26" in text  # …and its session's events before it
    assert "event 21" not in text  # five events before, no more


def test_export_errors_are_one_line(pg_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]) -> None:
    url = asyncio.run(pg_cluster.create_database())
    assert cli.main(["export", "--db", url, "--bundle", "nothing-like-it"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "cannot read the database" in lines[0]
    assert "events" in lines[0]  # no sidelog schema in it yet
    down = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/events"
    assert cli.main(["export", "--db", down]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "cannot read the database postgresql://nobody:***@127.0.0.1" in lines[0]
    assert "secret" not in lines[0]
