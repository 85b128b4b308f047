"""The human-readable report of ``sidelog bench``: one line per figure, each section only when it ran.

``--json`` prints the same figures as one object (``sidelog.bench.run``); this page is
for people, so it gives units and the comparison each figure should be read against.
"""

from __future__ import annotations

from typing import Any


def print_report(r: dict[str, Any]) -> None:
    """Print every section present in ``r`` (the dict ``sidelog bench --json`` prints)."""
    print(f"sidelog bench  (sections: {', '.join(r['sections'])})")
    if "ingest_events_per_s" in r:
        _ingest(r)
    if "http_events_per_s" in r:
        print(f"  HTTP ingest (batches of 100)  {r['http_events_per_s']:>10,} events/s")
    if "client" in r:
        c = r["client"]
        print(
            f"  EventLogger.event             p50 {c['event_p50_us']:.2f} us   p99 {c['event_p99_us']:.2f} us"
        )
        print(
            f"  logging.info (NullHandler)    p50 {c['stdlib_p50_us']:.2f} us   "
            f"p99 {c['stdlib_p99_us']:.2f} us   ratio {c['ratio_p50']:.2f}x"
        )
    if "latency_p50_ms" in r:
        print(
            f"  send-to-commit latency at {r['latency_rate']:,} events/s   "
            f"p50 {r['latency_p50_ms']:.1f} ms   p99 {r['latency_p99_ms']:.1f} ms"
        )
    for name in ("receivers", "import", "integrations", "browser", "pg_ingest", "pg_retention"):
        if name in r:
            _figures(name, r[name])


def _ingest(r: dict[str, Any]) -> None:
    print(f"  prefill {r['prefill']:,} events; {r['events']:,} sent over {r['connections']} TCP connections")
    print(
        f"  ingest                      {r['ingest_events_per_s']:>10,} events/s  "
        f"({r['stored']:,} stored, every one acknowledged; "
        f"{r['ingest_events_per_cpu_s']:,} per CPU-second of the server)"
    )
    print(
        f"  plain sqlite3 executemany   {r['baseline_plain_sqlite3_rows_per_s']:>10,} rows/s  "
        f"ratio {r['ratio_vs_plain_sqlite3']:.2f}x  (headline: same rows, schema and writer PRAGMAs, "
        f"{r['baseline_transaction_rows']} rows per transaction as sidelog's "
        f"{r['server_transactions']:,} transactions)"
    )
    print(
        f"  naive schema executemany    {r['baseline_naive_schema_rows_per_s']:>10,} rows/s  "
        f"ratio {r['ratio_vs_naive_schema']:.2f}x  (one index per seed access path, "
        f"{r['naive_transaction_rows']} rows per transaction, auto-checkpoint on)"
    )
    print(f"  server peak RSS             {r['server_peak_rss_mb']:>10} MB")


def _figures(section: str, figures: Any, indent: str = "  ") -> None:
    """A nested dict of figures as aligned ``name  value`` lines (``None``: not measured here)."""
    print(f"{indent}{section}")
    if not isinstance(figures, dict):
        print(f"{indent}  {figures}")
        return
    for key, value in figures.items():
        if isinstance(value, dict):
            _figures(key, value, indent + "  ")
        elif isinstance(value, float):
            print(
                f"{indent}  {key:<44} {value:>12,.3f}"
                if value < 100
                else f"{indent}  {key:<44} {value:>12,.0f}"
            )
        elif value is None:
            print(f"{indent}  {key:<44} {'not measured':>12}")
        else:
            print(f"{indent}  {key:<44} {value!s:>12}")
