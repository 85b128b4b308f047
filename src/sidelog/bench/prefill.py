"""The UI benchmark's fixtures: a large stored history (built fast, cached) and a load sender.

The history is the cached store that ``sidelog bench`` builds (``bench_fill``); the
build runs in a child process so its memory never counts towards the UI's peak RSS;
so does the TCP sender (``send_events``), which must not share the UI's core.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

from sidelog.config import Settings, load_settings
from sidelog.workload import Workload


def bench_settings(db: Path, *, tcp: str = "off") -> Settings:
    """Settings for benchmark engines: no retention, no size budget, no rate limits."""
    return load_settings(db=db, tcp=tcp, http="off", retention_days=0, db_budget_mb=0, rate_limit_burst=0)


def ensure_prefill(folder: Path, count: int) -> tuple[Path, float]:
    """The cached prefill database (built if missing) and seconds spent building (0 if cached).

    The same cached store ``sidelog bench`` uses (``bench_fill``), built in a child
    process so the builder's memory never counts towards the UI's peak RSS.
    """
    from sidelog.bench.fill import prefill_paths

    path, _naive = prefill_paths(folder, count)
    if path.exists():
        return path, 0.0
    started = time.perf_counter()
    process = multiprocessing.get_context("spawn").Process(
        target=_build, args=(str(folder), count), name="sidelog-bench-prefill"
    )
    process.start()
    process.join()
    if process.exitcode != 0 or not path.exists():
        raise RuntimeError(f"building the prefill database failed (exit {process.exitcode})")
    return path, time.perf_counter() - started


def _build(folder: str, count: int) -> None:
    from sidelog.bench.fill import ensure_prefill as build

    build(Path(folder), count, lambda _message: None)


def send_events(port: int, count: int, rate: float, ready: Any, go: Any, results: Any, seed: int = 3) -> None:
    """Child-process sender: pre-build ``count`` workload lines, wait for ``go``, send them.

    ``rate`` 0 sends as fast as TCP takes them (an ingest-rate run); otherwise events
    are paced at ``rate`` per second in 10 ms ticks. Puts ``{"sent", "seconds", "stored"}``
    on ``results`` once the final ``{"sync": true}`` is acknowledged (all committed).
    """
    import socket

    import orjson

    workload = Workload(seed=seed)
    lines = [orjson.dumps(workload.event()) + b"\n" for _ in range(count)]
    ready.set()
    go.wait()
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    started = time.perf_counter()
    with sock:
        if rate <= 0:
            sock.sendall(b"".join(lines))
        else:
            sent = 0
            while sent < count:
                due = min(count, int((time.perf_counter() - started) * rate) + 1)
                if due > sent:
                    sock.sendall(b"".join(lines[sent:due]))
                    sent = due
                time.sleep(0.01)
        sock.sendall(b'{"sync": true}\n')
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    seconds = time.perf_counter() - started
    acks = [orjson.loads(line) for line in reply.splitlines() if b'"ok"' in line]
    results.put({"sent": count, "seconds": seconds, "stored": acks[-1].get("stored") if acks else None})
