"""What every dialect recogniser shares: its outcome types and the event builder.

A recogniser turns one decoded JSON object into a *native* wire object (README "The
event") rather than an ``Event``: the native validation in ``sidelog.events`` then
has the last word on sizes, nesting and NUL characters, exactly as for native input,
and the dialect only decides how to read its own fields. What the dialect said that
has no native field (logger name, pid, host, caller, the original level, problems
met on the way) goes into ``details`` under the names listed in README "The event".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from sidelog.dialects.levels import map_level
from sidelog.dialects.timestamps import to_ms

DIALECTS: tuple[str, ...] = (
    "pino",
    "bunyan",
    "winston",
    "consola",
    "structlog",
    "loguru",
    "python-json-logger",
    "clef",
    "gelf",
    "ecs",
    "zap",
    "zerolog",
    "slog",
    "logfmt",
    "text",
)
"""Every dialect name that can appear in ``details.dialect`` (and in the counters)."""

DIALECT_KEY = "dialect"
"""``details`` key naming the dialect an event was recognised as."""
ISSUES_KEY = "dialect_issues"
"""``details`` key listing what was wrong with a recognisable but broken line."""

# Fields with an obvious native meaning, lifted out of a dialect's bound context.
# ``id`` is deliberately not among them: an app's own "id" field must never become
# sidelog's idempotency key and silently de-duplicate distinct log lines.
_LIFT: dict[str, str] = {
    "userId": "userId",
    "user_id": "userId",
    "UserId": "userId",
    "sessionId": "sessionId",
    "session_id": "sessionId",
    "SessionId": "sessionId",
    "url": "url",
    "userAgent": "userAgent",
    "user_agent": "userAgent",
    "category": "category",
}
_SUMMARY_CHARS = 200


@dataclass(frozen=True, slots=True)
class Recognised:
    """A dialect line read as a native wire object (``event``) ready for validation."""

    dialect: str
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A line recognisably in ``dialect`` that cannot be stored; ``reason`` names the field."""

    dialect: str
    reason: str

    def __str__(self) -> str:
        return f"{self.dialect}: {self.reason}"


Outcome = Recognised | Rejected


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for messages about a field."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def shown(value: object) -> str:
    """A short quotation of a value for an issue or rejection message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


class Builder:
    """Collects one dialect line's fields into a native wire object.

    Every setter tolerates a broken field: it notes the problem (kept in
    ``details.dialect_issues``) and leaves the field at its default, so a line is
    rejected only when no message can be made at all (``build``).
    """

    __slots__ = ("dialect", "message", "level", "timestamp", "details", "issues", "native")

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.message: str | None = None
        self.level = "info"
        self.timestamp: int | None = None
        self.details: dict[str, Any] = {DIALECT_KEY: dialect}
        self.issues: list[str] = []
        self.native: dict[str, Any] = {}

    def note(self, problem: str) -> None:
        """Record a problem with the line (it is stored anyway)."""
        self.issues.append(problem)

    def set_message(self, value: object, field: str) -> bool:
        """Use ``value`` as the message if it is non-empty text; note it otherwise."""
        if isinstance(value, str):
            if value.strip():
                self.message = value
                return True
            return False
        if value is not None:
            self.note(f"{field} is {json_type(value)}, not a string")
            self.meta(field, value)
        return False

    def set_level(self, value: object, field: str, scheme: str | None = None) -> None:
        """Map the dialect's level; an unknown one is stored as info, the original kept."""
        if value is None:
            return
        mapped = map_level(value, scheme)
        if mapped is None:
            self.details["level"] = value
            self.note(f"{field} {shown(value)} is not a {self.dialect} level; stored as info")
            return
        self.level, exact = mapped
        if not exact:
            self.details["level"] = value

    def set_time(self, value: object, field: str) -> None:
        """Read the timestamp; a broken one leaves the time received, original kept."""
        if value is None:
            return
        ms = to_ms(value)
        if ms is None:
            self.details[field] = value
            self.note(f"{field} {shown(value)} is not a timestamp; stored with the time received")
        else:
            self.timestamp = ms

    def meta(self, key: str, value: object) -> None:
        """Keep a dialect field (logger, pid, host, caller…) in ``details`` if present."""
        if value is not None and value != "":
            self.put(key, value)

    def put(self, key: str, value: object) -> None:
        """Add ``key`` to ``details``; an app field clashing with one of ours goes to ``_extra``."""
        details = self.details
        if key in details:
            details.setdefault("_extra", {})[key] = value
        else:
            details[key] = value

    def fields(self, values: Mapping[str, Any], skip: Collection[str] = ()) -> None:
        """The app's own fields: obvious native ones lifted, the rest kept in ``details``."""
        for key, value in values.items():
            if key in skip:
                continue
            target = _LIFT.get(key)
            if target is not None and target not in self.native:
                if isinstance(value, int) and not isinstance(value, bool) and target != "category":
                    value = str(value)
                if isinstance(value, str) and value.strip() and "\x00" not in value:
                    self.native[target] = value
                    continue
            self.put(key, value)

    def build(self, field: str = "msg") -> Outcome:
        """The native wire object, or a rejection naming ``field`` when nothing can be shown."""
        message = self.message
        details = self.details
        if message is None:
            exception = details.get("exception")
            if isinstance(exception, dict) and (exception.get("message") or exception.get("type")):
                exc_type, exc_message = exception.get("type") or "", exception.get("message") or ""
                message = (
                    f"{exc_type}: {exc_message}" if exc_type and exc_message else exc_type or exc_message
                )
            else:
                own = {k: v for k, v in details.items() if k not in (DIALECT_KEY, "level")}
                if not own:
                    return Rejected(self.dialect, f"{field} is required")
                summary = orjson.dumps(own, default=str).decode()
                message = summary if len(summary) <= _SUMMARY_CHARS else summary[:_SUMMARY_CHARS] + "…"
                self.note(f"no {field}: the message shows the line's fields")
        if self.issues:
            details[ISSUES_KEY] = self.issues
        event: dict[str, Any] = {"message": message, "type": self.level, "details": details}
        if self.timestamp is not None:
            event["timestamp"] = self.timestamp
        event.update(self.native)
        return Recognised(self.dialect, event)
