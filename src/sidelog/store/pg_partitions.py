"""Day partitions of ``events`` on PostgreSQL: their names, their creation ahead, their list.

``events`` is ``PARTITION BY RANGE (received_at)`` (store/pg_schema.py), one partition
per UTC day (``events_pYYYYMMDD``) and a default partition (``events_default``) for a
row no day partition takes. Retention drops a whole expired day instead of deleting its
rows (store/pg_retention.py).

A day partition must exist before its first row arrives: once the default partition
holds a row of that day, PostgreSQL refuses to create the day's partition (the row
would be in the wrong place). So the writer creates today's and the next
``DAYS_AHEAD`` days' partitions when it opens and whenever a batch reaches a day whose
successors are missing (``Partitions.ensure``), long before their first row. A batch
received on a day with no partition (an import of old rows, a clock far off) gets its
partition on demand, when the day is within ``ON_DEMAND_DAYS`` of today; any other row,
or one of a day whose partition cannot be created, lands in the default partition,
whose expired rows retention deletes one by one. (Creating a partition reads the default
partition for rows of its day, so the default partition is meant to stay small.)

Creation takes a short lock on ``events`` (PostgreSQL's rule for adding a partition):
``lock_timeout`` bounds the wait, and a creation that times out is tried again with the
next batch, so ingest never waits behind a long reader for it. Servers sharing the
database create under one advisory lock, so they never race for the same name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.exc import DBAPIError

from sidelog.store.async_core import AsyncConnection

DAY_MS = 86_400_000
"""One partition's span: a UTC day in milliseconds (``received_at``'s unit)."""
DAYS_AHEAD = 2
"""Partitions kept ready after the newest day written."""
ON_DEMAND_DAYS = 400
"""A day further than this from today never gets a partition of its own (default partition)."""
DEFAULT_PARTITION = "events_default"
PREFIX = "events_p"
LOCK_TIMEOUT = "100ms"
"""The longest a creation or a drop waits for ``events``' lock (ingest queues behind it)."""
_CREATE_LOCK = 0x51DE107
"""Advisory lock held while a server creates partitions."""
_EPOCH = dt.date(1970, 1, 1)


def day_of(received_at: int) -> int:
    """The UTC day (days since 1970-01-01) a ``received_at`` in milliseconds falls in."""
    return received_at // DAY_MS


def partition_name(day: int) -> str:
    """``events_pYYYYMMDD`` for ``day``."""
    return PREFIX + (_EPOCH + dt.timedelta(days=day)).strftime("%Y%m%d")


def day_of_name(name: str) -> int | None:
    """The day a partition's name stands for, or ``None`` for another table."""
    if not name.startswith(PREFIX) or len(name) != len(PREFIX) + 8:
        return None
    try:
        date = dt.datetime.strptime(name[len(PREFIX) :], "%Y%m%d").date()
    except ValueError:
        return None
    return (date - _EPOCH).days


def create_sql(day: int) -> str:
    """The ``CREATE TABLE … PARTITION OF events`` for ``day``."""
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF events "
        f"FOR VALUES FROM ({day * DAY_MS}) TO ({(day + 1) * DAY_MS})"
    )


async def partition_days(conn: AsyncConnection) -> list[int]:
    """The days that have a partition, oldest first."""
    rows = await conn.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'events'::regclass"
    )
    days = (day_of_name(str(row[0])) for row in rows)
    return sorted(day for day in days if day is not None)


class Partitions:
    """What one writer knows of the day partitions, and their creation when a batch needs one."""

    def __init__(self) -> None:
        self.days: set[int] = set()
        """Days known to have a partition (read at open, grown by ``ensure``)."""
        self.refused: set[int] = set()
        """Days whose partition cannot be created (the default partition holds their rows)."""

    async def load(self, conn: AsyncConnection) -> None:
        """Read the existing partitions (in the caller's transaction)."""
        self.days = set(await partition_days(conn))

    def wanted(self, received: Iterable[int], today: int) -> list[int]:
        """Days a batch with these ``received_at`` needs (or should have ready) that lack a partition."""
        days = {day_of(stamp) for stamp in received}
        days.update(today + ahead for ahead in range(DAYS_AHEAD + 1))
        return sorted(
            day
            for day in days
            if day not in self.days and day not in self.refused and abs(day - today) <= ON_DEMAND_DAYS
        )

    async def ensure(self, conn: AsyncConnection, days: list[int]) -> list[int]:
        """Create the partitions of ``days``, each in its own short transaction; the days created.

        A day whose rows already sit in the default partition is remembered as refused
        (its rows stay there); a lock wait beyond ``LOCK_TIMEOUT`` leaves the day for
        the next batch (its rows meanwhile land in the default partition, or in the
        partition another server created).
        """
        created: list[int] = []
        for day in days:
            try:
                async with conn.begin():
                    await conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                    await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_CREATE_LOCK})")
                    await conn.exec_driver_sql(create_sql(day))
            except DBAPIError as exc:
                if "default partition" in str(exc):
                    self.refused.add(day)
                continue
            self.days.add(day)
            created.append(day)
        return created
