"""Several ``sidelog serve`` processes writing one PostgreSQL database at once, checked exactly.

``run_servers`` starts the servers as real subprocesses on the same ``--db`` URL, and
one client per server sends its events over TCP with a durable acknowledgement
(``{"sync": true}``) every ``sync_every`` events, all at the same time. Each event has
its own idempotency ``id``; every tenth is an error of one of a few groups; and each
client also resends a slice of another client's ids, which the database must drop
whichever server commits first. Afterwards the database must hold every id exactly
once, and each error group's ``count`` must equal its stored errors.

    python -m sidelog.bench.pg_servers --db postgresql://USER:PW@HOST/NAME --events 100000

``--kill-after N`` kills the first server (``SIGKILL``) once N of its events are
acknowledged: then no acknowledged id may be missing, and the counts must still agree
with the stored errors.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from sidelog.bench.serve_process import _environment

Sent = tuple[int, int]
"""``(server, number)``: the event with id ``s{server}-{number}``."""
GROUPS = ("alpha", "bravo", "charlie", "delta", "echo")
"""The error messages: one group each."""


@dataclass(frozen=True, slots=True)
class ServersResult:
    """What the database held after the run."""

    sent: int
    """Distinct ids sent, over all clients (resends not counted)."""
    stored: int
    """Rows of the run in ``events``."""
    distinct: int
    """Distinct ids among them."""
    group_counts: dict[str, int]
    """``error_groups.count`` per error message."""
    expected_groups: dict[str, int]
    """Errors sent per message."""
    stored_errors: dict[str, int]
    """Error rows stored per message."""
    seconds: float
    """From the first event sent to the last acknowledgement."""
    lost_acknowledged: int = 0
    """Acknowledged ids missing from the database (must be 0, a killed server included)."""
    killed: bool = False
    """A server was killed mid-stream (its unacknowledged events may be missing)."""

    @property
    def exact(self) -> bool:
        """Every acknowledged id stored, none twice, and every group counting exactly its
        stored errors (and, with no server killed, every id sent and every error)."""
        consistent = self.stored == self.distinct and self.group_counts == self.stored_errors
        if self.killed:
            return consistent and self.lost_acknowledged == 0
        return consistent and self.stored == self.sent and self.group_counts == self.expected_groups


def _line(server: int, number: int) -> bytes:
    error = number % 10 == 0
    return orjson.dumps(
        {
            "id": f"s{server}-{number}",
            "message": f"boom {GROUPS[number // 10 % len(GROUPS)]}" if error else f"load {number}",
            "category": "pg-load",
            "level": "error" if error else "info",
        }
    )


def _synced(sock: socket.socket) -> bool:
    """Ask for a durable acknowledgement; whether everything sent so far was committed
    (not: the server went away, or a write failed)."""
    sock.sendall(b'{"sync": true}\n')
    buffer = b""
    while b'"ok"' not in buffer:
        received = sock.recv(65536)
        if not received:
            return False
        buffer += received
    reply = next(line for line in buffer.splitlines() if b'"ok"' in line)
    return orjson.loads(reply)["ok"] is True


def _client(port: int, server: int, numbers: list[Sent], sync_every: int, acked: list[int]) -> None:
    """Send ``numbers`` in acknowledged chunks; ``acked[server]`` counts the acknowledged
    ones. A server killed under it ends the client quietly."""
    try:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            for start in range(0, len(numbers), sync_every):
                chunk = numbers[start : start + sync_every]
                sock.sendall(b"\n".join(_line(origin, number) for origin, number in chunk) + b"\n")
                if not _synced(sock):
                    return
                acked[server] += len(chunk)
    except OSError:
        return


def _kill_when(proc: subprocess.Popen[str], acked: list[int], server: int, after: int) -> None:
    """``kill -9`` ``proc`` once its client has ``after`` acknowledged events."""
    while acked[server] < after and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)


def _launch(url: str, work: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "sidelog", "serve", "--db", url, "--tcp", "127.0.0.1:0", "--http", "off"]
    return subprocess.Popen(
        command,
        cwd=work,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(),
        text=True,
    )


def _port(proc: subprocess.Popen[str]) -> int:
    """The TCP port the server announces (its first stdout line); kills it if it failed."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening tcp"):
        proc.kill()
        error = proc.stderr.read() if proc.stderr is not None else ""
        raise RuntimeError(f"sidelog serve did not start: {line or error}".strip())
    return int(line.rsplit(":", 1)[1])


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    """Stop every server as Ctrl-C would (all at once: each drains its own queue)."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


async def _read_back(
    url: str, acknowledged: list[str]
) -> tuple[int, int, dict[str, int], dict[str, int], int]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT event_uid) FROM events WHERE category = 'pg-load'"
        )
        groups = await conn.fetch("SELECT message, count FROM error_groups WHERE category = 'pg-load'")
        errors = await conn.fetch(
            "SELECT message, count(*) FROM events WHERE category = 'pg-load' AND level = 'error' "
            "GROUP BY message"
        )
        found = await conn.fetchval(
            "SELECT count(*) FROM events WHERE event_uid = ANY($1::text[])", acknowledged
        )
    finally:
        await conn.close()
    group_counts = {r[0]: int(r[1]) for r in groups}
    stored_errors = {r[0]: int(r[1]) for r in errors}
    return int(row[0]), int(row[1]), group_counts, stored_errors, len(acknowledged) - int(found)


def run_servers(
    url: str,
    work: Path,
    *,
    events: int,
    servers: int = 2,
    sync_every: int = 500,
    kill_after: int | None = None,
) -> ServersResult:
    """``servers`` servers on ``url``, ``events`` events through each (plus resends); the outcome.
    With ``kill_after``, the first server is killed (``SIGKILL``) once that many of its
    events are acknowledged."""
    procs = [_launch(url, work) for _ in range(servers)]  # started together: each takes seconds
    try:
        ports = [_port(proc) for proc in procs]
        plans: list[list[Sent]] = []
        for server in range(servers):
            own = [(server, number) for number in range(events)]
            other = (server + 1) % servers
            resent = [(other, number) for number in range(0, events, 20)] if servers > 1 else []
            plan = own + resent
            plan.sort(key=lambda item: item[1])  # resends interleaved with the server's own events
            plans.append(plan)
        acked = [0] * servers
        threads = [
            threading.Thread(target=_client, args=(port, server, plans[server], sync_every, acked))
            for server, port in enumerate(ports)
        ]
        if kill_after is not None:
            threads.append(threading.Thread(target=_kill_when, args=(procs[0], acked, 0, kill_after)))
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    finally:
        _stop(procs)
    acknowledged = sorted(  # an id resent through the other server may be acknowledged twice
        {
            f"s{origin}-{number}"
            for server in range(servers)
            for origin, number in plans[server][: acked[server]]
        }
    )
    stored, distinct, group_counts, stored_errors, lost = asyncio.run(_read_back(url, acknowledged))
    errors_per_server = {f"boom {name}": 0 for name in GROUPS}
    for number in range(0, events, 10):
        errors_per_server[f"boom {GROUPS[number // 10 % len(GROUPS)]}"] += servers
    expected = {name: count for name, count in errors_per_server.items() if count}
    return ServersResult(
        servers * events,
        stored,
        distinct,
        group_counts,
        expected,
        stored_errors,
        seconds,
        lost,
        kill_after is not None,
    )


def main(argv: list[str] | None = None) -> int:
    """Run it against the database ``--db`` names (it must be empty of this run's category)."""
    parser = argparse.ArgumentParser(
        prog="python -m sidelog.bench.pg_servers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", required=True, help="postgresql://USER:PASSWORD@HOST:PORT/NAME")
    parser.add_argument("--events", type=int, default=100_000, help="events per server")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--sync-every", type=int, default=500)
    parser.add_argument(
        "--kill-after", type=int, help="kill -9 the first server after this many acknowledgements"
    )
    args = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        result = run_servers(
            args.db,
            Path(work),
            events=args.events,
            servers=args.servers,
            sync_every=args.sync_every,
            kill_after=args.kill_after,
        )
    rate = result.sent / result.seconds if result.seconds else 0.0
    resent = " (+5 % of another's ids resent)" if args.servers > 1 else ""
    print(
        f"{args.servers} server(s) x {args.events:,} events{resent}: {result.seconds:.1f} s, "
        f"{rate:,.0f} events/s; stored {result.stored:,}, distinct {result.distinct:,}, "
        f"groups {'exact' if result.group_counts == result.stored_errors else result.group_counts}"
        + (f"; server killed, acknowledged but lost: {result.lost_acknowledged}" if result.killed else "")
    )
    return 0 if result.exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
