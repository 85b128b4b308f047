"""HTTP ingest throughput for ``sidelog bench``: the SPEC 11 mix POSTed in batches.

Bodies are built before the clock starts, so the figure measures sidelog (parsing,
validation, queueing, committing), not the load generator's JSON encoding. Each
connection's last request carries ``?wait=true``, so the clock stops only once every
event is committed.
"""

from __future__ import annotations

import asyncio
import time

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

    Raises ``BenchError`` if the server refuses requests (other than 429, which is
    retried after a short pause).
    """
    import aiohttp

    bodies = build_bodies(total, batch)
    shares = [bodies[i::connections] for i in range(connections)]
    url_host = f"[{host}]" if ":" in host else host
    url = f"http://{url_host}:{port}/v1/events"
    headers = {"Content-Type": "application/json"}
    accepted = 0

    async def worker(session: aiohttp.ClientSession, share: list[bytes]) -> None:
        nonlocal accepted
        for index, body in enumerate(share):
            wait = index == len(share) - 1
            while True:
                async with session.post(
                    url, data=body, headers=headers, params={"wait": "true"} if wait else None
                ) as r:
                    answer = await r.read()
                    if r.status == 429:
                        # Queue full: back off briefly (Retry-After's whole second would
                        # measure the sleep, not the server).
                        await asyncio.sleep(0.02)
                        continue
                    if r.status not in (200, 202):
                        raise BenchError(
                            f"HTTP {r.status} from {url}: {answer[:200].decode(errors='replace')}"
                        )
                    accepted += orjson.loads(answer)["accepted"]
                    break

    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=600)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            started = time.perf_counter()
            await asyncio.gather(*(worker(session, share) for share in shares if share))
            elapsed = time.perf_counter() - started
    except aiohttp.ClientError as exc:
        raise BenchError(f"HTTP benchmark failed against {url}: {exc}") from None
    return accepted / elapsed if elapsed > 0 else 0.0


def main() -> None:  # pragma: no cover - manual measurement helper
    """``python -m sidelog.commands.bench_http HOST PORT [TOTAL]``: print events/s."""
    import sys

    host, port = sys.argv[1], int(sys.argv[2])
    total = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    rate = asyncio.run(http_ingest_rate(host, port, total=total))
    print(f"HTTP ingest: {rate:,.0f} events/s ({total} events, batches of 100, 4 connections)")


if __name__ == "__main__":  # pragma: no cover
    main()
