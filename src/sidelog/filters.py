"""What a user is looking for: one filter shared by the store, the live stream and the API.

``EventFilter`` has two faces that must agree: ``matches`` decides for a live event in
memory, and the repository turns the same fields into SQL for history. The UI shows
``to_query_string`` as the URL-style summary of the active filter, and the HTTP API
and ``sidelog tail`` build filters with ``from_params`` from the same names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sidelog import search
from sidelog.events import LEVELS, Event, EventError, normalize_level
from sidelog.timespec import check_range, parse_time
from sidelog.trace_ids import TRACE_ID_DIGITS, normalize_trace_id


@dataclass(frozen=True, slots=True)
class EventFilter:
    """A conjunction of optional conditions; an empty filter matches everything.

    Within one field the values are alternatives (``levels={"warn","error"}``).
    """

    levels: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    user: str | None = None
    session: str | None = None
    q: str | None = None
    """Case-insensitive substring of message or details."""
    since: int | None = None
    """Only events with ``timestamp >= since`` (ms)."""
    until: int | None = None
    """Only events with ``timestamp < until`` (ms)."""
    fingerprint: str | None = None
    """Only the events of one error group."""
    trace: str | None = None
    """Only the events of one distributed trace (32 lower-case hex digits)."""

    @property
    def is_empty(self) -> bool:
        """True when the filter matches every event."""
        return self == EMPTY_FILTER

    def matches(self, event: Event) -> bool:
        """Whether a live event passes the filter (same rules as the SQL side)."""
        if self.levels and event.level not in self.levels:
            return False
        if self.categories and event.category not in self.categories:
            return False
        if self.sources and event.source not in self.sources:
            return False
        if self.user is not None and event.user_id != self.user:
            return False
        if self.session is not None and event.session_id != self.session:
            return False
        if self.fingerprint is not None and event.fingerprint != self.fingerprint:
            return False
        if self.trace is not None and event.trace_id != self.trace:
            return False
        if self.since is not None and event.timestamp < self.since:
            return False
        if self.until is not None and event.timestamp >= self.until:
            return False
        return not self.q or search.matches(self.q, event.message, event.details)

    def toggled(self, field: str, value: str) -> EventFilter:
        """A copy with ``value`` added to or removed from a set field."""
        current: frozenset[str] = getattr(self, field)
        changes: dict[str, Any] = {field: current ^ {value}}
        return replace(self, **changes)

    def to_params(self) -> list[tuple[str, str]]:
        """The filter as HTTP query parameters (repeated keys for sets)."""
        params: list[tuple[str, str]] = []
        for name, values in (
            ("level", self.levels),
            ("category", self.categories),
            ("source", self.sources),
        ):
            params.extend((name, value) for value in sorted(values))
        for name in ("user", "session", "q", "since", "until", "fingerprint", "trace"):
            value = getattr(self, name)
            if value is not None and value != "":
                params.append((name, str(value)))
        return params

    def to_query_string(self) -> str:
        """URL-style summary such as ``?level=error&category=payment`` (``""`` when empty)."""
        params = self.to_params()
        return "?" + urlencode(params) if params else ""

    @classmethod
    def from_params(cls, params: Mapping[str, str] | list[tuple[str, str]]) -> EventFilter:
        """Build a filter from query parameters; raises ``ValueError`` naming the bad one.

        Set fields accept repeated keys and comma-separated values.
        """
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
        sets: dict[str, set[str]] = {"level": set(), "category": set(), "source": set()}
        scalars: dict[str, str] = {}
        for key, raw in pairs:
            if key in sets:
                for part in raw.split(","):
                    part = part.strip()
                    if not part:
                        continue
                    if key == "level":
                        try:
                            part = normalize_level(part, "level")
                        except EventError as exc:
                            raise ValueError(str(exc)) from None
                    else:
                        part = part.lower()
                    sets[key].add(part)
            elif key in ("user", "session", "q", "fingerprint", "trace") or key in ("since", "until"):
                scalars[key] = raw
        since = parse_time(scalars["since"], "since") if "since" in scalars else None
        until = parse_time(scalars["until"], "until") if "until" in scalars else None
        check_range(since, until)
        return cls(
            levels=frozenset(sets["level"]),
            categories=frozenset(sets["category"]),
            sources=frozenset(sets["source"]),
            user=scalars.get("user") or None,
            session=scalars.get("session") or None,
            q=scalars.get("q") or None,
            since=since,
            until=until,
            fingerprint=scalars.get("fingerprint") or None,
            trace=parse_trace(scalars["trace"]) if scalars.get("trace") else None,
        )


EMPTY_FILTER = EventFilter()


def parse_trace(raw: str) -> str:
    """A ``trace`` filter value: 32 hex digits (lower-cased), else ``ValueError`` saying so."""
    trace = normalize_trace_id(raw.strip())
    if trace is None:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise ValueError(
            f"trace must be a trace id of {TRACE_ID_DIGITS} hex digits "
            f"(W3C/OpenTelemetry/Sentry, not all zeros), got {shown!r}"
        )
    return trace


__all__ = ["EMPTY_FILTER", "LEVELS", "EventFilter", "parse_time", "parse_trace"]
