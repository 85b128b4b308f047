"""Retention under load: a million-event store, 900k of them expired, pruned while a
client keeps sending (``sidelog bench`` wiring comes later; ``python -m
sidelog.bench.retention FOLDER`` runs it now).

What it shows: retention runs as many short writer turns between batches, so a
client sending 500 events/s with a sync every 50 events sees every sync answered
quickly (target: worst ≤ 250 ms); the WAL stays bounded (target: peak ≤ 64 MiB); and
every expired error ends up in ``events_archive``. The store is built once with
plain ``sqlite3`` into sidelog's schema (cached in FOLDER) and copied for each run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import shutil
import socket
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from sidelog.bench.fill import bench_rows
from sidelog.store.migrations import SCHEMA_VERSION, initialise
from sidelog.store.schema import INSERT_EVENTS_SQL
from sidelog.store.wal import MIB, wal_path

DAY_MS = 86_400_000
_POOL = 20_000
"""Distinct workload rows; the store cycles through them (ids and stamps made unique)."""
_ID, _UID, _TIMESTAMP, _RECEIVED_AT = 0, 1, 10, 11
"""Positions in an ``events`` row (``EVENT_COLUMN_NAMES`` order)."""


def build_store(path: Path, total: int, expired: int, now: int, log: Callable[[str], None]) -> None:
    """``total`` events of the benchmark mix: the first ``expired`` received 31-60 days
    before ``now``, the rest over the last 5 days. Indexes are built after the rows."""
    partial = path.with_name(path.name + f".partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    initialise(partial)
    pool, _lines = bench_rows(_POOL, 1)
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        conn.execute(f"DROP INDEX {name}")
    old_span, young_span = 29 * DAY_MS, 5 * DAY_MS
    for start in range(0, total, 50_000):
        chunk = []
        for index in range(start, min(start + 50_000, total)):
            row = list(pool[index % _POOL])
            if index < expired:
                stamp = now - 60 * DAY_MS + index * old_span // expired
            else:
                stamp = now - young_span + (index - expired) * young_span // max(1, total - expired)
            row[_ID], row[_UID], row[_TIMESTAMP], row[_RECEIVED_AT] = index + 1, None, stamp, stamp
            chunk.append(tuple(row))
        conn.execute("BEGIN")
        conn.executemany(INSERT_EVENTS_SQL, chunk)
        conn.execute("COMMIT")
        log(f"  built {start + len(chunk):,}/{total:,}")
    log("  indexing")
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    partial.rename(path)


def _client(db: str, rate: int, sync_every: int, ports: Any, started: Any, stop: Any, results: Any) -> None:
    """Child process: send ``rate`` events/s with a sync every ``sync_every``; time each sync.

    Spawned before the server starts (so its start-up costs the server nothing); it
    gets the port on ``ports``. Also samples the WAL's size every 5 ms.
    """
    from sidelog.workload import Workload

    workload = Workload(seed=9)
    lines = [orjson.dumps(workload.event()) + b"\n" for _ in range(rate * 10)]
    wal = wal_path(Path(db))
    peak = [0]

    def sample() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                peak[0] = max(peak[0], os.path.getsize(wal))
            time.sleep(0.005)

    port = ports.get()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending: deque[float] = deque()
    latencies: list[tuple[float, float]] = []
    buffer = b""

    def read_replies() -> None:
        nonlocal buffer
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buffer += chunk
            *replies, buffer = buffer.split(b"\n")
            for reply in replies:
                if b'"ok"' in reply and pending:
                    sent_at = pending.popleft()
                    latencies.append((sent_at, time.perf_counter() - sent_at))

    reader = threading.Thread(target=read_replies, daemon=True)
    reader.start()
    began = time.perf_counter()
    started.set()
    sent = 0
    while not stop.is_set():
        due = int((time.perf_counter() - began) * rate)
        payload = b""
        while sent < due:
            payload += lines[sent % len(lines)]
            sent += 1
            if sent % sync_every == 0:
                pending.append(time.perf_counter())
                sock.sendall(payload + b'{"sync": true}\n')
                payload = b""
        if payload:
            sock.sendall(payload)
        time.sleep(0.01)
    sock.shutdown(socket.SHUT_WR)
    reader.join(timeout=30)
    sock.close()
    results.put(
        {
            "sent": sent,
            "latencies": latencies,
            "unanswered": len(pending),
            "wal_peak": peak[0],
            "began": began,
        }
    )


async def _retention_outcome(subscription: Any) -> dict[str, Any]:
    """The details of the ``system`` event the automatic retention pass records.

    Watched on the live feed: polling the database would be a reader of its own,
    holding snapshots that keep the WAL from being reset.
    """
    async for batch in subscription:
        for stored in batch.stored:
            if stored.source == "system" and stored.message == "retention pruned old events":
                details: dict[str, Any] = orjson.loads(stored.details or "{}")
                return details
    raise RuntimeError("the live feed ended")


def _expired_errors(db: Path, cutoff: int) -> int:
    conn = sqlite3.connect(db)
    try:
        sql = "SELECT count(*) FROM events WHERE level = 'error' AND received_at < ?"
        return int(conn.execute(sql, (cutoff,)).fetchone()[0])
    finally:
        conn.close()


async def _run(db: Path, rate: int, sync_every: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Serve ``db`` while the client sends; sidelog's own retention pass (5 s after start,
    as on any start-up) prunes it. Ends 2 s after that pass has recorded its outcome."""
    from sidelog.config import load_settings
    from sidelog.server import start_server

    settings = load_settings(
        db=db, tcp="127.0.0.1:0", http="off", retention_days=30, db_budget_mb=0, rate_limit_burst=0
    )
    context = multiprocessing.get_context("spawn")
    ports, started, stop, results = context.Queue(), context.Event(), context.Event(), context.Queue()
    client = context.Process(target=_client, args=(str(db), rate, sync_every, ports, started, stop, results))
    client.start()
    opened = time.perf_counter()
    server = await start_server(settings)
    subscription = server.engine.subscribe(4096)
    try:
        ports.put(int(next(address for kind, address in server.endpoints if kind == "tcp").rsplit(":", 1)[1]))
        await asyncio.to_thread(started.wait)
        log("  serving; waiting for the retention pass")
        outcome = await _retention_outcome(subscription)
        log(f"  retention done: {outcome}")
        await asyncio.sleep(2.0)
    finally:
        stop.set()
        report = await asyncio.to_thread(results.get, True, 120)
        client.join(timeout=30)
        await server.stop()
    # Writes wait for the background quick_check of a large file at start-up; the
    # syncs sent before the first answer measure that, not retention.
    first_ack = min((at + latency for at, latency in report["latencies"]), default=None)
    samples = sorted(
        latency for at, latency in report["latencies"] if first_ack is not None and at >= first_ack
    )

    def ms(value: float) -> float:
        return round(value * 1000, 1)

    return {
        "writes_held_at_start_s": None if first_ack is None else round(first_ack - report["began"], 2),
        "retention": outcome,
        "events_sent": report["sent"],
        "syncs": len(samples),
        "unanswered_syncs": report["unanswered"],
        "sync_ms_p50": ms(samples[len(samples) // 2]) if samples else None,
        "sync_ms_p99": ms(samples[int(len(samples) * 0.99)]) if samples else None,
        "sync_ms_worst": ms(samples[-1]) if samples else None,
        "wal_peak_mib": round(report["wal_peak"] / MIB, 1),
        "serve_s": round(time.perf_counter() - opened, 1),
    }


def measure_retention(
    folder: Path,
    *,
    total: int = 1_000_000,
    expired: int = 900_000,
    rate: int = 500,
    sync_every: int = 50,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build (or reuse) the store, copy it, prune it under load; figures and pass/fail."""
    folder.mkdir(parents=True, exist_ok=True)
    now = int(time.time() * 1000)
    cached = folder / f"retention-{total}-{expired}-v{SCHEMA_VERSION}.db"
    if not cached.exists():
        log(f"building a {total:,}-event store ({expired:,} expired)")
        build_store(cached, total, expired, now, log)
    run = folder / "run" / "events.db"
    shutil.rmtree(run.parent, ignore_errors=True)
    run.parent.mkdir()
    shutil.copyfile(cached, run)
    os.chmod(run, 0o600)
    cutoff = now - 30 * DAY_MS
    expected_archive = _expired_errors(run, cutoff)
    size_before = run.stat().st_size
    figures = asyncio.run(_run(run, rate, sync_every, log))
    archived = _expired_errors(run, cutoff)  # what is left: should be none
    conn = sqlite3.connect(run)
    in_archive = int(conn.execute("SELECT count(*) FROM events_archive WHERE level = 'error'").fetchone()[0])
    conn.close()
    figures.update(
        {
            "db_mib_before": round(size_before / MIB, 1),
            "db_mib_after": round(run.stat().st_size / MIB, 1),
            "expired_errors": expected_archive,
            "in_archive": in_archive,
            "expired_errors_left": archived,
            "ok_worst_sync": figures["sync_ms_worst"] is not None and figures["sync_ms_worst"] <= 250,
            "ok_wal_peak": figures["wal_peak_mib"] <= 64,
            "ok_archive": in_archive >= expected_archive and archived == 0,
        }
    )
    return figures


def main() -> int:
    """``python -m sidelog.bench.retention [FOLDER]``: run once, print the figures as JSON."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".sidelog-bench")
    figures = measure_retention(folder, log=lambda line: print(line, file=sys.stderr))
    print(json.dumps(figures, indent=2))
    return 0 if all(value for key, value in figures.items() if key.startswith("ok_")) else 1


if __name__ == "__main__":
    sys.exit(main())
