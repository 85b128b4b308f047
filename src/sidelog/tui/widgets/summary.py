"""The line above the stream: the active filter as a URL-style query, and follow state.

The query string is the same one ``GET /v1/events`` and ``sidelog tail`` accept, so
what the user sees here can be pasted into either. Letters beyond ASCII are shown as
themselves (``?q=ärger``, as a browser's address bar shows them), not as the
percent-escapes the wire form uses; ``&``, ``=`` and the other ASCII escapes stay
escaped, so the line still reads as one unambiguous query.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.textsafe import safe_text

_NON_ASCII_ESCAPES = re.compile(r"(?:%[89A-Fa-f][0-9A-Fa-f])+")
"""A run of percent-escaped bytes of UTF-8 characters beyond ASCII."""


def readable_query(query: str) -> str:
    """``query`` with its non-ASCII letters unescaped (ASCII escapes kept)."""
    return _NON_ASCII_ESCAPES.sub(lambda run: unquote(run.group(0), errors="replace"), query)


class FilterSummary(Widget):
    """``?level=error&category=payment`` on the left, live/paused on the right."""

    DEFAULT_CSS = """
    FilterSummary { height: 1; }
    """

    flt: reactive[EventFilter] = reactive(EMPTY_FILTER)
    """The filter the stream shows."""
    following: reactive[bool] = reactive(True)
    """Whether the stream follows new events."""
    new_since_pause: reactive[int] = reactive(0)
    """Events that arrived (and matched) since following paused."""

    def watch_flt(self, flt: EventFilter) -> None:
        """Style hook: ``-filtered`` while any condition is active."""
        self.set_class(not flt.is_empty, "-filtered")

    def watch_following(self, following: bool) -> None:
        """Style hook: ``-paused`` while the stream does not follow."""
        self.set_class(not following, "-paused")

    def render(self) -> Content:
        """Filter on the left, follow state on the right."""
        query = readable_query(self.flt.to_query_string())
        left = (
            Content.assemble(("filter ", "$text-muted"), (safe_text(query), "bold"))
            if query
            else Content.styled("all events (no filter)", "$text-muted")
        )
        if self.following:
            right = Content.styled("● live", "$text-success")
        else:
            right = Content.styled(
                f"⏸ paused · {self.new_since_pause:,} new · f follows", "bold $text-warning"
            )
        width = self.content_region.width
        room = width - right.cell_length - 1
        if room < 8:
            return right
        if left.cell_length > room:
            left = left.truncate(room, ellipsis=True)
        return left + Content(" " * (width - left.cell_length - right.cell_length)) + right
