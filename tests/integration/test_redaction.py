"""Credentials never reach the disk: redaction on the real socket path, and its setting."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from sidelog.config import Settings
from sidelog.redact import REDACTED
from sidelog.server import start_server
from tests.conftest import send_lines, tcp_port

EVENT = {
    "message": "callback",
    "url": "https://app.test/cb?code=1&access_token=abc",
    "details": {"headers": {"Authorization": "Bearer abc", "accept": "json"}, "orderId": 7},
    "password": "hunter2",  # an unknown top-level field lands in details, redacted too
}


async def stored(make_settings: Callable[..., Settings], **settings: object) -> tuple[str, dict[str, object]]:
    engine = (await start_server(make_settings(**settings))).engine
    try:
        replies = await send_lines(tcp_port(engine), json.dumps(EVENT).encode() + b"\n")
        assert replies[-1]["stored"] == 1
    finally:
        await engine.stop()
    with sqlite3.connect(engine.settings.db) as db:
        url, details = db.execute(
            "SELECT url, details FROM events WHERE message = 'callback' ORDER BY id DESC"
        ).fetchone()
    return url, json.loads(details)


async def test_secrets_are_redacted_before_storage(make_settings: Callable[..., Settings]) -> None:
    url, details = await stored(make_settings)
    assert url == f"https://app.test/cb?code=1&access_token={REDACTED}"
    assert details == {
        "headers": {"Authorization": REDACTED, "accept": "json"},
        "orderId": 7,
        "password": REDACTED,
    }


async def test_the_word_list_is_a_setting(make_settings: Callable[..., Settings]) -> None:
    url, details = await stored(make_settings, redact_keys="orderid")
    assert url == EVENT["url"]
    assert details["orderId"] == REDACTED
    assert details["password"] == "hunter2"
    url, details = await stored(make_settings, redact_keys="")  # off: stored as sent
    assert url == EVENT["url"]
    assert details["password"] == "hunter2"
    assert details["headers"] == {"Authorization": "Bearer abc", "accept": "json"}
