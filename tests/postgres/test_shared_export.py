"""``sidelog export --to URL`` writes what ``sidelog export --db`` writes, on either store.

A server on SQLite or PostgreSQL (tests/support/both_stores.py), read once directly and
once over its HTTP API (commands/remote_export.py): the same bytes in JSON lines, in CSV
(``details`` as compact JSON text whichever store holds it) and in a repro bundle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from sidelog.cli import main
from sidelog.config import Settings
from sidelog.server import RunningServer
from tests.support.both_stores import STORES, send, start_on


@pytest.fixture(params=STORES)
async def server(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[RunningServer]:
    running = await start_on(request, make_settings, tmp_path, http="127.0.0.1:0")
    events: list[dict[str, Any]] = [
        {
            "message": "=SUM(A1)" if n == 3 else f"step {n}",
            "type": "error" if n % 4 == 0 else "info",
            "sessionId": "s1",
            "details": {"zeta": n, "alpha": {"b": [1, 2.5, None], "a": "é\u202e"}, "m": "x"},
            "showToUser": n % 2 == 0,
        }
        for n in range(1205)  # two pages of the API and a bit
    ]
    await send(running.engine, *events)
    yield running
    await running.stop()


def db_arg(server: RunningServer) -> str:
    """The server's store as ``--db`` takes it (a PostgreSQL URL with its password)."""
    store = server.engine.settings.store
    if store.url is not None:
        return store.url.render_as_string(hide_password=False)
    return str(server.engine.settings.db)


async def export(target: Path, *args: str) -> bytes:
    code = await asyncio.to_thread(main, ["export", *args, "-o", str(target)])
    assert code == 0
    return target.read_bytes()


@pytest.mark.parametrize("flags", [[], ["--format", "csv"], ["--format", "csv", "--level", "error"]])
async def test_remote_export_equals_the_local_one_on_each_store(
    server: RunningServer, tmp_path: Path, flags: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIDELOG_TOKEN", raising=False)
    db = db_arg(server)
    local = await export(tmp_path / "local", "--db", db, *flags)
    remote = await export(tmp_path / "remote", "--to", f"http://{dict(server.endpoints)['http']}", *flags)
    assert remote == local
    if flags == ["--format", "csv"]:
        assert local.count(b"\n") == 1206
        assert b"'=SUM(A1)" in local
        assert b'""zeta"":0' in local  # compact JSON text, as SQLite stores it, on PostgreSQL too


async def test_remote_bundle_equals_the_local_one_on_each_store(
    server: RunningServer, tmp_path: Path
) -> None:
    db = db_arg(server)
    fingerprint = (await server.engine.groups(limit=1))[0].fingerprint
    local = await export(tmp_path / "local.md", "--db", db, "--bundle", fingerprint, "--events", "30")
    remote = await export(
        tmp_path / "remote.md", "--to", f"http://{dict(server.endpoints)['http']}", "--bundle", fingerprint
    )
    assert b"step 1203" in local  # the session's events before the newest error
    assert remote != local  # 20 events by default, not 30
    remote = await export(
        tmp_path / "remote.md",
        "--to",
        f"http://{dict(server.endpoints)['http']}",
        "--bundle",
        fingerprint,
        "--events",
        "30",
    )
    assert remote == local
