"""``/v1/logging``: the standard library's ``logging.handlers.HTTPHandler``, unchanged, on a real server."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.handlers
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from tests.support.wait import until

# CPython's HTTPHandler (3.11) never closes its connection after reading the answer.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture
async def served(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[Engine, str]]:
    running = await start_server(make_settings(http="127.0.0.1:0"))
    address = dict(running.engine.endpoints)["http"]
    yield running.engine, address
    await running.stop()


def _stored(engine: Engine) -> list[dict[str, Any]]:
    with sqlite3.connect(engine.settings.db) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT level, message, category, source, timestamp, details FROM events "
            "WHERE source != 'system' ORDER BY id"
        ).fetchall()
    return [{**dict(row), "details": json.loads(row["details"] or "null")} for row in rows]


def _logger(address: str, method: str, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.handlers.HTTPHandler(address, "/v1/logging", method=method))
    return logger


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_http_handler_records_are_stored(served: tuple[Engine, str], method: str) -> None:
    engine, address = served
    logger = _logger(address, method, f"shop.checkout.{method.lower()}")
    before = time.time()

    def log_them() -> None:
        logger.warning("payment %s failed after %d tries", "p_1", 3)
        try:
            raise ValueError("card declined")
        except ValueError:
            logger.exception("charge crashed")
        logger.log(25, "custom level %s", "x")

    await asyncio.to_thread(log_them)
    await until(lambda: len(_stored(engine)) == 3, message="three records stored")
    warn, error, custom = _stored(engine)
    assert (warn["level"], warn["message"]) == ("warn", "payment p_1 failed after 3 tries")
    assert warn["category"] == f"shop.checkout.{method.lower()}"
    assert abs(warn["timestamp"] / 1000 - before) < 30
    assert warn["details"]["dialect"] == "logging"
    assert warn["details"]["caller"].rsplit(":", 1)[0].endswith("test_http_logging.py")
    assert warn["details"]["function"] == "log_them"
    assert (error["level"], error["message"]) == ("error", "charge crashed")
    assert error["details"]["exception"]["type"] == "ValueError"
    assert error["details"]["exception"]["message"] == "card declined"
    assert custom["level"] == "info"
    assert custom["details"]["level"] == "Level 25"
    health = await engine.health()
    assert health.counters["dialects"]["logging"] == 3


async def test_exc_text_from_an_earlier_formatter_gives_the_traceback(served: tuple[Engine, str]) -> None:
    engine, address = served
    logger = _logger(address, "POST", "worker")
    # A console handler first: its formatter fills exc_text, which HTTPHandler then sends.
    console = logging.StreamHandler(io.StringIO())
    logger.handlers.insert(0, console)

    def log_it() -> None:
        try:
            {}["missing"]
        except KeyError:
            logger.error("lookup failed", exc_info=True, extra={"userId": "u_7", "job": "sync"})

    await asyncio.to_thread(log_it)
    await until(lambda: len(_stored(engine)) == 1, message="record stored")
    (row,) = _stored(engine)
    exception = row["details"]["exception"]
    assert exception["type"] == "KeyError"
    assert "Traceback (most recent call last)" in exception["stack"]
    assert "log_it" in exception["stack"]
    assert row["details"]["job"] == "sync"
    with sqlite3.connect(engine.settings.db) as db:
        assert db.execute("SELECT user_id FROM events WHERE message = 'lookup failed'").fetchone() == ("u_7",)


async def test_bad_input_is_refused_with_a_reason(served: tuple[Engine, str]) -> None:
    engine, address = served
    url = f"http://{address}/v1/logging"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as session:
        cases: list[tuple[str, str, bytes, dict[str, str], int, str]] = [
            ("POST", "", b"levelname=INFO", form, 400, "msg is required"),
            ("POST", "", b"", form, 400, "empty record"),
            ("POST", "", b"msg=%FF%FE", form, 400, "not a valid form"),
            ("POST", "", b"msg=x", {"Content-Type": "application/json"}, 415, "form"),
            ("POST", "", b"msg=x&" * 2000, form, 400, "more than 1000 fields"),
            ("POST", "", b"msg=" + b"a" * (2 << 20), form, 413, "larger than"),
            ("POST", "", b"msg=hi", {**form, "Origin": "http://localhost:3000"}, 403, "not from a browser"),
            ("POST", "", b"msg=hi", {**form, "Origin": "https://evil.example"}, 403, ""),
            ("GET", "?msg=hi", b"", {"Sec-Fetch-Site": "cross-site"}, 403, "browser"),
        ]
        for method, query, data, headers, status, reason in cases:
            async with session.request(
                method, url + query, data=io.BytesIO(data), headers=headers
            ) as response:
                body = await response.json()
                assert response.status == status, body
                assert reason in body["error"]
                assert "\n" not in body["error"]
        # A template asking for a huge width is not rendered: shown with its arguments instead.
        async with session.post(url, data=b"msg=%25999999999d&args=%281%2C%29", headers=form) as response:
            assert response.status == 202
    await until(lambda: len(_stored(engine)) == 1, message="the one valid record stored")
    (row,) = _stored(engine)
    assert row["message"] == "%999999999d (1,)"
    assert engine.counters.rejected == 4  # the 413 and 415 are refusals of the request, counted apart
