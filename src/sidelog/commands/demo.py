"""``sidelog demo``: realistic traffic (the benchmark mix of ``workload.py``) at a steady rate."""

from __future__ import annotations

import json
import math
import socket
import sys
import time

from sidelog.commands.common import CommandError, auth_line, client_address, client_token, connect_error
from sidelog.events import now_ms
from sidelog.workload import Workload


def run_demo(*, to: str | None, rate: float, duration: float, seed: int, token: str | None = None) -> str:
    """Send events at ``rate`` per second for ``duration`` seconds (0: until Ctrl+C).

    ``token`` (else ``SIDELOG_TOKEN``) is sent first, for a remote sidelog.
    """
    if not 0 < rate < math.inf:
        raise CommandError("invalid --rate: use a number of events per second above 0")
    if not 0 <= duration < math.inf:
        raise CommandError("invalid --duration: use a number of seconds, 0 for no end")
    endpoint = client_address(to)
    workload = Workload(seed=seed)
    try:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=10)
    except OSError as exc:
        raise connect_error(endpoint, exc) from None
    sent = 0
    start = time.monotonic()
    tick = 0.05
    print(
        f"sending the demo mix to {endpoint} at {rate:g} events/s "
        f"({'until Ctrl+C' if duration == 0 else f'for {duration:g} s'})",
        file=sys.stderr,
    )
    try:
        with sock:
            sock.sendall(auth_line(client_token(token)))
            while duration == 0 or time.monotonic() - start < duration:
                due = int((time.monotonic() - start) * rate) + 1 - sent
                if due > 0:
                    stamp = now_ms()
                    lines = [json.dumps(workload.event(stamp)).encode() for _ in range(due)]
                    sock.sendall(b"\n".join(lines) + b"\n")
                    sent += due
                time.sleep(tick if rate * tick >= 1 else 1 / rate)
            sock.sendall(b'{"sync": true}\n')
            sock.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
    except KeyboardInterrupt:
        return f"sent {sent} events"
    except OSError as exc:
        raise CommandError(f"connection to {endpoint} failed after {sent} events: {exc}") from None
    acks = [json.loads(line) for line in reply.splitlines() if b'"ok"' in line]
    stored = acks[-1]["stored"] if acks else "?"
    return f"sent {sent} events, {stored} stored"
