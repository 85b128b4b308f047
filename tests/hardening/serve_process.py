"""A real ``sidelog serve`` in a subprocess, optionally under a lowered open-file limit.

The limit is set as both soft and hard limit before sidelog starts, so ``serve``
cannot raise it (``sidelog.server.tune_process`` raises the soft limit to the hard
one): the process really runs with that many descriptors.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from tests.support.cli import clean_env

LIMITED_SERVE = """
import resource, runpy, sys
limit = int(sys.argv[1])
if limit:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
sys.argv = ["sidelog", "serve", *sys.argv[2:]]
runpy.run_module("sidelog", run_name="__main__")
"""


class ServeProcess:
    """``sidelog serve`` on free ports; ``stop`` sends SIGTERM and returns its stderr."""

    def __init__(
        self, db: Path, *, nofile: int = 0, http: bool = True, extra: list[str] | None = None, **env: str
    ) -> None:
        args = ["--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0" if http else "off", "--db", str(db)]
        self.process = subprocess.Popen(
            [sys.executable, "-c", LIMITED_SERVE, str(nofile), *args, *(extra or [])],
            cwd=db.parent.parent,
            env=clean_env(**env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr_lines: list[str] = []
        """What the server wrote on stderr so far (read by a thread, so the pipe never fills)."""
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._reader = threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True)
        self._reader.start()
        self.endpoints: dict[str, str] = {}
        expected = 1 + http + ("--unix" in (extra or []))
        while len(self.endpoints) < expected:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"serve did not start: {self.stop()}")
            _, kind, address = line.split()
            self.endpoints[kind] = address

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self.stderr_lines.append(line)

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def tcp(self) -> tuple[str, int]:
        """``(host, port)`` of the TCP endpoint."""
        host, port = self.endpoints["tcp"].rsplit(":", 1)
        return host, int(port)

    def http(self) -> tuple[str, int]:
        """``(host, port)`` of the HTTP endpoint."""
        host, port = self.endpoints["http"].rsplit(":", 1)
        return host, int(port)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, float]:
        """One HTTP request on a new connection: ``(status, decoded JSON, seconds taken)``."""
        started = time.monotonic()
        connection = http.client.HTTPConnection(*self.http(), timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        return response.status, json.loads(payload), time.monotonic() - started

    def health(self) -> dict[str, Any]:
        """``GET /v1/health``."""
        status, body, _ = self.request("GET", "/v1/health")
        assert status == 200, body
        return dict(body)

    def descriptors(self) -> int:
        """Descriptors the server has open now (Linux ``/proc``)."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> str:
        """SIGTERM, wait for the drain, return everything it wrote on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return "".join(self.stderr_lines)
