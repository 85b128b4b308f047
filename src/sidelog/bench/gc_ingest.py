"""The collector and heap settings of pipeline/memory.py, measured against CPython's defaults.

Each variant is a real ``sidelog serve`` subprocess on a fresh store, fed the same flood
of workload events over TCP (one connection per sender thread, a sync at the end, so
every event is committed). Variants run alternately, ``--rounds`` times each, so a burst
of other work on the machine falls on all of them alike. Reported per variant (best
round): events/s, the server's CPU per event (user + system, which holds up better on a
loaded machine than wall-clock rates), the time its cyclic collector ran during the flood
per event (timed inside the server through ``gc.callbacks``: the figure the settings
change, and the least disturbed by other work on the machine), its idle RSS before the
flood, its peak RSS, and its RSS two seconds after the flood has drained.

The variants replace pipeline/memory.py's functions in the child before sidelog starts;
nothing in the shipped code knows about this benchmark. Run it with
``python -m sidelog.bench.gc_ingest [--events N] [--rounds R] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

from sidelog.bench.serve_process import _environment, sync_and_count
from sidelog.workload import Workload

VARIANTS: dict[str, str] = {
    "defaults": "m.tune_collector = lambda: None; m.freeze_start_up = lambda: None; "
    "m.release_heap = lambda: False",
    "freeze only": "m.tune_collector = lambda: None; m.release_heap = lambda: False",
    "freeze + gen0 5k": "m.GEN0_THRESHOLD = 5_000; m.release_heap = lambda: False",
    "freeze + gen0 20k": "m.GEN0_THRESHOLD = 20_000; m.release_heap = lambda: False",
    "freeze + gen0 50k": "m.GEN0_THRESHOLD = 50_000; m.release_heap = lambda: False",
    "shipped": "",
    "writer cache 8 MiB": "import sidelog.store.database as d; d.WRITER_CACHE_KIB = 8_192",
    "writer cache 4 MiB": "import sidelog.store.database as d; d.WRITER_CACHE_KIB = 4_096",
    "queue 50k": "import os; os.environ['SIDELOG_QUEUE_SIZE'] = '50000'",
    "queue 10k": "import os; os.environ['SIDELOG_QUEUE_SIZE'] = '10000'",
}
"""Name -> Python run in the child (``m`` is ``sidelog.pipeline.memory``) before sidelog starts."""

_CHILD = """
import atexit, gc, json, os, sys, time
import sidelog.pipeline.memory as m
{patch}
_runs, _open = [], {{}}
def _timed(phase, info):
    if phase == "start":
        _open["t"] = time.monotonic()
    else:
        _runs.append((_open.pop("t", time.monotonic()), time.monotonic(), info["generation"]))
gc.callbacks.append(_timed)
atexit.register(lambda: open(os.environ["GC_BENCH_FILE"], "w").write(json.dumps(_runs)))
from sidelog.cli import main
sys.exit(main(sys.argv[1:]))
"""
"""The child: the variant's patch, then every collection timed (``CLOCK_MONOTONIC`` is the
same clock in both processes, so the parent keeps those inside the flood)."""


def _rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _cpu_s(pid: int) -> float:
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_variant(
    patch: str, lines: list[bytes], connections: int, work: Path, store: Path | None = None
) -> dict[str, float]:
    """One flood into ``sidelog serve`` with ``patch`` applied, on a fresh copy of ``store``
    (or an empty store); its figures."""
    db = work / f"events-{time.monotonic_ns()}.db"
    if store is not None:
        shutil.copyfile(store, db)
    timings = db.with_suffix(".gc.json")
    command = [sys.executable, "-c", _CHILD.format(patch=patch or "pass"), "serve", "--db", str(db)]
    command += ["--tcp", "127.0.0.1:0", "--http", "off"]
    proc = subprocess.Popen(
        command,
        cwd=work,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_environment() | {"GC_BENCH_FILE": str(timings)},
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if not first.startswith("listening tcp"):
            raise RuntimeError(f"sidelog serve did not start: {first!r}")
        port = int(first.rsplit(":", 1)[1])
        time.sleep(1.0)
        idle_rss = _rss_kib(proc.pid)
        shares = [b"".join(lines[n::connections]) for n in range(connections)]
        stored = [0] * connections

        def send(n: int) -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=300) as sock:
                sock.sendall(shares[n])
                stored[n] = sync_and_count(sock)

        threads = [threading.Thread(target=send, args=(n,)) for n in range(connections)]
        cpu = _cpu_s(proc.pid)
        flood_from = time.monotonic()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        flood_to = time.monotonic()
        cpu_used = _cpu_s(proc.pid) - cpu
        time.sleep(2.0)  # the writer's first idle turn after the flood releases the heap
        after_rss = _rss_kib(proc.pid)
        peak_rss = _rss_kib(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(60)
        if proc.stdout is not None:
            proc.stdout.close()
    runs = [run for run in json.loads(timings.read_text()) if flood_from <= run[0] <= flood_to]
    return {
        "events_per_s": round(len(lines) / seconds),
        "cpu_us_per_event": round(cpu_used * 1e6 / len(lines), 2),
        "idle_rss_mib": round(idle_rss / 1024, 1),
        "peak_rss_mib": round(peak_rss / 1024, 1),
        "after_rss_mib": round(after_rss / 1024, 1),
        "stored": sum(stored),
        "gc_runs": len(runs),
        "gc_us_per_event": round(sum(end - start for start, end, _ in runs) * 1e6 / len(lines), 2),
        "gc_full_runs": sum(1 for run in runs if run[2] == 2),
    }


def measure(
    events: int, rounds: int, connections: int, variants: list[str], store: Path | None = None
) -> dict[str, dict[str, float]]:
    """Every variant ``rounds`` times, alternating; the best round of each (by CPU per event)."""
    workload = Workload(seed=11)
    lines = [orjson.dumps(workload.event()) + b"\n" for _ in range(events)]
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="sidelog-bench-gc-") as folder:
        for _ in range(rounds):
            for name in variants:
                results[name].append(run_variant(VARIANTS[name], lines, connections, Path(folder), store))
    best = {}
    for name, runs in results.items():
        pick = dict(min(runs, key=lambda run: run["cpu_us_per_event"]))
        pick["best_events_per_s"] = max(run["events_per_s"] for run in runs)
        best[name] = pick
    return best


def main(argv: list[str] | None = None) -> int:
    """Print one line per variant (or one JSON object)."""
    parser = argparse.ArgumentParser(prog="python -m sidelog.bench.gc_ingest")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--store", type=Path, help="flood a copy of this store (default: an empty one)")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.variants.split(",")]
    best = measure(args.events, args.rounds, args.connections, names, args.store)
    if args.json:
        print(json.dumps(best))
        return 0
    base = best.get("defaults")
    for name, figures in best.items():
        ratio = f"{base['cpu_us_per_event'] / figures['cpu_us_per_event']:.2f}x" if base else ""
        print(f"{name:<20} " + "  ".join(f"{key} {value:g}" for key, value in figures.items()) + f"  {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
