"""Fixtures for the receiver tests: a real sidelog with HTTP on port 0, real SDKs in subprocesses.

The SDKs keep global state (``sentry_sdk.init``, OpenTelemetry's providers), so each
app runs in its own process, started with asyncio so the server, which runs on
the test's event loop, keeps answering while the app talks to it.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.server import RunningServer, start_server
from tests.support.wait import until

APPS = Path(__file__).parent / "apps"
REPO = Path(__file__).resolve().parents[2]
NODE_FOLDER = REPO / ".pytest_cache" / "receivers-node"
"""Where ``@sentry/node`` is installed once (shared by test runs and xdist workers)."""


@dataclass
class Receiver:
    """A running sidelog: its base URL and database."""

    server: RunningServer
    base: str
    db: Path

    @property
    def host_port(self) -> str:
        """``127.0.0.1:PORT``."""
        return self.base.removeprefix("http://")

    def rows(self, where: str = "1", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Stored non-system events matching ``where``, oldest first, ``details`` decoded."""
        with sqlite3.connect(self.db) as db:
            db.row_factory = sqlite3.Row
            found = db.execute(
                f"SELECT * FROM events WHERE source != 'system' AND ({where}) ORDER BY id", params
            ).fetchall()
        result = [dict(row) for row in found]
        for row in result:
            row["details"] = json.loads(row["details"]) if row["details"] else None
        return result

    def count(self, where: str = "1") -> int:
        """How many non-system events match ``where``."""
        return len(self.rows(where))


async def start_receiver(settings: Settings) -> Receiver:
    """Start sidelog through the real composition root (``sidelog.server``)."""
    server = await start_server(settings)
    address = dict(server.endpoints)["http"]
    return Receiver(server, f"http://{address}", settings.db)


async def stored(receiver: Receiver, count: int, where: str = "1") -> list[dict[str, Any]]:
    """Wait until ``count`` rows match, then return them."""
    await until(lambda: receiver.count(where) >= count, message=f"{count} rows where {where}")
    return receiver.rows(where)


@pytest.fixture
async def receiver(make_settings: Callable[..., Settings]) -> AsyncIterator[Receiver]:
    """sidelog with HTTP on a free port, rate limits off, stopped after the test."""
    running = await start_receiver(make_settings(http="127.0.0.1:0", rate_limit_burst=0))
    yield running
    await running.server.stop()


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    """An aiohttp client session."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        yield session


async def run_app(*argv: str, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    """Run an app to completion without blocking the event loop; its stdout (fails on a non-zero exit).

    It runs in ``apps/``, its project folder, as an app would: the Sentry SDK marks
    frames under the working directory as in-app.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "OTEL_"))}
    process = await asyncio.create_subprocess_exec(
        *argv,
        env={**clean, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=APPS,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode == 0, f"{argv[:2]} exited {process.returncode}: {err.decode()[-2000:]}"
    return out.decode()


def python_app(name: str) -> list[str]:
    """The command line running ``apps/<name>`` with this interpreter."""
    return [sys.executable, str(APPS / name)]


@pytest.fixture(scope="session")
def node_sentry() -> Path:
    """``node_modules`` holding ``@sentry/node`` from the npm registry (installed once, under a lock)."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        reason = "node/npm not found: the @sentry/node test needs Node 18+ and npm"
        print(reason)
        pytest.skip(reason)
    NODE_FOLDER.mkdir(parents=True, exist_ok=True)
    modules = NODE_FOLDER / "node_modules"
    with open(NODE_FOLDER / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers install one at a time
        if not (modules / "@sentry" / "node" / "package.json").exists():
            (NODE_FOLDER / "package.json").write_text('{"name": "receivers-node", "private": true}\n')
            subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--silent", "@sentry/node"],
                cwd=NODE_FOLDER,
                check=True,
                timeout=600,
            )
    return modules
