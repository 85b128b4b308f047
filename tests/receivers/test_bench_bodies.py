"""The receiver benchmark's bodies are what the receivers accept, and it reports every figure.

Figures are measured, never asserted: this only checks that a tiny run completes
against a real ``sidelog serve`` (any refused request fails the run) and names them all.
"""

from __future__ import annotations

import orjson

from sidelog.bench.receiver_bodies import envelope_bodies, native_bodies
from sidelog.bench.receivers import receivers_bench
from sidelog.events import Limits
from sidelog.ingest.sentry import parse_envelope
from sidelog.ingest.sentry_items import ItemContext


def test_a_bench_envelope_becomes_the_event_its_native_twin_describes() -> None:
    result = parse_envelope(envelope_bodies(1)[0], ItemContext(limits=Limits(), received_at=1))
    (event,) = result.events
    (twin,) = orjson.loads(native_bodies(1, 1, "error")[0])
    assert event.message == twin["message"]
    assert event.level == "error"
    assert event.trace_id == twin["details"]["trace_id"]
    assert event.user_id == twin["userId"]
    stack = orjson.loads(event.details or "null")["exception"]["stack"]
    assert stack.count('  File "/srv/shop/module_') == 20


def test_a_small_run_reports_every_figure() -> None:
    figures = receivers_bench(events=100, connections=2)
    for name in (
        "sentry_envelope",
        "sentry_dsn_gzip",
        "events_api_1_per_request",
        "otlp_logs",
        "events_api_100_per_request",
    ):
        assert figures[f"{name}_events_per_s"] > 0
        assert figures[f"{name}_per_cpu_s"] > 0
    assert figures["sentry_client_report_requests_per_s"] > 0
    assert {"sentry_envelope_vs_events_api", "otlp_logs_vs_events_api", "python_loop_us_before"} <= set(
        figures
    )
