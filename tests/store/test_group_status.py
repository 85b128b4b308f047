"""Resolving and reopening many error groups at once (``GroupStatusJob``), through the engine's writer."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.store.group_status import GROUPS_PER_STEP, GroupStatusJob
from tests.conftest import send_lines, tcp_port

GROUPS = GROUPS_PER_STEP * 2 + 7  # more than one transaction's worth


def word(number: int) -> str:
    """A word per number that no fingerprint rule folds away (letters g-p: not hex, not digits)."""
    return "".join("ghijklmnop"[int(digit)] for digit in str(number))


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_bulk_resolve_then_undo_changes_every_group_and_its_events(engine: Engine) -> None:
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

    job = await engine.run_job(
        lambda writer: GroupStatusJob(writer, fingerprints, resolved=True, at=now_ms(), note="bulk")
    )
    assert job.changed == fingerprints[1:]  # the one resolved by hand is left as it was
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
