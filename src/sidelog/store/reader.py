"""Read queries: short read transactions on the reader engine, returning domain objects.

Every history query is newest first and keyset-paginated by ``id`` (``before``), or
oldest first after a cursor (``after``), so a page costs the same at row 10 as at
row 1,000,000.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.store.inflight import InFlight
from sidelog.store.models import GROUP_COLUMNS, ErrorGroup, event_from_row, group_from_row
from sidelog.store.schema import EVENT_COLUMN_NAMES

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
    if flt.since is not None:
        terms.append("timestamp >= ?")
        params.append(flt.since)
    if flt.until is not None:
        terms.append("timestamp < ?")
        params.append(flt.until)
    if flt.q:
        needle = "%" + flt.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        terms.append("(message LIKE ? ESCAPE '\\' OR details LIKE ? ESCAPE '\\')")
        params.extend((needle, needle))
    return terms, params


def _where(terms: list[str]) -> str:
    """A `` WHERE`` clause joining ``terms`` with AND; empty when there are none."""
    return f" WHERE {' AND '.join(terms)}" if terms else ""


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
        terms, params = filter_sql(flt)
        if before is not None:
            terms.append("id < ?")
            params.append(before)
        if after is not None:
            terms.append("id > ?")
            params.append(after)
        where = _where(terms)
        order = "ASC" if after is not None and before is None else "DESC"
        rows = await self._all(f"{_SELECT_EVENTS}{where} ORDER BY id {order} LIMIT ?", [*params, limit])
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
        facets: dict[str, dict[str, int]] = {}
        top = "" if limit is None else f" ORDER BY count(*) DESC LIMIT {int(limit)}"
        for name, column in (("level", "level"), ("category", "category"), ("source", "source")):
            rows = await self._all(f"SELECT {column}, count(*) FROM events GROUP BY {column}{top}")
            facets[name] = {value: count for value, count in rows}
        return facets

    async def groups(
        self, *, status: str | None = "unresolved", user: str | None = None, limit: int = 200
    ) -> list[ErrorGroup]:
        """Error groups, newest activity first; ``user`` keeps groups with that user's
        unresolved errors; ``status=None`` returns every group."""
        terms: list[str] = []
        params: list[Any] = []
        if status is not None:
            terms.append("status = ?")
            params.append(status)
        if user is not None:
            terms.append("fingerprint IN (SELECT fingerprint FROM events WHERE user_id = ? AND resolved = 0)")
            params.append(user)
        where = _where(terms)
        rows = await self._all(
            f"SELECT {GROUP_COLUMNS} FROM error_groups{where} ORDER BY last_seen DESC LIMIT ?",
            [*params, limit],
        )
        return [group_from_row(row) for row in rows]

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

    async def explain(self, sql: str, params: tuple[Any, ...] = ()) -> list[str]:
        """``EXPLAIN QUERY PLAN`` details, for tests and diagnostics."""
        rows = await self._all(f"EXPLAIN QUERY PLAN {sql}", params)
        return [str(row[-1]) for row in rows]
