"""``sidelog bench --db postgresql://…``: ingest through 1 and 2 servers, and retention, on PostgreSQL.

Each run gets a database of its own, created next to the one the URL names (on the
same server, so the login needs the ``CREATEDB`` privilege) and dropped afterwards: the
team's store itself is never written. Sections (``--only``):

- ``pg-ingest``: ``sidelog serve`` subprocesses on one database (bench/pg_servers.py),
  first one server with ``--events`` events, then two with half each, all sent at once
  over ``--connections``-independent TCP clients (one per server) with a sync every 500;
  each run is checked exactly (every id once, group counts equal to the stored errors).
- ``pg-retention``: retention on ``--prefill`` events, 90 % of them expired, while a
  client sends 500 events/s with a sync every 50 (bench/pg_retention.py).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PG_SECTIONS = ("pg-ingest", "pg-retention")
"""What ``sidelog bench --db postgresql://…`` can run; all by default."""


async def _database(url: str, name: str, *, create: bool) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """The URL of a new database on ``url``'s server, dropped on exit."""
    name = f"sidelog_bench_{secrets.token_hex(4)}"
    asyncio.run(_database(url, name, create=True))
    try:
        base, _, rest = url.rpartition("/")
        query = rest.partition("?")[2]
        yield f"{base}/{name}" + (f"?{query}" if query else "")
    finally:
        asyncio.run(_database(url, name, create=False))


def pg_ingest(url: str, events: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Ingest rates through 1 and 2 servers, each on a fresh database."""
    from sidelog.bench.pg_servers import run_servers

    figures: dict[str, Any] = {}
    for servers in (1, 2):
        per_server = max(1, events // servers)
        log(f"PostgreSQL ingest: {servers} server(s) x {per_server:,} events")
        with scratch_database(url) as db, tempfile.TemporaryDirectory() as work:
            result = run_servers(db, Path(work), events=per_server, servers=servers)
        sent = result.sent + (-(-per_server // 20) * servers if servers > 1 else 0)
        figures[f"{servers}_server"] = {
            "events": result.sent,
            "resent_ids": sent - result.sent,
            "seconds": round(result.seconds, 2),
            "events_per_s": round(sent / result.seconds) if result.seconds else 0,
            "stored": result.stored,
            "exact": result.exact,
        }
    one, two = figures["1_server"]["events_per_s"], figures["2_server"]["events_per_s"]
    figures["ratio_2_vs_1"] = round(two / one, 2) if one else None
    return figures


def pg_sections(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any] | str:
    """Run the PostgreSQL sections ``args`` picks; the figures, or a one-line refusal."""
    picked = tuple(name.strip() for name in (args.only or ",".join(PG_SECTIONS)).split(",") if name.strip())
    unknown = [name for name in picked if name not in PG_SECTIONS]
    if unknown or not picked:
        named = ", ".join(unknown) or repr(args.only)
        return f"--only with --db: unknown section {named} (choose from {', '.join(PG_SECTIONS)})"
    results: dict[str, Any] = {"sections": list(picked), "store": "postgresql"}
    if "pg-ingest" in picked:
        results["pg_ingest"] = pg_ingest(args.db, args.events, log)
    if "pg-retention" in picked:
        from sidelog.bench.pg_retention import run_retention_bench

        log(f"PostgreSQL retention: {args.prefill:,} events, 90 % expired, 500 events/s meanwhile")
        results["pg_retention"] = asyncio.run(run_retention_bench(args.db, events=args.prefill))
    return results
