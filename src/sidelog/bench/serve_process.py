"""A real ``sidelog serve`` subprocess for the benchmarks: free ports, limits off, figures from ``/proc``.

Every benchmark that measures the server does it against this process, never an
in-process engine, so the figures include what a user's server pays: the event
loop, the socket layer and the writer, with the benchmark's own CPU kept apart.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson

_ENV = {
    "SIDELOG_RATE_LIMIT_BURST": "0",
    "SIDELOG_RETENTION_DAYS": "0",
    "SIDELOG_DB_BUDGET_MB": "0",
    "SIDELOG_ENABLE_SYSTEM_LOGGING": "false",
}
"""Rate limits, retention, the size budget and system events off: only the load under test is stored."""


def _environment() -> dict[str, str]:
    """This process's environment without inherited sidelog settings, plus ``_ENV``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("SIDELOG_", "ENABLE_", "BATCH_"))}
    return kept | _ENV


class ServeProcess:
    """``sidelog serve --db DB`` with TCP and/or HTTP on free loopback ports."""

    def __init__(self, db: Path, *, tcp: bool = True, http: bool = False) -> None:
        command = [sys.executable, "-m", "sidelog", "serve", "--db", str(db)]
        command += ["--tcp", "127.0.0.1:0" if tcp else "off", "--http", "127.0.0.1:0" if http else "off"]
        self.db = db
        started = time.monotonic()
        self.proc = subprocess.Popen(
            command,
            cwd=db.parent,  # no stray .env of the caller's folder
            stdin=subprocess.DEVNULL,  # a piped stdin would be read as a source (commands/piped.py)
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_environment(),
            text=True,
        )
        self.port = self._listening("tcp") if tcp else 0
        """The TCP port (0 when TCP is off)."""
        self.http_port = self._listening("http") if http else 0
        """The HTTP port (0 when HTTP is off)."""
        self.start_seconds = time.monotonic() - started
        """From launch until every endpoint listened."""

    def _listening(self, kind: str) -> int:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith(f"listening {kind}"):
            self.stop()
            error = self.proc.stderr.read() if self.proc.stderr is not None else ""
            raise RuntimeError(f"sidelog serve did not start {kind}: {line or error}".strip())
        return int(line.rsplit(":", 1)[1])

    def peak_rss(self) -> int:
        """The server's peak resident memory (VmHWM), in KiB; 0 once it has exited."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def cpu_seconds(self) -> float:
        """User + system CPU the server has used so far: a figure that holds on a busy machine."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """``kill -9``: no drain, no checkpoint, no goodbye (the crash benchmark)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._close_pipes()

    def stop(self) -> None:
        """Stop it as Ctrl-C would (drain, checkpoint); kill it after 30 s."""
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def sync_and_count(sock: socket.socket) -> int:
    """Send ``{"sync": true}`` on a connection that has sent its events; wait for the reply
    and return how many events it says were stored (0 if the connection closed first)."""
    sock.sendall(b'{"sync": true}\n')
    buffer = b""
    while b'"ok"' not in buffer:
        received = sock.recv(65536)
        if not received:
            break
        buffer += received
    for line in buffer.splitlines():
        if b'"ok"' in line:
            return int(orjson.loads(line)["stored"])
    return 0
