"""Resolving and reopening many error groups at once (``GroupStatusJob``), through the engine's writer:
statuses a few groups per turn here (the turn size made small), then the events' flags."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.store import group_status
from sidelog.store.group_status import GroupStatusJob
from tests.conftest import send_lines, tcp_port

PER_TURN = 20
GROUPS = PER_TURN * 2 + 7  # three phase-1 transactions


def word(number: int) -> str:
    """A word per number that no fingerprint rule folds away (letters g-p: not hex, not digits)."""
    return "".join("ghijklmnop"[int(digit)] for digit in str(number))


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_bulk_resolve_then_undo_changes_every_group_and_its_events(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_status, "GROUPS_PER_TURN", PER_TURN)
    errors = [
        {"type": "error", "category": "payment", "message": f"failure {word(i)}"} for i in range(GROUPS)
    ]
    payload = b"".join(json.dumps(event).encode() + b"\n" for event in errors * 2)
    await send_lines(tcp_port(engine), payload)
    db = engine.settings.db
    fingerprints = [
        str(row[0]) for row in rows(db, "SELECT fingerprint FROM error_groups ORDER BY fingerprint")
    ]
    assert len(fingerprints) == GROUPS
    already = fingerprints[0]
    assert await engine.resolve(already, "by hand") is not None

    status_set: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
    job = await engine.run_job(
        lambda writer: GroupStatusJob(
            writer, fingerprints, resolved=True, at=now_ms(), note="bulk", status_set=status_set
        )
    )
    assert job.changed == fingerprints[1:]  # the one resolved by hand is left as it was
    assert status_set.result() == job.changed
    assert len(job.status_turns) == 3
    assert job.finished
    assert job.flagged == 2 * (GROUPS - 1)
    assert rows(db, "SELECT DISTINCT status FROM error_groups") == [("resolved",)]
    notes = rows(db, "SELECT resolve_note, count(*) FROM error_groups GROUP BY resolve_note ORDER BY 1")
    assert notes == [("bulk", GROUPS - 1), ("by hand", 1)]
    assert rows(db, "SELECT count(*) FROM events WHERE level = 'error' AND resolved = 0") == [(0,)]

    # A new event reopens one group (a regression) before the undo.
    await send_lines(tcp_port(engine), json.dumps(errors[5]).encode() + b"\n")
    regressed = rows(db, "SELECT fingerprint FROM error_groups WHERE status = 'unresolved'")
    assert len(regressed) == 1

    undo = await engine.run_job(
        lambda writer: GroupStatusJob(writer, job.changed, resolved=False, at=now_ms())
    )
    assert set(undo.changed) == set(job.changed) - {regressed[0][0]}
    assert rows(db, "SELECT fingerprint FROM error_groups WHERE status = 'resolved'") == [(already,)]
    open_events = rows(db, "SELECT count(*) FROM events WHERE level = 'error' AND resolved = 0")
    # Two open events per group the undo reopened, and the regression's new one.
    assert open_events == [(2 * len(undo.changed) + 1,)] == [(2 * (GROUPS - 2) + 1,)]
