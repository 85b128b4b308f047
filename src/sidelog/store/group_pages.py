"""Error groups a page at a time, in any of the orders the errors pane and ``GET /v1/errors`` offer.

Pages are keyset-paginated: each sort orders by its key columns and then the
fingerprint (unique), all descending, and a cursor holds the key and fingerprint of
the last row shown, so the next page starts strictly after it. A page costs the same
at group 10 as at group 10,000, and groups that arrive between two pages never
repeat a row: a new group's ``last_seen`` puts it before the cursor, and a new group
sorted after it (by count, say) had not been shown yet. The keys only grow (count,
last seen, regressed), so a group whose key changes between pages moves towards the
front, past rows already shown; it is never shown twice. Every sort walks its own
index on ``error_groups`` (store/schema.py), with or without the status filter.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, TypedDict

import orjson

from sidelog.store.models import GROUP_COLUMNS, ErrorGroup

ACTIVE_SNOOZE = (  # a snooze row ``s`` that still hides its group (store/group_snooze.py)
    "s.fingerprint = error_groups.fingerprint AND error_groups.first_seen <= s.snoozed_at "
    "AND (error_groups.resolved_at IS NULL OR error_groups.resolved_at <= s.snoozed_at) "
    "AND (s.until_ms IS NULL OR s.until_ms > ?) "
    "AND (s.until_count IS NULL OR error_groups.count < s.until_count)"
)
HIDE_SNOOZED = f"NOT EXISTS (SELECT 1 FROM group_snoozes AS s WHERE {ACTIVE_SNOOZE})"
"""The page query's term that hides the groups snoozed at the time bound to its ``?``
(one primary-key probe of ``group_snoozes`` per row the page walks)."""


SORTS: dict[str, tuple[str, ...]] = {
    "last_seen": ("last_seen", "last_event_id"),
    "count": ("count",),
    "first_seen": ("first_seen",),
    "regressed": ("regressed", "last_seen", "last_event_id"),
}
"""Each sort's key columns, before the fingerprint; every sort is largest first
(regressed groups first, then newest activity). ``last_seen`` is when sidelog received
the newest event, shared by every group of one batch: the newest event's id breaks the
tie (the writer always sets it; a group without one sorts as id 0 but may be passed
over by a cursor that lands on its ``last_seen``)."""
DEFAULT_SORT = "last_seen"
SORT_LABELS: dict[str, str] = {
    "last_seen": "last seen",
    "count": "count",
    "first_seen": "first seen",
    "regressed": "regressed",
}
"""How the errors pane names each sort in its title."""
_MAX_CURSOR_CHARS = 4096


class CursorError(ValueError):
    """A ``next`` cursor that is not one sidelog wrote (the reason is one line)."""


@dataclass(frozen=True, slots=True)
class GroupCursor:
    """Where a page ended: the sort, its key values and the fingerprint of the last row."""

    sort: str
    key: tuple[int, ...]
    fingerprint: str

    def encode(self) -> str:
        """An opaque, URL-safe string for ``?next=``."""
        raw = orjson.dumps([self.sort, list(self.key), self.fingerprint])
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str) -> GroupCursor:
        """The cursor ``encode`` wrote, or ``CursorError`` saying why not."""
        if not text or len(text) > _MAX_CURSOR_CHARS:
            raise CursorError("next must be a cursor from a previous answer")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            sort, key, fingerprint = orjson.loads(raw)
        except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError):
            raise CursorError("next is not a cursor sidelog wrote (pass it back unchanged)") from None
        if sort not in SORTS or not isinstance(fingerprint, str) or not isinstance(key, list):
            raise CursorError("next is not a cursor sidelog wrote (pass it back unchanged)")
        if len(key) != len(SORTS[sort]) or not all(type(value) is int for value in key):
            raise CursorError("next is not a cursor sidelog wrote (pass it back unchanged)")
        return cls(sort, tuple(key), fingerprint)


def sort_key(group: ErrorGroup, sort: str) -> tuple[int, ...]:
    """``group``'s values of the key columns of ``sort``."""
    values = {
        "last_seen": group.last_seen,
        "count": group.count,
        "first_seen": group.first_seen,
        "regressed": int(group.regressed),
        "last_event_id": group.last_event_id or 0,
    }
    return tuple(values[column] for column in SORTS[sort])


def cursor_after(group: ErrorGroup, sort: str) -> GroupCursor:
    """The cursor of a page that ended with ``group``."""
    return GroupCursor(sort, sort_key(group, sort), group.fingerprint)


class GroupQuery(TypedDict, total=False):
    """Which groups, in which order, from where (the keyword arguments of ``groups``)."""

    status: str | None
    """``unresolved`` (the default), ``resolved``, or ``None`` for every group."""
    user: str | None
    """Only groups with that user's unresolved errors."""
    sort: str
    """A key of ``SORTS``."""
    after: GroupCursor | None
    """Start after this row (the previous page's cursor)."""
    before: GroupCursor | None
    """The rows just before this one, nearest first (reading backwards; with no cursor
    at all and ``backwards``, the last rows of the order)."""
    backwards: bool
    """Read from the end of the order towards its start (smallest first)."""
    hide_snoozed_at: int | None
    """Leave out the groups snoozed at this time (ms; store/group_snooze.py)."""


def groups_sql(
    *,
    status: str | None,
    user: str | None,
    limit: int,
    sort: str = DEFAULT_SORT,
    after: GroupCursor | None = None,
    before: GroupCursor | None = None,
    backwards: bool = False,
    hide_snoozed_at: int | None = None,
) -> tuple[str, list[Any]]:
    """The page query of ``StoreReader.groups`` and its parameters
    (tests/store/test_query_plans.py checks its plan for every sort)."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort[:40]!r}")
    columns = (*SORTS[sort], "fingerprint")
    terms: list[str] = []
    params: list[Any] = []
    if status is not None:
        terms.append("status = ?")
        params.append(status)
    if user is not None:
        # Read from ix_events_user_unresolved alone (a covering index, store/schema.py);
        # ``+`` keeps SQLite walking the sort's index instead of sorting the user's groups.
        terms.append("+fingerprint IN (SELECT fingerprint FROM events WHERE user_id = ? AND resolved = 0)")
        params.append(user)
    if hide_snoozed_at is not None:
        terms.append(HIDE_SNOOZED)
        params.append(hide_snoozed_at)
    for cursor, comparison in ((after, "<"), (before, ">")):
        if cursor is None:
            continue
        if cursor.sort != sort:
            raise ValueError(f"the cursor belongs to sort={cursor.sort}, not sort={sort}")
        terms.append(f"({', '.join(columns)}) {comparison} ({', '.join('?' for _ in columns)})")
        params.extend((*cursor.key, cursor.fingerprint))
    where = f" WHERE {' AND '.join(terms)}" if terms else ""
    direction = "ASC" if backwards or before is not None else "DESC"
    order = ", ".join(f"{column} {direction}" for column in columns)
    return f"SELECT {GROUP_COLUMNS} FROM error_groups{where} ORDER BY {order} LIMIT ?", [*params, limit]


FINGERPRINTS_SQL = (
    "SELECT fingerprint FROM error_groups WHERE status = ? "
    "ORDER BY last_seen DESC, last_event_id DESC, fingerprint DESC"
)
"""Every fingerprint with one status, in the default order: a walk of
``ix_error_groups_status_last_seen`` alone (covering; tests/store/test_group_status_speed.py)."""


def exception_type(details: str | None) -> str:
    """The exception type an event's ``details`` carries, or ``""``: ``exception.type`` (the
    clients, OTLP's ``exception.type`` attribute), ``name``/``errorType`` (JavaScript,
    Lambda), or the outermost value of a Sentry ``exception.values`` chain, as the detail
    view reads them (sidelog/stackframes.py, sidelog/fingerprint.py)."""
    if not details or "xception" not in details:
        return ""
    try:
        doc = orjson.loads(details)
    except orjson.JSONDecodeError:
        return ""
    exc = doc.get("exception") if isinstance(doc, dict) else None
    if not isinstance(exc, dict):
        return ""
    values = exc.get("values")
    if isinstance(values, list) and values and isinstance(values[-1], dict):
        exc = values[-1]
    kind = exc.get("type") or exc.get("name") or exc.get("errorType")
    return kind[:120] if isinstance(kind, str) else ""
