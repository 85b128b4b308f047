"""The stream's pager without a widget: pages by id cursor, live events held during loads,
superseded loads dropped, failed reads reported."""

from __future__ import annotations

import asyncio

import pytest

from sidelog.events import Event
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.tui.widgets.stream_history import HistoryPager, PageSizes


class FakeStore:
    """Events 1..count; each read waits for ``release`` when ``gate`` is set."""

    def __init__(self, count: int) -> None:
        self.ids = list(range(1, count + 1))
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def events(
        self, flt: EventFilter, *, limit: int = 100, before: int | None = None, after: int | None = None
    ) -> list[Event]:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise OSError("disk gone")
        if after is not None:
            return [Event(message=f"m{i}", id=i) for i in self.ids if i > after][:limit]
        newest_first = [i for i in reversed(self.ids) if before is None or i < before]
        return [Event(message=f"m{i}", id=i) for i in newest_first[:limit]]


def ids(events: list[Event]) -> list[int | None]:
    return [event.id for event in events]


@pytest.fixture
def errors() -> list[Exception]:
    return []


def pager_over(store: FakeStore, errors: list[Exception]) -> HistoryPager:
    return HistoryPager(store, PageSizes(first=5, page=4, window=12, prefetch=2), on_error=errors.append)


async def test_reload_returns_the_newest_page_and_what_arrived_meanwhile(errors: list[Exception]) -> None:
    store = FakeStore(20)
    store.gate = asyncio.Event()
    pager = pager_over(store, errors)
    loading = asyncio.create_task(pager.reload(EMPTY_FILTER))
    await asyncio.sleep(0)
    assert pager.holding
    pager.hold([Event(message="m20", id=20), Event(message="m21", id=21)])  # 20 is in the page too
    store.gate.set()
    page = await loading
    assert page is not None
    assert ids(page) == [16, 17, 18, 19, 20, 21]
    assert not pager.holding
    assert pager.has_older
    assert pager.append_following(page) == 0
    assert ids(pager.events()) == [16, 17, 18, 19, 20, 21]


async def test_older_pages_are_claimed_once_and_prepended(errors: list[Exception]) -> None:
    pager = pager_over(FakeStore(20), errors)
    page = await pager.reload(EMPTY_FILTER)
    assert page is not None
    pager.append_following(page)
    assert pager.claim_older(top=5, owed=False) is None  # not near the top
    claim = pager.claim_older(top=1, owed=False)
    assert claim is not None
    assert pager.loading_older
    assert pager.claim_older(top=0, owed=False) is None  # already in flight
    assert await pager.load_older(claim) == 4
    assert ids(pager.events()) == list(range(12, 21))
    assert not pager.loading_older


async def test_a_load_superseded_by_a_reload_changes_nothing(errors: list[Exception]) -> None:
    store = FakeStore(20)
    pager = pager_over(store, errors)
    page = await pager.reload(EMPTY_FILTER)
    assert page is not None
    pager.append_following(page)
    claim = pager.claim_older(top=0, owed=False)
    assert claim is not None
    store.gate = asyncio.Event()
    older = asyncio.create_task(pager.load_older(claim))
    await asyncio.sleep(0)
    newer_filter = EventFilter(q="m")
    reload = asyncio.create_task(pager.reload(newer_filter))
    await asyncio.sleep(0)
    assert not pager.loading_older  # a new generation: the old claim blocks nothing
    store.gate.set()
    assert await older == 0
    assert await reload is not None
    assert pager.filter == newer_filter
    assert pager.events() == []  # emptied for the caller to append the new page


async def test_a_failed_read_is_reported_and_leaves_the_window(errors: list[Exception]) -> None:
    store = FakeStore(20)
    pager = pager_over(store, errors)
    page = await pager.reload(EMPTY_FILTER)
    assert page is not None
    pager.append_following(page)
    store.fail = True
    claim = pager.claim_older(top=0, owed=False)
    assert claim is not None
    assert await pager.load_older(claim) == 0
    assert await pager.reload(EMPTY_FILTER) is None
    assert [type(error) for error in errors] == [OSError, OSError]
    assert ids(pager.events()) == [16, 17, 18, 19, 20]
    assert not pager.holding
    assert not pager.loading_older
