"""Receiver throughput: Sentry envelopes and OTLP/HTTP logs into a real ``sidelog serve``.

Measures events per second from the first request to the last event committed
(counted in the SQLite file), for:

* Sentry envelopes of error events with 20-frame stacks, one event per envelope
  as the SDKs send them (and, for comparison, ten per envelope);
* OTLP/HTTP protobuf log exports of 100 records each (exporters batch up to 512).

The load generator is lean like ``http_load``'s: requests are encoded before the
clock starts and each keep-alive connection is a thread writing a request and
reading its answer, so the client takes little CPU from the server it measures
on a 2-core machine. Run with ``python -m sidelog.bench.receivers [EVENTS]``.
"""

from __future__ import annotations

import os
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

__all__ = ["envelope_bodies", "otlp_log_bodies", "receivers_bench"]


def envelope_bodies(total: int, per_envelope: int = 1, frames: int = 20, run: int = 0) -> list[bytes]:
    """``total`` Sentry error events with ``frames``-frame stacks, ``per_envelope`` per envelope.

    Event ids are unique per ``run``: sidelog stores an event id once (SDK retries).
    """
    bodies: list[bytes] = []
    for start in range(0, total, per_envelope):
        items = []
        for n in range(start, min(start + per_envelope, total)):
            stack = [
                {
                    "filename": f"shop/module_{f}.py",
                    "abs_path": f"/srv/shop/module_{f}.py",
                    "function": f"step_{f}",
                    "lineno": 10 + f,
                    "context_line": f"    result = step_{f + 1}(order, attempt={f})",
                    "in_app": f % 3 != 0,
                }
                for f in range(frames)
            ]
            event = {
                "event_id": f"{run:08x}{n:024x}",
                "level": "error",
                "platform": "python",
                "timestamp": 1_700_000_000 + n / 1000,
                "sdk": {"name": "sentry.python", "version": "2.0.0"},
                "user": {"id": f"u_{n % 500}"},
                "release": "shop@1.2.3",
                "environment": "dev",
                "tags": {"feature": "checkout", "region": "eu"},
                "contexts": {"trace": {"trace_id": f"{n:032x}", "span_id": f"{n:016x}"}},
                "exception": {
                    "values": [
                        {
                            "type": ("ValueError", "KeyError", "TimeoutError")[n % 3],
                            "value": f"order {n} could not be charged",
                            "stacktrace": {"frames": stack},
                        }
                    ]
                },
            }
            payload = orjson.dumps(event)
            items.append(orjson.dumps({"type": "event", "length": len(payload)}) + b"\n" + payload + b"\n")
        header = orjson.dumps({"event_id": f"{start:032x}", "sent_at": "2026-11-30T00:00:00Z"})
        bodies.append(header + b"\n" + b"".join(items))
    return bodies


def otlp_log_bodies(total: int, per_request: int = 100) -> list[bytes]:
    """``total`` OTLP log records as protobuf ``ExportLogsServiceRequest`` bodies."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    bodies: list[bytes] = []
    for start in range(0, total, per_request):
        request = ExportLogsServiceRequest()
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.add(key="service.name").value.string_value = "checkout-svc"
        scope = resource_logs.scope_logs.add()
        scope.scope.name = "shop.payments"
        for n in range(start, min(start + per_request, total)):
            record = scope.log_records.add()
            record.time_unix_nano = 1_700_000_000_000_000_000 + n * 1_000_000
            record.severity_number = (5, 9, 9, 13, 17)[n % 5]
            record.body.string_value = f"order {n} step {n % 7} done"
            record.trace_id = n.to_bytes(16, "big")
            record.span_id = n.to_bytes(8, "big")
            for key, value in (
                ("user.id", f"u_{n % 500}"),
                ("http.route", "/checkout"),
                ("attempt", str(n % 3)),
            ):
                record.attributes.add(key=key).value.string_value = value
        bodies.append(request.SerializeToString())
    return bodies


def receivers_bench(events: int = 20_000, connections: int = 4) -> dict[str, float]:
    """Events per second, to commit, for each receiver (a fresh server and database).

    Each run also reports ``<name>_per_cpu_s``: events per second of CPU the server
    used, a figure that holds on a busy machine where wall-clock rates do not.
    """
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="sidelog-bench-") as folder:
        server = _Server(Path(folder) / "events.db")
        try:
            runs: list[tuple[str, str, str, list[bytes]]] = [
                ("sentry_envelope_1_per_request", "/api/1/envelope/", "application/x-sentry-envelope",
                 envelope_bodies(events, 1)),
                ("sentry_envelope_10_per_request", "/api/1/envelope/", "application/x-sentry-envelope",
                 envelope_bodies(events, 10, run=1)),
                ("otlp_logs_100_per_request", "/v1/logs", "application/x-protobuf", otlp_log_bodies(events)),
            ]  # fmt: skip
            for name, path, content_type, bodies in runs:
                cpu = server.cpu_seconds()
                results[name] = server.rate(path, content_type, bodies, events, connections)
                results[f"{name}_per_cpu_s"] = events / max(server.cpu_seconds() - cpu, 1e-9)
        finally:
            server.stop()
    return results


class _Server:
    """A real ``sidelog serve`` subprocess: HTTP on a free port, rate limits and system events off."""

    def __init__(self, db: Path) -> None:
        env = dict(
            os.environ,
            SIDELOG_RATE_LIMIT_BURST="0",
            SIDELOG_ENABLE_SYSTEM_LOGGING="false",
            SIDELOG_RETENTION_DAYS="0",
            SIDELOG_DB_BUDGET_MB="0",
        )
        command = [
            sys.executable,
            "-m",
            "sidelog",
            "serve",
            "--db",
            str(db),
            "--tcp",
            "off",
            "--http",
            "127.0.0.1:0",
        ]
        self.db = db
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening http"):
            self.stop()
            raise RuntimeError(f"sidelog serve did not start: {line or self.proc.stderr}")
        self.port = int(line.rsplit(":", 1)[1])
        self.stored = 0

    def rate(self, path: str, content_type: str, bodies: list[bytes], events: int, connections: int) -> float:
        """Send ``bodies`` over ``connections``; events/s until all ``events`` are committed."""
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: {content_type}\r\n"
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
        self.stored += events
        deadline = time.monotonic() + 300
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            while (count := db.execute("SELECT count(*) FROM events").fetchone()[0]) < self.stored:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{path}: {count} of {self.stored} events committed after 300 s")
                time.sleep(0.005)
        return events / (time.perf_counter() - started)

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _send(self, requests: list[bytes], errors: list[str]) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=120) as sock:
                reader = sock.makefile("rb")
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

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


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
    for name, rate in receivers_bench(events).items():
        print(f"{name}: {rate:,.0f} events/s ({events} events)")


if __name__ == "__main__":  # pragma: no cover
    main()
