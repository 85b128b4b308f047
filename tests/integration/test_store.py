"""The SQLite store: the SPEC's columns, WAL, indexes for the six access paths, error
groups with resolve / reopen / regression, and persistence across restarts."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.events import Event, now_ms, parse_event
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.pipeline.queue import Origin
from sidelog.server import start_server
from sidelog.store.reader import _SELECT_EVENTS, filter_sql
from tests.integration.spine_support import USER_ROWS, rows

SPEC_COLUMNS = [
    # name, type, notnull, pk
    ("id", "INTEGER", 1, 1),
    ("event_uid", "TEXT", 0, 0),
    ("category", "TEXT", 1, 0),
    ("level", "TEXT", 1, 0),
    ("message", "TEXT", 1, 0),
    ("details", "TEXT", 0, 0),
    ("user_id", "TEXT", 0, 0),
    ("session_id", "TEXT", 0, 0),
    ("url", "TEXT", 0, 0),
    ("user_agent", "TEXT", 0, 0),
    ("timestamp", "INTEGER", 1, 0),
    ("received_at", "INTEGER", 1, 0),
    ("source", "TEXT", 1, 0),
    ("show_to_user", "INTEGER", 0, 0),
    ("user_message", "TEXT", 0, 0),
    ("resolved", "INTEGER", 0, 0),
    ("fingerprint", "TEXT", 0, 0),
    ("trace_id", "TEXT", 0, 0),
]


def make_events(*objs: dict[str, Any]) -> list[Event]:
    now = now_ms()
    return [parse_event(obj, default_source="server", received_at=now + i) for i, obj in enumerate(objs)]


async def put(engine: Engine, *objs: dict[str, Any]) -> Origin:
    origin = Origin("test")
    engine.admit(make_events(*objs), origin)
    return await engine.wait_committed(origin)


def test_events_table_has_exactly_the_spec_columns(tmp_path: Path) -> None:
    # the schema is created by a started engine; reuse the async fixture via a fresh file
    import asyncio

    from sidelog.config import load_settings

    db = tmp_path / "schema" / "events.db"

    async def create() -> None:
        running = await start_server(load_settings(db=db, tcp="off", http="off"))
        await running.stop()

    asyncio.run(create())
    info = rows(db, "PRAGMA table_info(events)")
    assert [(name, kind, notnull, pk) for _, name, kind, notnull, _, pk in info] == SPEC_COLUMNS
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    unique = [name for _, name, is_unique, *_ in rows(db, "PRAGMA index_list(events)") if is_unique]
    assert any(rows(db, f"PRAGMA index_info({name})")[0][2] == "event_uid" for name in unique)
    assert (db.parent / ".gitignore").read_text() == "*\n"


ACCESS_PATHS = [
    ("by user", EventFilter(user="u1"), "ix_events_user"),
    ("by category", EventFilter(categories=frozenset({"auth"})), "ix_events_category"),
    ("by level", EventFilter(levels=frozenset({"error"})), "ix_events_level"),
    ("by timestamp", EventFilter(since=1, until=2), "ix_events_level_time"),
    ("by source", EventFilter(sources=frozenset({"client"})), "ix_events_source"),
    ("by trace", EventFilter(trace="4bf92f3577b34da6a3ce929d0e0e4736"), "ix_events_trace"),
]


@pytest.mark.parametrize(("path", "flt", "index"), ACCESS_PATHS, ids=[p[0] for p in ACCESS_PATHS])
async def test_access_path_uses_an_index(engine: Engine, path: str, flt: EventFilter, index: str) -> None:
    terms, params = filter_sql(flt)
    sql = f"{_SELECT_EVENTS} WHERE {' AND '.join(terms)} ORDER BY id DESC LIMIT 100"
    plan = await engine.reader.explain(sql, tuple(params))
    assert any(f"USING INDEX {index}" in step for step in plan), plan
    assert not any(step.startswith("SCAN events") for step in plan), plan


async def test_unresolved_errors_by_user_uses_its_partial_index(engine: Engine) -> None:
    plan = await engine.reader.explain(
        "SELECT fingerprint FROM events WHERE user_id = ? AND resolved = 0", ("u1",)
    )
    assert plan == ["SEARCH events USING COVERING INDEX ix_events_user_unresolved (user_id=? AND resolved=?)"]
    # and the groups query the UI/HTTP call for a user goes through it too
    sql = (
        "SELECT * FROM error_groups WHERE status = ? AND fingerprint IN "
        "(SELECT fingerprint FROM events WHERE user_id = ? AND resolved = 0)"
    )
    plan = await engine.reader.explain(sql, ("unresolved", "u1"))
    assert not any(step.startswith("SCAN") for step in plan), plan


async def test_error_grouping(engine: Engine) -> None:
    stack = 'Traceback:\n  File "/app/pay.py", line 3, in charge\nValueError: x'
    await put(
        engine,
        {"message": "order 1 failed", "type": "error", "category": "payment"},
        {"message": "order 22 failed", "type": "error", "category": "payment"},
        {"message": 'card "visa" failed for 0b7f2c3a-1111-4c6e-9a8b-1234567890ab', "type": "error"},
        {"message": 'card "amex" failed for 9f8e7d6c-2222-4abc-8def-abcdefabcdef', "type": "error"},
        {
            "message": "order 3 failed",
            "type": "error",
            "category": "payment",
            "details": {"exception": {"type": "ValueError", "stack": stack}},
        },
        {
            "message": "order 4 failed",
            "type": "error",
            "category": "payment",
            "details": {"exception": {"type": "KeyError", "stack": stack}},
        },
        {"message": "order 5 failed", "type": "warn", "category": "payment"},
    )
    groups = await engine.groups(status=None)
    assert sorted(g.count for g in groups) == [1, 1, 2, 2]
    fps = rows(engine.settings.db, f"SELECT fingerprint FROM events WHERE {USER_ROWS} ORDER BY id")
    assert fps[0] == fps[1]
    assert fps[2] == fps[3]
    assert len({fps[0], fps[2], fps[4], fps[5]}) == 4
    assert fps[6] == (None,)  # warnings are not grouped
    by_fp = {g.fingerprint: g for g in groups}
    pair = by_fp[fps[1][0]]
    assert pair.message == "order 22 failed"
    assert pair.first_seen <= pair.last_seen
    assert pair.status == "unresolved"
    assert not pair.regressed


async def test_resolve_regress_reopen_and_restart(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    engine = (await start_server(settings)).engine
    await put(
        engine,
        {"message": "db timeout after 30s", "type": "error", "userId": "u1"},
        {"message": "db timeout after 31s", "type": "error", "userId": "u2"},
        {"message": "other", "type": "error", "userId": "u1"},
    )
    (fp,) = {g.fingerprint for g in await engine.groups() if g.count == 2}
    assert await engine.resolve("no-such-group") is None
    group = await engine.resolve(fp, note="raised the pool size")
    assert group is not None
    assert (group.status, group.resolve_note, group.regressed) == ("resolved", "raised the pool size", False)
    assert group.resolved_at is not None
    db = settings.db
    assert rows(db, "SELECT resolved FROM events WHERE fingerprint = ?", (fp,)) == [(1,), (1,)]
    assert [g.fingerprint for g in await engine.groups(status="resolved")] == [fp]
    assert fp not in {g.fingerprint for g in await engine.groups(user="u2")}

    # a new error in the resolved group reopens it as regressed
    await put(engine, {"message": "db timeout after 99s", "type": "error", "userId": "u2"})
    group = next(g for g in await engine.groups() if g.fingerprint == fp)
    assert (group.status, group.count, group.regressed) == ("unresolved", 3, True)
    assert rows(db, "SELECT resolved FROM events WHERE fingerprint = ? ORDER BY id", (fp,)) == [
        (1,),
        (1,),
        (0,),
    ]
    assert fp in {g.fingerprint for g in await engine.groups(user="u2")}

    # resolve again, then reopen by hand: events unresolved again
    await engine.resolve(fp)
    reopened = await engine.reopen(fp)
    assert reopened is not None
    assert (reopened.status, reopened.resolved_at, reopened.resolve_note) == ("unresolved", None, None)
    assert rows(db, "SELECT resolved FROM events WHERE fingerprint = ?", (fp,)) == [(0,), (0,), (0,)]
    await engine.resolve(fp, note="for real")
    await engine.stop()
    kept = rows(db, "SELECT * FROM events ORDER BY id")

    # every change survives a restart on the same file; ids keep increasing
    again = (await start_server(settings)).engine
    try:
        group = next(g for g in await again.groups(status=None) if g.fingerprint == fp)
        assert (group.status, group.resolve_note, group.count) == ("resolved", "for real", 3)
        await put(again, {"message": "after restart"})
        assert rows(db, "SELECT * FROM events ORDER BY id")[: len(kept)] == kept
        assert again.stored_total == len(kept) + 2  # plus a second "sidelog started"
        newest = await again.events(EMPTY_FILTER, limit=1)
        assert newest[0].message == "after restart"
        assert newest[0].id == max(row[0] for row in rows(db, "SELECT id FROM events"))
        ids = [row[0] for row in rows(db, "SELECT id FROM events ORDER BY id")]
        assert ids == list(range(1, len(ids) + 1))
    finally:
        await again.stop()


async def test_keyset_paging_and_filters(engine: Engine) -> None:
    await put(engine, *({"message": f"m{i}", "category": "ui" if i % 2 else "api"} for i in range(10)))
    page = await engine.events(EventFilter(categories=frozenset({"ui"})), limit=3)
    assert [e.message for e in page] == ["m9", "m7", "m5"]
    assert page[0].id is not None
    older = await engine.events(EventFilter(categories=frozenset({"ui"})), limit=3, before=page[-1].id)
    assert [e.message for e in older] == ["m3", "m1"]
    newer = await engine.events(EventFilter(categories=frozenset({"ui"})), limit=2, after=older[-1].id)
    assert [e.message for e in newer] == ["m3", "m5"]
    one = await engine.event(page[0].id)
    assert one is not None
    assert one.message == "m9"
    facets = engine.facet_counts()
    assert facets["category"]["ui"] == 5
    assert facets["category"]["api"] == 5


def test_second_server_on_the_same_file_is_refused(tmp_path: Path) -> None:
    import asyncio

    from sidelog.config import load_settings
    from sidelog.store.database import StoreError

    settings = load_settings(db=tmp_path / "locked" / "events.db", tcp="off", http="off")

    async def scenario() -> str:
        first = await start_server(settings)
        try:
            second = await start_server(settings)
        except StoreError as exc:
            return str(exc)
        finally:
            await first.stop()
        await second.stop()
        return "started twice"

    message = asyncio.run(scenario())
    assert "is in use by another sidelog" in message
    assert "\n" not in message


def test_plain_sqlite_can_read_while_sidelog_runs(tmp_path: Path) -> None:
    """Users open the file with sqlite3 / Datasette while sidelog writes (WAL)."""
    import asyncio

    from sidelog.config import load_settings

    settings = load_settings(db=tmp_path / "shared" / "events.db", tcp="off", http="off")

    async def scenario() -> None:
        engine = (await start_server(settings)).engine
        try:
            reader = sqlite3.connect(settings.db)
            reader.execute("BEGIN")
            query = "SELECT count(*) FROM events WHERE message = 'written during a read'"
            before = reader.execute(query).fetchone()[0]
            await put(engine, {"message": "written during a read"})
            during = reader.execute(query).fetchone()[0]  # same snapshot: not yet visible
            reader.execute("COMMIT")
            after = reader.execute(query).fetchone()[0]
            reader.close()
            assert (before, during, after) == (0, 0, 1)
        finally:
            await engine.stop()

    asyncio.run(scenario())


async def test_retention_deletes_old_events_and_archives_old_errors(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    first = Engine(settings)
    await first.open_store()
    await put(first, {"message": "stored long ago"}, {"message": "old error", "type": "error"})
    await first.stop()
    # Age is judged by when sidelog received an event: make those two 40 days old.
    with sqlite3.connect(settings.db) as db:
        db.execute("UPDATE events SET received_at = received_at - ?", (40 * 86_400_000,))
    engine = Engine(settings)
    await engine.open_store()
    try:
        await put(
            engine,
            {"message": "recent info"},
            {"message": "recent error", "type": "error"},
            {"message": "client clock in seconds", "timestamp": 1_700_000_000},
        )
        result = await engine.prune()
        assert (result.deleted, result.archived) == (2, 1)
        assert [
            m for (m,) in rows(settings.db, f"SELECT message FROM events WHERE {USER_ROWS} ORDER BY id")
        ] == [
            "recent info",
            "recent error",
            "client clock in seconds",
        ]
        assert rows(settings.db, "SELECT message, level FROM events_archive") == [("old error", "error")]
        assert engine.facet_counts()["level"].get("error") == 1
    finally:
        await engine.stop()
