"""Each UI filter's newest page over a large store, timed through the real reader.

The stream asks ``StoreReader.events(flt, limit=300)`` whenever a filter changes
(tui/widgets/stream_history.py, ``FIRST_PAGE``); this module times that call for every
filter the UI offers over the cached prefill store ``sidelog bench`` builds
(bench/fill.py): each level, each category and each source of the benchmark mix, plus
a category and a source no event has (the worst case of a value with few events, and the
one a filter served by scanning recent rows would pay in full), the user, session and
error group whose newest event is the oldest (the worst case of the id-ordered paths),
the error filter, the text search, and time windows (``since`` and ``until``: the newest
minute, a minute and an hour midway through the history). The store is opened as the
application opens it (start-up checks and schema upgrade, store/database.py), so an older
cached file is measured after its upgrade, and the upgrade's own time is reported.

    python -m sidelog.bench.filters --events 1000000

Each filter runs ``--repeat`` times; the worst and the median are reported in
milliseconds. Figures on a shared machine vary with its load; compare runs made together.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sidelog.events import LEVELS
from sidelog.filters import EventFilter
from sidelog.workload import CATEGORIES, SOURCES

PAGE = 300
"""The stream's first page on a filter change (``FIRST_PAGE``)."""
ABSENT = "bench-absent"
"""A category and source no stored event has."""


def _oldest_newest(conn: sqlite3.Connection, column: str) -> str | None:
    """The value of ``column`` whose newest event is the oldest (untimed set-up query)."""
    row = conn.execute(
        f"SELECT {column} FROM events NOT INDEXED WHERE {column} IS NOT NULL "
        f"GROUP BY {column} ORDER BY max(id) LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def _busiest(conn: sqlite3.Connection, column: str) -> str | None:
    """The value of ``column`` with the most events (untimed set-up query)."""
    row = conn.execute(
        f"SELECT {column} FROM events NOT INDEXED WHERE {column} IS NOT NULL "
        f"GROUP BY {column} ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def _scalar_filter(kind: str, value: str) -> EventFilter:
    """``EventFilter(user=value)``, ``session=`` or ``fingerprint=``."""
    if kind == "user":
        return EventFilter(user=value)
    if kind == "session":
        return EventFilter(session=value)
    return EventFilter(fingerprint=value)


def filter_cases(db: Path) -> dict[str, list[tuple[str, EventFilter]]]:
    """Every filter to time, by kind (``level``, ``category``…), each with a label."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        user = _oldest_newest(conn, "user_id")
        session = _oldest_newest(conn, "session_id")
        fingerprint = _oldest_newest(conn, "fingerprint")
        busiest_user = _busiest(conn, "user_id")
        busiest_group = _busiest(conn, "fingerprint")
        first, last = conn.execute("SELECT min(timestamp), max(timestamp) FROM events NOT INDEXED").fetchone()
    cases: dict[str, list[tuple[str, EventFilter]]] = {
        "level": [(level, EventFilter(levels=frozenset({level}))) for level in LEVELS],
        "category": [(name, EventFilter(categories=frozenset({name}))) for name in (*CATEGORIES, ABSENT)],
        "source": [(name, EventFilter(sources=frozenset({name}))) for name in (*SOURCES, ABSENT)],
        "error": [
            ("error", EventFilter(levels=frozenset({"error"}))),
            ("warn+error", EventFilter(levels=frozenset({"warn", "error"}))),
        ],
        "search": [("q=timed out", EventFilter(q="timed out"))],
    }
    if first is not None:
        middle = (first + last) // 2
        cases["window"] = [
            ("newest minute", EventFilter(since=last - 60_000, until=last + 1)),
            ("a minute midway", EventFilter(since=middle, until=middle + 60_000)),
            ("an hour midway", EventFilter(since=middle, until=middle + 3_600_000)),
        ]
    for kind, values in (
        ("user", (user, busiest_user)),
        ("session", (session,)),
        ("fingerprint", (fingerprint, busiest_group)),
    ):
        picked = list(dict.fromkeys(value for value in values if value is not None))
        if picked:
            cases[kind] = [(value[:16], _scalar_filter(kind, value)) for value in picked]
    return cases


async def _time_filters(
    db: Path, cases: dict[str, list[tuple[str, EventFilter]]], repeat: int
) -> dict[str, dict[str, Any]]:
    from sidelog.store.database import make_engines
    from sidelog.store.reader import StoreReader

    writer, reader_engine = make_engines(db)
    reader = StoreReader(reader_engine)
    results: dict[str, dict[str, Any]] = {}
    try:
        for kind, items in cases.items():
            per_value: dict[str, dict[str, float]] = {}
            for label, flt in items:
                times: list[float] = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    page = await reader.events(flt, limit=PAGE)
                    times.append((time.perf_counter() - started) * 1000)
                per_value[label] = {
                    "worst_ms": round(max(times), 1),
                    "median_ms": round(statistics.median(times), 1),
                    "rows": len(page),
                }
            worst = max(per_value, key=lambda name: per_value[name]["worst_ms"])
            results[kind] = {"worst": worst, "worst_ms": per_value[worst]["worst_ms"], "values": per_value}
        started = time.perf_counter()
        await reader.facet_counts(limit=200)
        results["facet_counts"] = {"worst_ms": round((time.perf_counter() - started) * 1000, 1)}
    finally:
        await reader_engine.dispose()
        await writer.dispose()
    return results


def measure(
    events: int, cache: Path, work: Path, repeat: int, log: Any, store: Path | None = None
) -> dict[str, Any]:
    """Fill (or reuse) the cached store, or take ``store``; open a copy as sidelog does, time every filter."""
    from sidelog.bench.fill import ensure_prefill
    from sidelog.store.database import open_schema
    from sidelog.store.migrations import SCHEMA_VERSION

    source = store if store is not None else ensure_prefill(cache, events, log)[0]
    db = work / "filters.db"
    shutil.copyfile(source, db)
    started = time.perf_counter()
    check = open_schema(db, sync_limit=0)
    upgrade_s = time.perf_counter() - started
    log(f"opened schema {check.version} -> {SCHEMA_VERSION} in {upgrade_s:.1f} s; choosing filter values")
    cases = filter_cases(db)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        indexes = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
    results = asyncio.run(_time_filters(db, cases, repeat))
    return {
        "events": events,
        "page": PAGE,
        "repeat": repeat,
        "schema_from": check.version,
        "schema": SCHEMA_VERSION,
        "open_and_upgrade_s": round(upgrade_s, 2),
        "indexes": sorted(indexes),
        "filters": results,
    }


def _print(results: dict[str, Any]) -> None:
    print(
        f"newest page ({results['page']} events) per filter over {results['events']:,} events, "
        f"schema {results['schema_from']} -> {results['schema']} (open + upgrade "
        f"{results['open_and_upgrade_s']} s), worst of {results['repeat']} runs"
    )
    for kind, figures in results["filters"].items():
        if kind == "facet_counts":
            print(f"  facet counts (start-up)   {figures['worst_ms']:8.1f} ms")
            continue
        print(f"  {kind:<12} worst {figures['worst_ms']:8.1f} ms  ({figures['worst']})")
        for label, value in figures["values"].items():
            print(
                f"      {label:<22} {value['worst_ms']:8.1f} ms  "
                f"median {value['median_ms']:7.1f}  rows {value['rows']}"
            )


def main(argv: list[str] | None = None) -> int:
    """``python -m sidelog.bench.filters``."""
    parser = argparse.ArgumentParser(
        prog="python -m sidelog.bench.filters", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events in the store (default 1,000,000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per filter (default 3)")
    parser.add_argument(
        "--dir", metavar="PATH", help="where the cached stores live (as `sidelog bench --dir`)"
    )
    parser.add_argument("--db", metavar="PATH", help="measure a copy of this store instead of the prefill")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.events < 1 or args.repeat < 1:
        parser.error("--events and --repeat must be positive")
    cache = Path(args.dir) if args.dir else Path(tempfile.gettempdir()) / "sidelog-bench"
    work = Path(tempfile.mkdtemp(prefix="sidelog-bench-filters-"))
    log = (lambda *_: None) if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    try:
        results = measure(args.events, cache, work, args.repeat, log, Path(args.db) if args.db else None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
