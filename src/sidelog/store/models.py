"""Domain objects the store returns (besides ``Event``), and row conversion."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sidelog.events import Event
from sidelog.store.event_rows import event_from_row as event_from_row
from sidelog.store.schema import EVENT_COLUMN_NAMES


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """Errors sharing one fingerprint, with their triage state."""

    fingerprint: str
    category: str
    message: str
    """The latest message of the group (its events differ only in volatile parts)."""
    count: int
    first_seen: int
    last_seen: int
    last_event_id: int | None
    status: str
    """``unresolved`` or ``resolved``."""
    resolved_at: int | None
    resolve_note: str | None
    regressed: bool
    """An event arrived after the group was resolved (it reopened itself)."""

    def to_wire(self) -> dict[str, Any]:
        """The group as the HTTP API emits it."""
        return {
            "fingerprint": self.fingerprint,
            "category": self.category,
            "message": self.message,
            "count": self.count,
            "firstSeen": self.first_seen,
            "lastSeen": self.last_seen,
            "lastEventId": self.last_event_id,
            "status": self.status,
            "resolvedAt": self.resolved_at,
            "resolveNote": self.resolve_note,
            "regressed": self.regressed,
        }


GROUP_COLUMNS = (
    "fingerprint, category, message, count, first_seen, last_seen, last_event_id, "
    "status, resolved_at, resolve_note, regressed"
)


def group_from_row(row: Sequence[Any]) -> ErrorGroup:
    """Build an ``ErrorGroup`` from a row selected with ``GROUP_COLUMNS``."""
    values: list[Any] = [*row[:10], bool(row[10])]
    return ErrorGroup(*values)


def select_columns(conn: sqlite3.Connection, table: str = "events") -> str:
    """``EVENT_COLUMN_NAMES`` as a select list for a file read without upgrading it
    (``sidelog export`` opens read-only): a column an older schema lacks reads as NULL."""
    present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    return ", ".join(name if name in present else f"NULL AS {name}" for name in EVENT_COLUMN_NAMES)


def event_to_row(event: Event, id_: int) -> tuple[Any, ...]:
    """The insert parameters for ``event`` stored under ``id_``."""
    return (
        id_,
        event.uid,
        event.category,
        event.level,
        event.message,
        event.details,
        event.user_id,
        event.session_id,
        event.url,
        event.user_agent,
        event.timestamp,
        event.received_at,
        event.source,
        event.show_to_user,
        event.user_message,
        event.resolved,
        event.fingerprint,
        event.trace_id,
    )


def count_into_group(groups: dict[str, list[Any]], event: Event, event_id: int | None) -> None:
    """Add an error (stored as ``event_id``) to its group's upsert row in ``groups``, in
    ``UPSERT_GROUP_SQL``'s column order; both stores' writers build a batch's rows so."""
    fingerprint = event.fingerprint
    assert fingerprint is not None
    group = groups.get(fingerprint)
    if group is None:
        groups[fingerprint] = [
            fingerprint,
            event.category,
            event.message,
            1,
            event.received_at,
            event.received_at,
            event_id,
        ]
    else:
        group[2] = event.message
        group[3] += 1
        group[5] = max(group[5], event.received_at)
        group[6] = event_id
