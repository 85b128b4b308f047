"""Crash safety measured: ``kill -9`` a loaded ``sidelog serve`` again and again, lose nothing acknowledged.

``run_crash_cycles`` starts ``sidelog serve`` as a real subprocess on one database,
has clients send events (each with its own idempotency ``id``) and ask for a durable
acknowledgement (``{"sync": true}``) every few events, and sends ``SIGKILL`` at a
random moment: once the clients have had a random number of acknowledgements, while
they keep sending. Then it restarts the server and does it again. At the end every
acknowledged id must be in the store (counted by ``event_uid``), no id twice, and the
file must pass ``PRAGMA integrity_check``.

The kill moment is chosen by progress (acknowledgements seen), not by a clock, so a
loaded machine changes how long a cycle takes, not what it tests.

    python -m sidelog.bench.crash --cycles 50
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sidelog.bench.serve_process import ServeProcess

SYNC_EVERY = 50
"""Events a client sends between two acknowledgement requests."""


@dataclass
class CrashReport:
    """What the cycles did and what survived."""

    cycles: int
    acknowledged: int = 0
    """Events the server acknowledged as committed (``{"ok": true}`` to a later sync)."""
    sent: int = 0
    """Events the clients sent or were sending when the server died (acknowledged or not)."""
    stored: int = 0
    """Distinct ids found in the store at the end."""
    lost: int = 0
    """Acknowledged ids missing from the store: must be 0."""
    duplicates: int = 0
    """Rows beyond one per id: must be 0."""
    integrity: str = ""
    """``PRAGMA integrity_check``'s answer: must be ``ok``."""
    seconds: float = 0.0
    restart_seconds: list[float] = field(default_factory=list)
    """How long each start took (the first one creates the store; later ones recover its WAL)."""

    def figures(self) -> dict[str, Any]:
        """The report as plain data (for ``--json`` and tests)."""
        data = asdict(self)
        starts = data.pop("restart_seconds")
        data["slowest_start_s"] = round(max(starts, default=0.0), 3)
        data["seconds"] = round(self.seconds, 1)
        return data


class _Client(threading.Thread):
    """Sends events with unique ids, a sync every ``SYNC_EVERY``; records what was acknowledged."""

    def __init__(self, port: int, prefix: str, acked: set[str], lock: threading.Lock) -> None:
        super().__init__(daemon=True, name=f"crash-client-{prefix}")
        self._port = port
        self._prefix = prefix
        self._acked = acked
        self._lock = lock
        self.sent = 0
        self.acks = 0

    def run(self) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self._port), timeout=30)
        except OSError:
            return
        with sock, sock.makefile("rb") as replies:
            pending: list[str] = []
            number = 0
            while True:
                ids = [f"{self._prefix}-{number + i}" for i in range(SYNC_EVERY)]
                number += SYNC_EVERY
                lines = [
                    json.dumps(
                        {"id": uid, "message": "crash test", "category": "crash", "details": {"n": uid}}
                    )
                    for uid in ids
                ]
                self.sent += len(ids)  # counted when attempted: a kill may cut the write short
                pending.extend(ids)
                try:
                    sock.sendall(("\n".join(lines) + '\n{"sync": true}\n').encode())
                    reply = replies.readline()
                except OSError:
                    return
                if not reply:
                    return  # the server died: what was not acknowledged may or may not be stored
                answer = json.loads(reply)
                if answer.get("ok") is not True:
                    return
                with self._lock:
                    self._acked.update(pending)
                self.acks += 1
                pending = []


def _progress(workers: list[_Client], goal: int) -> Callable[[], bool]:
    """True once the clients have ``goal`` acknowledgements between them (or all stopped)."""
    return lambda: sum(w.acks for w in workers) >= goal or not any(w.is_alive() for w in workers)


def _wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def run_crash_cycles(
    cycles: int = 50,
    *,
    clients: int = 2,
    max_acks: int = 40,
    jitter_s: float = 0.05,
    folder: Path | None = None,
    seed: int | None = None,
) -> CrashReport:
    """``cycles`` times: start ``sidelog serve``, load it, ``kill -9`` it at a random moment.

    The kill comes once the clients together have had between 1 and ``max_acks``
    acknowledgements (random) plus up to ``jitter_s`` seconds, while they go on
    sending. Uses a fresh database in
    ``folder`` (a temporary folder when ``None``).
    """
    rng = random.Random(seed)
    report = CrashReport(cycles)
    acked: set[str] = set()
    lock = threading.Lock()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sidelog-crash-")))
        db = folder / "events.db"
        for cycle in range(cycles):
            server = ServeProcess(db)
            report.restart_seconds.append(server.start_seconds)
            workers = [_Client(server.port, f"c{cycle}-{n}", acked, lock) for n in range(clients)]
            for worker in workers:
                worker.start()
            _wait_for(_progress(workers, rng.randint(1, max_acks)), 60)
            if jitter_s:
                time.sleep(rng.uniform(0, jitter_s))  # anywhere inside the next batch or sync
            server.kill()
            for worker in workers:
                worker.join(timeout=30)
            report.sent += sum(w.sent for w in workers)
        report.acknowledged = len(acked)
        report.stored, report.lost, report.duplicates, report.integrity = _audit(db, acked)
    report.seconds = time.monotonic() - started
    return report


def _audit(db: Path, acked: set[str]) -> tuple[int, int, int, str]:
    """(distinct ids stored, acknowledged ids missing, duplicate rows, integrity_check)."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        integrity = "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
        conn.execute("CREATE TEMP TABLE acked (uid TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO acked VALUES (?)", ((uid,) for uid in acked))
        stored, rows = conn.execute(
            "SELECT count(DISTINCT event_uid), count(*) FROM events WHERE category = 'crash'"
        ).fetchone()
        lost = conn.execute(
            "SELECT count(*) FROM acked WHERE uid NOT IN "
            "(SELECT event_uid FROM events WHERE event_uid IS NOT NULL)"
        ).fetchone()[0]
    return int(stored), int(lost), int(rows) - int(stored), integrity


def main(argv: list[str] | None = None) -> int:
    """``python -m sidelog.bench.crash``: run the cycles, print the figures, exit 1 on any loss."""
    parser = argparse.ArgumentParser(prog="python -m sidelog.bench.crash", description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--max-acks", type=int, default=40)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    report = run_crash_cycles(args.cycles, clients=args.clients, max_acks=args.max_acks, seed=args.seed)
    print(json.dumps(report.figures(), indent=2))
    return 0 if report.lost == 0 and report.duplicates == 0 and report.integrity == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
