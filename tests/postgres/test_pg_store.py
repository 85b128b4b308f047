"""The store's behaviours on PostgreSQL: the same engine, the same queries, a real server.

Each test gets its own database on the test cluster (tests/postgres/conftest.py) and an
engine started as ``sidelog serve`` starts it, with ``--db`` a ``postgresql://`` URL. The
behaviours both stores share run on a SQLite file too, with the same assertions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.events import Event, now_ms
from sidelog.filters import EventFilter
from sidelog.server import start_server
from sidelog.store.migrations import SCHEMA_VERSION
from tests.conftest import send_lines, tcp_port
from tests.support.postgres import PostgresCluster
from tests.support.wait import until


@pytest.fixture
async def pg_engine(pg_url: str, make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    """An engine on a fresh PostgreSQL database, TCP on a free port."""
    running = await start_server(make_settings(db=pg_url))
    yield running.engine
    await running.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_engine(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Engine]:
    """The same engine on each store: a SQLite file in ``tmp_path``, or a fresh PostgreSQL database."""
    if request.param == "postgresql":
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        db: str | Path = await cluster.create_database()
    else:
        db = tmp_path / "db" / "events.db"
    running = await start_server(make_settings(db=db))
    yield running.engine
    await running.stop()


def line(message: str, **fields: Any) -> bytes:
    return orjson.dumps({"message": message, "category": "app", **fields}) + b"\n"


async def test_a_batch_is_stored_with_database_ids_and_read_back(store_engine: Engine) -> None:
    pg_engine = store_engine
    payload = b"".join(
        line(f"m{i}", level="info", userId=f"u{i % 2}", details={"n": i, "s": "caf\u00e9"}) for i in range(20)
    )
    replies = await send_lines(tcp_port(pg_engine), payload)
    assert replies[-1].get("ok") is not False, replies
    newest = await pg_engine.events(EventFilter(), limit=100)
    mine = [event for event in newest if event.category == "app"]
    assert [event.message for event in mine] == [f"m{i}" for i in reversed(range(20))]
    ids = [event.id for event in mine]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 20
    assert orjson.loads(mine[0].details or "null") == {"n": 19, "s": "caf\u00e9"}
    assert await pg_engine.reader.count(EventFilter(user="u1")) == 10
    page = await pg_engine.events(EventFilter(categories=frozenset({"app"})), limit=5, before=ids[4])
    assert [event.message for event in page] == [f"m{i}" for i in range(14, 9, -1)]
    one = await pg_engine.event(ids[0])
    assert one is not None
    assert one.message == "m19"
    assert pg_engine.facet_counts()["category"]["app"] == 20


async def test_repeated_keys_are_dropped_once_stored(store_engine: Engine) -> None:
    pg_engine = store_engine
    port = tcp_port(pg_engine)
    await send_lines(port, line("a", id="k1") + line("b", id="k2") + line("a again", id="k1"))
    replies = await send_lines(port, line("b later", id="k2") + line("c", id="k3"))
    assert replies[-1].get("ok") is not False, replies
    stored = await pg_engine.events(EventFilter(categories=frozenset({"app"})), limit=10)
    assert sorted(event.message for event in stored) == ["a", "b", "c"]
    assert pg_engine.counters.duplicates == 2


async def test_errors_are_counted_into_groups_and_resolve_reopen(store_engine: Engine) -> None:
    pg_engine = store_engine
    port = tcp_port(pg_engine)
    boom = b"".join(line("boom", level="error") for _ in range(3)) + line("other", level="error")
    await send_lines(port, boom)
    groups = {group.message: group for group in await pg_engine.groups(limit=10, status=None)}
    assert groups["boom"].count == 3
    assert groups["other"].count == 1
    fingerprint = groups["boom"].fingerprint
    resolved = await pg_engine.resolve(fingerprint, note="fixed")
    assert resolved is not None
    assert resolved.status == "resolved"
    assert resolved.resolve_note == "fixed"
    assert await pg_engine.reader.count(EventFilter(fingerprint=fingerprint)) == 3
    await send_lines(port, line("boom", level="error"))
    again = await pg_engine.reader.group(fingerprint)
    assert again is not None
    assert (again.count, again.status, again.regressed) == (4, "unresolved", True)
    reopened = await pg_engine.reopen(groups["other"].fingerprint)
    assert reopened is not None
    assert reopened.status == "unresolved"
    assert await pg_engine.resolve("no-such-group") is None


async def test_search_filters_and_group_pages_run_on_both_stores(store_engine: Engine) -> None:
    pg_engine = store_engine
    port = tcp_port(pg_engine)
    payload = (
        line("Disk FULL on /var", level="warn", sessionId="s1")
        + line("ok", details={"path": "/Var/Log"}, sessionId="s1")
        + line("Größe überschritten", level="error", userId="ann")
        + line("100% done_", level="info")
    )
    await send_lines(port, payload)
    found = await pg_engine.events(EventFilter(q="var"), limit=10)
    assert sorted(event.message for event in found) == ["Disk FULL on /var", "ok"]
    assert [e.message for e in await pg_engine.events(EventFilter(q="ÜBER"), limit=10)] == [
        "Größe überschritten"
    ]
    assert [e.message for e in await pg_engine.events(EventFilter(q="0% d"), limit=10)] == ["100% done_"]
    assert await pg_engine.events(EventFilter(q="e_x"), limit=10) == []
    assert await pg_engine.reader.count(EventFilter(session="s1", levels=frozenset({"warn"}))) == 1
    users = await pg_engine.groups(limit=10, user="ann")
    assert [group.message for group in users] == ["Größe überschritten"]
    for sort in ("last_seen", "count", "first_seen", "regressed"):
        assert len(await pg_engine.groups(limit=10, sort=sort)) == 1


async def test_schema_is_versioned_and_a_newer_one_is_not_written(
    pg_url: str, make_settings: Callable[..., Settings]
) -> None:
    running = await start_server(make_settings(db=pg_url))
    conn = await asyncpg.connect(pg_url)
    try:
        assert await conn.fetchval("SELECT version FROM sidelog_schema") == SCHEMA_VERSION
        kinds = dict(
            await conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events'"
            )
        )
        assert (kinds["details"], kinds["timestamp"], kinds["id"]) == ("jsonb", "bigint", "bigint")
        await conn.execute("UPDATE sidelog_schema SET version = version + 1")
        engine = running.engine
        engine.admit([Event(message="after the upgrade", category="app", received_at=now_ms())], None)

        async def refused() -> bool:
            health = await engine.health()
            return health.write_failing and "newer than this sidelog" in (health.last_write_error or "")

        await until(refused, message="the writer refused the newer schema")
        assert await conn.fetchval("SELECT count(*) FROM events WHERE message = 'after the upgrade'") == 0
    finally:
        await conn.close()
        await running.stop(timeout=0.5)


async def test_retention_archives_old_errors_and_deletes_old_events(pg_engine: Engine, pg_url: str) -> None:
    old = now_ms() - 40 * 86_400_000
    stored = pg_engine.counters.stored
    pg_engine.admit(
        [
            Event(message="old info", category="app", timestamp=old, received_at=old),
            Event(
                message="old boom",
                category="app",
                level="error",
                timestamp=old,
                received_at=old,
                fingerprint="fp-old",
                resolved=False,
            ),
            Event(message="new info", category="app", timestamp=now_ms(), received_at=now_ms()),
        ],
        None,
    )
    await until(lambda: pg_engine.counters.stored >= stored + 3, message="the three events stored")
    result = await pg_engine.prune()
    assert (result.deleted, result.archived) == (2, 1)
    left = await pg_engine.events(EventFilter(categories=frozenset({"app"})), limit=10)
    assert [event.message for event in left] == ["new info"]
    conn = await asyncpg.connect(pg_url)
    try:
        assert await conn.fetchval("SELECT message FROM events_archive") == "old boom"
    finally:
        await conn.close()


async def test_a_nul_escape_in_details_does_not_fail_the_batch(pg_engine: Engine) -> None:
    port = tcp_port(pg_engine)
    replies = await send_lines(
        port, line("nul", details={"raw": "a\u0000b", "text": "\\u0000"}) + line("next")
    )
    assert replies[-1].get("ok") is not False
    stored = {event.message: event for event in await pg_engine.events(EventFilter(), limit=10)}
    assert orjson.loads(stored["nul"].details or "null") == {"raw": "a\ufffdb", "text": "\\u0000"}
    assert "next" in stored
