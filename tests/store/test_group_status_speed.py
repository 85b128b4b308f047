"""What a bulk resolve reads and how long it holds the writer: every target in one index
walk (``StoreReader.fingerprints_with_status``), in the pane's order, and each transaction's turn noted
(the groups' statuses a few hundred per turn here, the turn size made small)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sidelog.config import Settings
from sidelog.events import now_ms
from sidelog.server import start_server
from sidelog.store import group_status
from sidelog.store.group_pages import FINGERPRINTS_SQL, cursor_after
from sidelog.store.group_status import GroupStatusJob
from tests.support.groups import add_groups

PER_TURN = 400
MANY = PER_TURN * 2 + 3  # three phase-1 transactions' worth


async def test_every_target_in_one_read_in_the_panes_order_and_one_turn_per_transaction(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_status, "GROUPS_PER_TURN", PER_TURN)
    settings = make_settings()
    add_groups(settings.db, MANY)
    running = await start_server(settings)
    try:
        engine = running.engine
        assert await engine.reader.explain(FINGERPRINTS_SQL, ("unresolved",)) == [
            "SEARCH error_groups USING COVERING INDEX ix_error_groups_status_last_seen (status=?)"
        ]
        paged = await engine.groups(limit=400)  # the pane's keyset pages, for comparison
        while len(paged) % 400 == 0:
            paged += await engine.groups(limit=400, after=cursor_after(paged[-1], "last_seen"))
        targets = await engine.reader.fingerprints_with_status("unresolved")
        assert (
            targets == [group.fingerprint for group in paged] == [f"fp{i:06d}" for i in reversed(range(MANY))]
        )

        job = await engine.run_job(
            lambda writer: GroupStatusJob(writer, targets[1:], resolved=True, at=now_ms()), recount=False
        )
        assert job.changed == targets[1:]
        assert len(job.status_turns) == 3
        assert job.flagged == 0  # these groups have no stored events: only empty flag turns
        assert all(turn > 0 for turn in job.turns)
        assert len(job.turns) > 3
        assert await engine.reader.fingerprints_with_status("unresolved") == targets[:1]
        assert await engine.reader.fingerprints_with_status("resolved") == targets[1:]
    finally:
        await running.stop()
