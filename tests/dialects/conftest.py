"""Fixtures for the dialect tests: the real Node loggers (installed once with npm), real
app processes whose output is captured, and a real server to feed it to.

The Node packages are installed with the machine's npm into a folder under the repo's
``.pytest_cache`` keyed by the package list, so a second run (and the second xdist
worker) reuses them; a file lock keeps two workers from installing at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.pipeline.queue import Origin
from sidelog.server import RunningServer, start_server
from tests.conftest import send_lines, tcp_port

REPO = Path(__file__).resolve().parents[2]
NODE_PACKAGES = ("pino@10", "bunyan@2", "winston@3", "consola@3")
"""The Node loggers under test (major versions pinned: their output format is the contract)."""
NPM_TIMEOUT_S = 600


def node_modules_dir() -> Path:
    """Install ``NODE_PACKAGES`` (once per package list) and return the ``node_modules`` path."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are needed to drive pino, bunyan, winston and consola"
        print(f"skipping the Node dialect tests: {reason}")
        pytest.skip(reason)
    key = hashlib.sha256(" ".join(NODE_PACKAGES).encode()).hexdigest()[:16]
    root = REPO / ".pytest_cache" / "sidelog-node" / key
    root.mkdir(parents=True, exist_ok=True)
    done = root / "installed"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            result = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *NODE_PACKAGES],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
            assert result.returncode == 0, f"npm install failed:\n{result.stdout}\n{result.stderr}"
            done.write_text(" ".join(NODE_PACKAGES))
    return root / "node_modules"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The ``node_modules`` folder holding pino, bunyan, winston and consola."""
    return node_modules_dir()


def run_node(script: str, workdir: Path, node_modules: Path) -> tuple[bytes, Path]:
    """Run ``script`` as ``app.js`` in ``workdir`` with Node; return its stdout+stderr and its path."""
    path = workdir / "app.js"
    path.write_text(script)
    env = {**os.environ, "NODE_PATH": str(node_modules)}
    result = subprocess.run(
        ["node", str(path)], cwd=workdir, env=env, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout + result.stderr, path


def run_python(script: str, workdir: Path) -> tuple[bytes, Path]:
    """Run ``script`` as ``app.py`` with this interpreter; return stdout+stderr and its path."""
    path = workdir / "app.py"
    path.write_text(script)
    result = subprocess.run(
        [sys.executable, str(path)], cwd=workdir, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout + result.stderr, path


@pytest.fixture
async def http_engine(make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    """A server with both TCP and HTTP on free ports."""
    running: RunningServer = await start_server(make_settings(http="127.0.0.1:0"))
    yield running.engine
    await running.stop()


async def ingest(engine: Engine, payload: bytes) -> list[dict[str, Any]]:
    """Send captured output over a real TCP connection; return the replies (the last one
    acknowledges everything before it as committed)."""
    replies = await send_lines(tcp_port(engine), payload)
    assert replies, "no acknowledgement"
    assert replies[-1].get("ok") is True, replies
    return replies


async def stored(engine: Engine) -> list[dict[str, Any]]:
    """The events sent by the test (sidelog's own ``system`` events left out), oldest
    first, with ``details`` decoded."""
    await engine.wait_committed(Origin("test"))
    with sqlite3.connect(engine.settings.db) as db:
        db.row_factory = sqlite3.Row
        found = db.execute("SELECT * FROM events WHERE source != 'system' ORDER BY id").fetchall()
    rows = [dict(row) for row in found]
    for row in rows:
        row["details"] = json.loads(row["details"]) if row["details"] else {}
    return rows


def assert_recent(timestamp_ms: int, started: float, slack_s: float = 2.0) -> None:
    """``timestamp_ms`` falls within the test's run (``started``: ``time.time()`` at its start)."""
    latest = (time.time() + slack_s) * 1000
    assert (started - slack_s) * 1000 <= timestamp_ms <= latest, (timestamp_ms, started)


def assert_logged(
    rows: list[dict[str, Any]], expected: list[tuple[str, str]], *, dialect: str, started: float
) -> None:
    """The stored rows are ``expected`` (level, message) in order, each stamped within the
    test's run and recognised as ``dialect``."""
    assert [(row["level"], row["message"]) for row in rows] == expected
    for row in rows:
        assert_recent(row["timestamp"], started)
        assert row["details"]["dialect"] == dialect
