"""``sidelog bench``: sustained ingest, its ratio to plain sqlite3, latency and memory.

Method (printed with the results so a reader can judge them):

1. A store pre-filled with ``--prefill`` events of the benchmark mix (``workload.py``), built once and
   cached (``--dir``, default a folder under the system temp directory): one copy in
   sidelog's schema, one in a *naive* schema with one plain index per seed access path.
2. Throughput: a real ``sidelog serve`` subprocess (rate limits off) on a copy of the
   prefilled store; ``--connections`` TCP connections send ``--events`` pre-encoded
   events as fast as the server takes them, each ending in ``{"sync": true}``; the
   rate is events / time until the last acknowledgement (every event committed). The
   server's ``GET /v1/health`` then says how many write transactions it committed.
3. The headline baseline, like for like: plain ``sqlite3.executemany`` of the same rows
   into a copy of the same store (sidelog's schema), with the PRAGMAs read off a real
   sidelog writer connection (``writer_pragmas``) and the transaction size sidelog used
   in that run (events stored / transactions). The writer never checkpoints on its own
   (``wal_autocheckpoint=0``); the baseline does not either while timed, so it pays no
   checkpoint at all (sidelog pays its WAL-bounding ones): if anything, this favours
   the baseline. ``ratio_vs_plain_sqlite3`` is sidelog's rate over it.
   Kept beside it, under its own name: the *naive* figure, ``executemany`` into a copy
   with one plain index per seed access path (``NAIVE_INDEXES``), 500 rows per
   transaction and SQLite's default auto-checkpoint (``NAIVE_PRAGMAS``).
4. Latency: one connection sends at ``--latency-rate`` events/s; a reader polls the
   file for each event's idempotency key; p50/p99 of send-to-visible-in-the-file.
5. HTTP ingest: the same server kind with HTTP on; ``POST /v1/events`` in batches of
   100 over four connections, the last of each with ``?wait=true``.
6. Client call cost: ``EventLogger.event`` against stdlib ``logger.info`` with a
   ``NullHandler``, timed in the same process and run (``client_call_cost``).
7. Peak RSS of the server processes (VmHWM).
8. Receivers: Sentry envelopes (errors with 20-frame stacks) and OTLP logs posted to a
   fresh server, with ``POST /v1/events`` of the same events in the same run
   (``bench/receivers.py``).
9. Import: ``sidelog import`` of ``--import-lines`` JSONL lines into an empty store, TCP
   ingest of the same events into another empty store, and a second import of the
   same file, which must add nothing (``bench/importing.py``).
10. Integrations: what each Python client integration adds to the call it wraps
    (``bench/integrations.py``), and what ``sidelog.js`` adds to a ``fetch`` in
    headless Chromium (``bench/browser_fetch.py``).

``--only`` runs a subset of these sections (``SECTIONS``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from sidelog.bench.fill import NAIVE_INDEXES, bench_rows, ensure_prefill
from sidelog.bench.serve_process import ServeProcess, sync_and_count

NAIVE_BATCH = 500
"""Rows per transaction of the naive baseline."""
NAIVE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)
"""The naive baseline's PRAGMAs (auto-checkpoint left at SQLite's default)."""
WRITER_PRAGMA_NAMES = (
    "journal_mode",
    "synchronous",
    "cache_size",
    "temp_store",
    "wal_autocheckpoint",
    "journal_size_limit",
    "foreign_keys",
    "mmap_size",
)
"""The connection settings that weigh on inserts, copied from sidelog's writer to the baseline."""


SECTIONS = ("ingest", "http", "client", "latency", "receivers", "import", "integrations", "browser")
"""What ``sidelog bench --only`` can pick; all of them by default, in this order."""


def run_bench(args: argparse.Namespace) -> int:
    """Entry point for ``sidelog bench`` (``--ui`` goes to the UI benchmark)."""
    if args.ui:
        from sidelog.bench.ui import run_bench_ui

        return run_bench_ui(args)
    for name in ("prefill", "events", "connections", "latency_rate", "import_lines"):
        if getattr(args, name) < (0 if name == "prefill" else 1):
            print(f"sidelog: error: --{name.replace('_', '-')} must be a positive number", file=sys.stderr)
            return 2
    if getattr(args, "db", None):
        return _run_postgres(args)
    sections = _sections(args.only)
    if isinstance(sections, str):
        print(f"sidelog: error: {sections}", file=sys.stderr)
        return 2
    cache = Path(args.dir) if args.dir else Path(tempfile.gettempdir()) / "sidelog-bench"
    work = Path(tempfile.mkdtemp(prefix="sidelog-bench-run-"))
    log = (lambda *_: None) if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    try:
        results = _measure(args, sections, cache, work, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        from sidelog.bench.report import print_report

        print_report(results)
    return 0


def _run_postgres(args: argparse.Namespace) -> int:
    """``--db postgresql://…``: the PostgreSQL sections (bench/pg_bench.py) instead of SQLite's."""
    from sidelog.bench.pg_bench import pg_sections
    from sidelog.store.location import LocationError, parse_location

    try:
        location = parse_location(args.db)
    except LocationError as exc:
        print(f"sidelog: error: --db: {exc}", file=sys.stderr)
        return 2
    if location.url is None:
        print("sidelog: error: bench --db takes a postgresql:// URL (SQLite runs use --dir)", file=sys.stderr)
        return 2
    log = (lambda *_: None) if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    results = pg_sections(args, log)
    if isinstance(results, str):
        print(f"sidelog: error: {results}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        from sidelog.bench.report import print_report

        print_report(results)
    failed = [
        name
        for name, run in results.get("pg_ingest", {}).items()
        if isinstance(run, dict) and not run["exact"]
    ]
    return 1 if failed else 0


def _sections(only: str | None) -> tuple[str, ...] | str:
    """The sections to run, or the one-line reason ``--only`` is refused."""
    if not only:
        return SECTIONS
    picked = tuple(name.strip() for name in only.split(",") if name.strip())
    unknown = [name for name in picked if name not in SECTIONS]
    if unknown or not picked:
        return (
            f"--only: unknown section {', '.join(unknown) or repr(only)} (choose from {', '.join(SECTIONS)})"
        )
    return tuple(name for name in SECTIONS if name in picked)


def _measure(
    args: argparse.Namespace, sections: tuple[str, ...], cache: Path, work: Path, log: Any
) -> dict[str, Any]:
    results: dict[str, Any] = {"sections": list(sections)}
    if {"ingest", "http", "latency"} & set(sections):
        log(f"prefill: {args.prefill:,} events (cached in {cache})")
        sidelog_db, naive_db = ensure_prefill(cache, args.prefill, log)
    if "ingest" in sections:
        results.update(_ingest(args, sidelog_db, naive_db, work, log))
    if "http" in sections:
        log("HTTP ingest: POST /v1/events in batches of 100")
        server = ServeProcess(_copy_store(sidelog_db, work / "http.db"), http=True)
        try:
            from sidelog.bench.http_load import http_ingest_rate

            rate = asyncio.run(
                http_ingest_rate("127.0.0.1", server.http_port, total=min(args.events, 100_000))
            )
            results["http_events_per_s"] = round(rate)
        finally:
            server.stop()
    if "client" in sections:
        log("client call cost: EventLogger.event vs logging.info with NullHandler")
        from sidelog.bench.client_cost import client_call_cost

        results["client"] = {key: round(value, 3) for key, value in client_call_cost().items()}
    if "latency" in sections:
        log(f"latency: {args.latency_rate} events/s for 5 s")
        db = _copy_store(sidelog_db, work / "lat.db")
        server = ServeProcess(db)
        try:
            results["latency_rate"] = args.latency_rate
            results["latency_p50_ms"], results["latency_p99_ms"] = _latency(
                server.port, db, args.latency_rate, 5.0
            )
            results["latency_server_peak_rss_mb"] = round(server.peak_rss() / 1024, 1)
        finally:
            server.stop()
    if "receivers" in sections:
        log("Sentry envelopes and OTLP logs over HTTP (fresh store)")
        from sidelog.bench.receivers import receivers_bench

        results["receivers"] = receivers_bench(min(args.events, 50_000), args.connections)
    if "import" in sections:
        log(f"import: {args.import_lines:,} JSONL lines, and TCP ingest of the same events (empty stores)")
        from sidelog.bench.importing import import_bench

        results["import"] = import_bench(args.import_lines, work)
    if "integrations" in sections:
        log("client integrations: cost each hook adds to the wrapped call")
        from sidelog.bench.integrations import integration_overhead

        results["integrations"] = integration_overhead()
    if "browser" in sections:
        log("browser: cost sidelog.js adds to each fetch (headless Chromium)")
        from sidelog.bench.browser_fetch import browser_fetch_overhead

        results["browser"] = browser_fetch_overhead()
    return results


def _ingest(
    args: argparse.Namespace, sidelog_db: Path, naive_db: Path, work: Path, log: Any
) -> dict[str, Any]:
    """TCP throughput into the prefilled store and the two ``executemany`` baselines, same rows."""
    log(f"encoding {args.events:,} events of the benchmark mix (``workload.py``)")
    rows, lines = bench_rows(args.events, first_id=args.prefill + 1_000_000)
    log("throughput: sidelog serve over TCP")
    server = ServeProcess(_copy_store(sidelog_db, work / "tcp.db"), http=True)
    try:
        cpu_before = server.cpu_seconds()
        rate, stored = _throughput(server.port, lines, args.connections)
        cpu = server.cpu_seconds() - cpu_before
        rss = server.peak_rss()
        transactions = _transactions(server.http_port)
    finally:
        server.stop()
    per_transaction = max(1, round(stored / max(transactions, 1)))
    base_db = _copy_store(sidelog_db, work / "base-s.db")
    pragmas = writer_pragmas(base_db)
    log(f"baseline: plain sqlite3.executemany into sidelog's schema, {per_transaction} rows per transaction")
    base = _executemany_rate(base_db, rows, per_transaction, pragmas)
    log("naive baseline: sqlite3.executemany into one index per seed access path")
    naive = _executemany_rate(_copy_store(naive_db, work / "base-n.db"), rows, NAIVE_BATCH, NAIVE_PRAGMAS)
    return {
        "prefill": args.prefill,
        "events": args.events,
        "connections": args.connections,
        "stored": stored,
        "ingest_events_per_s": round(rate),
        "ingest_events_per_cpu_s": round(stored / max(cpu, 1e-6)),
        "server_transactions": transactions,
        "baseline_plain_sqlite3_rows_per_s": round(base),
        "ratio_vs_plain_sqlite3": round(rate / base, 3),
        "baseline_transaction_rows": per_transaction,
        "baseline_pragmas": list(pragmas),
        "baseline_naive_schema_rows_per_s": round(naive),
        "ratio_vs_naive_schema": round(rate / naive, 3),
        "naive_transaction_rows": NAIVE_BATCH,
        "server_peak_rss_mb": round(rss / 1024, 1),
    }


def _transactions(http_port: int) -> int:
    """Write transactions the server has committed (``batches`` of ``GET /v1/health``)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/v1/health", timeout=30) as answer:
        return int(json.loads(answer.read())["batches"])


def writer_pragmas(db: Path) -> tuple[str, ...]:
    """``WRITER_PRAGMA_NAMES`` as sidelog's writer connection has them, read off a real one
    (store/database.py ``make_engines``), as statements for a plain connection."""
    from sidelog.store.database import make_engines

    async def read() -> tuple[str, ...]:
        writer, reader = make_engines(db)
        try:
            async with writer.connect() as conn:
                driver: Any = (await conn.get_raw_connection()).driver_connection
                values = []
                for name in WRITER_PRAGMA_NAMES:
                    row = await (await driver.execute(f"PRAGMA {name}")).fetchone()
                    values.append(f"PRAGMA {name}={row[0]}")
                return tuple(values)
        finally:
            await writer.dispose()
            await reader.dispose()

    return asyncio.run(read())


def _copy_store(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


def _send_and_sync(port: int, payload: bytes, results: list[int]) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(payload)
        results.append(sync_and_count(sock))


def _throughput(port: int, lines: list[bytes], connections: int) -> tuple[float, int]:
    shares = [b"\n".join(lines[i::connections]) + b"\n" for i in range(connections)]
    results: list[int] = []
    threads = [threading.Thread(target=_send_and_sync, args=(port, share, results)) for share in shares]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    stored = sum(results)
    if stored != len(lines):
        raise RuntimeError(f"sent {len(lines)} events but the server acknowledged {stored}")
    return len(lines) / elapsed, stored


def _executemany_rate(
    db_path: Path, rows: list[tuple[Any, ...]], per_transaction: int, pragmas: Any
) -> float:
    """Rows per second of plain ``executemany``, ``per_transaction`` rows per transaction."""
    from sidelog.store.schema import INSERT_EVENTS_SQL

    db = sqlite3.connect(db_path, isolation_level=None)
    for pragma in pragmas:
        db.execute(pragma)
    start = time.perf_counter()
    for offset in range(0, len(rows), per_transaction):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(INSERT_EVENTS_SQL, rows[offset : offset + per_transaction])
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return len(rows) / elapsed


def _latency(port: int, db_path: Path, rate: int, duration: float) -> tuple[float, float]:
    total = int(rate * duration)
    sent_at: dict[str, float] = {}
    seen_at: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        last = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        while not done.is_set() or len(seen_at) < len(sent_at):
            rows = db.execute("SELECT id, event_uid FROM events WHERE id > ? ORDER BY id", (last,)).fetchall()
            now = time.perf_counter()
            for row_id, uid in rows:
                last = row_id
                if uid is not None:
                    seen_at[uid] = now
            if done.is_set() and not rows and len(seen_at) >= total:
                break
            time.sleep(0.001)
        db.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    from sidelog.workload import Workload

    workload = Workload(seed=3)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        start = time.perf_counter()
        for index in range(total):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            event = workload.event()
            event["id"] = f"lat-{index}"
            sent_at[event["id"]] = time.perf_counter()
            sock.sendall(orjson.dumps(event) + b"\n")
        sock.sendall(b'{"sync": true}\n')
        while b'"ok"' not in sock.recv(65536):
            pass
    done.set()
    watcher.join(30)
    latencies = sorted((seen_at[uid] - sent) * 1000 for uid, sent in sent_at.items() if uid in seen_at)
    if not latencies:
        return (float("nan"), float("nan"))
    return (round(latencies[len(latencies) // 2], 2), round(latencies[int(len(latencies) * 0.99)], 2))


__all__ = ["NAIVE_INDEXES", "run_bench"]
