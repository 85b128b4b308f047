"""The histogram's count over the benchmark store, both ways, like for like.

``python -m sidelog.bench.histogram_counts [--prefill N | --db FILE] [--columns 160]``
copies the cached pre-filled store (``bench/fill.py``) or the given one, upgrades the
copy (timing the schema steps, which include building ``ix_events_level_time``), then
runs, for no filter and for errors only at several zooms, the generic ``GROUP BY bucket, level`` over the
window's time ranges (``histogram_sql``) and the level-only count from the
``(level, timestamp)`` index (``level_counts_sql``) the UI now uses for those filters.
Each figure is the best of three runs of the same statement on one connection, the two
ways alternating, so a loaded machine slows both alike; the ratio is the figure to read.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from sidelog.filters import EventFilter
from sidelog.store.database import open_schema
from sidelog.store.histogram import ZOOM_STEPS_MS, histogram_sql, window_for
from sidelog.store.histogram_levels import level_counts_sql

CACHE = Path(tempfile.gettempdir()) / "sidelog-bench"
ZOOMS = (3, 6, 8, 9)
"""One minute, an hour, a day and a week a column."""


def _best_ms(conn: sqlite3.Connection, sql: str, params: list[Any]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        conn.execute(sql, params).fetchall()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def measure(db: Path, columns: int) -> list[tuple[str, int, float, float]]:
    """``(filter, zoom, GROUP BY ms, index ms)`` for each filter and zoom over ``db``."""
    figures = []
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA cache_size=-16384")  # the readers' size (store/database.py)
        now = int(conn.execute("SELECT max(timestamp) FROM events").fetchone()[0]) + 1
        for name, flt in (("no filter", EventFilter()), ("errors", EventFilter(levels=frozenset({"error"})))):
            for zoom in ZOOMS:
                window = window_for(now=now, bucket_ms=ZOOM_STEPS_MS[zoom], buckets=columns)
                generic = _best_ms(conn, *histogram_sql(flt, window, by_time=True, later=True))
                by_level = _best_ms(
                    conn, *level_counts_sql(flt, window.start, window.bucket_ms, window.buckets, later=True)
                )
                figures.append((name, zoom, generic, by_level))
    return figures


def main() -> None:
    """Copy the cached store, upgrade it, print the figures."""
    from sidelog.bench.fill import ensure_prefill

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefill", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=160)
    parser.add_argument("--db", type=Path, help="copy this store instead of the cached pre-filled one")
    args = parser.parse_args()
    source = args.db or ensure_prefill(CACHE, args.prefill, print)[0]
    with tempfile.TemporaryDirectory(dir=source.parent) as folder:
        copy = Path(folder) / "events.db"
        shutil.copyfile(source, copy)
        started = time.perf_counter()
        check = open_schema(copy)
        print(f"upgrade from version {check.version}: {time.perf_counter() - started:.2f} s")
        for name, zoom, generic, by_level in measure(copy, args.columns):
            seconds = ZOOM_STEPS_MS[zoom] // 1000
            print(
                f"{name:9s} {seconds:>6} s/col: GROUP BY {generic:8.1f} ms · level index {by_level:7.1f} ms"
                f" · {generic / by_level:5.1f}x"
            )


if __name__ == "__main__":
    main()
