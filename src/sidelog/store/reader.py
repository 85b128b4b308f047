"""Read queries: short read transactions on the reader engine, returning domain objects.

Every history query is newest first and keyset-paginated by ``id`` (``before``), or
oldest first after a cursor (``after``), so a page costs the same at row 10 as at
row 1,000,000. Each filter is served by the access path store/schema.py describes;
the SQL is built by the module-level functions so that tests/store/test_query_plans.py
can check SQLite's plan for exactly what runs.
"""

from __future__ import annotations

from typing import Any, Unpack

from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.search import search_sql
from sidelog.store.async_core import AsyncEngine
from sidelog.store.group_pages import DEFAULT_SORT, FINGERPRINTS_SQL, GroupQuery, exception_type, groups_sql
from sidelog.store.inflight import InFlight
from sidelog.store.models import GROUP_COLUMNS, ErrorGroup, event_from_row, group_from_row
from sidelog.store.schema import EVENT_COLUMN_NAMES, LEVEL_TIME_RANGE

_SELECT_EVENTS = f"SELECT {', '.join(EVENT_COLUMN_NAMES)} FROM events"


def filter_sql(flt: EventFilter) -> tuple[list[str], list[Any]]:
    """WHERE terms and parameters for ``flt`` (the SQL twin of ``EventFilter.matches``)."""
    terms: list[str] = []
    params: list[Any] = []
    for column, values in (
        ("level", flt.levels),
        ("category", flt.categories),
        ("source", flt.sources),
    ):
        if values:
            ordered = sorted(values)
            terms.append(f"{column} IN ({', '.join('?' for _ in ordered)})")
            params.extend(ordered)
    for column, value in (
        ("user_id", flt.user),
        ("session_id", flt.session),
        ("fingerprint", flt.fingerprint),
        ("trace_id", flt.trace),
    ):
        if value is not None:
            terms.append(f"{column} = ?")
            params.append(value)
    if flt.since is not None and flt.until is not None and _no_equality(flt):
        # A window and nothing an index matches exactly: read the window's entries from
        # ix_events_level_time, one range per stored level (store/schema.py), and sort
        # only its matches. One bound alone walks the newest rows by id instead.
        terms.append(LEVEL_TIME_RANGE)
    if flt.since is not None:
        terms.append("timestamp >= ?")
        params.append(flt.since)
    if flt.until is not None:
        terms.append("timestamp < ?")
        params.append(flt.until)
    if flt.q:
        term, needles = search_sql(flt.q)
        terms.append(term)
        params.extend(needles)
    return terms, params


def _no_equality(flt: EventFilter) -> bool:
    """Whether ``flt`` has no condition an index matches by equality (level, category,
    source, user, session, group, trace): then SQLite would walk that index instead, as it
    did when a plain ``timestamp`` index offered the window (a range, one column)."""
    sets = (flt.levels, flt.categories, flt.sources)
    scalars = (flt.user, flt.session, flt.fingerprint, flt.trace)
    return not any(sets) and all(value is None for value in scalars)


def _where(terms: list[str]) -> str:
    """A `` WHERE`` clause joining ``terms`` with AND; empty when there are none."""
    return f" WHERE {' AND '.join(terms)}" if terms else ""


def events_sql(
    flt: EventFilter, *, limit: int, before: int | None = None, after: int | None = None
) -> tuple[str, list[Any]]:
    """The page query of ``StoreReader.events`` and its parameters (tests/store/test_query_plans.py
    checks the plan SQLite makes of it for every filter)."""
    terms, params = filter_sql(flt)
    if before is not None:
        terms.append("id < ?")
        params.append(before)
    if after is not None:
        terms.append("id > ?")
        params.append(after)
    order = "ASC" if after is not None and before is None else "DESC"
    return f"{_SELECT_EVENTS}{_where(terms)} ORDER BY id {order} LIMIT ?", [*params, limit]


FACET_COLUMNS = (("level", "level"), ("category", "category"), ("source", "source"))
"""``(facet, column)`` of the facet counts, each read from that column's index."""


def facet_sql(column: str, limit: int | None) -> str:
    """Events per value of ``column``; with ``limit``, the ``limit`` busiest values only."""
    top = "" if limit is None else f" ORDER BY count(*) DESC LIMIT {int(limit)}"
    return f"SELECT {column}, count(*) FROM events GROUP BY {column}{top}"


class StoreReader:
    """Read-only queries over the store."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.inflight = InFlight()
        """Every read runs here, so a cancelled caller never cuts a query short
        (see store/inflight.py); ``Engine.stop`` drains it before closing the pool."""

    async def _all(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        return await self.inflight.run(self._query(sql, tuple(params)))

    async def _query(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        async with self._engine.connect() as conn:
            result = await conn.exec_driver_sql(sql, params)
            return list(result.all())

    async def events(
        self,
        flt: EventFilter,
        *,
        limit: int = 100,
        before: int | None = None,
        after: int | None = None,
    ) -> list[Event]:
        """Events matching ``flt``: newest first below ``before``, or oldest first above
        ``after`` (for catching up)."""
        sql, params = events_sql(flt, limit=limit, before=before, after=after)
        rows = await self._all(sql, params)
        return [event_from_row(row) for row in rows]

    async def event(self, event_id: int) -> Event | None:
        """One event by row id."""
        rows = await self._all(f"{_SELECT_EVENTS} WHERE id = ?", (event_id,))
        return event_from_row(rows[0]) if rows else None

    async def count(self, flt: EventFilter | None = None) -> int:
        """Number of stored events matching ``flt`` (all when ``None``)."""
        terms, params = filter_sql(flt) if flt is not None else ([], [])
        where = _where(terms)
        rows = await self._all(f"SELECT count(*) FROM events{where}", params)
        return int(rows[0][0])

    async def facet_counts(self, limit: int | None = None) -> dict[str, dict[str, int]]:
        """Stored events per level, category and source (each served by its index);
        with ``limit``, only the ``limit`` busiest values of each (SQLite keeps just
        those while sorting, so a million distinct names cost no memory here)."""
        return await self.inflight.run(self._facet_counts(limit))

    async def _facet_counts(self, limit: int | None) -> dict[str, dict[str, int]]:
        facets: dict[str, dict[str, int]] = {}
        async with self._engine.connect() as conn:
            for name, column in FACET_COLUMNS:
                rows: list[Any] = list((await conn.exec_driver_sql(facet_sql(column, limit))).all())
                facets[name] = {value: count for value, count in rows}
            # The counts walked three whole indexes through this connection's page cache,
            # leaving it full of pages no page of the stream needs: idle memory (README,
            # "Performance"). Hand them back; the next reads fill it with what they use.
            if conn.dialect.name == "sqlite":
                await conn.exec_driver_sql("PRAGMA shrink_memory")
        return facets

    async def groups(self, *, limit: int = 200, **query: Unpack[GroupQuery]) -> list[ErrorGroup]:
        """One page of error groups, newest activity first unless ``sort`` says otherwise;
        ``status`` defaults to unresolved (``None``: every group), ``user`` keeps groups with
        that user's unresolved errors, ``after`` continues a page (store/group_pages.py)."""
        sql, params = groups_sql(
            status=query.get("status", "unresolved"),
            user=query.get("user"),
            limit=limit,
            sort=query.get("sort", DEFAULT_SORT),
            after=query.get("after"),
            before=query.get("before"),
            backwards=query.get("backwards", False),
            hide_snoozed_at=query.get("hide_snoozed_at"),
        )
        return [group_from_row(row) for row in await self._all(sql, params)]

    async def exception_types(self, event_ids: list[int]) -> dict[int, str]:
        """The exception type of each of these events that has one (``details``
        read by primary key, so the errors pane asks only for the rows it shows)."""
        if not event_ids:
            return {}
        marks = ", ".join("?" for _ in event_ids)
        rows = await self._all(f"SELECT id, details FROM events WHERE id IN ({marks})", event_ids)
        types = {row[0]: exception_type(row[1]) for row in rows}
        return {event_id: kind for event_id, kind in types.items() if kind}

    async def group(self, fingerprint: str) -> ErrorGroup | None:
        """One error group."""
        rows = await self._all(
            f"SELECT {GROUP_COLUMNS} FROM error_groups WHERE fingerprint = ?", (fingerprint,)
        )
        return group_from_row(rows[0]) if rows else None

    async def unresolved_count(self) -> int:
        """Number of unresolved error groups."""
        rows = await self._all("SELECT count(*) FROM error_groups WHERE status = 'unresolved'")
        return int(rows[0][0])

    async def fingerprints_with_status(self, status: str) -> list[str]:
        """Every group's fingerprint with ``status``, newest activity first, in one read (a
        bulk resolve's targets: 10,000 groups in one index walk instead of ten keyset pages)."""
        return [str(row[0]) for row in await self._all(FINGERPRINTS_SQL, (status,))]

    async def explain(self, sql: str, params: tuple[Any, ...] = ()) -> list[str]:
        """``EXPLAIN QUERY PLAN`` details, for tests and diagnostics."""
        rows = await self._all(f"EXPLAIN QUERY PLAN {sql}", params)
        return [str(row[-1]) for row in rows]
