"""HTTP ingest throughput for ``sidelog bench``: the benchmark mix (``workload.py``) POSTed in batches.

Bodies are built before the clock starts, so the figure measures sidelog (parsing,
validation, queueing, committing), not the load generator's JSON encoding. Each
connection's last request carries ``?wait=true``, so the clock stops only once every
event is committed.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import orjson

from sidelog.workload import Workload


class BenchError(RuntimeError):
    """The HTTP benchmark could not run; the message is the one line to show."""


def build_bodies(total: int, batch: int, seed: int = 11) -> list[bytes]:
    """``total`` events of the workload mix as JSON-array bodies of ``batch`` events."""
    workload = Workload(seed=seed)
    bodies: list[bytes] = []
    left = total
    while left > 0:
        size = min(batch, left)
        bodies.append(orjson.dumps(list(workload.events(size))))
        left -= size
    return bodies


async def http_ingest_rate(
    host: str, port: int, total: int = 100_000, batch: int = 100, connections: int = 4
) -> float:
    """Events per second accepted and committed over HTTP by the server at ``host:port``.

    The load generator is deliberately lean, like ``wrk``: complete HTTP/1.1 requests
    are encoded before the clock starts and each keep-alive connection is a thread
    writing one request and reading its response. On a 2-core machine a heavier
    client (an asyncio HTTP library) would take CPU from the server it measures.
    A 429 is retried after a short pause. Raises ``BenchError`` on any other refusal.
    """
    bodies = build_bodies(total, batch)
    shares = [bodies[i::connections] for i in range(connections)]
    url_host = f"[{host}]" if ":" in host else host
    accepted = [0] * connections
    errors: list[str] = []

    def request(body: bytes, wait: bool) -> bytes:
        target = "/v1/events?wait=true" if wait else "/v1/events"
        head = (
            f"POST {target} HTTP/1.1\r\nHost: {url_host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    def worker(index: int, share: list[bytes]) -> None:
        try:
            with socket.create_connection((host, port), timeout=120) as sock:
                reader = sock.makefile("rb")
                for position, body in enumerate(share):
                    payload = request(body, position == len(share) - 1)
                    while True:
                        sock.sendall(payload)
                        status, answer = _read_response(reader)
                        if status == 429:
                            time.sleep(0.02)
                            continue
                        if status not in (200, 202):
                            raise BenchError(f"HTTP {status}: {answer[:200].decode(errors='replace')}")
                        accepted[index] += orjson.loads(answer)["accepted"]
                        break
        except (OSError, BenchError) as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=worker, args=(i, share)) for i, share in enumerate(shares) if share]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        await asyncio.to_thread(thread.join)
    elapsed = time.perf_counter() - started
    if errors:
        raise BenchError(f"HTTP benchmark failed against {url_host}:{port}: {errors[0]}")
    return sum(accepted) / elapsed if elapsed > 0 else 0.0


def _read_response(reader: Any) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with a Content-Length."""
    status_line = reader.readline()
    if not status_line:
        raise BenchError("the server closed the connection")
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, reader.read(length)


def main() -> None:  # pragma: no cover - manual measurement helper
    """``python -m sidelog.bench.http_load HOST PORT [TOTAL]``: print events/s."""
    import sys

    host, port = sys.argv[1], int(sys.argv[2])
    total = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    rate = asyncio.run(http_ingest_rate(host, port, total=total))
    print(f"HTTP ingest: {rate:,.0f} events/s ({total} events, batches of 100, 4 connections)")


if __name__ == "__main__":  # pragma: no cover
    main()
