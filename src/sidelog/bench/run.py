"""``sidelog bench``: sustained ingest, its ratio to plain sqlite3, latency and memory.

Method (printed with the results so a reader can judge them):

1. A store pre-filled with ``--prefill`` events of the benchmark mix (``workload.py``), built once and
   cached (``--dir``, default a folder under the system temp directory): one copy in
   sidelog's schema, one in a *naive* schema with one plain index per seed access path.
2. Throughput: a real ``sidelog serve`` subprocess (rate limits off) on a copy of the
   prefilled store; ``--connections`` TCP connections send ``--events`` pre-encoded
   events as fast as the server takes them, each ending in ``{"sync": true}``; the
   rate is events / time until the last acknowledgement (every event committed).
3. Baselines, same rows, same PRAGMAs, same transaction size as sidelog's
   ``max_events_per_batch`` (500): ``sqlite3.executemany`` into copies of both stores.
4. Latency: one connection sends at ``--latency-rate`` events/s; a reader polls the
   file for each event's idempotency key; p50/p99 of send-to-visible-in-the-file.
5. HTTP ingest: the same server kind with HTTP on; ``POST /v1/events`` in batches of
   100 over four connections, the last of each with ``?wait=true``.
6. Client call cost: ``EventLogger.event`` against stdlib ``logger.info`` with a
   ``NullHandler``, timed in the same process and run (``client_call_cost``).
7. Peak RSS of the server processes (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from sidelog.bench.fill import NAIVE_INDEXES, bench_rows, ensure_prefill

BATCH = 500
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)


def run_bench(args: argparse.Namespace) -> int:
    """Entry point for ``sidelog bench`` (``--ui`` goes to the UI benchmark)."""
    if args.ui:
        from sidelog.bench.ui import run_bench_ui

        return run_bench_ui(args)
    for name in ("prefill", "events", "connections", "latency_rate"):
        if getattr(args, name) < (0 if name == "prefill" else 1):
            print(f"sidelog: error: --{name.replace('_', '-')} must be a positive number", file=sys.stderr)
            return 2
    cache = Path(args.dir) if args.dir else Path(tempfile.gettempdir()) / "sidelog-bench"
    work = Path(tempfile.mkdtemp(prefix="sidelog-bench-run-"))
    log = (lambda *_: None) if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    try:
        results = _measure(args, cache, work, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print_report(results)
    return 0


def _measure(args: argparse.Namespace, cache: Path, work: Path, log: Any) -> dict[str, Any]:
    log(f"prefill: {args.prefill:,} events (cached in {cache})")
    sidelog_db, naive_db = ensure_prefill(cache, args.prefill, log)
    log(f"encoding {args.events:,} events of the benchmark mix (``workload.py``)")
    rows, lines = bench_rows(args.events, first_id=args.prefill + 1_000_000)

    log("throughput: sidelog serve over TCP")
    db = _copy_store(sidelog_db, work / "tcp.db")
    server = _Server(db)
    try:
        rate, stored = _throughput(server.port, lines, args.connections)
        rss_tput = server.peak_rss()
    finally:
        server.stop()

    log("baseline: sqlite3.executemany into sidelog's schema")
    base_sidelog = _executemany_rate(_copy_store(sidelog_db, work / "base-s.db"), rows)
    log("baseline: sqlite3.executemany into the naive six-index schema")
    base_naive = _executemany_rate(_copy_store(naive_db, work / "base-n.db"), rows)

    log("HTTP ingest: POST /v1/events in batches of 100")
    db = _copy_store(sidelog_db, work / "http.db")
    server = _Server(db, http=True)
    try:
        import asyncio

        from sidelog.bench.http_load import http_ingest_rate

        assert server.http_port is not None
        http_rate = asyncio.run(
            http_ingest_rate("127.0.0.1", server.http_port, total=min(args.events, 100_000))
        )
    finally:
        server.stop()

    log("client call cost: EventLogger.event vs logging.info with NullHandler")
    from sidelog.bench.client_cost import client_call_cost

    client = client_call_cost()

    log(f"latency: {args.latency_rate} events/s for 5 s")
    db = _copy_store(sidelog_db, work / "lat.db")
    server = _Server(db)
    try:
        latency = _latency(server.port, db, args.latency_rate, 5.0)
        rss_lat = server.peak_rss()
    finally:
        server.stop()
    return {
        "prefill": args.prefill,
        "events": args.events,
        "connections": args.connections,
        "stored": stored,
        "ingest_events_per_s": round(rate),
        "baseline_sidelog_schema_rows_per_s": round(base_sidelog),
        "baseline_naive_schema_rows_per_s": round(base_naive),
        "ratio_vs_sidelog_schema": round(rate / base_sidelog, 3),
        "ratio_vs_naive_schema": round(rate / base_naive, 3),
        "baseline_transaction_rows": BATCH,
        "latency_rate": args.latency_rate,
        "latency_p50_ms": latency[0],
        "latency_p99_ms": latency[1],
        "server_peak_rss_mb": round(max(rss_tput, rss_lat) / 1024, 1),
        "http_events_per_s": round(http_rate),
        "client_event_p50_us": round(client["event_p50_us"], 3),
        "client_event_p99_us": round(client["event_p99_us"], 3),
        "stdlib_info_p50_us": round(client["stdlib_p50_us"], 3),
        "stdlib_info_p99_us": round(client["stdlib_p99_us"], 3),
        "client_ratio_p50": round(client["ratio_p50"], 3),
    }


def _print_report(r: dict[str, Any]) -> None:
    print(
        f"sidelog bench  (prefill {r['prefill']:,} events, {r['events']:,} sent over "
        f"{r['connections']} TCP connections)"
    )
    print(
        f"  ingest                      {r['ingest_events_per_s']:>10,} events/s  "
        f"({r['stored']:,} stored, every one acknowledged)"
    )
    print(
        f"  sqlite3 executemany, sidelog schema   {r['baseline_sidelog_schema_rows_per_s']:>10,} rows/s"
        f"   ratio {r['ratio_vs_sidelog_schema']:.2f}x"
    )
    print(
        f"  sqlite3 executemany, naive 6 indexes  {r['baseline_naive_schema_rows_per_s']:>10,} rows/s"
        f"   ratio {r['ratio_vs_naive_schema']:.2f}x"
    )
    print(f"    (baselines: same rows and PRAGMAs, {r['baseline_transaction_rows']} rows per transaction)")
    print(
        f"  send-to-commit latency at {r['latency_rate']:,} events/s   "
        f"p50 {r['latency_p50_ms']:.1f} ms   p99 {r['latency_p99_ms']:.1f} ms"
    )
    print(f"  server peak RSS             {r['server_peak_rss_mb']:>10} MB")
    print(f"  HTTP ingest (batches of 100)  {r['http_events_per_s']:>10,} events/s")
    print(
        f"  EventLogger.event             p50 {r['client_event_p50_us']:.2f} us   "
        f"p99 {r['client_event_p99_us']:.2f} us"
    )
    print(
        f"  logging.info (NullHandler)    p50 {r['stdlib_info_p50_us']:.2f} us   "
        f"p99 {r['stdlib_info_p99_us']:.2f} us   ratio {r['client_ratio_p50']:.2f}x"
    )


def _copy_store(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


class _Server:
    """A real ``sidelog serve`` subprocess on a free port, rate limits off."""

    def __init__(self, db: Path, http: bool = False) -> None:
        env = dict(
            os.environ,
            SIDELOG_RATE_LIMIT_BURST="0",
            SIDELOG_RETENTION_DAYS="0",
            SIDELOG_DB_BUDGET_MB="0",
            SIDELOG_ENABLE_SYSTEM_LOGGING="false",
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sidelog",
                "serve",
                "--db",
                str(db),
                "--tcp",
                "127.0.0.1:0",
                "--http",
                "127.0.0.1:0" if http else "off",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening tcp"):
            self.proc.kill()
            error = self.proc.stderr.read() if self.proc.stderr is not None else ""
            raise RuntimeError(f"sidelog serve did not start: {line or error}")
        self.port = int(line.rsplit(":", 1)[1])
        self.http_port: int | None = None
        if http:
            line = self.proc.stdout.readline()
            if not line.startswith("listening http"):
                self.proc.kill()
                raise RuntimeError(f"sidelog serve did not start HTTP: {line}")
            self.http_port = int(line.rsplit(":", 1)[1])

    def peak_rss(self) -> int:
        """VmHWM of the server, in KiB."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _send_and_sync(port: int, payload: bytes, results: list[int]) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(payload + b'{"sync": true}\n')
        buffer = b""
        while b'"ok"' not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
    for line in buffer.splitlines():
        if b'"ok"' in line:
            results.append(int(orjson.loads(line)["stored"]))


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


def _executemany_rate(db_path: Path, rows: list[tuple[Any, ...]]) -> float:
    from sidelog.store.schema import INSERT_EVENTS_SQL

    db = sqlite3.connect(db_path, isolation_level=None)
    for pragma in PRAGMAS:
        db.execute(pragma)
    start = time.perf_counter()
    for offset in range(0, len(rows), BATCH):
        db.execute("BEGIN")
        db.executemany(INSERT_EVENTS_SQL, rows[offset : offset + BATCH])
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
