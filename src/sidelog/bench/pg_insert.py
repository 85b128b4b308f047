"""Which bulk insert the PostgreSQL writer uses, measured: unnest arrays, multi-row VALUES, COPY.

Each strategy writes the same events, 500 per transaction as the batcher does, into a
fresh copy of sidelog's schema (every index included), with idempotency keys so that
the ``ON CONFLICT (event_uid) DO NOTHING`` the writer needs is part of the cost:

- ``unnest``: one ``INSERT … SELECT FROM unnest($1::text[], …) … RETURNING`` per batch
  (what store/pg_writer.py does);
- ``values``: one multi-row ``INSERT … VALUES (…), (…) … RETURNING`` per batch
  (17 parameters a row);
- ``copy``: COPY into a temporary table, then ``INSERT … SELECT … ON CONFLICT``
  from it (COPY itself cannot skip conflicts).

    python -m sidelog.bench.pg_insert --db postgresql://USER:PW@HOST/NAME --events 50000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from sidelog.store.pg_schema import schema_statements
from sidelog.store.pg_writer import _INSERTED, INSERT_EVENTS_SQL

BATCH = 500
_CAST = {"details": "::jsonb"}
_COLUMN_LIST = ", ".join(_INSERTED)


def _rows(count: int, tag: str) -> list[tuple[Any, ...]]:
    now = int(time.time() * 1000)
    return [
        (
            f"{tag}-{n}",
            "app",
            "error" if n % 10 == 0 else "info",
            f"request {n} handled",
            f'{{"n": {n}, "path": "/api/items/{n % 97}"}}',
            f"user{n % 50}",
            f"session{n % 200}",
            None,
            None,
            now,
            now + n,
            "server",
            None,
            None,
            0 if n % 10 == 0 else None,
            f"fp{n % 7}" if n % 10 == 0 else None,
            None,
        )
        for n in range(count)
    ]


async def _unnest(conn: Any, batch: list[tuple[Any, ...]]) -> None:
    columns = [list(column) for column in zip(*batch, strict=True)]
    await conn.fetch(INSERT_EVENTS_SQL, *columns)


async def _values(conn: Any, batch: list[tuple[Any, ...]]) -> None:
    width = len(_INSERTED)
    groups = []
    for row in range(len(batch)):
        marks = [f"${row * width + col + 1}{_CAST.get(name, '')}" for col, name in enumerate(_INSERTED)]
        groups.append(f"({', '.join(marks)})")
    sql = (
        f"INSERT INTO events ({_COLUMN_LIST}) VALUES {', '.join(groups)} "
        "ON CONFLICT (event_uid) WHERE event_uid IS NOT NULL DO NOTHING RETURNING id, event_uid"
    )
    await conn.fetch(sql, *[value for row in batch for value in row])


async def _copy(conn: Any, batch: list[tuple[Any, ...]]) -> None:
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS staging (LIKE events INCLUDING IDENTITY) ON COMMIT DELETE ROWS"
    )
    await conn.copy_records_to_table("staging", records=batch, columns=list(_INSERTED))
    await conn.fetch(
        f"INSERT INTO events ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM staging ORDER BY id "
        "ON CONFLICT (event_uid) WHERE event_uid IS NOT NULL DO NOTHING RETURNING id, event_uid"
    )


STRATEGIES = {"unnest": _unnest, "values": _values, "copy": _copy}


async def measure(url: str, events: int, rounds: int) -> dict[str, list[float]]:
    """Events per second of each strategy, ``rounds`` times each, interleaved (a loaded
    machine slows all of them alike)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    await conn.set_type_codec(  # jsonb as text, in the binary format COPY needs (version byte 1)
        "jsonb",
        encoder=lambda text: b"\x01" + text.encode(),
        decoder=lambda data: data[1:].decode(),
        schema="pg_catalog",
        format="binary",
    )
    rates: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    try:
        for statement in schema_statements():
            await conn.execute(statement)
        for round_ in range(rounds):
            for name, insert in STRATEGIES.items():
                await conn.execute("TRUNCATE events")
                rows = _rows(events, f"{name}{round_}")
                started = time.perf_counter()
                for start in range(0, len(rows), BATCH):
                    async with conn.transaction():
                        await insert(conn, rows[start : start + BATCH])
                rates[name].append(events / (time.perf_counter() - started))
    finally:
        await conn.close()
    return rates


def main(argv: list[str] | None = None) -> int:
    """Print each strategy's median rate (the database must be a scratch one: events are truncated)."""
    parser = argparse.ArgumentParser(
        prog="python -m sidelog.bench.pg_insert", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--db", required=True, help="a scratch postgresql://… database (its events are deleted)"
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rates = asyncio.run(measure(args.db, args.events, args.rounds))
    base = sorted(rates["unnest"])[len(rates["unnest"]) // 2]
    for name, values in rates.items():
        median = sorted(values)[len(values) // 2]
        print(f"{name:7} {median:10,.0f} events/s  ({median / base:.2f}x unnest)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
