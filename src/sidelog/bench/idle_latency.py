"""One event sent to an idle server: how long until it is committed.

The flood benchmarks measure a full queue; this measures the opposite, the common case
on a developer's machine: nothing is queued, an app sends one event, the user looks.
A real engine is started in this process (``start_server``, TCP on a free port), one
connection stays open, and each sample sends one event line and waits for its committed
batch on a subscription (what the UI and ``GET /v1/stream`` follow). A second figure
sends the event with a ``{"sync": true}`` behind it and waits for the reply, as the
clients' ``flush`` does. Samples are spaced well beyond the batch interval, so each one
meets an idle writer.

Run it alone: ``python -m sidelog.bench.idle_latency [--samples N] [--gap-ms MS]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from sidelog.bench.prefill import bench_settings
from sidelog.server import start_server

SAMPLES = 40
GAP_S = 0.2
"""Pause between samples: longer than the default batch interval (50 ms), so the writer is idle."""


async def idle_latency(db: Path, *, samples: int = SAMPLES, gap_s: float = GAP_S) -> dict[str, float]:
    """Milliseconds from sending one event to its commit (p50, p95, max), then with a sync."""
    settings = bench_settings(db, tcp="127.0.0.1:0").model_copy(update={"enable_system_logging": False})
    running = await start_server(settings)
    engine = running.engine
    port = next(int(address.rsplit(":", 1)[1]) for kind, address in engine.endpoints if kind == "tcp")
    subscription = engine.subscribe()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    committed: list[float] = []
    synced: list[float] = []
    try:
        for n in range(samples):
            await asyncio.sleep(gap_s)
            line = orjson.dumps({"message": f"idle probe {n}", "category": "bench"}) + b"\n"
            sent = time.perf_counter()
            writer.write(line)
            batch = await asyncio.wait_for(subscription.get(), 10)
            committed.append((time.perf_counter() - sent) * 1000)
            if not batch.stored or batch.stored[-1].message != f"idle probe {n}":
                raise RuntimeError("another event reached the benchmark engine")
        for n in range(samples):
            await asyncio.sleep(gap_s)
            line = orjson.dumps({"message": f"idle sync {n}", "category": "bench"}) + b"\n"
            sent = time.perf_counter()
            writer.write(line + b'{"sync": true}\n')
            await asyncio.wait_for(reader.readline(), 10)
            synced.append((time.perf_counter() - sent) * 1000)
    finally:
        writer.close()
        subscription.close()
        await running.stop()
    return _summary("idle_commit", committed) | _summary("idle_sync", synced)


def _summary(prefix: str, samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        f"{prefix}_p50_ms": round(statistics.median(ordered), 2),
        f"{prefix}_p95_ms": round(p95, 2),
        f"{prefix}_max_ms": round(ordered[-1], 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures as one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m sidelog.bench.idle_latency")
    parser.add_argument("--samples", type=int, default=SAMPLES)
    parser.add_argument("--gap-ms", type=float, default=GAP_S * 1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sidelog-bench-idle-") as work:
        figures = asyncio.run(
            idle_latency(Path(work) / "events.db", samples=args.samples, gap_s=args.gap_ms / 1000)
        )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
