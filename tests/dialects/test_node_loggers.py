"""pino, bunyan, winston and consola, driven for real: each app's own logging calls run in
a real Node process, its stdout is sent to a real server over TCP, and the stored rows
are checked in SQLite (level, message, time, the exception with its top frame)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sidelog.engine import Engine
from sidelog.fingerprint import exception_signature, fingerprint_of
from tests.dialects.conftest import assert_logged, assert_recent, ingest, run_node, stored

THROWS = """
function chargeCard() {
  throw new TypeError("card 4242 declined");
}
function caught() {
  try { chargeCard(); } catch (err) { return err; }
}
"""


def assert_exception(row: dict[str, Any], script: Path) -> None:
    """The stored error carries the thrown TypeError and groups by type and top frame."""
    exception = row["details"]["exception"]
    assert exception["type"] == "TypeError"
    assert exception["message"] == "card 4242 declined"
    assert exception["stack"].startswith("TypeError: card 4242 declined\n    at chargeCard (")
    assert exception_signature(row["details"]) == f"TypeError|{script}:chargeCard"
    assert row["fingerprint"] == fingerprint_of(row["category"], row["message"], row["details"])
    assert row["resolved"] == 0


async def run(
    engine: Engine, script: str, tmp_path: Path, node_modules: Path
) -> tuple[list[dict[str, Any]], Path]:
    output, path = await asyncio.to_thread(run_node, THROWS + script, tmp_path, node_modules)
    await ingest(engine, output)
    return await stored(engine), path


async def test_pino(engine: Engine, tmp_path: Path, node_modules: Path) -> None:
    started = time.time()
    rows, script = await run(
        engine,
        """
const logger = require("pino")();
logger.info({ userId: "u_1", cart: 3 }, "checkout opened");
logger.warn("stock low");
logger.error(caught(), "payment failed");
""",
        tmp_path,
        node_modules,
    )
    assert_logged(
        rows,
        [
            ("info", "checkout opened"),
            ("warn", "stock low"),
            ("error", "payment failed"),
        ],
        dialect="pino",
        started=started,
    )
    for row in rows:
        assert isinstance(row["details"]["pid"], int)
        assert row["details"]["host"]
    assert rows[0]["user_id"] == "u_1"
    assert rows[0]["details"]["cart"] == 3
    assert_exception(rows[2], script)


async def test_bunyan(engine: Engine, tmp_path: Path, node_modules: Path) -> None:
    started = time.time()
    rows, script = await run(
        engine,
        """
const log = require("bunyan").createLogger({ name: "shop" });
log.info({ sessionId: "s_9" }, "checkout opened");
log.warn("stock low");
log.error(caught(), "payment failed");
""",
        tmp_path,
        node_modules,
    )
    assert_logged(
        rows,
        [
            ("info", "checkout opened"),
            ("warn", "stock low"),
            ("error", "payment failed"),
        ],
        dialect="bunyan",
        started=started,
    )
    for row in rows:
        assert row["details"]["logger"] == "shop"
        assert "v" not in row["details"]
    assert rows[0]["session_id"] == "s_9"
    assert_exception(rows[2], script)


async def test_winston(engine: Engine, tmp_path: Path, node_modules: Path) -> None:
    started = time.time()
    rows, script = await run(
        engine,
        """
const winston = require("winston");
const logger = winston.createLogger({
  level: "silly",
  format: winston.format.combine(
    winston.format.errors({ stack: true }), winston.format.timestamp(), winston.format.json()
  ),
  transports: [new winston.transports.Console()],
});
logger.info("checkout opened", { userId: "u_1" });
logger.warn("stock low");
logger.verbose("cache warmed");
logger.http("GET /cart 200");
logger.silly("tick");
logger.error(caught());
""",
        tmp_path,
        node_modules,
    )
    assert [(row["level"], row["message"]) for row in rows] == [
        ("info", "checkout opened"),
        ("warn", "stock low"),
        ("debug", "cache warmed"),
        ("info", "GET /cart 200"),
        ("debug", "tick"),
        ("error", "card 4242 declined"),
    ]
    for row in rows:
        assert_recent(row["timestamp"], started)
    assert rows[0]["user_id"] == "u_1"
    # winston's npm levels beyond the native four keep their name; the error its stack
    assert [row["details"].get("level") for row in rows[2:5]] == ["verbose", "http", "silly"]
    assert {row["details"].get("dialect") for row in rows[2:]} == {"winston"}
    assert_exception(rows[5], script)


async def test_winston_error_without_format_errors_is_rejected_with_the_fix(
    engine: Engine, tmp_path: Path, node_modules: Path
) -> None:
    output, _ = await asyncio.to_thread(
        run_node,
        THROWS
        + """
const winston = require("winston");
const logger = winston.createLogger({
  format: winston.format.json(), transports: [new winston.transports.Console()],
});
logger.error(caught());
""",
        tmp_path,
        node_modules,
    )
    replies = await ingest(engine, output)
    assert replies[0]["line"] == 1
    assert replies[0]["error"].startswith("winston: message is required")
    assert "format.errors({stack: true})" in replies[0]["error"]


async def test_consola(engine: Engine, tmp_path: Path, node_modules: Path) -> None:
    started = time.time()
    rows, script = await run(
        engine,
        """
const { consola } = require("consola");
const errors = (k, v) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v);
consola.setReporters([{ log: (o) => process.stdout.write(JSON.stringify(o, errors) + "\\n") }]);
consola.info("checkout opened");
consola.success("order placed");
consola.start("building");
consola.warn("stock low");
consola.withTag("payments").error(caught());
""",
        tmp_path,
        node_modules,
    )
    assert_logged(
        rows,
        [
            ("info", "checkout opened"),
            ("info", "order placed"),
            ("info", "building"),
            ("warn", "stock low"),
            ("error", "TypeError: card 4242 declined"),
        ],
        dialect="consola",
        started=started,
    )
    assert [row["details"].get("level") for row in rows[1:3]] == ["success", "start"]
    assert rows[4]["details"]["logger"] == "payments"
    assert_exception(rows[4], script)
