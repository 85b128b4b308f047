"""Which driver the PostgreSQL writer should use, measured: asyncpg or psycopg 3 (async).

Both run the writer's own batch statement (``INSERT_EVENTS_SQL`` of store/pg_writer.py:
one ``INSERT … SELECT FROM unnest(…) RETURNING`` per batch of ``BATCH`` events, each in
its own transaction) into sidelog's schema, interleaved round by round so a loaded
machine slows all alike; psycopg in its text and its binary format. psycopg is not a
dependency of sidelog: this benchmark imports it only when it runs (``pip install
'psycopg[binary]'``) and reports it missing otherwise. Measured: asyncpg about 1.6 to 2
times psycopg's rate (so the writer stays on asyncpg).

    python -m sidelog.bench.pg_driver --db postgresql://USER:PW@HOST/NAME --events 50000
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from typing import Any

from sidelog.bench.pg_insert import BATCH, _rows
from sidelog.store.pg_schema import schema_statements
from sidelog.store.pg_writer import INSERT_EVENTS_SQL

_PSYCOPG_SQL = re.sub(r"\$\d+", "%s", INSERT_EVENTS_SQL)
"""The same statement with psycopg's placeholders (each ``$n`` appears once, in order)."""


def _columns(batch: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*batch, strict=True)]


async def _asyncpg_round(url: str, rows: list[tuple[Any, ...]]) -> float:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("TRUNCATE events")
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            async with conn.transaction():
                await conn.fetch(INSERT_EVENTS_SQL, *_columns(rows[start : start + BATCH]))
        return len(rows) / (time.perf_counter() - started)
    finally:
        await conn.close()


async def _psycopg_round(url: str, rows: list[tuple[Any, ...]], *, binary: bool = False) -> float:
    import psycopg  # type: ignore[import-not-found, unused-ignore]

    conn = await psycopg.AsyncConnection.connect(url, prepare_threshold=0)
    try:
        await conn.execute("TRUNCATE events")
        await conn.commit()
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            async with conn.transaction(), conn.cursor(binary=binary) as cursor:
                await cursor.execute(_PSYCOPG_SQL, _columns(rows[start : start + BATCH]))
                await cursor.fetchall()
        return len(rows) / (time.perf_counter() - started)
    finally:
        await conn.close()


async def measure(url: str, events: int, rounds: int) -> dict[str, list[float]]:
    """Events per second of each driver, ``rounds`` times each, interleaved."""
    import asyncpg

    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(plain)
    try:
        for statement in schema_statements():
            await conn.execute(statement)
    finally:
        await conn.close()
    rates: dict[str, list[float]] = {"asyncpg": [], "psycopg": [], "psycopg-binary": []}
    for round_ in range(rounds):
        rates["asyncpg"].append(await _asyncpg_round(plain, _rows(events, f"a{round_}")))
        rates["psycopg"].append(await _psycopg_round(plain, _rows(events, f"p{round_}")))
        rates["psycopg-binary"].append(await _psycopg_round(plain, _rows(events, f"b{round_}"), binary=True))
    return rates


def main(argv: list[str] | None = None) -> int:
    """Print each driver's median rate (on a scratch database: its events are truncated)."""
    parser = argparse.ArgumentParser(
        prog="python -m sidelog.bench.pg_driver", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--db", required=True, help="a scratch postgresql://… database (its events are deleted)"
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import psycopg  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        print("psycopg is not installed: pip install 'psycopg[binary]' to compare it")
        return 1
    rates = asyncio.run(measure(args.db, args.events, args.rounds))
    base = sorted(rates["asyncpg"])[len(rates["asyncpg"]) // 2]
    for name, values in rates.items():
        median = sorted(values)[len(values) // 2]
        print(f"{name:14} {median:10,.0f} events/s  ({median / base:.2f}x asyncpg)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
