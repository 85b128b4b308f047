"""``sidelog bench --ui``'s bulk resolve and undo figures (the errors pane's ``R`` and ``U``).

Half the groups are resolved first (not timed); then ``R`` and ``y`` resolve the other
half, timed to the frame of the reloaded, empty list and on to the moment the last of
their events is flagged (store/group_status.py: the groups change first, their events
after); ``U`` undoes it, to the frame listing them again and to the last event
unflagged; then ``R``, ``y`` and at once ``U``, while the resolve still flags events, to
the frame listing them again. Last, the same resolve and undo through the engine alone
(no keys, no frames: groups changed, events flagged), to tell the store's share from the
UI's, with the longest transaction each held the writer for (ingest batches wait that
long at most). Called by ``ui_triage.run_triage_steps`` with its frame clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sidelog.engine import Engine
    from sidelog.store.group_status import GroupStatusJob
    from sidelog.tui.app import SidelogApp
    from sidelog.tui.widgets.errors import ErrorsPane

Record = Callable[[str, "float | int | None"], None]


@dataclass(frozen=True, slots=True)
class BulkSteps:
    """What the bulk figures need of the triage run."""

    app: SidelogApp
    pane: ErrorsPane
    engine: Engine
    everything: list[str]
    """Every unresolved group's fingerprint, newest first."""
    record: Record
    shown: Callable[[float, Callable[[Any], bool]], Awaitable[float]]
    """Milliseconds from a moment to the first frame holding what the predicate expects."""
    press: Callable[[str], float]
    """Post a key; the moment it was posted."""
    until: Callable[[Callable[[], bool]], Awaitable[None]]


def _all_open(groups: list[Any]) -> bool:
    return all(group.status == "unresolved" for group in groups)


async def measure_bulk(steps: BulkSteps) -> None:
    """Record every bulk figure (the rows ``bulk_*`` of ``ui_triage.TRIAGE_ROWS``)."""
    from sidelog.events import now_ms
    from sidelog.store.group_status import GroupStatusJob
    from sidelog.tui.widgets.errors_bulk import unresolved_fingerprints

    app, pane, engine, record, shown, press, until = (
        steps.app,
        steps.pane,
        steps.engine,
        steps.record,
        steps.shown,
        steps.press,
        steps.until,
    )
    older = steps.everything[len(steps.everything) // 2 :]
    await engine.run_job(
        lambda writer: GroupStatusJob(writer, older, resolved=True, at=now_ms()), recount=False
    )
    press("t")  # twice: the unresolved view read again
    await until(lambda: pane.show_all)
    press("t")
    await until(lambda: not pane.show_all and bool(pane.groups) and _all_open(pane.groups))
    bulk = len(steps.everything) - len(older)
    record("bulk_resolve_groups", bulk)

    def resolved(held: Any) -> bool:
        return bool(held.bulk == bulk and held.open_rows == 0)

    def reopened(held: Any) -> bool:
        return bool(held.bulk == 0 and held.open_rows > 0)

    async def confirm_resolve() -> float:
        press("R")
        await until(lambda: type(app.screen).__name__ == "ConfirmScreen")
        return press("y")

    await asyncio.sleep(0.3)
    moment = await confirm_resolve()
    record("bulk_resolve_ms", await shown(moment, resolved))
    await until(lambda: not pane.bulk_flagging)
    record("bulk_resolve_flagged_ms", (time.perf_counter() - moment) * 1000)
    await asyncio.sleep(0.3)
    moment = press("U")
    record("bulk_undo_ms", await shown(moment, reopened))
    await until(lambda: not pane.bulk_flagging)
    record("bulk_undo_flagged_ms", (time.perf_counter() - moment) * 1000)
    # ``U`` as soon as the resolve shows, its events still being flagged.
    await asyncio.sleep(0.3)
    await shown(await confirm_resolve(), resolved)
    moment = press("U")
    record("bulk_undo_early_ms", await shown(moment, reopened))
    await until(lambda: not pane.bulk_flagging)
    # The same work through the engine alone (no keys, no frames): how much is the store's.
    await asyncio.sleep(0.3)
    job = await _engine_alone(engine, await unresolved_fingerprints(engine), True, record, "bulk_resolve")
    await _engine_alone(engine, job.changed, False, record, "bulk_undo")


async def _engine_alone(
    engine: Engine, targets: list[str], resolve: bool, record: Record, prefix: str
) -> GroupStatusJob:
    """A bulk job through the engine alone: to its groups changed, to its events flagged,
    and its longest writer turn."""
    from sidelog.events import now_ms
    from sidelog.store.group_status import GroupStatusJob

    status_set: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
    moment = time.perf_counter()
    task = asyncio.ensure_future(
        engine.run_job(
            lambda writer: GroupStatusJob(
                writer, targets, resolved=resolve, at=now_ms(), status_set=status_set
            ),
            recount=False,
        )
    )
    await asyncio.wait((task, status_set), return_when=asyncio.FIRST_COMPLETED)
    record(f"{prefix}_store_ms", (time.perf_counter() - moment) * 1000)
    job = await task
    record(f"{prefix}_store_flagged_ms", (time.perf_counter() - moment) * 1000)
    record(f"{prefix}_turn_ms", max(job.turns, default=0.0) * 1000)
    return job
