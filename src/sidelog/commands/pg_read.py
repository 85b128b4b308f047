"""``sidelog export`` (and ``--bundle``) on a PostgreSQL store: the same rows, read by a command.

The export writers are plain loops over rows, written for the read-only ``sqlite3``
connection of a SQLite file. For a PostgreSQL store this gives them the same rows
through the store's own read path (SQLAlchemy over asyncpg, the statements rewritten
by store/pg_sql.py), driven from a private event loop so the writers stay synchronous:
keyset pages of ``PAGE`` rows by id, each fetched when the previous one is written, so
memory holds one page whatever the table's size. ``details`` is given back as compact JSON
text, as the SQLite file stores it. Nothing is written to the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import orjson

from sidelog.commands.bundle import bundle_scope, bundle_text, newest_or_refuse
from sidelog.commands.common import CommandError
from sidelog.filters import EventFilter
from sidelog.store.location import StoreLocation
from sidelog.store.opening import make_pg_engines
from sidelog.store.pg_schema import describe
from sidelog.store.reader import StoreReader, filter_sql
from sidelog.store.schema import EVENT_COLUMN_NAMES
from sidelog.store.timeline import read_group_event, read_preceding

T = TypeVar("T")
PAGE = 5000
"""Rows per keyset page (one short query each)."""
_COLUMNS = ", ".join(EVENT_COLUMN_NAMES)


class PgRows:
    """A PostgreSQL store opened for reading by a command; ``close`` when done."""

    def __init__(self, location: StoreLocation) -> None:
        self._display = location.display()
        self._loop = asyncio.new_event_loop()
        self._engines = make_pg_engines(location)
        self._reader = StoreReader(self._engines[1])
        try:
            self.run(self._reader._all("SELECT 1 FROM events LIMIT 1"))
        except BaseException:
            self.close()
            raise

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run one read on the private loop; ``CommandError`` (one line) if the database fails."""
        try:
            return self._loop.run_until_complete(work)
        except CommandError:
            raise
        except Exception as exc:
            raise CommandError(f"cannot read the database {self._display}: {describe(exc)}") from None

    def rows(self, flt: EventFilter) -> Iterator[tuple[Any, ...]]:
        """Matching rows in ``EVENT_COLUMN_NAMES`` order, oldest first, a page at a time."""
        terms, params = filter_sql(flt)
        where = " AND ".join([*terms, "id > ?"])
        sql = f"SELECT {_COLUMNS} FROM events WHERE {where} ORDER BY id LIMIT {PAGE}"
        last = 0
        while True:
            rows = self.run(self._reader._all(sql, [*params, last]))
            yield from (_compact(tuple(row)) for row in rows)
            if len(rows) < PAGE:
                return
            last = int(rows[-1][0])

    def count(self, flt: EventFilter) -> int:
        """How many rows match (for the progress bar)."""
        terms, params = filter_sql(flt)
        where = f" WHERE {' AND '.join(terms)}" if terms else ""
        return int(self.run(self._reader._all(f"SELECT count(*) FROM events{where}", params))[0][0])

    def bundle(self, fingerprint: str, events: int) -> str:
        """The repro bundle of a group, as commands/bundle.py makes it from a SQLite file."""
        return self.run(_bundle(self._reader, fingerprint, events))

    def close(self) -> None:
        """Close the connections and the private loop."""
        try:
            for engine in self._engines:
                self._loop.run_until_complete(engine.dispose())
        finally:
            self._loop.close()


def _compact(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """``row`` with ``details`` as compact JSON text, as a SQLite file holds it: ``jsonb``
    prints ``{"a": 1}``, and a CSV export must not depend on the store it came from."""
    details = row[5]
    if not isinstance(details, str):
        return row
    return (*row[:5], orjson.dumps(orjson.loads(details)).decode(), *row[6:])


async def _bundle(reader: StoreReader, fingerprint: str, events: int) -> str:
    group, found = await read_group_event(reader, fingerprint)
    event = newest_or_refuse(fingerprint, group, found)
    scope = bundle_scope(event)
    preceding = await read_preceding(reader, scope[0], scope[1], event, events) if scope else []
    return bundle_text(event, group, scope, preceding, events)


__all__ = ["PAGE", "PgRows"]
