"""A group's user feedback (reports, the messages users saw and what followed them) and the
resolution figures of ``GET /v1/health``, over a real engine, real sockets and a real file.

The query plans are checked on a file at the current schema: every read is bounded and
runs on an index (``EXPLAIN QUERY PLAN``), so its cost does not grow with the store.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.store import resolution
from sidelog.store.feedback_views import group_feedback, group_feedback_sql
from sidelog.store.migrations import initialise
from sidelog.store.resolution import read_resolution, resolution_for_health, resolution_sql
from tests.conftest import send_lines, tcp_port
from tests.integration.http_support import http_base

pytest_plugins = ["tests.integration.http_fixtures"]

MINUTE = 60_000
SHOWN = "Payment failed, please try again"
OTHER = "Your card was declined"
_RESOLVED_SQL = (
    "UPDATE error_groups SET status = 'resolved', first_seen = ?, resolved_at = ? WHERE message = ?"
)


async def _send(engine: Engine, *events: dict[str, Any]) -> None:
    payload = b"".join(json.dumps(event).encode() + b"\n" for event in events)
    replies = await send_lines(tcp_port(engine), payload)
    assert replies[-1] == {"ok": True, "stored": len(events)}, replies


def _error(
    session: str | None, ts: int, user_message: str | None, message: str = "card declined"
) -> dict[str, Any]:
    event: dict[str, Any] = {"message": message, "category": "payment", "type": "error", "ts": ts}
    if session is not None:
        event["sessionId"] = session
    if user_message is not None:
        event["userMessage"] = user_message
    return event


def _fingerprint(engine: Engine, message: str = "card declined") -> str:
    with contextlib.closing(sqlite3.connect(engine.settings.db)) as db:
        rows = db.execute("SELECT fingerprint FROM error_groups WHERE message = ?", (message,)).fetchall()
    assert len(rows) == 1, rows
    return str(rows[0][0])


async def test_reports_and_the_messages_users_saw(http_engine: Engine, client: Any) -> None:
    t0 = now_ms() - 10 * MINUTE  # the POSTed report's time is now: 10 minutes after s-1's error
    await _send(
        http_engine,
        _error("s-1", t0, SHOWN),  # a report follows 5 minutes later
        _error("s-2", t0 + MINUTE, SHOWN),  # no report in this session
        _error("s-3", t0 + 2 * MINUTE, OTHER),  # a report, but 40 minutes later: too late
        _error(None, t0 + 3 * MINUTE, SHOWN),  # no session: cannot be tied to a report
        _error("s-4", t0 + 4 * MINUTE, None),  # nothing shown
        _error("s-9", t0, None, message="other failure"),  # another group
    )
    await _send(
        http_engine,
        {"message": "Pay did nothing", "category": "feedback", "sessionId": "s-3", "ts": t0 + 42 * MINUTE},
        {"message": "unrelated", "category": "feedback", "sessionId": "s-9", "ts": t0 + MINUTE},
    )
    body = {"message": "The pay button \x1b[31mdoes nothing", "email": "ada@example.com", "sessionId": "s-1"}
    async with client.post(f"{http_base(http_engine)}/v1/feedback", json=body) as r:
        assert r.status == 201, await r.text()
        answer = await r.json()
    fingerprint = _fingerprint(http_engine)
    assert fingerprint in answer["relatedGroups"]

    found = await group_feedback(http_engine.reader, fingerprint)

    assert [(r.message, r.email, r.session_id) for r in found.reports] == [
        ("The pay button \x1b[31mdoes nothing", "ada@example.com", "s-1"),  # stored as sent; shown safely
        ("Pay did nothing", None, "s-3"),
    ]
    assert found.reports_total == 2
    assert not found.partial
    by_text = {m.text: m for m in found.messages}
    assert list(by_text) == [SHOWN, OTHER]  # most shown first
    shown, other = by_text[SHOWN], by_text[OTHER]
    assert (shown.shown, shown.sessions, shown.followed, shown.without_session) == (3, 2, 1, 1)
    assert shown.followed_share == 0.5
    assert (other.shown, other.followed) == (1, 0)  # 40 minutes is past the 30-minute window
    assert found.events_read == 5


async def test_a_group_nobody_reported(engine: Engine) -> None:
    await _send(engine, _error(None, now_ms(), None))
    found = await group_feedback(engine.reader, _fingerprint(engine))
    assert (found.reports, found.messages, found.reports_total, found.events_read) == ([], [], 0, 1)
    unknown = await group_feedback(engine.reader, "no-such-group")
    assert unknown.events_read == 0


def test_feedback_and_resolution_queries_are_bounded_and_indexed(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    db.touch()
    initialise(db)
    with contextlib.closing(sqlite3.connect(db)) as conn:

        def plan(sql: str, params: tuple[Any, ...]) -> str:
            return " | ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))

        reports, shown, read = (plan(sql, params) for sql, params in group_feedback_sql("fp"))
        assert "USING INDEX ix_events_category (category=?)" in reports
        assert "USING INDEX ix_events_fingerprint (fingerprint=?)" in shown
        assert "USING COVERING INDEX ix_events_fingerprint (fingerprint=?)" in read
        for text in (reports, shown, read):
            assert "TEMP B-TREE" not in text, text
            assert "SCAN events" not in text, text
        for sql, _ in group_feedback_sql("fp"):
            assert "LIMIT ?" in sql  # bounded: the newest N only
        (counts_sql, counts_params), (median_sql, median_params) = resolution_sql(now_ms())
        counts = plan(counts_sql, counts_params)
        assert "COVERING INDEX ix_error_groups_last_seen (last_seen>?)" in counts
        assert "COVERING INDEX ix_error_groups_status_last_seen (status=? AND last_seen>?)" in counts
        assert "SCAN error_groups" not in counts
        assert "USING INDEX ix_error_groups_status" in plan(median_sql, median_params)


async def test_resolution_rate_and_median_time_to_resolve(engine: Engine) -> None:
    start = now_ms()
    await _send(engine, *(_error(None, start, None, message=f"failure {name}") for name in "abcd"))
    empty = await read_resolution(engine.reader, now=start + 3 * resolution.WINDOW_MS)
    assert (empty.seen, empty.rate, empty.median_ms) == (0, None, None)  # nothing in that window
    before = await resolution_for_health(engine.reader)
    assert (before.seen, before.resolved, before.rate, before.median_ms) == (4, 0, 0.0, None)
    assert await resolution_for_health(engine.reader) is before  # kept between ticks

    await engine.resolve(_fingerprint(engine, "failure a"))
    after = await resolution_for_health(engine.reader)  # the unresolved count moved: read again
    assert (after.seen, after.resolved, after.rate, after.resolved_in_window) == (4, 1, 0.25, 1)
    assert after.median_ms is not None
    assert 0 <= after.median_ms <= now_ms() - start + 1000

    with contextlib.closing(sqlite3.connect(engine.settings.db)) as db, db:  # known durations: 1, 2, 3 h
        for hours, name in ((1, "a"), (2, "b"), (3, "c")):
            db.execute(
                _RESOLVED_SQL,
                (start - hours * 3_600_000, start, f"failure {name}"),
            )
    odd = await read_resolution(engine.reader, now=start + 1)
    assert (odd.resolved, odd.median_ms) == (3, 2 * 3_600_000)
    with contextlib.closing(sqlite3.connect(engine.settings.db)) as db, db:
        db.execute(
            _RESOLVED_SQL,
            (start - 10 * 3_600_000, start, "failure d"),
        )
    even = await read_resolution(engine.reader, now=start + 1)
    assert (even.resolved, even.rate, even.median_ms) == (4, 1.0, int(2.5 * 3_600_000))


async def test_health_reports_the_resolution_figures(http_engine: Engine, client: Any) -> None:
    await _send(http_engine, _error(None, now_ms(), None, message="failure x"))
    await _send(http_engine, _error(None, now_ms(), None, message="failure y"))
    await http_engine.resolve(_fingerprint(http_engine, "failure x"))
    async with client.get(f"{http_base(http_engine)}/v1/health") as r:
        assert r.status == 200
        body = orjson.loads(await r.read())
    figures = body["resolution"]
    assert figures["windowSeconds"] == 86_400
    assert (figures["groupsSeen"], figures["groupsResolved"], figures["rate"]) == (2, 1, 0.5)
    assert figures["resolvedInWindow"] == 1
    assert isinstance(figures["medianSecondsToResolve"], float | int)
