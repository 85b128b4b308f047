"""Client call cost: ``EventLogger.event`` against stdlib ``logging`` (``sidelog bench``).

The target: ``event`` p50 ≤ 1 µs, p99 ≤ 10 µs, and at most 0.3× the cost of
``logger.info`` on a stdlib logger whose only handler is a ``NullHandler``, both
measured in the same run on the same machine.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import threading
import time
from collections.abc import Iterator

from sidelog_client.config import ClientConfig
from sidelog_client.logger import EventLogger

_ROUNDS = 4


def client_call_cost(n: int = 200_000) -> dict[str, float]:
    """Per-call cost of ``EventLogger.event`` and of stdlib ``logger.info``, in microseconds.

    Method: each call is timed on its own with ``time.perf_counter_ns`` (nanosecond
    resolution on Linux), so p99 reflects single slow calls rather than batch
    averages. The cost of the timer pair itself (the median of an empty timed loop
    body, typically 40–80 ns) is subtracted from every sample. The two loops are
    written out inline (no wrapper function) and interleaved in ``_ROUNDS`` rounds,
    ``n`` calls each in total, so both see the same CPU state. The ``EventLogger``
    sends to a real local TCP listener started here (accepting, draining and
    acknowledging syncs like sidelog), so its background sender thread runs and
    competes for the GIL during the measurement, as it would in an app. The
    environment's toggles are ignored (an enabled logger is measured). The stdlib
    logger has level INFO, one ``NullHandler`` and no propagation.

    Returns p50/p99 for both, their ratios (``ratio_p50`` is the headline figure),
    the timer overhead in ns, and how many events the client dropped (a flood of
    ``n`` calls in a fraction of a second can outrun the buffer; the drops are counted,
    and the call cost is what is measured here).
    """
    std = logging.getLogger("sidelog.bench.stdlib")
    std.handlers[:] = [logging.NullHandler()]
    std.propagate = False
    std.setLevel(logging.INFO)
    overhead = _timer_overhead()
    per_round = max(1, n // _ROUNDS)
    with _acking_listener() as port:
        log = EventLogger(f"127.0.0.1:{port}", config=ClientConfig(), level="debug")
        try:
            ours: list[int] = []
            theirs: list[int] = []
            for _ in range(_ROUNDS):
                ours += _time_event(log, per_round)
                theirs += _time_stdlib(std, per_round)
            log.flush(5.0)
            dropped = float(log.stats().get("dropped", 0))
        finally:
            log.close(timeout=2.0)
    event_p50, event_p99 = _percentiles(ours, overhead)
    std_p50, std_p99 = _percentiles(theirs, overhead)
    return {
        "event_p50_us": event_p50,
        "event_p99_us": event_p99,
        "stdlib_p50_us": std_p50,
        "stdlib_p99_us": std_p99,
        "ratio_p50": event_p50 / std_p50 if std_p50 else float("inf"),
        "ratio_p99": event_p99 / std_p99 if std_p99 else float("inf"),
        "timer_overhead_ns": float(overhead),
        "events_dropped": dropped,
    }


def _time_event(log: EventLogger, n: int) -> list[int]:
    pc = time.perf_counter_ns
    event = log.event
    samples = [0] * n
    gc.collect()
    for i in range(n):
        t0 = pc()
        event("user signed in", category="auth", user_id="u42")
        samples[i] = pc() - t0
    return samples


def _time_stdlib(std: logging.Logger, n: int) -> list[int]:
    pc = time.perf_counter_ns
    info = std.info
    samples = [0] * n
    gc.collect()
    for i in range(n):
        t0 = pc()
        info("user signed in")
        samples[i] = pc() - t0
    return samples


def _timer_overhead(n: int = 100_000) -> int:
    pc = time.perf_counter_ns
    samples = [0] * n
    for i in range(n):
        t0 = pc()
        samples[i] = pc() - t0
    samples.sort()
    return samples[n // 2]


def _percentiles(samples: list[int], overhead: int) -> tuple[float, float]:
    ordered = sorted(samples)
    count = len(ordered)
    p50 = max(0, ordered[count // 2] - overhead) / 1000
    p99 = max(0, ordered[min(count - 1, int(count * 0.99))] - overhead) / 1000
    return p50, p99


@contextlib.contextmanager
def _acking_listener() -> Iterator[int]:
    """A TCP listener on a free loopback port that reads everything and acknowledges syncs."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    threads: list[threading.Thread] = []

    def serve(conn: socket.socket) -> None:
        pending = b""
        with conn:
            while True:
                try:
                    data = conn.recv(1 << 16)
                except OSError:
                    return
                if not data:
                    return
                *lines, pending = (pending + data).split(b"\n")
                acks = sum(1 for line in lines if line.startswith(b'{"sync"'))
                if acks:
                    with contextlib.suppress(OSError):
                        conn.sendall(b'{"ok":true,"stored":0}\n' * acks)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            thread = threading.Thread(target=serve, args=(conn,), daemon=True, name="sidelog-bench-sink")
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True, name="sidelog-bench-accept")
    acceptor.start()
    try:
        yield port
    finally:
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
        server.close()
        acceptor.join(2.0)
        for thread in threads:
            thread.join(2.0)
