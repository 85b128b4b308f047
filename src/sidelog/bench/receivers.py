"""Receiver throughput: Sentry envelopes and OTLP/HTTP logs into a real ``sidelog serve``.

One server, one run, and each foreign format beside its native twin (the same events
as ``POST /v1/events`` arrays of the same size), so the figures compare like with
like on a machine shared with other work:

* Sentry: one error event (20-frame stack, about 12 KB as ``sentry_sdk`` builds it)
  per envelope, as the SDKs send them: through Spotlight's ``POST /stream``
  (uncompressed) and through a DSN (``/api/1/envelope/``, gzip, ``X-Sentry-Auth``);
  and, for the ceiling, envelopes holding only a ``client_report`` (nothing stored):
  what one HTTP request costs before any event is converted or written;
* OTLP/HTTP protobuf log exports of 100 records each (an exporter batches up to 512).

Rates are events per second from the first request to the last event committed
(counted in the SQLite file). ``<name>_per_cpu_s`` divides by the CPU time the
server process used instead, which holds better on a busy machine, and
``python_loop_us`` (``sum(range(1000))``, about 10 µs on an idle desktop core) says
how busy this one was. The load generator is lean like ``http_load``'s: requests
are encoded before the clock starts, and each of ``connections`` keep-alive
connections is a thread writing a request and reading its answer (as an SDK's
transport does: one request in flight per connection). Run with
``python -m sidelog.bench.receivers [EVENTS]``.
"""

from __future__ import annotations

import gzip
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import timeit
from pathlib import Path
from typing import Any

from sidelog.bench.receiver_bodies import (
    client_report_bodies,
    envelope_bodies,
    native_bodies,
    otlp_log_bodies,
)
from sidelog.bench.serve_process import ServeProcess

__all__ = ["receivers_bench"]

_AUTH = "Sentry sentry_key=anykey, sentry_version=7, sentry_client=sentry.python/2.0.0"
_ENVELOPE = {"Content-Type": "application/x-sentry-envelope"}
_JSON = {"Content-Type": "application/json"}


def receivers_bench(events: int = 20_000, connections: int = 4) -> dict[str, float]:
    """The figures of one run (a fresh server and database), by name.

    ``<name>_events_per_s`` and ``<name>_per_cpu_s`` for ``sentry_envelope`` (Spotlight),
    ``sentry_dsn_gzip``, ``events_api_1_per_request`` (their native twin), ``otlp_logs``
    and ``events_api_100_per_request`` (its twin); ``sentry_client_report_requests_per_s``
    (the per-request ceiling); ``*_vs_events_api`` ratios; ``python_loop_us`` before and after.
    """
    results: dict[str, float] = {"python_loop_us_before": _loop_us()}
    runs: list[tuple[str, str, dict[str, str], list[bytes], bool]] = [
        ("events_api_1_per_request", "/v1/events", _JSON, native_bodies(events, 1, "error"), True),
        ("sentry_envelope", "/stream", _ENVELOPE, envelope_bodies(events, 1), True),
        ("sentry_dsn_gzip", "/api/1/envelope/",
         {**_ENVELOPE, "Content-Encoding": "gzip", "X-Sentry-Auth": _AUTH},
         [gzip.compress(body, 6) for body in envelope_bodies(events, 1, run=1)], True),
        ("sentry_client_report", "/stream", _ENVELOPE, client_report_bodies(events), False),
        ("events_api_100_per_request", "/v1/events", _JSON, native_bodies(events, 100, "log"), True),
        ("otlp_logs", "/v1/logs", {"Content-Type": "application/x-protobuf"}, otlp_log_bodies(events), True),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="sidelog-bench-") as folder:
        server = ServeProcess(Path(folder) / "events.db", tcp=False, http=True)
        poster = _Poster(server)
        try:
            for name, path, headers, bodies, stored in runs:
                cpu = server.cpu_seconds()
                rate = poster.rate(path, headers, bodies, events if stored else 0, connections)
                count = events if stored else len(bodies)
                results[f"{name}_{'events' if stored else 'requests'}_per_s"] = round(rate)
                results[f"{name}_per_cpu_s"] = round(count / max(server.cpu_seconds() - cpu, 1e-9))
        finally:
            server.stop()
    for name, twin in (
        ("sentry_envelope", "events_api_1_per_request"),
        ("sentry_dsn_gzip", "events_api_1_per_request"),
        ("otlp_logs", "events_api_100_per_request"),
    ):
        ratio = results[f"{name}_events_per_s"] / max(results[f"{twin}_events_per_s"], 1e-9)
        results[f"{name}_vs_events_api"] = round(ratio, 2)
    results["python_loop_us_after"] = _loop_us()
    results["events"] = events
    results["connections"] = connections
    return results


def _loop_us() -> float:
    """``sum(range(1000))`` in µs, best of five: how fast Python runs on this machine right now."""
    return round(min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6, 1)


class _Poster:
    """Posts prepared requests to a ``ServeProcess`` over keep-alive connections."""

    def __init__(self, server: ServeProcess) -> None:
        self.server = server
        self.port = server.http_port
        self.db = server.db
        self.stored = 0

    def rate(
        self, path: str, headers: dict[str, str], bodies: list[bytes], events: int, connections: int
    ) -> float:
        """Send ``bodies`` over ``connections``; events/s until all ``events`` are committed
        (requests/s until the last answer when ``events`` is 0)."""
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        requests = [f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body for body in bodies]
        errors: list[str] = []
        threads = [
            threading.Thread(target=self._send, args=(requests[i::connections], errors))
            for i in range(connections)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError(f"{path}: {errors[0]}")
        if not events:  # nothing is stored: the last answer is the end
            return len(bodies) / (time.perf_counter() - started)
        self.stored += events
        deadline = time.monotonic() + 300
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            while (count := db.execute("SELECT count(*) FROM events").fetchone()[0]) < self.stored:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{path}: {count} of {self.stored} events committed after 300 s")
                time.sleep(0.005)
        return events / (time.perf_counter() - started)

    def _send(self, requests: list[bytes], errors: list[str]) -> None:
        try:
            with (
                socket.create_connection(("127.0.0.1", self.port), timeout=120) as sock,
                sock.makefile("rb") as reader,
            ):
                for payload in requests:
                    while True:
                        sock.sendall(payload)
                        status, answer = _response(reader)
                        if status == 429:
                            time.sleep(0.02)
                            continue
                        if status not in (200, 202):
                            raise RuntimeError(f"HTTP {status}: {answer[:200]!r}")
                        break
        except (OSError, RuntimeError) as exc:
            errors.append(str(exc))


def _response(reader: Any) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with a Content-Length."""
    status_line = reader.readline()
    if not status_line:
        raise RuntimeError("the server closed the connection")
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(status_line.split()[1]), reader.read(length)


def main() -> None:  # pragma: no cover - manual measurement helper
    """Print each receiver's events/s."""
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    for name, figure in receivers_bench(events).items():
        print(f"{name}: {figure:,}")


if __name__ == "__main__":  # pragma: no cover
    main()
