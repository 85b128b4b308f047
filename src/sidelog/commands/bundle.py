"""``sidelog export --bundle FINGERPRINT``: one error group's repro bundle as Markdown.

The same Markdown the UI copies with ``b`` (built by ``sidelog.bundle``), for the
group's newest stored event: the error, its stack, its details and the ``--events N``
events of its session (else user, else trace) just before it. It reads the file
read-only, like ``sidelog export``, so it works while sidelog runs and without it; a
PostgreSQL store is read through commands/pg_read.py.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from sidelog.bundle import Bundle, render
from sidelog.commands.common import CommandError
from sidelog.events import Event
from sidelog.store.models import ErrorGroup
from sidelog.store.timeline import (
    MAX_PRECEDING,
    Scope,
    scope_value,
    scopes_of,
    sync_group_event,
    sync_preceding,
)
from sidelog.textsafe import safe_text


def bundle_markdown(conn: sqlite3.Connection, fingerprint: str, events: int) -> str:
    """The bundle of the group ``fingerprint`` (``CommandError`` if it has no stored event)."""
    group, found = sync_group_event(conn, fingerprint)
    event = newest_or_refuse(fingerprint, group, found)
    scope = bundle_scope(event)
    preceding = sync_preceding(conn, scope[0], scope[1], event, events) if scope else []
    return bundle_text(event, group, scope, preceding, events)


def newest_or_refuse(fingerprint: str, group: ErrorGroup | None, event: Event | None) -> Event:
    """The group's newest stored event, or a ``CommandError`` saying why there is none
    (every store's bundle path: SQLite here, commands/pg_read.py, commands/remote_export.py)."""
    if event is None:
        shown = safe_text(fingerprint[:100])
        if group is None:
            raise CommandError(
                f"no error group with fingerprint {shown!r} (see the errors pane or GET /v1/errors)"
            )
        raise CommandError(f"error group {shown!r} has no stored event left (retention removed them)")
    return event


def bundle_scope(event: Event) -> tuple[Scope, str] | None:
    """What ties the preceding events to ``event`` (session, else user, else trace) and its value."""
    scopes = scopes_of(event)
    if not scopes:
        return None
    value = scope_value(event, scopes[0])
    assert value is not None  # scopes_of lists only the scopes the event has
    return scopes[0], value


def bundle_text(
    event: Event,
    group: ErrorGroup | None,
    scope: tuple[Scope, str] | None,
    preceding: list[Event],
    events: int,
) -> str:
    """The bundle's Markdown (sidelog/bundle.py)."""
    if scope is None:
        return render(Bundle(event, group, asked=events))
    return render(Bundle(event, group, scope[0], scope[1], preceding, asked=events))


def check_events(events: int) -> int:
    """``--events N``: 0 to ``MAX_PRECEDING``."""
    if not 0 <= events <= MAX_PRECEDING:
        raise CommandError(f"--events must be between 0 and {MAX_PRECEDING:,}, got {events}")
    return events


def write_bundle(make: Callable[[str, int], str], fingerprint: str, events: int, output: str | None) -> int:
    """Write the bundle ``make(fingerprint, events)`` builds (``bundle_markdown`` over a file,
    or commands/pg_read.py's) to ``output`` (or stdout); one line on stderr says where."""
    fingerprint = fingerprint.strip()
    if not fingerprint:
        raise CommandError("--bundle needs a fingerprint (the errors pane and GET /v1/errors show them)")
    try:
        text = make(fingerprint, check_events(events))
    except sqlite3.Error as exc:
        raise CommandError(f"cannot read the database: {exc}") from None
    if output and output != "-":
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
        print(f"wrote the repro bundle of {safe_text(fingerprint[:100])} to {output}", file=sys.stderr)
        return 0
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        return 0
    return 0


__all__ = ["bundle_markdown", "check_events", "write_bundle"]
