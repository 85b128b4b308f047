"""Bulk resolve and undo in two phases (store/group_status.py) on SQLite and PostgreSQL alike:
the groups change first, their events after; an error arriving between the two stays open
and reopens its group; a job started while another still flags events takes over the rest.

Each phase is run through the engine's writer (``Engine.run_job``) by ``partly``, which
stops a job after a given turn so the test can act between two turns deterministically.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.server import start_server
from sidelog.store import group_status
from sidelog.store.group_status import GroupStatusJob
from sidelog.store.retention import JobWriter
from tests.support.both_stores import STORES, send
from tests.support.wait import until

MESSAGES = ("card declined", "gateway timeout", "cart lost")


class _Turns:
    """The turns of ``jobs`` one after another, as the writer runs jobs queued in order,
    until ``enough()`` holds after a turn (what is left runs later)."""

    def __init__(self, jobs: list[GroupStatusJob], enough: Callable[[], bool]) -> None:
        self._jobs = jobs
        self._enough = enough

    async def step(self) -> bool:
        while self._jobs and self._jobs[0].finished:
            self._jobs.pop(0)
        if not self._jobs:
            return False
        if not await self._jobs[0].step():
            self._jobs.pop(0)
        return bool(self._jobs) and not self._enough()


async def start(
    store: Engine,
    fingerprints: list[str],
    *,
    resolved: bool,
    enough: Callable[[GroupStatusJob], bool] = lambda job: False,
    after: GroupStatusJob | None = None,
) -> GroupStatusJob:
    """A bulk job made on the writer (taking over from ``after``, whose remaining turns run
    first, as they were queued first), run until ``enough(job)`` holds after a turn."""
    made: list[GroupStatusJob] = []

    def make(writer: JobWriter) -> _Turns:
        made.append(GroupStatusJob(writer, fingerprints, resolved=resolved, at=now_ms(), after=after))
        return _Turns([*([after] if after else []), made[0]], lambda: enough(made[0]))

    await store.run_job(make, recount=False)
    return made[0]


async def rest(store: Engine, job: GroupStatusJob) -> None:
    """Run the remaining turns of ``job`` on the writer."""
    await store.run_job(lambda _writer: _Turns([job], lambda: False), recount=False)


async def seed(store: Engine) -> list[str]:
    """Two errors in each of three groups; their fingerprints in ``MESSAGES`` order."""
    await send(store, *({"type": "error", "category": "payment", "message": m} for m in MESSAGES * 2))
    by_message = {g.message: g.fingerprint for g in await store.groups(status=None, limit=10)}
    return [by_message[m] for m in MESSAGES]


async def flags(store: Engine) -> dict[str, list[int]]:
    """Each group's events' ``resolved`` flags, in id order."""
    rows = await store.reader._all("SELECT fingerprint, resolved FROM events ORDER BY id")
    found: dict[str, list[int]] = {}
    for fingerprint, resolved in rows:
        found.setdefault(str(fingerprint), []).append(int(resolved))
    return found


async def statuses(store: Engine) -> dict[str, tuple[str, bool]]:
    return {g.fingerprint: (g.status, g.regressed) for g in await store.groups(status=None, limit=10)}


async def test_groups_change_first_and_an_error_between_the_phases_stays_open(store: Engine) -> None:
    card, timeout, cart = await seed(store)
    job = await start(store, [card, timeout, cart], resolved=True, enough=lambda job: job.status_done)

    # Phase 1 done: every group resolved, no event flagged yet.
    assert job.changed == [card, timeout, cart]
    assert len(job.status_turns) == 1
    assert await statuses(store) == {fp: ("resolved", False) for fp in (card, timeout, cart)}
    assert await flags(store) == {fp: [0, 0] for fp in (card, timeout, cart)}

    # An error arrives in the window: it reopens its group (a regression) ...
    await send(store, {"type": "error", "category": "payment", "message": "card declined"})
    await rest(store, job)

    # ... and is never flagged; nor are its group's earlier events (the group is open again).
    assert job.finished
    assert await statuses(store) == {
        card: ("unresolved", True),
        timeout: ("resolved", False),
        cart: ("resolved", False),
    }
    assert await flags(store) == {card: [0, 0, 0], timeout: [1, 1], cart: [1, 1]}
    assert job.flagged == 4


async def test_an_undo_while_the_resolve_flags_ends_unflagged_and_the_reverse(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_status, "_FIRST_FLAG_GROUPS", 1)  # one group per flag turn
    every = await seed(store)
    first, others = every[0], every[1:]

    # The resolve has flagged its first group's events when the undo is asked for: the
    # resolve's next turn hands the rest over, the undo reopens the groups, then flags.
    resolve = await start(store, every, resolved=True, enough=lambda job: job.flagged > 0)
    assert await flags(store) == {first: [1, 1], **{fp: [0, 0] for fp in others}}
    undo = await start(store, resolve.changed, resolved=False, after=resolve)
    assert resolve.finished
    assert undo.finished
    assert len(resolve.turns) == 2  # its phase 1 and one flag turn: none after the hand-over
    assert await statuses(store) == {fp: ("unresolved", False) for fp in every}
    assert await flags(store) == {fp: [0, 0] for fp in every}
    assert undo.flagged == 2  # the first group's two events; the resolve's other turns found none

    # And the reverse: a resolve while an undo still clears the flags of an earlier resolve.
    again = await start(store, every, resolved=True)
    assert await flags(store) == {fp: [1, 1] for fp in every}
    undo = await start(store, again.changed, resolved=False, enough=lambda job: job.flagged > 0)
    assert await flags(store) == {first: [0, 0], **{fp: [1, 1] for fp in others}}
    resolve = await start(store, every, resolved=True, after=undo)
    assert undo.finished
    assert resolve.finished
    assert await statuses(store) == {fp: ("resolved", False) for fp in every}
    assert await flags(store) == {fp: [1, 1] for fp in every}


@pytest.fixture(params=STORES)
async def location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a store lives, for a test that opens it twice (a SQLite file or a PostgreSQL database)."""
    if request.param == "postgresql":
        return str(await request.getfixturevalue("pg_cluster").create_database())
    return tmp_path / "db" / "events.db"


async def test_flags_left_by_a_stopped_server_are_written_at_the_next_start(
    location: str | Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db=location, enable_system_logging=False)
    first = await start_server(settings)
    try:
        every = await seed(first.engine)
        job = await start(first.engine, every, resolved=True, enough=lambda job: job.status_done)
        assert await flags(first.engine) == {fp: [0, 0] for fp in every}
    finally:
        await first.stop()  # inside the window: the flag turns never run
    assert not job.finished

    second = await start_server(settings)
    try:

        async def all_flagged() -> bool:
            return await flags(second.engine) == {fp: [1, 1] for fp in every}

        await until(all_flagged, 20, message="the pending flags written")
        assert await statuses(second.engine) == {fp: ("resolved", False) for fp in every}
        pending = await second.engine.reader._all("SELECT count(*) FROM pending_flags")
        assert pending == [(0,)]
    finally:
        await second.stop()
