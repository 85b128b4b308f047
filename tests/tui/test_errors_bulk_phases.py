"""The errors pane's bulk resolve shows its result once the groups changed, before their events
are flagged; ``U`` pressed while they still are ends with every group open and no event flagged."""

from __future__ import annotations

import asyncio

import pytest

from sidelog.config import Settings
from sidelog.store import group_status
from sidelog.store.group_status import GroupStatusJob
from sidelog.tui.widgets.errors import ErrorsPane
from tests.tui.conftest import query_db, running_app, send_events, until

GROUPS = 12
FLAGS_SQL = "SELECT resolved, count(*) FROM events GROUP BY resolved"
STATUS_SQL = "SELECT status, count(*) FROM error_groups GROUP BY status"


async def test_u_while_the_resolve_flags_events_reopens_and_unflags_everything(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every flag turn waits for ``gate`` first: the resolve's events stay unflagged until the
    # test opens it (the turns themselves run unchanged, one group each).
    gate = asyncio.Event()
    flag_turn = GroupStatusJob._flag_turn

    async def gated(job: GroupStatusJob) -> None:
        await gate.wait()
        await flag_turn(job)

    monkeypatch.setattr(GroupStatusJob, "_flag_turn", gated)
    monkeypatch.setattr(group_status, "_FIRST_FLAG_GROUPS", 1)
    monkeypatch.setattr(group_status, "_MAX_FLAG_GROUPS", 1)
    async with running_app(settings) as (app, pilot):
        pane = app.query_one(ErrorsPane)
        errors = [
            {"type": "error", "category": "pay", "message": f"failure {chr(97 + i)}"} for i in range(GROUPS)
        ]
        await send_events(app, *errors, *errors)
        await until(pilot, lambda: len(pane.groups) == GROUPS)
        await pilot.press("e")
        await until(pilot, lambda: pane.has_focus)

        await pilot.press("R", "y")
        await until(pilot, lambda: bool(pane.bulk_resolved) and pane.groups == [])
        assert query_db(settings.db, STATUS_SQL) == [("resolved", GROUPS)]
        assert query_db(settings.db, FLAGS_SQL) == [(0, 2 * GROUPS)]  # shown before any flag
        assert pane.bulk_flagging

        await pilot.press("U")
        await until(pilot, lambda: not pane.bulk_resolved)
        await pilot.pause()
        gate.set()  # the resolve's first flag turn runs, then the undo takes over the rest
        await until(pilot, lambda: len(pane.groups) == GROUPS)
        await until(pilot, lambda: not pane.bulk_flagging)
        assert query_db(settings.db, STATUS_SQL) == [("unresolved", GROUPS)]
        assert query_db(settings.db, FLAGS_SQL) == [(0, 2 * GROUPS)]
