"""Copying a repro bundle from the UI: gather the error's group and what came before it,
build the Markdown (``sidelog.bundle``, the same text ``sidelog export --bundle``
writes) and put it on the clipboard.

The event detail view (``b`` on an error), the timeline and the errors pane (``b`` on
a group) all call ``copy_bundle``: the reads run in a worker on the app's loop through
the engine's reader, so the key never blocks a frame.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.widget import Widget

from sidelog.bundle import DEFAULT_PRECEDING, Bundle, render
from sidelog.engine import Engine
from sidelog.events import Event
from sidelog.store.models import ErrorGroup
from sidelog.store.timeline import read_group_event, read_preceding, scope_value, scopes_of


def app_engine(app: App[Any]) -> Engine | None:
    """The running engine of the sidelog app (``None`` while it starts or after it stopped)."""
    engine = getattr(app, "engine", None)
    return engine if isinstance(engine, Engine) else None


def is_error(event: Event | None) -> bool:
    """Whether a bundle makes sense for ``event``: an error, or any event of an error group."""
    return event is not None and (event.level == "error" or event.fingerprint is not None)


async def bundle_for(engine: Engine, event: Event, group: ErrorGroup | None = None) -> str:
    """The bundle of ``event``: its group's counts and its scope's preceding events."""
    reader = engine.reader
    if group is None and event.fingerprint is not None:
        group = await reader.group(event.fingerprint)
    scopes = scopes_of(event)
    if not scopes:
        return render(Bundle(event, group))
    value = scope_value(event, scopes[0])
    assert value is not None  # scopes_of lists only the scopes the event has
    preceding = await read_preceding(reader, scopes[0], value, event, DEFAULT_PRECEDING)
    return render(Bundle(event, group, scopes[0], value, preceding))


def copy_text(app: App[Any], text: str, what: str) -> None:
    """Copy through the terminal's clipboard escape (OSC 52, base64: inert) and say so."""
    app.copy_to_clipboard(text)
    app.notify(
        f"{what} copied: {len(text):,} characters of Markdown, sent to the terminal's clipboard "
        "(OSC 52; a terminal without it keeps its clipboard as it was)",
        timeout=4,
        markup=False,
    )


def copy_bundle(widget: Widget, *, event: Event | None = None, fingerprint: str | None = None) -> None:
    """Build and copy the bundle of ``event``, or of the newest event of group ``fingerprint``."""
    engine = app_engine(widget.app)
    if engine is None:
        widget.notify("sidelog is not running yet: nothing to read the bundle from.", severity="warning")
        return

    async def gather() -> None:
        group = None
        found = event
        try:
            if found is None and fingerprint is not None:
                group, found = await read_group_event(engine.reader, fingerprint)
            if found is None:
                widget.notify("That error group has no stored event left.", severity="warning")
                return
            text = await bundle_for(engine, found, group)
        except Exception as exc:  # shown, not swallowed: the worker does not exit the app
            widget.notify(f"Repro bundle: {type(exc).__name__}: {exc}", severity="error", markup=False)
            return
        copy_text(widget.app, text, "Repro bundle")

    widget.run_worker(
        gather(), name="repro-bundle", group="repro-bundle", exclusive=True, exit_on_error=False
    )


__all__ = ["app_engine", "bundle_for", "copy_bundle", "copy_text", "is_error"]
