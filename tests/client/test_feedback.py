"""User feedback end to end: ``POST /v1/feedback`` and ``EventLogger.feedback()`` into a real
sidelog, stored in category ``feedback`` and linked to the session's recent error groups."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.pipeline.queue import Origin
from tests.client.conftest import MakeLogger, flush, stored
from tests.conftest import tcp_port
from tests.integration.http_support import http_base, start


@pytest.fixture
async def sidelog(make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    """A real sidelog with TCP and HTTP on free ports."""
    engine = await start(make_settings(http="127.0.0.1:0", enable_system_logging=False))
    yield engine
    await engine.stop()


async def rows(engine: Engine, where: str) -> list[dict[str, Any]]:
    await engine.wait_committed(Origin("test"))
    return stored(engine.settings.db, where)


async def post(engine: Engine, path: str, body: Any, **headers: str) -> tuple[int, Any]:
    """POST JSON (or raw bytes) and return the status and decoded JSON answer."""
    data = io.BytesIO(body) if isinstance(body, bytes) else io.BytesIO(json.dumps(body).encode())
    headers.setdefault("Content-Type", "application/json")
    async with (
        aiohttp.ClientSession() as http,
        http.post(http_base(engine) + path, data=data, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


def error(message: str, session: str, kind: str = "TypeError") -> dict[str, Any]:
    stack = f"{kind}: {message}\n    at pay (app.js:1:1)"
    return {
        "message": f"{kind}: {message}",
        "type": "error",
        "category": "payment",
        "sessionId": session,
        "details": {"exception": {"type": kind, "message": message, "stack": stack}},
    }


async def test_the_python_client_feedback_is_linked_to_its_sessions_recent_errors(
    sidelog: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(sidelog)}")
    for exc, session in ((ValueError("bad amount"), "s-1"), (KeyError("cart"), "s-1"), (OSError("x"), "s-2")):
        try:
            raise exc
        except Exception as caught:
            log.error(caught, category="payment", session_id=session, user_id="u-1")
    assert await flush(log)
    errors = await rows(sidelog, "level = 'error'")
    mine = [row["fingerprint"] for row in errors if row["session_id"] == "s-1"]
    assert len(set(mine)) == 2

    log.feedback("The export never finishes", email="ada@example.test", session_id="s-1", user_id="u-1")
    assert await flush(log)
    (report,) = await rows(sidelog, "category = 'feedback'")
    assert (report["level"], report["message"], report["session_id"], report["user_id"]) == (
        "info",
        "The export never finishes",
        "s-1",
        "u-1",
    )
    assert report["details"]["email"] == "ada@example.test"
    assert report["details"]["related_groups"] == mine[::-1]  # newest first, s-2's error left out


async def test_post_feedback_stores_the_report_and_answers_its_links(sidelog: Engine) -> None:
    status, answer = await post(sidelog, "/v1/events?wait=true", [error("a is undefined", "s-9")])
    assert status == 200
    (err,) = await rows(sidelog, "level = 'error'")
    report = {
        "message": "The pay button does nothing",
        "email": "ada@example.test",
        "sessionId": "s-9",
        "userId": "u-9",
        "url": "http://localhost:3000/pay?reset_token=abc",
        "userAgent": "Mozilla/5.0 Test",
    }
    status, answer = await post(sidelog, "/v1/feedback", report)
    assert status == 201
    (row,) = await rows(sidelog, "category = 'feedback'")
    assert answer == {"id": row["id"], "relatedGroups": [err["fingerprint"]]}
    assert (row["message"], row["level"], row["session_id"], row["user_id"], row["user_agent"]) == (
        "The pay button does nothing",
        "info",
        "s-9",
        "u-9",
        "Mozilla/5.0 Test",
    )
    assert row["url"] == "http://localhost:3000/pay?reset_token=[redacted]"
    assert row["details"] == {"email": "ada@example.test", "related_groups": [err["fingerprint"]]}


async def test_an_error_in_the_same_batch_is_linked_and_a_report_without_session_has_no_links(
    sidelog: Engine,
) -> None:
    batch = [
        error("first", "s-3", "RangeError"),
        {"message": "it broke", "category": "feedback", "sessionId": "s-3"},
    ]
    status, _ = await post(sidelog, "/v1/events?wait=true", batch)
    assert status == 200
    status, answer = await post(sidelog, "/v1/feedback", {"message": "no session here", "email": None})
    assert (status, answer["relatedGroups"]) == (201, [])
    (err,) = await rows(sidelog, "level = 'error'")
    linked, lonely = await rows(sidelog, "category = 'feedback'")
    assert linked["details"] == {"related_groups": [err["fingerprint"]]}
    assert lonely["details"] is None


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"", 400, "body is empty"),
        (b"{not json", 400, "body is not JSON"),
        ([{"message": "x"}], 400, "body must be one JSON object"),
        ({"email": "a@b.c"}, 400, "message must be a non-empty string"),
        ({"message": "   "}, 400, "message must be a non-empty string"),
        ({"message": "x", "mail": "a@b.c"}, 400, "unknown field 'mail'"),
        ({"message": "x", "email": 7}, 400, "email must be a string or null"),
        ({"message": "x", "sessionId": ["s"]}, 400, "sessionId must be a string or null"),
        ({"message": "x", "userId": "u" * 9000}, 400, "userId"),
    ],
)
async def test_bad_reports_get_a_one_line_reason_and_store_nothing(
    sidelog: Engine, body: Any, status: int, reason: str
) -> None:
    got, answer = await post(sidelog, "/v1/feedback", body, **{"Content-Type": "application/json"})
    assert got == status
    assert reason in answer["error"]
    assert "\n" not in answer["error"]
    assert await rows(sidelog, "category = 'feedback'") == []
    assert sidelog.counters.rejected == 1


async def test_feedback_has_the_same_origin_type_and_size_rules_as_events(sidelog: Engine) -> None:
    report = {"message": "x"}
    status, answer = await post(sidelog, "/v1/feedback", report, Origin="https://evil.example")
    assert status == 403
    status, answer = await post(
        sidelog, "/v1/feedback", b"message=x", **{"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 415
    huge = {"message": "x" * (sidelog.limits.max_line_bytes + 10)}
    status, answer = await post(sidelog, "/v1/feedback", huge)
    assert status == 413
    status, answer = await post(sidelog, "/v1/feedback?wait=true", report)
    assert (status, "unknown parameter 'wait'" in answer["error"]) == (400, True)
    status, answer = await post(sidelog, "/v1/feedback", report, Origin="http://localhost:5173")
    assert status == 201
    (row,) = await rows(sidelog, "category = 'feedback'")
    assert row["source"] == "client"  # from a page, like the browser client's events


async def test_a_flood_of_reports_is_rate_limited(make_settings: Callable[..., Settings]) -> None:
    engine = await start(make_settings(http="127.0.0.1:0", enable_system_logging=False, rate_limit_burst=3))
    try:
        statuses = [(await post(engine, "/v1/feedback", {"message": f"report {n}"}))[0] for n in range(5)]
        assert statuses == [201, 201, 201, 429, 429]
        assert len(await rows(engine, "category = 'feedback'")) == 3
    finally:
        await engine.stop()
