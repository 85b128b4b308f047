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

from dataclasses import dataclass

from textual.content import Content

from sidelog.store.group_pages import DEFAULT_SORT, SORT_LABELS, GroupCursor, cursor_after, sort_key
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


@dataclass(frozen=True, slots=True)
class RowExtras:
    """What a row shows besides the group itself, read for its page (tui/widgets/errors_pages.py)."""

    spark: tuple[int, ...] = ()
    """Events per two-hour bucket over the last 24 hours, oldest first."""
    reports: int = 0
    """Users who reported the group through feedback."""
    new: bool = False
    """First seen after the pane was last looked at."""
    snoozed: str = ""
    """What is left of a snooze (``3h``, ``+40``); empty when not snoozed."""


def _marks(group: ErrorGroup, resolved: str, extras: RowExtras) -> list[tuple[str, str, str]]:
    """``(long, short, style)`` of each mark a row carries, in the order shown."""
    marks: list[tuple[str, str, str]] = []
    if group.status == "resolved":
        marks.append((f"✓ resolved {resolved}", "✓", "$text-success"))
    elif group.regressed:
        marks.append(("↻ regressed", "↻", "bold $text-warning"))
    if extras.new:
        marks.append(("✦ new", "✦", "bold $text-accent"))
    if extras.snoozed:
        marks.append((f"snoozed {extras.snoozed}", f"z{extras.snoozed}", "$text-muted"))
    if extras.reports:
        shown = humanize.count(extras.reports)
        marks.append((f"✉ {shown} reported", f"✉{shown}", "bold $text-primary"))
    return marks


def _mark_parts(group: ErrorGroup, resolved: str, extras: RowExtras, width: int) -> list[tuple[str, str]]:
    """The marks as styled text, each followed by two spaces; marks after the first (the
    group's state, when it has one) take their short form when the long ones would fill
    more than half a line."""
    marks = _marks(group, resolved, extras)
    texts = [long for long, _, _ in marks]
    if sum(2 + len(text) for text in texts) > width // 2:
        texts[1:] = [short for _, short, _ in marks[1:]]
    return [(text + "  ", style) for text, (_, _, style) in zip(texts, marks, strict=True)]


def spark_width(width: int, used: int) -> int:
    """Buckets the sparkline shows after ``used`` columns: all twelve (two hours each), six of
    four hours when that is all there is room for, or none."""
    room = width - used - 2
    return 12 if room >= 12 else 6 if room >= 6 else 0


def prompt(group: ErrorGroup, width: int, seen: str, resolved: str, kind: str, extras: RowExtras) -> Content:
    """A group's lines: count, last seen and the last 24 hours as a sparkline; then its marks
    (state, new, snoozed, reports), category, exception type and message."""
    count = f"×{humanize.count(group.count)}"
    buckets = spark_width(width, len(count) + 2 + len(seen)) if extras.spark else 0
    values = list(extras.spark)
    if buckets and buckets < len(values):  # four-hour buckets: pairs added up
        values = [a + b for a, b in zip(values[::2], values[1::2], strict=False)]
    spark = humanize.sparkline(values, buckets)
    marks = _mark_parts(group, resolved, extras, width)
    kind = safe_text(kind)
    if kind and (group.message == kind or group.message.startswith(f"{kind}:")):
        kind = ""  # the message names its type already ("SyntaxError: Unexpected token")
    used = sum(len(text) for text, _ in marks) + len(group.category) + 2 + (len(kind) + 2 if kind else 0)
    room = max(8, 2 * width - used - 1)
    message = safe_text(clip(group.message, _MAX_MESSAGE_CHARS))
    if len(message) > room:
        message = message[: room - 1] + "…"
    resolved_row = group.status == "resolved"
    style = "$text-muted" if resolved_row else ""
    parts: list[str | tuple[str, str]] = [
        (count, "$text-muted" if resolved_row else "bold $text-error"),
        ("  " + seen, "$text-muted"),
    ]
    if spark:
        quiet = resolved_row or not any(values)
        parts.extend(("  ", (spark, "$text-muted" if quiet else "$text-error")))
    parts.extend(("\n", *marks, (safe_text(group.category), "$text-accent"), ": "))
    if kind:
        parts.extend(((kind, "bold $text-warning"), ": "))
    parts.append((message, style))
    return Content.assemble(*parts)


def pane_title(
    show_all: bool, sort: str, unresolved: int, listed_open: int, at_top: bool, snoozed: int = 0
) -> str:
    """The pane's title: what it lists, how many are open (snoozed ones apart), any order but the default."""
    label = "Errors" if show_all else "Unresolved errors"
    title = f"{label} · {unresolved} open" if show_all else f"{label} · {unresolved}"
    if unresolved > listed_open and at_top:  # more below the window
        title += f" (newest {listed_open})" if sort == DEFAULT_SORT else f" (first {listed_open})"
    if snoozed:
        title += f" · {snoozed} snoozed"
    if sort != DEFAULT_SORT:  # the default order goes without saying (newest first)
        title += f" · by {SORT_LABELS[sort]}"
    return title
