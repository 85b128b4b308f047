"""GET /v1/errors a page at a time: every group exactly once in every sort, no duplicate
when groups arrive between pages, and one-line 400s for a bad limit, sort or cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.store.group_pages import SORTS, GroupCursor
from tests.integration.http_support import http_base, start
from tests.support.groups import add_groups

pytest_plugins = ["tests.integration.http_fixtures"]


@pytest.fixture
async def with_groups(
    make_settings: Callable[..., Settings], request: pytest.FixtureRequest
) -> AsyncIterator[Engine]:
    """A running engine over a store prefilled with ``request.param`` (default 250) groups."""
    settings = make_settings(http="127.0.0.1:0")
    add_groups(settings.db, getattr(request, "param", 250))
    engine = await start(settings)
    yield engine
    await engine.stop()


async def get_json(client: Any, url: str) -> tuple[int, Any]:
    async with client.get(url) as response:
        return response.status, await response.json()


async def walk(client: Any, base: str, query: str) -> tuple[list[dict[str, Any]], int]:
    """Every group the pages of ``query`` list, in order, and the number of pages."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        url = f"{base}/v1/errors?{query}" + (f"&next={cursor}" if cursor else "")
        status, body = await get_json(client, url)
        assert status == 200, body
        seen.extend(body["errors"])
        pages += 1
        cursor = body["next"]
        if cursor is None:
            return seen, pages


def wire_key(group: dict[str, Any], sort: str) -> tuple[Any, ...]:
    values = {
        "last_seen": group["lastSeen"],
        "count": group["count"],
        "first_seen": group["firstSeen"],
        "regressed": int(group["regressed"]),
        "last_event_id": group["lastEventId"] or 0,
    }
    return (*(values[column] for column in SORTS[sort]), group["fingerprint"])


@pytest.mark.parametrize("sort", list(SORTS))
async def test_pages_joined_are_every_group_once_in_order(
    with_groups: Engine, client: Any, sort: str
) -> None:
    seen, pages = await walk(client, http_base(with_groups), f"sort={sort}&limit=60")
    fingerprints = [group["fingerprint"] for group in seen]
    assert sorted(fingerprints) == [f"fp{i:06d}" for i in range(250)]  # each exactly once
    assert pages == 5
    keys = [wire_key(group, sort) for group in seen]
    assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize("with_groups", [210], indirect=True)
async def test_default_page_and_answer_shape(with_groups: Engine, client: Any) -> None:
    http_engine = with_groups
    status, body = await get_json(client, f"{http_base(http_engine)}/v1/errors")
    assert status == 200
    assert len(body["errors"]) == 200
    assert body["sort"] == "last_seen"
    assert body["errors"][0]["fingerprint"] == "fp000209"  # newest activity first
    assert set(body["errors"][0]) >= {"fingerprint", "count", "lastSeen", "firstSeen", "regressed"}
    assert GroupCursor.decode(body["next"]).fingerprint == body["errors"][-1]["fingerprint"]
    status, body = await get_json(client, f"{http_base(http_engine)}/v1/errors?next={body['next']}")
    assert [group["fingerprint"] for group in body["errors"]] == [f"fp{i:06d}" for i in range(9, -1, -1)]
    assert body["next"] is None


@pytest.mark.parametrize("sort", ["count", "last_seen"])
async def test_groups_arriving_between_pages_cause_no_duplicate(
    with_groups: Engine, client: Any, sort: str
) -> None:
    base = http_base(with_groups)
    status, first = await get_json(client, f"{base}/v1/errors?limit=40&sort={sort}")
    assert status == 200
    # New groups between two pages (in one request): by count they sort after the cursor,
    # by last seen before it.
    arriving = [{"message": "boom", "type": "error", "category": f"arrived{i}"} for i in range(30)]
    url = f"{base}/v1/events?wait=true"
    async with client.post(
        url, data=orjson.dumps(arriving), headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 200, await r.text()
    seen = [group["fingerprint"] for group in first["errors"]]
    cursor = first["next"]
    while cursor:
        status, body = await get_json(client, f"{base}/v1/errors?limit=40&sort={sort}&next={cursor}")
        assert status == 200, body
        seen.extend(group["fingerprint"] for group in body["errors"])
        cursor = body["next"]
    assert len(seen) == len(set(seen))
    assert {f"fp{i:06d}" for i in range(250)} <= set(seen)  # no gap among the groups that were there
    assert len(seen) == (280 if sort == "count" else 250)


@pytest.mark.parametrize("with_groups", [50], indirect=True)
async def test_filters_still_apply_while_paging(with_groups: Engine, client: Any) -> None:
    for fingerprint in ("fp000010", "fp000020", "fp000030"):
        assert await with_groups.resolve(fingerprint) is not None
    base = http_base(with_groups)
    seen, _ = await walk(client, base, "status=resolved&limit=2&sort=first_seen")
    assert [group["fingerprint"] for group in seen] == ["fp000030", "fp000020", "fp000010"]
    seen, _ = await walk(client, base, "status=all&limit=7&sort=regressed")
    assert len(seen) == 50
    seen, _ = await walk(client, base, "limit=9")
    assert len(seen) == 47


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("limit=0", "limit must be between 1 and 1000"),
        ("limit=5000", "limit must be between 1 and 1000"),
        ("limit=ten", "limit must be a whole number"),
        ("sort=newest", "sort must be one of last_seen, count, first_seen, regressed"),
        ("next=%21%21garbage", "next is not a cursor sidelog wrote"),
        ("next=", "next must be a cursor"),
        ("next=WyJjb3VudCIsWzFdLDVd", "next is not a cursor sidelog wrote"),  # ["count",[1],5]
        ("next=" + GroupCursor("last_seen", (1, 2), "fp").encode(), "pass sort=last_seen with it"),
        ("page=2", "unknown parameter 'page'"),
    ],
)
async def test_bad_paging_parameters_are_one_line_400s(
    http_engine: Engine, client: Any, query: str, needle: str
) -> None:
    url = f"{http_base(http_engine)}/v1/errors?{query}"
    if "pass sort" in needle:
        url += "&sort=count"
    status, body = await get_json(client, url)
    assert status == 400, body
    assert needle in body["error"]
    assert "\n" not in body["error"]
