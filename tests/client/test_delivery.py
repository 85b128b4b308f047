"""EventLogger against a real engine: fields intact, acknowledged flush, toggles, Unix socket."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from sidelog_client.logger import EventLogger
from tests.client.conftest import MakeLogger, flush, stored, wait_until
from tests.conftest import tcp_port


def place_order(amount: int) -> None:
    raise ValueError(f"amount {amount} is over the limit")


async def test_event_fields_arrive_intact(engine: Engine, make_logger: MakeLogger) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    log.event(
        "user signed in",
        category="Auth",
        level="warning",
        details={"method": "password", "attempt": 2},
        user_id="u1",
        session_id="s1",
        url="http://localhost:3000/login",
        show_to_user=True,
        user_message="Welcome back",
        plan="pro",
    )
    log.user_action("clicked checkout", button="buy", user_id="u2")
    try:
        place_order(1200)
    except ValueError as exc:
        log.error(exc, user_id="u3", order=42)
    log.error("payment gateway unreachable", category="payment", level="warn")

    assert await flush(log) is True

    rows = stored(engine.settings.db)
    assert len(rows) == 4
    signed_in, action, error, plain = rows
    assert signed_in["message"] == "user signed in"
    assert signed_in["category"] == "auth"
    assert signed_in["level"] == "warn"
    assert signed_in["details"] == {"method": "password", "attempt": 2, "plan": "pro"}
    assert (signed_in["user_id"], signed_in["session_id"]) == ("u1", "s1")
    assert signed_in["url"] == "http://localhost:3000/login"
    assert (signed_in["show_to_user"], signed_in["user_message"]) == (1, "Welcome back")
    assert signed_in["source"] == "server"
    assert abs(signed_in["timestamp"] - signed_in["received_at"]) < 5_000

    assert (action["message"], action["category"], action["level"]) == ("clicked checkout", "ui", "info")
    assert action["details"] == {"button": "buy"}
    assert action["user_id"] == "u2"

    assert error["level"] == "error"
    assert error["category"] == "error"
    assert error["message"] == "ValueError: amount 1200 is over the limit"
    assert error["user_id"] == "u3"
    assert error["details"]["order"] == 42
    exception = error["details"]["exception"]
    assert exception["type"] == "ValueError"
    assert exception["message"] == "amount 1200 is over the limit"
    assert exception["stack"].startswith("Traceback (most recent call last):")
    assert 'in place_order\n    raise ValueError(f"amount {amount} is over the limit")' in exception["stack"]
    assert error["fingerprint"] is not None
    assert error["resolved"] == 0

    assert (plain["message"], plain["category"], plain["level"]) == (
        "payment gateway unreachable",
        "payment",
        "warn",
    )

    uids = [row["event_uid"] for row in rows]
    assert all(uids)
    assert len(set(uids)) == 4


async def test_same_error_twice_groups_by_type_and_top_frame(engine: Engine, make_logger: MakeLogger) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    for amount in (10, 20):
        try:
            place_order(amount)
        except ValueError as exc:
            log.error(exc)
    log.error(KeyError("never raised"))  # no traceback: the caller's stack is sent instead
    assert await flush(log)
    first, second, unraised = stored(engine.settings.db)
    assert first["fingerprint"] == second["fingerprint"]
    stack = unraised["details"]["exception"]["stack"]
    assert "test_same_error_twice_groups_by_type_and_top_frame" in stack
    assert stack.rstrip().endswith("KeyError: 'never raised'")


async def test_flush_waits_for_the_servers_acknowledgement(engine: Engine, make_logger: MakeLogger) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}", batch_interval_ms=60_000, batch_size=10_000)
    assert await flush(log) is True  # nothing logged: trivially settled
    for i in range(1234):
        log.event(f"event {i}")
    # A one-minute interval: only flush() gets these out, and it returns once they are committed.
    assert await flush(log) is True
    assert len(stored(engine.settings.db)) == 1234
    stats = log.stats()
    assert stats["server"] == {"ok": True, "stored": 1234}
    assert stats["acknowledged"] == 1234
    assert stats["buffered"] == 0
    assert stats["dropped"] == 0


async def test_batches_go_out_on_their_own_by_size(engine: Engine, make_logger: MakeLogger) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}", batch_interval_ms=60_000, batch_size=5)
    for i in range(5):
        log.event(f"event {i}")
    await wait_until(lambda: len(stored(engine.settings.db)) == 5)


async def test_odd_values_never_raise_and_still_arrive(engine: Engine, make_logger: MakeLogger) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

        __repr__ = __str__

    log.event("odd details", details={"when": {1, 2}, "raw": b"\xff", "obj": Unprintable(), 3: "int key"})
    log.event("", level="loud", category="")  # empty message, unknown level: fixed up, not lost
    log.error(Unprintable())  # type: ignore[arg-type]
    assert await flush(log)
    odd, empty = stored(engine.settings.db)[:2]
    assert odd["details"]["when"] == [1, 2]
    assert odd["details"]["raw"] == "\ufffd"
    assert odd["details"]["3"] == "int key"
    assert odd["details"]["obj"].startswith("<unprintable")
    assert (empty["message"], empty["level"], empty["category"]) == ("(empty message)", "info", "general")
    assert empty["details"] == {"level_given": "loud"}
    assert log.stats()["rejected"] == 0


async def test_log_level_filters_at_the_source(
    engine: Engine, make_logger: MakeLogger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "warn")
    monkeypatch.setenv("SIDELOG_ADDRESS", f"127.0.0.1:{tcp_port(engine)}")
    log = EventLogger(reconnect_min_s=0.02)
    try:
        log.event("debug", level="debug")
        log.event("info")
        log.event("warn", level="WARNING")
        log.error("error")
        assert await flush(log)
    finally:
        log.close(0.5)
    assert [row["message"] for row in stored(engine.settings.db)] == ["warn", "error"]


@pytest.mark.parametrize(
    ("env", "source"),
    [
        ({"ENABLE_EVENT_LOGGING": "false"}, "server"),
        ({"SIDELOG_ENABLE_SERVER_LOGGING": "0"}, "middleware"),
        ({"ENABLE_CLIENT_LOGGING": "no"}, "client"),
        ({"SIDELOG_ADDRESS": "off"}, "server"),
    ],
)
def test_toggles_turn_every_call_into_a_no_op(
    env: dict[str, str], source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    log = EventLogger(source=source)
    try:
        log.event("x")
        log.error(ValueError("x"))
        log.user_action("x")
        assert log.flush(0.1) is True
        assert log.stats() == {"enabled": False}
    finally:
        log.close()


def test_toggles_are_also_read_from_dotenv_files(tmp_path: Path) -> None:
    assert Path.cwd() == tmp_path  # the shared fixture runs every test in tmp_path
    (tmp_path / ".env.local").write_text("ENABLE_EVENT_LOGGING=false\n")
    log = EventLogger()
    try:
        assert log.stats() == {"enabled": False}
    finally:
        log.close()


async def test_unix_socket_address(make_settings: Callable[..., Settings], make_logger: MakeLogger) -> None:
    path = Path(f"/tmp/sidelog-client-{os.getpid()}.sock")  # short: AF_UNIX paths are limited to ~100 bytes
    engine = (await start_server(make_settings(tcp="off", unix=path))).engine
    try:
        log = make_logger(f"unix:{path}", source="api")
        log.event("over unix")
        assert await flush(log)
        rows = stored(engine.settings.db)
        assert [(row["message"], row["source"]) for row in rows] == [("over unix", "api")]
    finally:
        await engine.stop()


async def test_close_flushes_and_later_calls_are_no_ops(engine: Engine, make_logger: MakeLogger) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}", batch_interval_ms=60_000)
    log.event("before close")
    assert await asyncio.to_thread(log.close, 5.0) is True
    log.event("after close")
    log.error(ValueError("after close"))
    assert log.flush(0.1) is True
    assert [row["message"] for row in stored(engine.settings.db)] == ["before close"]
