"""The store's reads on SQLite and PostgreSQL alike: every filter, keyset pages of events and
of error groups in every sort, timelines and histogram counts.

One server per store (tests/support/both_stores.py), the same events and the same
assertions. Filters are checked against ``EventFilter.matches``, the in-memory rule the
live stream applies, so the SQL of each store must agree with it, not only with the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.filters import EventFilter
from sidelog.store.group_pages import SORTS, cursor_after, sort_key
from sidelog.store.histogram import Window, histogram_sql, read_histogram
from sidelog.store.models import ErrorGroup
from sidelog.store.pg_sql import to_postgres
from sidelog.store.timeline import read_group_event, read_preceding, read_timeline
from sidelog.timespec import MAX_MS
from tests.support.both_stores import STORES, send, start_on

MIN = 60_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
NAMES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]


def _events() -> list[dict[str, Any]]:
    levels = ["debug", "info", "warn", "error"]
    categories = ["auth", "payment", "ui"]
    sources = ["server", "client", "api"]
    texts = ["Disk FULL on /var", "Größe überschritten", "50% done", "a_b c", "café ok", "plain"]
    events: list[dict[str, Any]] = []
    for n in range(36):
        event: dict[str, Any] = {
            "message": f"{texts[n % len(texts)]} #{n}",
            "type": levels[n % 4],
            "category": categories[n % 3],
            "source": sources[n % 5 % 3],
            "ts": T0 + ((n * 7) % 11) * MIN,  # times out of id order
        }
        if n % 4 == 1:
            event["userId"] = "ann" if n % 8 == 1 else "bob"
        if n % 3 == 0:
            event["sessionId"] = "s1"
        if n % 6 == 2:
            event["details"] = {"path": "/Var/Log", "n": n, "traceId": TRACE}
        events.append(event)
    return events


@pytest.fixture(params=STORES)
async def store(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Engine]:
    running = await start_on(request, make_settings, tmp_path)
    await send(running.engine, *_events())
    yield running.engine
    await running.stop()


async def test_every_filter_selects_what_the_live_stream_would(store: Engine) -> None:
    everything = await store.events(EventFilter(), limit=1000)
    assert len(everything) == 36
    fingerprint = next(e.fingerprint for e in everything if e.fingerprint is not None)
    filters = [
        EventFilter(levels=frozenset({"error"})),
        EventFilter(levels=frozenset({"warn", "error"})),
        EventFilter(categories=frozenset({"payment"})),
        EventFilter(categories=frozenset({"auth", "ui"})),
        EventFilter(sources=frozenset({"client"})),
        EventFilter(user="ann"),
        EventFilter(session="s1"),
        EventFilter(q="disk"),
        EventFilter(q="var"),  # message and details
        EventFilter(q="ÜBER"),  # folded beyond ASCII
        EventFilter(q="CAFÉ"),
        EventFilter(q="0% d"),  # % and _ are literal, not wildcards
        EventFilter(q="a_b"),
        EventFilter(q="e_x"),
        EventFilter(since=T0 + 5 * MIN),
        EventFilter(until=T0 + 5 * MIN),
        EventFilter(since=T0 + 2 * MIN, until=T0 + 6 * MIN),
        EventFilter(fingerprint=fingerprint),
        EventFilter(trace=TRACE),
        EventFilter(levels=frozenset({"info", "error"}), session="s1", q="#", since=T0 + MIN),
    ]
    for flt in filters:
        expected = [e.id for e in everything if flt.matches(e)]
        found = [e.id for e in await store.events(flt, limit=1000)]
        assert found == expected, flt
        assert await store.reader.count(flt) == len(expected), flt
        assert expected or flt.q == "e_x", f"{flt} selects nothing: a weak check"


async def test_event_pages_are_keyset_pages_both_ways(store: Engine) -> None:
    for flt in (EventFilter(), EventFilter(levels=frozenset({"info", "warn"}))):
        everything = [e.id for e in await store.events(flt, limit=1000)]
        newest_first: list[int | None] = []
        before: int | None = None
        while True:
            page = await store.events(flt, limit=4, before=before)
            newest_first += [e.id for e in page]
            if len(page) < 4:
                break
            before = page[-1].id
        assert newest_first == everything
        oldest_first: list[int | None] = []
        after = 0
        while True:
            page = await store.events(flt, limit=5, after=after)
            oldest_first += [e.id for e in page]
            if len(page) < 5:
                break
            after = int(page[-1].id or 0)
        assert oldest_first == everything[::-1]
        middle = everything[len(everything) // 2]
        between = await store.events(flt, limit=1000, before=everything[1], after=middle)
        assert [e.id for e in between] == everything[2 : len(everything) // 2]


async def _groups(store: Engine) -> list[ErrorGroup]:
    """Seven groups of different counts, seen in different batches; one resolved, one regressed."""
    for n, name in enumerate(NAMES):
        await send(
            store,
            *({"message": f"group {name}", "type": "error", "userId": f"u{n % 2}"} for _ in range(n + 1)),
        )
    await send(store, {"message": "group gamma", "type": "error"}, {"message": "lone", "type": "error"})
    groups = {g.message: g for g in await store.groups(status=None, limit=100)}
    assert await store.resolve(groups["group delta"].fingerprint, note="fixed") is not None
    assert await store.resolve(groups["group beta"].fingerprint) is not None
    await send(store, {"message": "group beta", "type": "error"})
    return await store.groups(status=None, limit=100)


async def test_group_pages_in_every_sort_never_repeat_or_skip(store: Engine) -> None:
    every = await _groups(store)
    assert len(every) == 10  # seven made here, three among the stored events
    for status in (None, "unresolved", "resolved"):
        for sort in SORTS:
            whole = await store.groups(status=status, sort=sort, limit=100)
            keys = [(*sort_key(g, sort), g.fingerprint) for g in whole]
            assert keys == sorted(keys, reverse=True), (status, sort)
            paged: list[str] = []
            page = await store.groups(status=status, sort=sort, limit=3)
            while page:
                paged += [g.fingerprint for g in page]
                page = await store.groups(
                    status=status, sort=sort, limit=3, after=cursor_after(page[-1], sort)
                )
            assert paged == [g.fingerprint for g in whole], (status, sort)
            if len(whole) >= 4:
                back = await store.groups(
                    status=status, sort=sort, limit=2, before=cursor_after(whole[3], sort)
                )
                assert [g.fingerprint for g in back] == [whole[2].fingerprint, whole[1].fingerprint]
                tail = await store.groups(status=status, sort=sort, limit=2, backwards=True)
                assert [g.fingerprint for g in tail] == [whole[-1].fingerprint, whole[-2].fingerprint]
    counted = {g.message: g for g in every}
    assert counted["group gamma"].count == 4
    assert (counted["group beta"].status, counted["group beta"].regressed) == ("unresolved", True)
    assert counted["group delta"].status == "resolved"
    regressed_first = await store.groups(status=None, sort="regressed", limit=1)
    assert regressed_first[0].message == "group beta"
    mine = await store.groups(user="u1", limit=100)  # groups with u1's errors still unresolved:
    assert [g.message for g in mine] == ["group zeta"]  # beta's and delta's were resolved


async def test_timelines_order_by_event_time(store: Engine) -> None:
    session = [e for e in await store.events(EventFilter(session="s1"), limit=100)]
    by_time = sorted(session, key=lambda e: (e.timestamp, e.id or 0))
    full = await read_timeline(store.reader, "session", "s1")
    assert [e.id for e in full.events] == [e.id for e in by_time]
    assert (full.earlier, full.later) == (0, 0)
    newest = await read_timeline(store.reader, "session", "s1", limit=4)
    assert [e.id for e in newest.events] == [e.id for e in by_time[-4:]]
    assert newest.earlier == len(by_time) - 4
    around = await read_timeline(store.reader, "session", "s1", limit=4, around=by_time[2])
    assert [e.id for e in around.events] == [e.id for e in by_time[0:4]]
    assert around.earlier + len(around.events) + around.later == len(by_time)
    before = await read_preceding(store.reader, "session", "s1", by_time[5], 3)
    assert [e.id for e in before] == [e.id for e in by_time[2:5]]
    user = await read_timeline(store.reader, "user", "ann")
    assert {e.user_id for e in user.events} == {"ann"}
    traced = await read_timeline(store.reader, "trace", TRACE)
    assert len(traced.events) == 6
    error = next(e for e in session if e.fingerprint is not None)
    group, newest_event = await read_group_event(store.reader, error.fingerprint or "")
    assert group is not None
    assert newest_event is not None
    assert newest_event.id == group.last_event_id
    assert newest_event.fingerprint == error.fingerprint
    assert await read_group_event(store.reader, "no-such-group") == (None, None)


def _statements(store: Engine) -> list[str]:
    """Every statement the reader's engine sends from now on (as written by the store)."""
    seen: list[str] = []
    sync_engine = store.reader._engine.sync_engine  # the reader's own pool

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa_event.listen(sync_engine, "before_cursor_execute", record)
    return seen


async def test_histogram_counts_agree_and_postgres_skips_the_sqlite_index_path(store: Engine) -> None:
    await send(
        store,
        {"message": "from 9999", "type": "error", "category": "payment", "ts": MAX_MS - 5},
        {"message": "long ago", "type": "error", "category": "payment", "ts": T0 - 30 * MIN},
    )
    everything = await store.events(EventFilter(), limit=1000)
    window = Window(T0, MIN, 10)
    now = T0 + 10 * MIN - 1
    statements = _statements(store)
    for flt in (
        EventFilter(),
        EventFilter(levels=frozenset({"error", "warn"})),
        EventFilter(q="done"),  # no value index to prefer: the timestamp range
        EventFilter(categories=frozenset({"payment"}), since=T0 + 2 * MIN, until=T0 + 3 * MIN),
        EventFilter(session="s1"),
    ):
        counted = await read_histogram(store.reader, flt, window, now=now, facets=store.facet_counts())
        matching = [e for e in everything if EventFilter(**{**_no_range(flt)}).matches(e)]
        for level, counts in counted.counts.items():
            expected = [0] * 10
            for e in matching:
                if e.level == level and T0 <= e.timestamp < T0 + 10 * MIN:
                    expected[(e.timestamp - T0) // MIN] += 1
            assert counts == expected, (flt, level)
        assert counted.later == sum(1 for e in matching if e.timestamp >= T0 + 10 * MIN), flt
        counted_ids = [e.id or 0 for e in matching if e.timestamp >= T0]
        assert counted.newest_id >= max(counted_ids), flt  # live events above it are new
    fast_path = [s for s in statements if "ix_events_level_time" in s or "WITH RECURSIVE b(" in s]
    if store.settings.store.is_postgres:
        assert fast_path == []  # SQLite's partial index path is not sent to PostgreSQL
    else:
        assert fast_path  # and SQLite does use it for a level-only filter


def _no_range(flt: EventFilter) -> dict[str, Any]:
    """``flt``'s fields without its time range (the histogram shows the range in context)."""
    return {
        "levels": flt.levels,
        "categories": flt.categories,
        "sources": flt.sources,
        "user": flt.user,
        "session": flt.session,
        "q": flt.q,
        "fingerprint": flt.fingerprint,
        "trace": flt.trace,
    }


def test_sqlite_index_hints_never_reach_postgres() -> None:
    sql, _ = histogram_sql(EventFilter(q="x"), Window(T0, MIN, 10), by_time=True, later=True)
    assert "INDEXED BY ix_events_level_time" in sql
    rewritten = to_postgres(sql)
    assert "INDEXED" not in rewritten
    assert " FROM events WHERE " in rewritten


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        (
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE a = ? LIMIT ?)",
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE a = $1 LIMIT $2) AS derived_1",
        ),
        (
            "SELECT a FROM (SELECT a FROM (SELECT 1 AS a WHERE 1 = ?)) WHERE a > 0",
            "SELECT a FROM (SELECT a FROM (SELECT 1 AS a WHERE 1 = $1) AS derived_2) AS derived_1 "
            "WHERE a > 0",
        ),
        ("SELECT x FROM (SELECT 1 AS x) AS t WHERE x = ?", "SELECT x FROM (SELECT 1 AS x) AS t WHERE x = $1"),
        ("SELECT x FROM (SELECT 1 AS x) t WHERE x = ?", "SELECT x FROM (SELECT 1 AS x) t WHERE x = $1"),
        (
            "INSERT INTO marks (name, at) VALUES (?, ?) ON CONFLICT(name) "
            "DO UPDATE SET at = max(at, excluded.at)",
            "INSERT INTO marks (name, at) VALUES ($1, $2) ON CONFLICT(name) "
            "DO UPDATE SET at = greatest(marks.at, excluded.at)",
        ),
    ],
)
def test_derived_tables_are_named_and_upserts_name_the_existing_row(sqlite: str, postgres: str) -> None:
    assert to_postgres(sqlite) == postgres
