"""The import figure of ``sidelog bench``: ``sidelog import`` of a JSONL file, and again.

``import_bench`` writes ``lines`` events of the benchmark mix (``sidelog.workload``,
the same mix as the ingest figures) to a JSONL file, then, against a real
``sidelog serve`` on an empty store (``bench/serve_process.py``):

1. runs ``sidelog import FILE --to …`` as a user would (a subprocess) and reports
   its events per second, wall clock from start to the final acknowledgement;
2. sends the same lines over one TCP connection into another empty store, for the
   ratio (import pays for reading, keying and converting each line; TCP ingest
   does not), once just before the import and once just after it;
3. runs the same import again, on the import's store reopened, and reports the rows
   it added: each line carries an idempotency key derived from the file's identity,
   the line's offset and the file's bytes up to it (``sources/files.py``), so this
   must be 0.

Rates are wall clock on whatever else the machine is doing: compare the ratio
within one run, not absolute rates across runs. The TCP figure is the mean of the
runs on either side of the import, so load that rises or falls during the run
weighs on both sides of the ratio alike. The CPU seconds of the import process
and of the server (``/proc``) hold under load and say where time goes.
"""

from __future__ import annotations

import resource
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from sidelog.bench.serve_process import ServeProcess, sync_and_count
from sidelog.workload import Workload

__all__ = ["import_bench", "write_jsonl"]

IMPORT_TIMEOUT_S = 3600.0
"""The longest one ``sidelog import`` may take before the benchmark gives up."""


def write_jsonl(path: Path, lines: int, seed: int = 13) -> int:
    """Write ``lines`` bench-mix events, one JSON object per line; the file's size in bytes."""
    workload = Workload(seed=seed)
    now = int(time.time() * 1000)
    with path.open("wb") as out:
        chunk: list[bytes] = []
        for _ in range(lines):
            chunk.append(orjson.dumps(workload.event(now)))
            if len(chunk) >= 10_000:
                out.write(b"\n".join(chunk) + b"\n")
                chunk.clear()
        if chunk:
            out.write(b"\n".join(chunk) + b"\n")
    return path.stat().st_size


def _fresh(db: Path) -> Path:
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


def _rows(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def _stop(server: ServeProcess) -> None:
    """Stop the server and close its output pipes (nothing reads them any more)."""
    server.stop()
    for stream in (server.proc.stdout, server.proc.stderr):
        if stream is not None:
            stream.close()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _import(path: Path, port: int) -> tuple[float, float, str]:
    """Run ``sidelog import`` once; its wall time, its own CPU seconds and its summary line."""
    cpu = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "sidelog", "import", str(path), "--to", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=IMPORT_TIMEOUT_S,
        check=False,
    )
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    summary = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    if result.returncode != 0:
        raise RuntimeError(f"sidelog import failed (status {result.returncode}): {summary}")
    return elapsed, cpu, summary


def _tcp_send(path: Path, port: int) -> tuple[float, int]:
    """The file's lines over one TCP connection plus a sync; wall time and events acknowledged."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock, path.open("rb") as source:
        while chunk := source.read(1 << 20):
            sock.sendall(chunk)
        stored = sync_and_count(sock)
    return time.perf_counter() - start, stored


def _tcp(path: Path, db: Path) -> tuple[float, int, float]:
    """TCP ingest of the file into an empty store: wall seconds, events acknowledged, server CPU seconds."""
    server = ServeProcess(_fresh(db))
    try:
        cpu = server.cpu_seconds()
        seconds, acknowledged = _tcp_send(path, server.port)
        cpu = server.cpu_seconds() - cpu
    finally:
        _stop(server)
    return seconds, acknowledged, cpu


def import_bench(lines: int, work: Path, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Import ``lines`` JSONL events into an empty store, then again; TCP ingest of the same,
    before and after the import, for the ratio."""
    say = log or (lambda _text: None)
    work.mkdir(parents=True, exist_ok=True)
    path = work / "import-bench.jsonl"
    say(f"import: writing {lines:,} events of the bench mix to {path}")
    size = write_jsonl(path, lines)

    say("import: the lines over one TCP connection into an empty store, before the import")
    tcp_before = _tcp(path, work / "import-tcp.db")
    server = ServeProcess(_fresh(work / "import.db"))
    try:
        say("import: sidelog import into an empty store")
        server_cpu = server.cpu_seconds()
        first_s, client_cpu, first_summary = _import(path, server.port)
        server_cpu = server.cpu_seconds() - server_cpu
    finally:
        _stop(server)
    stored = _rows(server.db)
    say("import: the lines over one TCP connection into an empty store, after the import")
    tcp_after = _tcp(path, work / "import-tcp.db")
    server = ServeProcess(server.db)
    try:
        say("import: the same file again")
        second_s, _, second_summary = _import(path, server.port)
    finally:
        _stop(server)
    added = _rows(server.db) - stored

    tcp_s = (tcp_before[0] + tcp_after[0]) / 2
    import_rate = lines / first_s if first_s else 0.0
    tcp_rate = lines / tcp_s if tcp_s else 0.0
    return {
        "lines": lines,
        "file_bytes": size,
        "stored": stored,
        "import_seconds": round(first_s, 2),
        "import_events_per_s": round(import_rate),
        "reimport_seconds": round(second_s, 2),
        "reimport_rows_added": added,
        "tcp_events_per_s": round(tcp_rate),
        "tcp_events_per_s_before": round(lines / tcp_before[0]) if tcp_before[0] else 0,
        "tcp_events_per_s_after": round(lines / tcp_after[0]) if tcp_after[0] else 0,
        "tcp_acknowledged": min(tcp_before[1], tcp_after[1]),
        "ratio_import_vs_tcp": round(import_rate / tcp_rate, 3) if tcp_rate else None,
        # CPU seconds hold on a busy machine where wall-clock rates do not.
        "import_client_cpu_s": round(client_cpu, 2),
        "import_server_cpu_s": round(server_cpu, 2),
        "tcp_server_cpu_s": round((tcp_before[2] + tcp_after[2]) / 2, 2),
        "import_summary": first_summary,
        "reimport_summary": second_summary,
    }
