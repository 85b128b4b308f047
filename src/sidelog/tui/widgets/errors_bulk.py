"""Resolve every group the errors pane lists (all pages, not only those read), and undo it.

The job changes the groups' status first, a few thousand per transaction, and only then
flags their events in short writer turns (``store/group_status.py``); the pane reloads
as soon as the groups have changed, so the user waits about a tenth of a second for
5,000 groups, not the second or more the events take. The job runs to its end even if
the key's worker is cancelled (by the next ``R`` or ``U``); that next job takes over the
events still to flag and changes its own groups first. The fingerprints resolved are
remembered until the next bulk resolve, so the undo reopens exactly those (a group that
regressed meanwhile is already open and stays so).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from textual import work
from textual.widgets import OptionList
from textual.worker import Worker, WorkerState

from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.pipeline.batcher import JobAbandoned
from sidelog.store.group_status import GroupStatusJob
from sidelog.tui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from collections.abc import Callable

    from sidelog.store.retention import JobWriter

BULK_NOTE = "resolved in bulk"
_RUNNING: set[asyncio.Future[Any]] = set()
"""Jobs whose worker may be gone: held here so none is collected before it ends."""


async def unresolved_fingerprints(engine: Engine) -> list[str]:
    """Every unresolved group's fingerprint, newest activity first (one index walk)."""
    return await engine.reader.fingerprints_with_status("unresolved")


def _forget(job: asyncio.Future[Any]) -> None:
    """Let go of an ended job (its failure is reported by ``BulkTriage._ended``)."""
    _RUNNING.discard(job)


class BulkTriage(OptionList):
    """The errors pane's ``R`` (resolve every unresolved group, after asking) and ``U`` (undo),
    and the report of any of its workers that fails."""

    _engine: Engine | None
    reload: Callable[[], object]

    bulk_resolved: tuple[str, ...] = ()
    """The fingerprints the last bulk resolve resolved (what ``U`` reopens)."""
    _bulk_job: GroupStatusJob | None = None
    _bulk_task: asyncio.Future[GroupStatusJob] | None = None

    @property
    def bulk_flagging(self) -> bool:
        """The last bulk resolve or undo has changed its groups but not yet all their events."""
        return self._bulk_task is not None and not self._bulk_task.done()

    def bulk_allowed(self, action: str) -> bool:
        """``undo_bulk`` only after a bulk resolve."""
        return action != "undo_bulk" or bool(self.bulk_resolved)

    def action_resolve_all(self) -> None:
        """Ask, then resolve every unresolved group (not only the listed ones)."""

        def answered(yes: bool | None) -> None:
            if yes:
                self._bulk(resolve=True)

        self.app.push_screen(
            ConfirmScreen(
                "Resolve every unresolved error group?",
                "Every unresolved group is marked resolved, with its events. "
                "U (or the palette's 'Undo the bulk resolve') reopens them.",
                yes="Resolve all",
            ),
            answered,
        )

    def action_undo_bulk(self) -> None:
        """Reopen the groups the last bulk resolve resolved."""
        if self.bulk_resolved:
            self._bulk(resolve=False)

    @work(name="errors-bulk", group="errors-bulk", exclusive=True, exit_on_error=False)
    async def _bulk(self, *, resolve: bool) -> None:
        engine = self._engine
        if engine is None:
            return
        if resolve:
            targets = await unresolved_fingerprints(engine)
        else:
            targets, self.bulk_resolved = list(self.bulk_resolved), ()
        status_set: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()

        def make(writer: JobWriter) -> GroupStatusJob:
            note = BULK_NOTE if resolve else None
            job = GroupStatusJob(
                writer,
                targets,
                resolved=resolve,
                at=now_ms(),
                note=note,
                after=self._bulk_job,
                status_set=status_set,
            )
            self._bulk_job = job  # the next bulk job takes over the events this one has left
            return job

        task = asyncio.ensure_future(engine.run_job(make, recount=False))  # group states only
        self._bulk_task = task
        _RUNNING.add(task)
        task.add_done_callback(_forget)
        task.add_done_callback(lambda done: self._ended(done, status_set))
        # Not cancelled with this worker: a job must not stop half done (the next key's
        # job queues behind it and takes over its remaining events).
        await asyncio.wait((task, status_set), return_when=asyncio.FIRST_COMPLETED)
        if not status_set.done():
            return  # failed before the groups changed (``_ended`` says so)
        changed = status_set.result()
        if resolve:
            self.bulk_resolved = tuple(changed)
            self.notify(f"Resolved {len(changed)} error groups. U undoes it.", markup=False)
        else:
            self.notify(f"Reopened {len(changed)} error groups.", markup=False)
        self.refresh_bindings()
        self.reload()

    def _ended(self, task: asyncio.Future[GroupStatusJob], status_set: asyncio.Future[list[str]]) -> None:
        """A job's failure is shown, not lost, even once its key's worker is gone (while its
        events are flagged, or when the next key cancelled the worker). Stopping sidelog
        abandons the rest silently."""
        if task.cancelled() or (error := task.exception()) is None or isinstance(error, JobAbandoned):
            return
        what = "flagging their events" if status_set.done() else "changing them"
        with contextlib.suppress(Exception):  # the pane may be gone
            self.notify(
                f"Error groups: {what} failed: {type(error).__name__}: {error}",
                severity="error",
                markup=False,
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed query or triage is shown, not swallowed."""
        if event.state == WorkerState.ERROR and event.worker.group.startswith("errors"):
            error = event.worker.error
            self.notify(f"Error groups: {type(error).__name__}: {error}", severity="error", markup=False)
