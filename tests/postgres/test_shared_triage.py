"""Triage on SQLite and PostgreSQL alike: resolve, reopen and regressions, snoozes, view marks,
feedback linked to the errors before it, the messages users saw, and the resolution figures.

One server per store (tests/support/both_stores.py), the same events, the same assertions.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.filters import EventFilter
from sidelog.store.feedback_views import group_feedback
from sidelog.store.group_marks import LookedJob, looked_at, regressed_since
from sidelog.store.group_snooze import SnoozeJob, SnoozeSpec, parse_snooze, snoozed_count, snoozes_of
from sidelog.store.maintenance import ClearJob
from sidelog.store.resolution import read_resolution
from tests.support.both_stores import send

HOUR = 3_600_000
MINUTE = 60_000


async def errors(store: Engine, message: str, times: int, **fields: Any) -> str:
    """``times`` errors with one message; the fingerprint of their group."""
    await send(
        store, *({"type": "error", "category": "payment", "message": message, **fields} for _ in range(times))
    )
    groups = [g for g in await store.groups(status=None, limit=200) if g.message == message]
    assert len(groups) == 1
    return groups[0].fingerprint


async def listed(store: Engine, at: int) -> set[str]:
    return {g.fingerprint for g in await store.groups(status="unresolved", hide_snoozed_at=at, limit=100)}


async def snooze(store: Engine, fingerprint: str, spec: SnoozeSpec | None, at: int) -> SnoozeJob:
    return await store.run_job(lambda writer: SnoozeJob(writer, fingerprint, spec, at=at))


async def snooze_rows(store: Engine) -> int:
    return int((await store.reader._all("SELECT count(*) FROM group_snoozes"))[0][0])


async def test_resolve_reopen_and_a_regression(store: Engine) -> None:
    fingerprint = await errors(store, "card declined", 3, userId="ann")
    resolved = await store.resolve(fingerprint, note="deployed the fix")
    assert resolved is not None
    assert (resolved.status, resolved.resolve_note, resolved.regressed) == (
        "resolved",
        "deployed the fix",
        False,
    )
    assert resolved.resolved_at is not None
    assert await store.reader.count(EventFilter(fingerprint=fingerprint)) == 3
    assert await store.groups(user="ann", limit=10) == []  # her errors are resolved with the group
    assert [g.fingerprint for g in await store.groups(status="resolved", limit=10)] == [fingerprint]
    await send(store, {"type": "error", "category": "payment", "message": "card declined", "userId": "ann"})
    back = await store.reader.group(fingerprint)
    assert back is not None
    assert (back.count, back.status, back.regressed) == (4, "unresolved", True)
    assert back.resolved_at == resolved.resolved_at  # names the resolve it undid
    assert [g.fingerprint for g in await store.groups(user="ann", limit=10)] == [fingerprint]
    again = await store.resolve(fingerprint)
    assert again is not None
    reopened = await store.reopen(fingerprint)
    assert reopened is not None
    assert reopened.status == "unresolved"
    assert await store.resolve("no-such-group") is None
    assert await store.reopen("no-such-group") is None


async def test_time_and_count_snoozes_wake_and_sweep(store: Engine) -> None:
    quiet = await errors(store, "quiet failure", 1)
    loud = await errors(store, "loud failure", 2)
    at = now_ms()
    job = await snooze(store, loud, parse_snooze("1h", now=at), at)
    assert job.found
    assert await listed(store, at) == {quiet}
    assert await listed(store, at + HOUR) == {quiet, loud}
    assert await snoozed_count(store.reader, at) == (1, at + HOUR)
    assert set(await snoozes_of(store.reader, [quiet, loud], at)) == {loud}
    woken = await snooze(store, loud, None, at + 1)
    assert woken.found
    assert await listed(store, at + 1) == {quiet, loud}
    assert await snooze_rows(store) == 0

    counted = await snooze(store, loud, SnoozeSpec(events=2), now_ms())
    assert counted.snooze is not None
    assert counted.snooze.until_count == 4
    await errors(store, "loud failure", 1)
    assert loud not in await listed(store, now_ms())  # 3 of 4
    await errors(store, "loud failure", 1)
    assert loud in await listed(store, now_ms())

    await snooze(store, quiet, SnoozeSpec(until_ms=now_ms() + 24 * HOUR), now_ms())
    assert await store.resolve(quiet) is not None
    await errors(store, "quiet failure", 1)
    assert quiet in await listed(store, now_ms())  # a regression always shows


async def test_a_snooze_of_a_cleared_group_hides_nothing_and_is_swept(store: Engine) -> None:
    gone = await errors(store, "cleared away", 1)
    other = await errors(store, "another one", 1)
    await snooze(store, gone, SnoozeSpec(until_ms=now_ms() + 24 * HOUR), now_ms())
    cleared = await store.run_job(ClearJob)
    assert cleared.groups == 2
    assert await snooze_rows(store) == 1  # left behind
    assert await snoozed_count(store.reader, now_ms()) == (0, None)
    assert await errors(store, "cleared away", 1) == gone  # a new group of the same fingerprint
    assert gone in await listed(store, now_ms())
    missing = await snooze(store, other, SnoozeSpec(until_ms=now_ms() + HOUR), now_ms())
    assert not missing.found
    assert await snooze_rows(store) == 0


async def test_view_marks_only_move_forward_and_regressions_are_listed(store: Engine) -> None:
    assert await looked_at(store.reader) is None
    at = now_ms()
    await store.run_job(lambda writer: LookedJob(writer, at))
    await store.run_job(lambda writer: LookedJob(writer, at - HOUR))  # a clock stepping back
    assert await looked_at(store.reader) == at
    await store.run_job(lambda writer: LookedJob(writer, at + 5, "feedback"))
    assert (await looked_at(store.reader), await looked_at(store.reader, "feedback")) == (at, at + 5)

    fingerprint = await errors(store, "comes back", 1)
    steady = await errors(store, "steady", 1)
    assert await store.resolve(fingerprint) is not None
    since = now_ms()
    await errors(store, "comes back", 1)
    await errors(store, "steady", 1)
    regressed = await regressed_since(store.reader, since)
    assert [g.fingerprint for g in regressed] == [fingerprint]
    assert steady not in {g.fingerprint for g in regressed}
    assert await regressed_since(store.reader, now_ms() + HOUR) == []


SHOWN = "Payment failed, please try again"


async def test_feedback_is_linked_to_the_sessions_errors_and_the_messages_counted(store: Engine) -> None:
    t0 = now_ms() - 20 * MINUTE

    def error(session: str | None, ts: int, shown: str | None) -> dict[str, Any]:
        event: dict[str, Any] = {"message": "card declined", "category": "payment", "type": "error", "ts": ts}
        if session is not None:
            event["sessionId"] = session
        if shown is not None:
            event["userMessage"] = shown
        return event

    await send(
        store,
        error("s-1", t0, SHOWN),
        error("s-2", t0 + MINUTE, SHOWN),
        error(None, t0 + 2 * MINUTE, SHOWN),
        error("s-3", t0 + 3 * MINUTE, "Your card was declined"),
        {"message": "other failure", "type": "error", "sessionId": "s-1", "ts": t0},
    )
    await send(
        store,
        {"message": "Pay does nothing", "category": "feedback", "sessionId": "s-1", "ts": t0 + 5 * MINUTE},
        {"message": "unrelated", "category": "feedback", "sessionId": "s-9", "ts": t0 + 5 * MINUTE},
    )
    fingerprint = await errors(store, "card declined", 0)
    other = await errors(store, "other failure", 0)
    reports = {
        e.message: e for e in await store.events(EventFilter(categories=frozenset({"feedback"})), limit=10)
    }
    linked = orjson.loads(reports["Pay does nothing"].details or "{}")
    assert linked["related_groups"] == [other, fingerprint]  # newest error first
    assert "related_groups" not in orjson.loads(reports["unrelated"].details or "{}")

    found = await group_feedback(store.reader, fingerprint)
    assert [(r.message, r.session_id) for r in found.reports] == [("Pay does nothing", "s-1")]
    assert found.reports_total == 1
    shown = {m.text: m for m in found.messages}
    assert list(shown) == [SHOWN, "Your card was declined"]  # most shown first
    assert (
        shown[SHOWN].shown,
        shown[SHOWN].sessions,
        shown[SHOWN].followed,
        shown[SHOWN].without_session,
    ) == (
        3,
        2,
        1,
        1,
    )
    assert found.events_read == 4
    assert (await group_feedback(store.reader, "no-such-group")).events_read == 0


async def test_resolution_figures(store: Engine) -> None:
    names = ["alpha", "beta", "gamma", "delta"]
    prints = [await errors(store, f"failure {name}", 1) for name in names]
    for fingerprint in prints[:3]:
        assert await store.resolve(fingerprint) is not None
    groups = {g.fingerprint: g for g in await store.groups(status=None, limit=10)}
    took = sorted(max(0, (groups[f].resolved_at or 0) - groups[f].first_seen) for f in prints[:3])
    now = now_ms() + 1000
    figures = await read_resolution(store.reader, now=now)
    assert (figures.seen, figures.resolved, figures.resolved_in_window, figures.unresolved) == (4, 3, 3, 1)
    assert figures.median_ms == took[1]
    assert figures.rate == 0.75
    await store.resolve(prints[3])
    even = await read_resolution(store.reader, now=now)
    took = sorted(
        max(0, (g.resolved_at or 0) - g.first_seen) for g in await store.groups(status=None, limit=10)
    )
    assert even.median_ms == (took[1] + took[2]) // 2
    later = await read_resolution(store.reader, now=now + 2 * 24 * HOUR)
    assert (later.seen, later.resolved_in_window, later.median_ms) == (0, 0, None)
