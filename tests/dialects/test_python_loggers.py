"""structlog, loguru, python-json-logger and stdlib logging, driven for real: each app's
own logging calls run in a real Python process, its output is sent to a real server
over TCP, and the stored rows are checked in SQLite."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sidelog.engine import Engine
from sidelog.fingerprint import exception_signature, fingerprint_of
from tests.dialects.conftest import assert_logged, ingest, run_python, stored

RAISES = """
def charge_card():
    raise ValueError("card 4242 declined")
"""


def assert_exception(row: dict[str, Any], script: Path) -> None:
    """The stored error carries the raised ValueError and groups by type and top frame."""
    exception = row["details"]["exception"]
    assert exception["type"] == "ValueError"
    assert exception["message"] == "card 4242 declined"
    assert exception["stack"].startswith("Traceback (most recent call last):")
    assert exception_signature(row["details"]) == f"ValueError|{script}:charge_card"
    assert row["fingerprint"] == fingerprint_of(row["category"], row["message"], row["details"])


async def run(engine: Engine, script: str, tmp_path: Path) -> tuple[list[dict[str, Any]], Path]:
    output, path = await asyncio.to_thread(run_python, RAISES + script, tmp_path)
    await ingest(engine, output)
    return await stored(engine), path


async def test_structlog(engine: Engine, tmp_path: Path) -> None:
    started = time.time()
    rows, script = await run(
        engine,
        """
import structlog
p = structlog.processors
structlog.configure(processors=[p.add_log_level, p.TimeStamper("iso"), p.format_exc_info, p.JSONRenderer()])
log = structlog.get_logger()
log.info("checkout opened", user_id="u_1", cart=3)
log.warning("stock low")
try:
    charge_card()
except ValueError:
    log.exception("payment failed")
""",
        tmp_path,
    )
    assert_logged(
        rows,
        [
            ("info", "checkout opened"),
            ("warn", "stock low"),
            ("error", "payment failed"),
        ],
        dialect="structlog",
        started=started,
    )
    assert rows[0]["user_id"] == "u_1"
    assert rows[0]["details"]["cart"] == 3
    assert_exception(rows[2], script)


async def test_loguru(engine: Engine, tmp_path: Path) -> None:
    started = time.time()
    rows, script = await run(
        engine,
        """
import sys
from loguru import logger
logger.remove()
logger.add(sys.stdout, serialize=True)
logger.bind(user_id="u_1").info("checkout opened")
logger.success("order placed")
logger.warning("stock low")
try:
    charge_card()
except ValueError:
    logger.exception("payment failed")
""",
        tmp_path,
    )
    assert_logged(
        rows,
        [
            ("info", "checkout opened"),
            ("info", "order placed"),
            ("warn", "stock low"),
            ("error", "payment failed"),
        ],
        dialect="loguru",
        started=started,
    )
    for row in rows:
        assert row["details"]["logger"] == "__main__"
        assert row["details"]["caller"].startswith(f"{script}:")
    assert rows[0]["user_id"] == "u_1"
    assert rows[1]["details"]["level"] == "SUCCESS"
    assert_exception(rows[3], script)


async def test_python_json_logger(engine: Engine, tmp_path: Path) -> None:
    started = time.time()
    rows, script = await run(
        engine,
        """
import logging, sys
from pythonjsonlogger.json import JsonFormatter
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
logging.basicConfig(level=logging.INFO, handlers=[handler])
log = logging.getLogger("shop")
log.info("checkout opened", extra={"user_id": "u_1"})
log.warning("stock low")
log.critical("disk full")
try:
    charge_card()
except ValueError:
    log.exception("payment failed")
""",
        tmp_path,
    )
    assert_logged(
        rows,
        [
            ("info", "checkout opened"),
            ("warn", "stock low"),
            ("error", "disk full"),
            ("error", "payment failed"),
        ],
        dialect="python-json-logger",
        started=started,  # asctime is local time without an offset: read as local
    )
    for row in rows:
        assert row["details"]["logger"] == "shop"
    assert rows[0]["user_id"] == "u_1"
    assert rows[2]["details"]["level"] == "CRITICAL"
    assert_exception(rows[3], script)


async def test_stdlib_logging_default_format_is_read_as_text(engine: Engine, tmp_path: Path) -> None:
    """No JSON at all: ``logging.basicConfig()``'s ``LEVEL:name:message`` lines on stderr,
    the traceback of ``log.exception`` joined into its line's event."""
    started = time.time()
    rows, script = await run(
        engine,
        """
import logging
logging.basicConfig(level=logging.INFO)
log = logging.getLogger("shop")
log.info("checkout opened")
log.warning("stock low")
try:
    charge_card()
except ValueError:
    log.exception("payment failed")
log.info("still serving")
""",
        tmp_path,
    )
    assert_logged(
        rows,
        [
            ("info", "checkout opened"),
            ("warn", "stock low"),
            ("error", "payment failed"),
            ("info", "still serving"),
        ],
        dialect="text",
        started=started,
    )
    for row in rows:
        assert row["details"]["logger"] == "shop"
    assert_exception(rows[2], script)
    assert "text" not in rows[2]["details"]  # the traceback is in the exception, not repeated


async def test_uncaught_python_exception_is_one_error(engine: Engine, tmp_path: Path) -> None:
    """What an app dying of an exception prints on stderr becomes one error event."""
    script = tmp_path / "crash.py"
    script.write_text(RAISES + "print('starting')\ncharge_card()\n")
    process = await asyncio.create_subprocess_exec(
        "python3", str(script), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    assert process.returncode == 1
    await ingest(engine, output)
    rows = await stored(engine)
    assert [(row["level"], row["message"]) for row in rows] == [
        ("info", "starting"),
        ("error", "ValueError: card 4242 declined"),
    ]
    assert_exception(rows[1], script)
