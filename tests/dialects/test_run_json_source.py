"""``sidelog run`` over a real pino app: its JSON lines keep the run's source and category."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from sidelog.engine import Engine
from tests.conftest import tcp_port
from tests.dialects.conftest import assert_recent, stored

PINO_APP = """
const pino = require("pino");
const logger = pino();
logger.info("server listening on %d", 3000);
logger.child({ category: "db" }).warn({ ms: 812 }, "slow query");
logger.error(new TypeError("cannot read id"), "request failed");
"""


async def test_pino_lines_through_run_are_stored_with_source_run(
    engine: Engine, node_modules: Path, tmp_path: Path
) -> None:
    app = tmp_path / "app.js"
    app.write_text(PINO_APP)
    started = time.time()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sidelog",
        "run",
        "--name",
        "web",
        "--to",
        f"127.0.0.1:{tcp_port(engine)}",
        "--",
        "node",
        str(app),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_PATH": str(node_modules)},
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.count(b'"level":') == 3  # echoed unchanged
    assert b"pino 3" in err.splitlines()[-1]  # the summary names the dialect
    listening, slow, failed = await stored(engine)
    assert (listening["source"], listening["category"], listening["level"]) == ("run", "web", "info")
    assert listening["message"] == "server listening on 3000"
    assert listening["details"]["dialect"] == "pino"
    assert_recent(listening["timestamp"], started)
    assert (slow["source"], slow["category"], slow["level"]) == ("run", "db", "warn")
    assert slow["details"]["ms"] == 812
    assert (failed["source"], failed["category"], failed["level"]) == ("run", "web", "error")
    assert failed["details"]["exception"]["type"] == "TypeError"
    assert failed["details"]["exception"]["message"] == "cannot read id"
    assert "at " in failed["details"]["exception"]["stack"]
