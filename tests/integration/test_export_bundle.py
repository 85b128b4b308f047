"""``sidelog export --bundle FINGERPRINT`` as a real process over a store a real engine wrote."""

from __future__ import annotations

import json
import sqlite3
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sidelog.cli import main
from sidelog.config import Settings
from sidelog.server import start_server
from tests.conftest import send_lines, tcp_port
from tests.support.cli import assert_one_line_error, run

T0 = 1_764_500_000_000


def _traceback() -> str:
    try:
        json.loads("{not json")
    except ValueError as exc:
        return "".join(traceback.format_exception(exc))
    raise AssertionError("unreachable")


async def _store(make_settings: Callable[..., Settings]) -> tuple[Path, str]:
    """A store with one session across three sources, sent out of time order; its error's fingerprint."""
    stack = _traceback()
    events: list[dict[str, Any]] = [
        {  # the error arrives first, the browser's events later (a batch sent on page hide)
            "message": "checkout failed",
            "type": "error",
            "category": "payment",
            "source": "server",
            "sessionId": "s-9",
            "timestamp": T0 + 300,
            "userMessage": "Payment failed, try again",
            "details": {"exception": {"type": "JSONDecodeError", "stack": stack}, "password": "hunter2"},
        },
        {"message": "other session", "sessionId": "s-8", "timestamp": T0 + 150},
        {
            "message": "clicked pay",
            "category": "ui",
            "source": "browser",
            "sessionId": "s-9",
            "timestamp": T0,
        },
        {
            "message": "POST /api/pay",
            "category": "http",
            "source": "api",
            "sessionId": "s-9",
            "timestamp": T0 + 100,
        },
        {"message": "after it", "sessionId": "s-9", "timestamp": T0 + 900},
    ]
    running = await start_server(make_settings(enable_system_logging=False))
    try:
        payload = b"".join(json.dumps(event).encode() + b"\n" for event in events)
        assert (await send_lines(tcp_port(running.engine), payload))[-1] == {"ok": True, "stored": 5}
    finally:
        await running.stop()
    db = running.engine.settings.db
    with sqlite3.connect(db) as conn:
        (fingerprint,) = conn.execute("SELECT fingerprint FROM error_groups").fetchone()
    return db, fingerprint


async def test_bundle_to_stdout_and_to_a_file(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, fingerprint = await _store(make_settings)
    result = run(["export", "--bundle", fingerprint, "--db", str(db), "--events", "5"], tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("## JSONDecodeError: checkout failed\n")
    assert f"| fingerprint | {fingerprint} |" in out
    assert "| group | 1 event · first seen" in out
    assert "| what the user saw | Payment failed, try again |" in out
    assert "| loads | " in out  # the standard library's frame: listed, not bold
    assert '"password": "[redacted]"' in out  # details as stored: redacted at ingest
    assert "hunter2" not in out
    # The session's events before it, by event time although they arrived after it; not the other
    # session's, not the later one.
    rows = [line.split(" | ")[5] for line in out.splitlines() if line.startswith(("| 2025-", "| **2025-"))]
    assert rows == ["clicked pay", "POST /api/pay", "**checkout failed**"]
    assert "(asked for 5; only 2 stored before it)" in out

    target = tmp_path / "bundle.md"  # the same entry point in this process: no second start-up
    assert main(["export", "--bundle", fingerprint, "--db", str(db), "-o", str(target)]) == 0
    out_err = capsys.readouterr()
    assert out_err.out == ""
    assert out_err.err.strip() == f"wrote the repro bundle of {fingerprint} to {target}"
    assert target.read_text(encoding="utf-8").replace("asked for 20", "asked for 5") == out


async def test_bad_bundle_arguments_are_one_line(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, fingerprint = await _store(make_settings)
    unknown = run(["export", "--bundle", "nope\x1b[31m", "--db", str(db)], tmp_path)  # a real process once
    assert_one_line_error(unknown, 1, "no error group with fingerprint", "nope␛[31m")
    assert unknown.stdout == ""
    capsys.readouterr()
    # The rest through the same entry point, in this process (no interpreter start-up each).
    for args, needle in (
        (["--events", "-1"], "--events must be between 0 and 1,000, got -1"),
        (["--level", "error"], "--bundle takes no filter flags"),
        (["-o", str(db)], "refusing to write the export over the store file"),
        (["--format", "csv"], "--bundle writes Markdown: --format does not apply"),
    ):
        assert main(["export", "--bundle", fingerprint, "--db", str(db), *args]) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err.count("\n") == 1, err
        assert needle in err
    assert main(["export", "--bundle", " ", "--db", str(db)]) == 1
    assert "--bundle needs a fingerprint" in capsys.readouterr().err
    with sqlite3.connect(db) as conn:  # the group outlived its events (retention): one line too
        conn.execute("DELETE FROM events")
    assert main(["export", "--bundle", fingerprint, "--db", str(db)]) == 1
    assert "has no stored event left" in capsys.readouterr().err
