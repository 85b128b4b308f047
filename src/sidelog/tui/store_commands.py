"""Store upkeep from the command palette: prune now, clear everything, give space back.

Each runs inside the server the UI started, as short turns of its single writer
between ingest batches (``Engine.prune`` and ``Engine.run_job`` with the jobs of
``sidelog.store.maintenance``), so events keep arriving meanwhile. Clear and vacuum
ask first (``ConfirmScreen``): one cannot be undone, the other rewrites pages. What
each did, or why it could not, is shown as a notification; after a prune or a clear
the stream and the error groups are read again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App

from sidelog.engine import Engine
from sidelog.store.errors import StoreError
from sidelog.store.maintenance import ClearJob, ReleaseJob
from sidelog.tui import humanize
from sidelog.tui.commands import PaletteCommand
from sidelog.tui.screens.confirm import ConfirmScreen
from sidelog.tui.widgets.errors import ErrorsPane
from sidelog.tui.widgets.stream import StreamView

PRUNE_TITLE = "Prune now: retention and the size budget"
CLEAR_TITLE = "Clear every stored event…"
VACUUM_TITLE = "Vacuum: give free space back to the disk…"


def store_commands(app: App[Any], engine: Engine | None) -> list[PaletteCommand]:
    """The palette's store commands (none before the engine runs)."""
    if engine is None:
        return []
    return [
        PaletteCommand(
            PRUNE_TITLE,
            "delete what is past the retention days or over the budget, archiving errors",
            lambda: _start(app, "prune", _prune(app, engine)),
        ),
        PaletteCommand(
            CLEAR_TITLE,
            "delete every event and error group (asks first)",
            lambda: app.push_screen(
                ConfirmScreen(
                    "Clear every stored event?",
                    f"All {engine.stored_total:,} stored events and every error group are deleted "
                    "from the database. Events arriving meanwhile are kept. This cannot be undone.",
                    yes="Clear",
                ),
                _if_confirmed(app, "clear", lambda: _clear(app, engine)),
            ),
        ),
        PaletteCommand(
            VACUUM_TITLE,
            "hand the file's free pages back (asks first)",
            lambda: app.push_screen(
                ConfirmScreen(
                    "Vacuum the database?",
                    "Free pages go back to the disk and the WAL is truncated, in short turns "
                    "between incoming batches. On a large file this takes a while.",
                    yes="Vacuum",
                ),
                _if_confirmed(app, "vacuum", lambda: _vacuum(app, engine)),
            ),
        ),
    ]


def _if_confirmed(
    app: App[Any], name: str, work: Callable[[], Awaitable[None]]
) -> Callable[[bool | None], None]:
    def answered(yes: bool | None) -> None:
        if yes:
            _start(app, name, work())

    return answered


def _start(app: App[Any], name: str, work: Awaitable[None]) -> None:
    app.notify(f"{name.capitalize()} started…", timeout=2)
    app.run_worker(work, name=f"store-{name}", group="store-maintenance", exit_on_error=False)


async def _prune(app: App[Any], engine: Engine) -> None:
    try:
        result = await engine.prune()
    except Exception as exc:  # shown, never raised into the UI
        _failed(app, "prune", exc)
        return
    app.notify(
        f"Pruned {result.deleted:,} events ({result.archived:,} errors archived), "
        f"{result.released_pages:,} free pages given back to the disk.",
        markup=False,
    )
    await _reload(app)


async def _clear(app: App[Any], engine: Engine) -> None:
    try:
        job = await engine.run_job(ClearJob)
    except Exception as exc:
        _failed(app, "clear", exc)
        return
    app.notify(f"Cleared {job.deleted:,} events and {job.groups:,} error groups.", markup=False)
    await _reload(app)


async def _vacuum(app: App[Any], engine: Engine) -> None:
    try:
        job = await engine.run_job(lambda writer: ReleaseJob(writer, engine.settings.db))
    except Exception as exc:
        _failed(app, "vacuum", exc)
        return
    before, after = humanize.size(job.bytes_before), humanize.size(job.bytes_after)
    app.notify(f"Vacuumed: database and WAL {before} → {after}.", markup=False)


def _failed(app: App[Any], name: str, exc: Exception) -> None:
    reason = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
    app.notify(f"{name.capitalize()} failed: {reason}", severity="error", markup=False, timeout=10)


async def _reload(app: App[Any]) -> None:
    """Events went away: read the stream and the error groups again."""
    for stream in app.query(StreamView):
        await stream.set_filter(stream.filter)
    for pane in app.query(ErrorsPane):
        pane.errors_arrived()


__all__ = ["CLEAR_TITLE", "PRUNE_TITLE", "VACUUM_TITLE", "store_commands"]
