"""The errors pane's rows and the pages behind them, kept apart from the pane's keys.

The pane lists a window of at most ``WINDOW`` groups (store/group_pages.py): the first
page is read again whenever errors arrive, the page after or before the window only when
the cursor nears its end or its start, and ``end`` reads the last page backwards, so any
row is a query or two away. ``LoadedGroups`` merges a fresh first page with the pages
read before without listing a group twice: sort keys only grow, so a group that moved
onto the first page is dropped from further down, and one whose key is now above the
first page's end but is not on it has left the view (resolved elsewhere, cleared).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from textual.cache import LRUCache
from textual.content import Content

from sidelog.engine import Engine
from sidelog.store.group_pages import (
    DEFAULT_SORT,
    SORT_LABELS,
    GroupCursor,
    GroupQuery,
    cursor_after,
    sort_key,
)
from sidelog.store.models import ErrorGroup
from sidelog.textsafe import clip, safe_text
from sidelog.tui import humanize

_MAX_MESSAGE_CHARS = 400  # enough for two wrapped lines at any sane pane width


def order(group: ErrorGroup, sort: str) -> tuple[tuple[int, ...], str]:
    """The position of ``group`` in ``sort`` (largest first), as the store orders it."""
    return sort_key(group, sort), group.fingerprint


WINDOW = 300
"""Most groups listed at once: the pane is a window onto the whole order, moved a page at
a time, so 10,000 groups cost what 300 do."""


class LoadedGroups:
    """A window of the groups of one sort and status, with the cursors of the pages around it."""

    def __init__(self, sort: str) -> None:
        self.sort = sort
        self.groups: list[ErrorGroup] = []
        """Largest first, as read (each fingerprint once)."""
        self.next: GroupCursor | None = None
        """The last row of the window when more rows follow it; ``None`` at the end."""
        self.prev: GroupCursor | None = None
        """The first row of the window when rows precede it; ``None`` at the top."""

    def first_page(self, page: list[ErrorGroup], more: bool) -> bool:
        """Take a fresh first page, keeping the rows read below it; ``False`` (nothing
        changed) when the window is elsewhere in the order."""
        if self.prev is not None:
            return False
        if not more or not page:
            self.groups, self.next = list(page), None
            return True
        fresh = {group.fingerprint for group in page}
        end = order(page[-1], self.sort)
        below = [g for g in self.groups if g.fingerprint not in fresh and order(g, self.sort) < end]
        self.groups = [*page, *below]
        if not below:
            self.next = cursor_after(page[-1], self.sort)
        self._trim_end()
        return True

    def later_page(self, page: list[ErrorGroup], more: bool) -> None:
        """Append a page read after ``next``; rows beyond the window leave at the top."""
        listed = {group.fingerprint for group in self.groups}
        self.groups.extend(group for group in page if group.fingerprint not in listed)
        self.next = cursor_after(page[-1], self.sort) if more and page else None
        if len(self.groups) > WINDOW:
            del self.groups[: len(self.groups) - WINDOW]
            self.prev = cursor_after(self.groups[0], self.sort)

    def earlier_page(self, nearest_first: list[ErrorGroup], more: bool) -> None:
        """Prepend a page read before ``prev``; rows beyond the window leave at the bottom."""
        listed = {group.fingerprint for group in self.groups}
        page = [group for group in reversed(nearest_first) if group.fingerprint not in listed]
        self.groups[:0] = page
        self.prev = cursor_after(self.groups[0], self.sort) if more and self.groups else None
        self._trim_end()

    def last_page(self, nearest_first: list[ErrorGroup], more: bool) -> None:
        """Move the window to the end of the order (a page read backwards from the end)."""
        self.groups = list(reversed(nearest_first))
        self.next = None
        self.prev = cursor_after(self.groups[0], self.sort) if more and self.groups else None

    def _trim_end(self) -> None:
        if len(self.groups) > WINDOW:
            del self.groups[WINDOW:]
            self.next = cursor_after(self.groups[-1], self.sort)

    def replace(self, updated: ErrorGroup) -> None:
        """One group changed in place (resolved or reopened here)."""
        self.groups = [updated if g.fingerprint == updated.fingerprint else g for g in self.groups]


def prompt(group: ErrorGroup, width: int, seen: str, resolved: str, kind: str) -> Content:
    """A group's two lines: count, last seen, state; category, exception type, message."""
    if group.status == "resolved":
        state: tuple[str, str] = (f"✓ resolved {resolved}", "$text-success")
    elif group.regressed:
        state = ("↻ regressed", "bold $text-warning")
    else:
        state = ("", "")
    kind = safe_text(kind)
    room = max(8, 2 * width - len(group.category) - 3 - (len(kind) + 2 if kind else 0))
    message = safe_text(clip(group.message, _MAX_MESSAGE_CHARS))
    if len(message) > room:
        message = message[: room - 1] + "…"
    style = "$text-muted" if group.status == "resolved" else ""
    parts: list[str | tuple[str, str]] = [
        (f"×{humanize.count(group.count)}", "bold $text-error" if group.status != "resolved" else style),
        ("  " + seen, "$text-muted"),
        "  ",
        state,
        "\n",
        (safe_text(group.category), "$text-accent"),
        ": ",
    ]
    if kind:
        parts.extend(((kind, "bold $text-warning"), ": "))
    parts.append((message, style))
    return Content.assemble(*parts)


def pane_title(show_all: bool, sort: str, unresolved: int, listed_open: int, at_top: bool) -> str:
    """The pane's title: what it lists, how many are open, and any order but the default."""
    label = "Errors" if show_all else "Unresolved errors"
    title = f"{label} · {unresolved} open" if show_all else f"{label} · {unresolved}"
    if unresolved > listed_open and at_top:  # more below the window
        title += f" (newest {listed_open})" if sort == DEFAULT_SORT else f" (first {listed_open})"
    if sort != DEFAULT_SORT:  # the default order goes without saying (newest first)
        title += f" · by {SORT_LABELS[sort]}"
    return title


def event_ids(groups: Iterable[ErrorGroup], known: Iterable[int]) -> list[int]:
    """The newest events of ``groups`` whose exception type is not known yet."""
    seen = set(known)
    return sorted({g.last_event_id for g in groups if g.last_event_id and g.last_event_id not in seen})


class PageReader:
    """Reads pages of groups with the exception type of each one's newest event."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._kinds: LRUCache[int, str] = LRUCache(50_000)
        """Exception type by newest-event id ("" for none), read once per event."""

    def kind(self, group: ErrorGroup) -> str:
        """The exception type of ``group``'s newest event, as far as read ("" if none)."""
        return self._kinds.get(group.last_event_id or 0) or ""

    async def page(self, *, limit: int, **query: Unpack[GroupQuery]) -> tuple[list[ErrorGroup], bool]:
        """Up to ``limit`` groups and whether more follow (one query more for the types)."""
        page = await self._engine.groups(limit=limit + 1, **query)
        more = len(page) > limit
        del page[limit:]
        wanted = event_ids(page, self._kinds.keys())
        if wanted:
            found = await self._engine.reader.exception_types(wanted)
            for event_id in wanted:
                self._kinds[event_id] = found.get(event_id, "")
        return page, more
