"""The served sidelog.js, driven from Node against a real server; rows checked in SQLite."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from tests.integration.http_support import http_base, start

NODE = shutil.which("node")
SCRIPT = Path(__file__).with_name("client_scenarios.js")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


@pytest.fixture
async def server(make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    engine = await start(make_settings(http="127.0.0.1:0", enable_system_logging=False))
    yield engine
    await engine.stop()


async def run_node(scenario: str, engine: Engine, workdir: Path, origin: str = "") -> Any:
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(SCRIPT),
        scenario,
        http_base(engine),
        str(workdir),
        origin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    return json.loads(out)


async def stored(engine: Engine, where: str = "1") -> list[sqlite3.Row]:
    # Let anything in flight commit: a sync marker behind it in the queue.
    from sidelog.pipeline.queue import Origin

    await engine.wait_committed(Origin("test"))
    with sqlite3.connect(engine.settings.db) as db:
        db.row_factory = sqlite3.Row
        return db.execute(f"SELECT * FROM events WHERE {where} ORDER BY id").fetchall()


async def test_node_client_sends_every_kind_of_event(server: Engine, tmp_path: Path) -> None:
    stats = await run_node("basic", server, tmp_path)
    assert stats == {"queued": 0, "dropped": 0, "failed": 1}  # the circular event cannot be sent
    found = await stored(server)
    assert [row["message"] for row in found] == [
        "node started",
        "plain string event",
        "User login attempt",
        "debug detail",
        "Payment 42 failed",
        "Clicked checkout",
        "undefined",  # logError(undefined): what was thrown, as it was
    ]
    assert {row["source"] for row in found} == {"api"}  # Node sends no Origin
    error = found[4]
    assert (error["level"], error["category"], error["user_message"]) == ("error", "error", "Card declined")
    details = json.loads(error["details"])
    assert details["orderId"] == 42
    assert details["name"] == "Error"
    assert "Payment 42 failed" in details["stack"]
    action = found[5]
    assert (action["category"], json.loads(action["details"])) == ("ui", {"button": "pay"})
    assert found[2]["user_id"] == "u-7"


async def test_node_client_buffers_while_sidelog_is_down(server: Engine, tmp_path: Path) -> None:
    result = await run_node("down", server, tmp_path)
    assert result["whileDown"] == {"queued": 3, "dropped": 2, "failed": 0}
    assert result["after"] == {"queued": 0, "dropped": 0, "failed": 0}
    found = await stored(server)
    messages = [row["message"] for row in found]
    # Oldest dropped, the rest delivered exactly once, and the drop reported.
    assert messages[0].startswith("sidelog.js dropped 2 events")
    assert messages[1:] == ["buffered 2", "buffered 3", "buffered 4"]


async def test_page_client_uses_beacon_on_hide(server: Engine, tmp_path: Path) -> None:
    result = await run_node("browser", server, tmp_path, origin="http://localhost:5173")
    assert result["endpoint"] == http_base(server)  # taken from the script tag's src
    assert result["statuses"]
    assert set(result["statuses"]) == {202}
    found = await stored(server)
    assert {row["source"] for row in found} == {"client"}
    # The page-load navigation is logged as the script loads, before setUser.
    assert {row["user_id"] for row in found if row["message"] != "Navigation to /app"} == {"u-browser"}
    assert len({row["session_id"] for row in found}) == 1
    assert found[0]["session_id"]
    by_message = {row["message"]: row for row in found}
    assert set(by_message) == {
        "Navigation to /app",
        "Clicked pay",
        "Navigation to /checkout",
        "boom in page",
        "rejected promise",
    }
    assert by_message["Clicked pay"]["url"] == "http://localhost:5173/app"
    assert by_message["boom in page"]["level"] == "error"
    assert by_message["Clicked pay"]["user_agent"] == "FakeBrowser/1.0"


async def test_page_on_a_foreign_origin_stores_nothing(server: Engine, tmp_path: Path) -> None:
    result = await run_node("browser", server, tmp_path, origin="http://evil.example")
    assert result["statuses"]
    assert set(result["statuses"]) == {403}
    assert await stored(server) == []
