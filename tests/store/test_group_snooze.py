"""Snoozing error groups through the engine's writer: hidden for a time or until N more events,
back when either comes, and a snooze left by a deleted group neither hides its successor nor stays."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.store.group_snooze import SnoozeJob, SnoozeSpec, parse_snooze, snoozed_count, snoozes_of
from sidelog.store.maintenance import ClearJob
from tests.conftest import send_lines, tcp_port

NOW = 1_767_225_600_000
HOUR = 3_600_000


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def send_errors(engine: Engine, message: str, times: int) -> str:
    """``times`` errors with one message; the fingerprint of their group."""
    line = json.dumps({"type": "error", "category": "payment", "message": message}).encode() + b"\n"
    replies = await send_lines(tcp_port(engine), line * times)
    assert replies[-1]["ok"] is True
    found = rows(engine.settings.db, f"SELECT fingerprint FROM error_groups WHERE message = '{message}'")
    return str(found[0][0])


async def listed(engine: Engine, at: int) -> set[str]:
    groups = await engine.groups(status="unresolved", hide_snoozed_at=at, limit=100)
    return {group.fingerprint for group in groups}


async def snooze(engine: Engine, fingerprint: str, spec: SnoozeSpec | None, at: int) -> SnoozeJob:
    return await engine.run_job(lambda writer: SnoozeJob(writer, fingerprint, spec, at=at))


@pytest.mark.parametrize(
    ("text", "until_ms", "events"),
    [
        ("1h", NOW + HOUR, None),
        ("24h", NOW + 24 * HOUR, None),
        (" 90m ", NOW + 90 * 60_000, None),
        ("+100", None, 100),
        ("25 events", None, 25),
        ("2026-01-02T00:00:00Z", NOW + 24 * HOUR, None),
    ],
)
def test_a_snooze_is_a_time_or_a_number_of_events(
    text: str, until_ms: int | None, events: int | None
) -> None:
    assert parse_snooze(text, now=NOW) == SnoozeSpec(until_ms=until_ms, events=events)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "say for how long"),
        ("100", "ambiguous: write 100m for minutes or +100 for events"),
        ("-5m", "lasts into the future"),
        ("2020-01-01", "is not in the future"),
        ("400d", "at most 366 days"),
        ("99999999999999w", "at most 366 days"),
        ("+0", "must be 1 to"),
        ("soon", "snooze must be a time such as 1h"),
    ],
)
def test_a_bad_snooze_gets_a_one_line_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)) as raised:
        parse_snooze(text, now=NOW)
    assert "\n" not in str(raised.value)


async def test_a_time_snooze_hides_the_group_until_it_ends(engine: Engine) -> None:
    quiet = await send_errors(engine, "quiet failure", 1)
    loud = await send_errors(engine, "loud failure", 1)
    at = now_ms()
    job = await snooze(engine, loud, parse_snooze("1h", now=at), at)
    assert job.found
    assert job.snooze is not None
    assert job.snooze.until_ms == at + HOUR
    assert await listed(engine, at) == {quiet}
    assert await listed(engine, at + HOUR) == {quiet, loud}  # the hour has passed
    assert await engine.groups(status="unresolved", limit=100) != []  # without the term: every group
    assert await snoozed_count(engine.reader, at) == (1, at + HOUR)
    assert set(await snoozes_of(engine.reader, [quiet, loud], at)) == {loud}

    woken = await snooze(engine, loud, None, at + 1)
    assert woken.found
    assert woken.snooze is None
    assert await listed(engine, at + 1) == {quiet, loud}
    assert rows(engine.settings.db, "SELECT count(*) FROM group_snoozes") == [(0,)]


async def test_a_count_snooze_ends_when_the_group_grew_by_n(engine: Engine) -> None:
    fingerprint = await send_errors(engine, "flaky failure", 2)
    at = now_ms()
    job = await snooze(engine, fingerprint, SnoozeSpec(events=3), at)
    assert job.snooze is not None
    assert job.snooze.until_count == 5
    await send_errors(engine, "flaky failure", 2)
    assert fingerprint not in await listed(engine, now_ms())  # 4 of 5
    await send_errors(engine, "flaky failure", 1)
    assert fingerprint in await listed(engine, now_ms())


async def test_a_resolve_after_the_snooze_lets_a_regression_show(engine: Engine) -> None:
    fingerprint = await send_errors(engine, "comes back", 1)
    at = now_ms()
    await snooze(engine, fingerprint, SnoozeSpec(until_ms=at + 24 * HOUR), at)
    assert await engine.resolve(fingerprint) is not None
    await send_errors(engine, "comes back", 1)
    assert fingerprint in await listed(engine, now_ms())


async def test_a_snooze_of_a_deleted_group_is_ignored_then_swept(engine: Engine) -> None:
    fingerprint = await send_errors(engine, "cleared away", 1)
    other = await send_errors(engine, "another one", 1)
    at = now_ms()
    await snooze(engine, fingerprint, SnoozeSpec(until_ms=at + 24 * HOUR), at)
    cleared = await engine.run_job(ClearJob)
    assert cleared.groups == 2
    assert rows(engine.settings.db, "SELECT count(*) FROM group_snoozes") == [(1,)]  # left behind
    assert await snoozed_count(engine.reader, now_ms()) == (0, None)

    # The same error again makes a new group: the old snooze does not hide it.
    assert await send_errors(engine, "cleared away", 1) == fingerprint
    assert fingerprint in await listed(engine, now_ms())
    # Snoozing a group that no longer exists writes nothing and sweeps the leftover.
    gone = await snooze(engine, other, SnoozeSpec(until_ms=now_ms() + HOUR), now_ms())
    assert not gone.found
    assert gone.snooze is None
    assert rows(engine.settings.db, "SELECT count(*) FROM group_snoozes") == [(0,)]
