"""``sidelog export`` as a real process, reading the SQLite file directly."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from sidelog.store.schema import EVENT_COLUMN_NAMES
from tests.conftest import send_lines, tcp_port

EVENTS = (
    b'{"message": "first", "category": "auth", "userId": "u1"}\n'
    b'{"message": "card \\u009b declined \\u202e", "type": "error", "category": "payment"}\n'
    b'{"message": "third", "type": "warn", "category": "ui", "details": {"a": [1, 2]}}\n'
)


async def export(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sidelog",
        "export",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def filled(make_settings: Callable[..., Settings]) -> Engine:
    engine = (await start_server(make_settings(enable_system_logging=False))).engine
    replies = await send_lines(tcp_port(engine), EVENTS)
    assert replies == [{"ok": True, "stored": 3}]
    return engine


async def test_jsonl_while_the_server_runs(make_settings: Callable[..., Settings]) -> None:
    engine = await filled(make_settings)
    try:
        code, out, err = await export("--db", str(engine.settings.db))
    finally:
        await engine.stop()
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["message"] for e in events] == ["first", "card \x9b declined \u202e", "third"]
    assert "\x9b" not in out
    assert "\u202e" not in out
    assert events[2]["details"] == {"a": [1, 2]}
    assert events[0]["userId"] == "u1"
    assert err.strip() == "exported 3 events to stdout"  # no progress bar: stderr is no terminal


async def test_csv_with_filters_to_a_file(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    engine = await filled(make_settings)
    await engine.stop()  # works on a stopped server's file too
    target = tmp_path / "out.csv"
    code, out, err = await export(
        "--db", str(engine.settings.db), "--format", "csv", "--level", "warn,error", "-o", str(target)
    )
    assert code == 0
    assert out == ""
    assert err.strip() == f"exported 2 events to {target}"
    table = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert tuple(table[0]) == EVENT_COLUMN_NAMES
    messages = [row[EVENT_COLUMN_NAMES.index("message")] for row in table[1:]]
    assert messages == ["card \x9b declined \u202e", "third"]  # a file keeps the data exact


async def test_search_and_user_filters(make_settings: Callable[..., Settings]) -> None:
    engine = await filled(make_settings)
    await engine.stop()
    code, out, _ = await export("--db", str(engine.settings.db), "-q", "DECLINED")
    assert code == 0
    assert [json.loads(line)["category"] for line in out.splitlines()] == ["payment"]
    code, out, _ = await export("--db", str(engine.settings.db), "--user", "u1")
    assert code == 0
    assert [json.loads(line)["message"] for line in out.splitlines()] == ["first"]


async def test_missing_database_is_one_line(tmp_path: Path) -> None:
    code, out, err = await export("--db", str(tmp_path / "nope.db"))
    assert code == 1
    assert out == ""
    assert err.strip().splitlines() == [
        f"sidelog: no database at {tmp_path / 'nope.db'} (use --db or SIDELOG_DB)"
    ]


async def test_a_full_disk_is_one_line(make_settings: Callable[..., Settings]) -> None:
    """``/dev/full`` fails every write with ENOSPC, as a full disk does."""
    engine = await filled(make_settings)
    try:
        code, _, err = await export("--db", str(engine.settings.db), "-o", "/dev/full")
    finally:
        await engine.stop()
    assert code == 1
    assert err.strip().splitlines() == ["sidelog: cannot write /dev/full: No space left on device"]
