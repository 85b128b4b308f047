"""Resolve, reopen and snooze in one server appear in the others sharing its PostgreSQL store.

Also: the errors pane's report counts read ``details`` as ``jsonb`` (store/group_activity.py).

Each triage transaction announces the groups it changed (store/pg_triage.py); the other
servers' followers (store/pg_live.py) publish a "groups changed" batch, and the errors
pane of a UI attached to the database reloads on it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.pipeline.live import Subscription
from sidelog.pipeline.queue import Origin
from sidelog.server import start_server
from sidelog.store.group_activity import reports_counts
from sidelog.store.group_snooze import SnoozeJob, parse_snooze
from sidelog.store.group_status import GroupStatusJob
from sidelog.store.pg_triage import groups_payload, parse_groups
from sidelog.tui.widgets.errors import ErrorsPane
from tests.conftest import send_lines, tcp_port
from tests.support.group_events import feedback
from tests.tui.conftest import running_app, until

_ERROR = orjson.dumps({"message": "boom", "level": "error", "category": "triage"}) + b"\n"


def test_a_notice_names_the_groups_or_all_of_them_when_too_many() -> None:
    assert parse_groups(groups_payload("w1", ["a", "b"])) == ("w1", ["a", "b"])
    many = [f"{n:064x}" for n in range(200)]
    assert parse_groups(groups_payload("w1", many)) == ("w1", ["*"])


async def _groups_changed(subscription: Subscription, within: float = 1.0) -> float:
    """Seconds until a "groups changed" batch arrives (fails after ``within``)."""
    started = time.monotonic()
    while True:
        batch = await asyncio.wait_for(subscription.get(), within - (time.monotonic() - started))
        if batch.groups_changed:
            return time.monotonic() - started


async def _status(engine: Engine) -> str:
    groups = await engine.groups(limit=10, status=None)
    return groups[0].status


async def test_triage_in_one_server_reaches_the_others_live_feed_within_a_second(
    pg_url: str, make_settings: Callable[..., Settings]
) -> None:
    server = await start_server(make_settings(db=pg_url))
    viewer = await start_server(make_settings(db=pg_url, tcp="off"))
    at_viewer, at_server = viewer.engine.subscribe(), server.engine.subscribe()
    try:
        await send_lines(tcp_port(server.engine), _ERROR)
        fingerprint = (await server.engine.groups(limit=1))[0].fingerprint

        assert await server.engine.resolve(fingerprint) is not None
        print(f"resolve seen after {await _groups_changed(at_viewer):.3f} s")  # measured, not asserted
        assert await _status(viewer.engine) == "resolved"

        job = await viewer.engine.run_job(
            lambda writer: GroupStatusJob(writer, [fingerprint], resolved=False, at=now_ms()), recount=False
        )
        assert job.changed == [fingerprint]
        await _groups_changed(at_server)
        assert await _status(server.engine) == "unresolved"

        spec = parse_snooze("1h", now=now_ms())
        await server.engine.run_job(
            lambda writer: SnoozeJob(writer, fingerprint, spec, at=now_ms()), recount=False
        )
        await _groups_changed(at_viewer)
        while (batch := at_server.get_nowait()) is not None:  # a server hears only the others
            assert not batch.groups_changed
    finally:
        at_viewer.close()
        at_server.close()
        await viewer.stop()
        await server.stop()


async def test_a_resolve_in_another_server_leaves_the_ui_errors_pane(
    pg_url: str, make_settings: Callable[..., Settings]
) -> None:
    server = await start_server(make_settings(db=pg_url, enable_system_logging=False))
    try:
        async with running_app(make_settings(db=pg_url, tcp="off", enable_system_logging=False)) as (
            app,
            pilot,
        ):
            pane = app.query_one("#errors", ErrorsPane)
            await send_lines(tcp_port(server.engine), _ERROR)
            await until(pilot, lambda: [group.message for group in pane.groups] == ["boom"])
            await server.engine.resolve(pane.groups[0].fingerprint)
            await until(pilot, lambda: pane.groups == [], timeout=2.0)  # open groups only, by default
    finally:
        await server.stop()


async def test_report_counts_read_the_jsonb_lists_on_postgres(
    pg_url: str, make_settings: Callable[..., Settings]
) -> None:
    server = await start_server(make_settings(db=pg_url))
    try:
        engine = server.engine
        not_a_list = feedback(["fp2"], now_ms(), user="u3")
        not_a_list.details = orjson.dumps({"related_groups": "fp2"}).decode()
        engine.admit(
            [
                feedback(["fp0", "fp1"], now_ms(), user="u1"),
                feedback(["fp0"], now_ms(), user="u1"),  # the same user again
                feedback(["fp0"], now_ms(), user="u2"),
                feedback(["fp2"], now_ms(), user=None),  # nobody: the report itself
                not_a_list,  # passed over, not an error
            ],
            None,
        )
        await engine.wait_committed(Origin("test"))
        counts = await reports_counts(engine.reader, ["fp0", "fp1", "fp2", "nobody"])
        assert counts == {"fp0": 2, "fp1": 1, "fp2": 1}
    finally:
        await server.stop()
