"""Retention on a PostgreSQL store of a million events, with ingest going on meanwhile.

Method: a fresh database on the server ``--db`` names is filled straight in SQL with
``--events`` events spread over eleven UTC days, nine of them (90 %) old enough to
expire with a one-day retention: a tenth errors (archived by retention), a tenth with an
idempotency key (``event_uids``), then ``VACUUM ANALYZE``. A real engine is started on
it in this process (TCP on a free port, ``retention_days`` 1); a client thread sends
``--rate`` events/s with a ``{"sync": true}`` after every ``--sync-every`` events and
times each sync's reply (the time until its events are committed). After a quiet
period, retention runs as the engine runs it (short writer turns between batches,
``Engine.run_job``). Reported: the writer's connection time of the pass (its drops), the
sum of its turns (those plus their short waits for the side connection), the side
connection's time (archive, keys), its longest turn, the wall time, what it deleted and
archived, and the worst sync before,
during and after it. The database is dropped at the end.

    python -m sidelog.bench.pg_retention --db postgresql://USER:PW@HOST/postgres

Absolute figures depend on the machine and its load; the worst sync before the pass is
the like-for-like reference.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from sidelog.events import now_ms
from sidelog.store.pg_partitions import DAY_MS, Partitions
from sidelog.store.pg_retention import PgRetentionJob

OLD_DAYS = 9
"""Expired days (each ``events / 10`` rows); two more recent days hold the rest."""


@dataclass
class Syncs:
    """Each sync's reply time, with when it was sent (``perf_counter``)."""

    times: list[tuple[float, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def worst(self, start: float, end: float) -> float:
        """The slowest reply among syncs sent in ``[start, end)`` (or overlapping its end)."""
        inside = [took for sent, took in self.times if start <= sent < end or sent < end <= sent + took]
        return max(inside, default=0.0)


def _client(port: int, rate: int, sync_every: int, syncs: Syncs) -> None:
    """Send ``rate`` events/s, a sync after every ``sync_every``, timing each reply."""
    sock = socket.create_connection(("127.0.0.1", port))
    pause = sync_every / rate
    number = 0
    try:
        while not syncs.stop.is_set():
            started = time.perf_counter()
            lines = b"".join(
                orjson.dumps({"message": f"live {number + n}", "category": "bench"}) + b"\n"
                for n in range(sync_every)
            )
            number += sync_every
            sock.sendall(lines + b'{"sync": true}\n')
            sent = time.perf_counter()
            buffer = b""
            while b'"ok"' not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            syncs.times.append((sent, time.perf_counter() - sent))
            time.sleep(max(0.0, pause - (time.perf_counter() - started)))
    finally:
        sock.close()


async def _fill(url: str, events: int) -> None:
    """``events`` rows over ``OLD_DAYS`` expired days and two kept ones, straight in SQL."""
    import asyncpg

    from sidelog.store.location import parse_location
    from sidelog.store.opening import make_pg_engines
    from sidelog.store.pg_schema import prepare_schema

    location = parse_location(url)
    writer, reader = make_pg_engines(location)
    today = now_ms() // DAY_MS
    try:
        await prepare_schema(writer, location.display())
        async with writer.connect() as conn:
            await Partitions().ensure(conn, list(range(today - OLD_DAYS - 1, today + 1)))
    finally:
        await writer.dispose()
        await reader.dispose()
    per_old_day = events * 9 // 10 // OLD_DAYS
    recent = events - per_old_day * OLD_DAYS
    conn = await asyncpg.connect(url)
    try:
        for day in range(today - OLD_DAYS - 1, today + 1):
            rows = per_old_day if day < today - 1 else (recent // 2 if day < today else recent - recent // 2)
            first = day * DAY_MS if day < today else now_ms() - rows * 10
            step = DAY_MS // max(rows, 1) if day < today else 10
            await conn.execute(
                """
INSERT INTO events (event_uid, category, level, message, details, timestamp, received_at, source,
                    fingerprint, resolved)
SELECT CASE WHEN g % 10 = 0 THEN 'k' || $1::bigint || '-' || g END, 'app',
       CASE WHEN g % 10 = 3 THEN 'error' ELSE 'info' END, 'message ' || (g % 100),
       '{"n": 1, "path": "/api/items"}'::jsonb, $2::bigint + g * $3::bigint, $2::bigint + g * $3::bigint,
       'tcp', CASE WHEN g % 10 = 3 THEN 'fp' || (g % 20) END, CASE WHEN g % 10 = 3 THEN 0 END
FROM generate_series(0, $4::bigint - 1) AS g
""",
                day,
                first,
                step,
                rows,
            )
        await conn.execute(
            "INSERT INTO event_uids SELECT event_uid, received_at FROM events WHERE event_uid IS NOT NULL"
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def _measure(url: str, rate: int, sync_every: int, quiet: float) -> dict[str, Any]:
    from sidelog.config import load_settings
    from sidelog.server import start_server

    settings = load_settings(
        db=url, tcp="127.0.0.1:0", http="off", retention_days=1, rate_limit_burst=0, db_budget_mb=0
    )
    running = await start_server(settings)
    engine = running.engine
    syncs = Syncs()
    try:
        port = next(int(address.rsplit(":", 1)[1]) for kind, address in engine.endpoints if kind == "tcp")
        client = threading.Thread(target=_client, args=(port, rate, sync_every, syncs), daemon=True)
        client.start()
        await asyncio.sleep(quiet)
        older_than = now_ms() - DAY_MS
        started = time.perf_counter()
        job = await engine.run_job(lambda writer: writer.retention(older_than=older_than, budget_bytes=None))
        assert isinstance(job, PgRetentionJob)
        ended = time.perf_counter()
        await asyncio.sleep(quiet)
        syncs.stop.set()
        await asyncio.to_thread(client.join, 10)
    finally:
        await running.stop()
    result = job.result
    return {
        "deleted": result.deleted,
        "archived": result.archived,
        "dropped_days": len(job.dropped_days),
        "skipped_days": len(job.skipped_days),
        "writer_seconds": round(job.writer_seconds, 3),
        "writer_turns_seconds": round(sum(job.step_seconds), 3),
        "writer_waiting_seconds": round(job.waiting_seconds, 3),
        "side_connection_seconds": round(job.side_seconds, 3),
        "longest_turn_ms": round(result.longest_step_s * 1000, 1),
        "turns": result.steps,
        "wall_seconds": round(ended - started, 3),
        "worst_sync_before_ms": round(syncs.worst(0.0, started) * 1000, 1),
        "worst_sync_during_ms": round(syncs.worst(started, ended) * 1000, 1),
        "worst_sync_after_ms": round(syncs.worst(ended, float("inf")) * 1000, 1),
        "syncs": len(syncs.times),
    }


async def run_retention_bench(
    server_url: str, *, events: int, rate: int = 500, sync_every: int = 50, quiet: float = 3.0
) -> dict[str, Any]:
    """Fill a new database next to ``server_url``'s, measure one retention pass, drop the database."""
    import asyncpg

    name = f"sidelog_bench_retention_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = server_url.rsplit("/", 1)[0] + "/" + name
    try:
        filled = time.perf_counter()
        await _fill(url, events)
        figures = {"events": events, "fill_seconds": round(time.perf_counter() - filled, 1)}
        figures.update(await _measure(url, rate, sync_every, quiet))
        return figures
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def main(argv: list[str] | None = None) -> int:
    """Run it once and print the figures as JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m sidelog.bench.pg_retention", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--db", required=True, help="postgresql://USER:PASSWORD@HOST:PORT/ANY (a new database is made)"
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=500, help="events/s sent meanwhile")
    parser.add_argument("--sync-every", type=int, default=50)
    args = parser.parse_args(argv)
    figures = asyncio.run(
        run_retention_bench(args.db, events=args.events, rate=args.rate, sync_every=args.sync_every)
    )
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
