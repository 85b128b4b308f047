"""Resolve every group the errors pane lists (all pages, not only those read), and undo it.

The groups change a few hundred per transaction (``store/group_status.py``), in
writer turns between ingest batches, so events keep flowing while thousands of groups
are resolved. The job runs to its end even if the key's worker is cancelled (by the next
``R`` or ``U``, whose job queues behind it). The fingerprints resolved are remembered
until the next bulk resolve, so the undo reopens exactly those (a group that regressed
meanwhile is already open and stays so).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import OptionList
from textual.worker import Worker, WorkerState

from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.store.group_status import GroupStatusJob
from sidelog.tui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from collections.abc import Callable

BULK_NOTE = "resolved in bulk"
_RUNNING: set[asyncio.Future[GroupStatusJob]] = set()
"""Jobs whose worker may be gone: held here so none is collected before it ends."""


async def unresolved_fingerprints(engine: Engine) -> list[str]:
    """Every unresolved group's fingerprint, newest activity first (one index walk)."""
    return await engine.reader.fingerprints_with_status("unresolved")


def _forget(job: asyncio.Future[GroupStatusJob]) -> None:
    """Let go of an ended job; its failure was reported by its worker, or by no one if the
    worker was gone (then it is only noted as read, never raised into the event loop)."""
    _RUNNING.discard(job)
    if not job.cancelled():
        job.exception()


class BulkTriage(OptionList):
    """The errors pane's ``R`` (resolve every unresolved group, after asking) and ``U`` (undo),
    and the report of any of its workers that fails."""

    _engine: Engine | None
    reload: Callable[[], object]

    bulk_resolved: tuple[str, ...] = ()
    """The fingerprints the last bulk resolve resolved (what ``U`` reopens)."""

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
        job = asyncio.ensure_future(
            engine.run_job(
                lambda writer: GroupStatusJob(writer, targets, resolved=resolve, at=now_ms(), note=BULK_NOTE),
                recount=False,  # group states only: the event counts are unchanged
            )
        )
        _RUNNING.add(job)
        job.add_done_callback(_forget)
        # Shielded: a worker cancelled by the next key must not leave the job half done.
        changed = (await asyncio.shield(job)).changed
        if resolve:
            self.bulk_resolved = tuple(changed)
            self.notify(f"Resolved {len(changed)} error groups. U undoes it.", markup=False)
        else:
            self.notify(f"Reopened {len(changed)} error groups.", markup=False)
        self.refresh_bindings()
        self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed query or triage is shown, not swallowed."""
        if event.state == WorkerState.ERROR and event.worker.group.startswith("errors"):
            error = event.worker.error
            self.notify(f"Error groups: {type(error).__name__}: {error}", severity="error", markup=False)
