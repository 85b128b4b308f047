"""Snoozing error groups over real HTTP: snooze for a time or for N events, wake by DELETE
or POST, ``GET /v1/errors`` hiding snoozed groups unless ``?snoozed=include``, and the
resolve route's protections (JSON only, never cross-site, read-only tokens refused)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.events import now_ms
from tests.integration.http_support import http_base, start
from tests.support.groups import add_groups

pytest_plugins = ["tests.integration.http_fixtures"]

JSON = {"Content-Type": "application/json"}
VIEWER = "viewer-Jd8Fq2Lp6Xs4Nv9Tb3Kw7Mr1"


@pytest.fixture
async def three(make_settings: Callable[..., Settings], tmp_path: Path) -> AsyncIterator[Engine]:
    """A running engine over three unresolved groups (fp000000 oldest … fp000002 newest),
    with a read-only token ``VIEWER``."""
    tokens = tmp_path / "tokens"
    tokens.write_text(f"grafana {VIEWER} read-only\n")
    tokens.chmod(0o600)
    settings = make_settings(http="127.0.0.1:0", tokens_file=tokens)
    add_groups(settings.db, 3)
    engine = await start(settings)
    yield engine
    await engine.stop()


async def call(client: Any, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with client.request(method, url, **kwargs) as response:
        return response.status, await response.json()


async def listed(client: Any, base: str, query: str = "") -> list[str]:
    status, body = await call(client, "GET", f"{base}/v1/errors{query}")
    assert status == 200, body
    return [group["fingerprint"] for group in body["errors"]]


async def test_snooze_for_a_time_hides_until_included_then_wake(three: Engine, client: Any) -> None:
    base = http_base(three)
    before = now_ms()
    status, body = await call(
        client, "POST", f"{base}/v1/errors/fp000001/snooze", data=b'{"for": "1h"}', headers=JSON
    )
    assert status == 200, body
    group = body["group"]
    assert group["fingerprint"] == "fp000001"
    assert before + 3_600_000 <= group["snoozedUntil"] <= now_ms() + 3_600_000
    assert group["snoozedUntilCount"] is None
    assert await listed(client, base) == ["fp000002", "fp000000"]
    status, body = await call(client, "GET", f"{base}/v1/errors?snoozed=include")
    assert status == 200
    shown = {g["fingerprint"]: (g["snoozedUntil"], g["snoozedUntilCount"]) for g in body["errors"]}
    assert shown == {
        "fp000002": (None, None),
        "fp000001": (group["snoozedUntil"], None),
        "fp000000": (None, None),
    }
    # DELETE wakes it (no body, no content type needed)
    status, body = await call(client, "DELETE", f"{base}/v1/errors/fp000001/snooze")
    assert status == 200, body
    assert body["group"]["snoozedUntil"] is None
    assert await listed(client, base) == ["fp000002", "fp000001", "fp000000"]


async def test_snooze_for_events_counts_from_now_and_post_wake(three: Engine, client: Any) -> None:
    base = http_base(three)
    count = (await three.reader.group("fp000002")).count  # type: ignore[union-attr]
    for payload in (b'{"events": 100}', b'{"for": "+100"}', b'{"for": "100 events"}'):
        status, body = await call(
            client, "POST", f"{base}/v1/errors/fp000002/snooze", data=payload, headers=JSON
        )
        assert status == 200, (payload, body)
        assert body["group"]["snoozedUntilCount"] == count + 100
        assert body["group"]["snoozedUntil"] is None
    assert await listed(client, base) == ["fp000001", "fp000000"]
    status, body = await call(client, "POST", f"{base}/v1/errors/fp000002/wake", data=b"", headers=JSON)
    assert status == 200, body
    assert body["group"]["snoozedUntilCount"] is None
    assert "fp000002" in await listed(client, base)


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (b"", 'body must be JSON like {"for": "1h"} or {"events": 100}'),
        (b"not json", "the body is not JSON"),
        (b'{"for": "1h", "events": 5}', "exactly one of the two"),
        (b'{"until": "1h"}', "exactly one of the two"),
        (b'{"for": "-5m"}', "a snooze lasts into the future"),
        (b'{"for": "99999y"}', "snooze must be"),
        (b'{"for": "400d"}', "at most 366 days"),
        (b'{"for": "15"}', "ambiguous"),
        (b'{"for": 3600}', "for must be a string"),
        (b'{"events": 0}', "events must be a whole number from 1"),
        (b'{"events": true}', "events must be a whole number from 1"),
        (b'{"events": 1.5}', "events must be a whole number from 1"),
    ],
)
async def test_bad_bodies_are_one_line_400s(three: Engine, client: Any, payload: bytes, needle: str) -> None:
    url = f"{http_base(three)}/v1/errors/fp000001/snooze"
    status, body = await call(client, "POST", url, data=payload, headers=JSON)
    assert status == 400, body
    assert needle in body["error"]
    assert "\n" not in body["error"]
    assert len(await listed(client, http_base(three))) == 3  # nothing was snoozed


async def test_unknown_and_resolved_groups(three: Engine, client: Any) -> None:
    base = http_base(three)
    status, body = await call(
        client, "POST", f"{base}/v1/errors/nope/snooze", data=b'{"for": "1h"}', headers=JSON
    )
    assert status == 404
    assert body["error"] == "no error group with fingerprint 'nope'"
    status, body = await call(client, "DELETE", f"{base}/v1/errors/nope/snooze")
    assert status == 404
    assert await three.resolve("fp000000") is not None
    status, body = await call(
        client, "POST", f"{base}/v1/errors/fp000000/snooze", data=b'{"for": "1h"}', headers=JSON
    )
    assert status == 409
    assert "only an unresolved group can be snoozed" in body["error"]
    status, body = await call(client, "GET", f"{base}/v1/errors?snoozed=sometimes")
    assert status == 400
    assert body["error"] == "snoozed must be hide or include, got 'sometimes'"


async def test_protections_of_the_resolve_route(three: Engine, client: Any) -> None:
    base = http_base(three)
    url = f"{base}/v1/errors/fp000001/snooze"
    # a form post (the request a page can send without a preflight) is refused
    status, body = await call(
        client, "POST", url, data=b'{"for": "1h"}', headers={"Content-Type": "text/plain"}
    )
    assert status == 415
    assert "needs Content-Type: application/json" in body["error"]
    status, body = await call(
        client, "POST", f"{base}/v1/errors/fp000001/wake", data=b"", headers={"Content-Type": "text/plain"}
    )
    assert status == 415
    for method, path in (("POST", "snooze"), ("DELETE", "snooze"), ("POST", "wake")):
        headers = {**JSON, "Sec-Fetch-Site": "cross-site"}
        data = b'{"for": "1h"}' if path == "snooze" else None
        status, body = await call(
            client, method, f"{base}/v1/errors/fp000001/{path}", data=data, headers=headers
        )
        assert status == 403, (method, path)
        assert "refuses cross-site requests" in body["error"]
        status, body = await call(
            client,
            method,
            f"{base}/v1/errors/fp000001/{path}",
            data=data,
            headers={**JSON, "Authorization": f"Bearer {VIEWER}"},
        )
        assert status == 403, (method, path)
        assert "is read-only" in body["error"]
    status, body = await call(client, "DELETE", url, data=b'{"x": 1}')
    assert status == 400
    assert body["error"] == f"DELETE {url.removeprefix(base)} takes no body"
    assert len(await listed(client, base)) == 3  # nothing refused was snoozed
