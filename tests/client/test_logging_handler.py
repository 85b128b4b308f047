"""``sidelog_client.logging.SidelogHandler``: stdlib records become events with their fields intact."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import sidelog.logging as sidelog_logging
import sidelog_client.logging as client_logging
from sidelog.engine import Engine
from sidelog_client.logging import SidelogHandler, level_name
from tests.client.conftest import MakeLogger, flush, stored
from tests.conftest import tcp_port


@pytest.fixture
def app_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("shop.checkout")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger
    logger.handlers.clear()


def test_the_stdlib_is_not_shadowed() -> None:
    """Modules named ``logging`` (the client's, the tool's re-export) must not hide the standard library."""
    import sidelog.engine
    import sidelog.pipeline.batcher

    assert logging.__name__ == "logging"
    assert logging.Handler.__module__ == "logging"
    assert client_logging.logging is logging
    assert sidelog_logging.SidelogHandler is SidelogHandler
    assert sidelog.engine.logging is logging
    assert sidelog.pipeline.batcher.logging is logging


@pytest.mark.parametrize(
    ("levelno", "name"),
    [
        (logging.DEBUG, "debug"),
        (5, "debug"),
        (logging.INFO, "info"),
        (logging.WARNING, "warn"),
        (35, "warn"),
        (logging.ERROR, "error"),
        (logging.CRITICAL, "error"),
    ],
)
def test_level_mapping(levelno: int, name: str) -> None:
    assert level_name(levelno) == name


def charge_card() -> None:
    raise ConnectionError("gateway timed out")


async def test_records_keep_name_level_message_exception_and_stack(
    engine: Engine, make_logger: MakeLogger, app_logger: logging.Logger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    app_logger.addHandler(SidelogHandler(log, category="shop"))

    app_logger.debug("cart has %d items", 3)
    app_logger.warning(
        "low stock for %s", "sku-1", extra={"category": "Inventory", "user_id": "u1", "warehouse": "north"}
    )
    try:
        charge_card()
    except ConnectionError:
        app_logger.critical("payment failed for order %s", 42, exc_info=True, extra={"session_id": "s9"})
    app_logger.info("where am I", stack_info=True)

    assert await flush(log)
    debug, warning, critical, info = stored(engine.settings.db)

    assert (debug["level"], debug["message"], debug["category"]) == ("debug", "cart has 3 items", "shop")
    assert debug["details"]["logger"] == "shop.checkout"
    assert debug["details"]["funcName"] == "test_records_keep_name_level_message_exception_and_stack"
    assert debug["details"]["pathname"] == __file__
    assert isinstance(debug["details"]["lineno"], int)

    assert (warning["level"], warning["message"]) == ("warn", "low stock for sku-1")
    assert (warning["category"], warning["user_id"]) == ("inventory", "u1")
    assert warning["details"]["warehouse"] == "north"

    assert (critical["level"], critical["message"]) == ("error", "payment failed for order 42")
    assert critical["session_id"] == "s9"
    exception = critical["details"]["exception"]
    assert exception["type"] == "ConnectionError"
    assert exception["message"] == "gateway timed out"
    assert "in charge_card" in exception["stack"]
    assert critical["fingerprint"] is not None

    assert info["level"] == "info"
    assert "Stack (most recent call last):" in info["details"]["stack_info"]
    assert "exception" not in info["details"]


def test_a_failing_record_goes_to_handle_error_not_the_caller(
    make_logger: MakeLogger, app_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    handled: list[logging.LogRecord] = []
    handler = SidelogHandler(make_logger("127.0.0.1:9"))
    monkeypatch.setattr(handler, "handleError", handled.append)
    app_logger.addHandler(handler)
    app_logger.info("%d apples", "not a number")  # getMessage() raises inside emit
    assert len(handled) == 1
