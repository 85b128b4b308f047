"""The event: the one record sidelog stores, with its validation and normalisation.

Everything here is pure (no I/O) so the wire protocol, the HTTP API, the client
libraries and the tests share one definition of what a valid event is. Validation
is hand-written rather than a pydantic model because it runs once per ingested
event on the hot path, and each rejection has to name the offending field.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from sidelog.dialects import DIALECTS, MARKERS, Recognised, Rejected, recognise
from sidelog.dialects.common import json_type
from sidelog.event_details import merge_extra, screened_text
from sidelog.fingerprint import fingerprint_of

# The level tables live in sidelog.levels (the client keeps an equal copy, tested); re-exported here.
from sidelog.levels import LEVEL_ALIASES as LEVEL_ALIASES
from sidelog.levels import LEVEL_RANK as LEVEL_RANK
from sidelog.levels import LEVELS as LEVELS
from sidelog.redact import Redactor
from sidelog.trace_ids import trace_id_of

SOURCES: tuple[str, ...] = ("server", "client", "api", "middleware", "convex", "system")
"""The usual source names; any other lower-case string is accepted too."""

_FIELD_NAMES = (
    "message msg category type level details userId user_id sessionId session_id url userAgent user_agent"
    " timestamp ts source showToUser show_to_user userMessage user_message resolved id"
)
KNOWN_FIELDS: frozenset[str] = frozenset(_FIELD_NAMES.split())
"""Top-level wire fields with a meaning; anything else is kept inside ``details``."""

MAX_UID_CHARS = 128
"""Longest accepted idempotency key (the wire ``id``)."""

# Accepted timestamps (ms): 1970 .. year 9999; outside is unit confusion or junk.
_MIN_TS = 0
_MAX_TS = 253_402_300_799_999


class EventError(ValueError):
    """An event broke a rule; the message names the field and says what is allowed."""


class InvalidValue:
    """A decoded array element already known to be invalid (a lone surrogate in it).

    The decoder puts it in place of the element so the rest of the array is still
    stored; ``parse_event`` rejects it with ``reason``.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits applied to incoming events (README "The event")."""

    max_line_bytes: int = 1024 * 1024
    """Largest line (socket) or body (HTTP), in bytes."""
    max_details_depth: int = 32
    """Deepest nesting of arrays/objects inside ``details``."""
    max_field_bytes: int = 8 * 1024
    """Largest string field other than ``message`` and ``details``, in UTF-8 bytes."""
    redactor: Redactor | None = field(default_factory=Redactor, compare=False)
    """Replaces credentials in ``details`` and ``url`` before storage (``None``: off)."""


DEFAULT_LIMITS = Limits()


@dataclass(slots=True)
class Event:
    """One normalised event. ``id`` is set once the event is committed to the store."""

    message: str
    category: str = "general"
    level: str = "info"
    details: str | None = None
    """``details`` as compact JSON text (what the ``events.details`` column holds)."""
    user_id: str | None = None
    session_id: str | None = None
    url: str | None = None
    user_agent: str | None = None
    timestamp: int = 0
    """When it happened, by the sender's clock (ms since the epoch)."""
    received_at: int = 0
    """When sidelog received it (ms), by sidelog's clock: retention judges age by this."""
    source: str = "server"
    show_to_user: bool | None = None
    user_message: str | None = None
    resolved: bool | None = None
    """Triage state of an error (``False`` until resolved); ``None`` for other levels unless sent."""
    uid: str | None = None
    """The wire ``id``: an optional idempotency key (column ``event_uid``)."""
    fingerprint: str | None = None
    """Error-group key; set for errors only."""
    id: int | None = field(default=None, compare=False)
    """Row id in the store; ``None`` until committed (or for live-only events)."""
    trace_id: str | None = None
    """The distributed trace the event belongs to (32 lower-case hex digits), found
    by ``trace_id_of`` in what was sent; column ``trace_id``, filter ``?trace=``."""

    def to_wire(self) -> dict[str, Any]:
        """The event as the JSON object the HTTP API and ``tail --json`` emit."""
        return {
            "id": self.id,
            "eventId": self.uid,
            "category": self.category,
            "type": self.level,
            "message": self.message,
            "details": orjson.loads(self.details) if self.details is not None else None,
            "userId": self.user_id,
            "sessionId": self.session_id,
            "url": self.url,
            "userAgent": self.user_agent,
            "timestamp": self.timestamp,
            "receivedAt": self.received_at,
            "source": self.source,
            "showToUser": self.show_to_user,
            "userMessage": self.user_message,
            "resolved": self.resolved,
            "fingerprint": self.fingerprint,
            "traceId": self.trace_id,
        }


def now_ms() -> int:
    """Current wall-clock time in milliseconds since the epoch."""
    return int(datetime.now(UTC).timestamp() * 1000)


def normalize_level(value: object, field_name: str = "type") -> str:
    """Map any accepted level spelling to its stored name, or raise ``EventError``."""
    if not isinstance(value, str):
        raise EventError(f"{field_name} must be a string, got {json_type(value)}")
    level = LEVEL_ALIASES.get(value.strip().lower())
    if level is None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise EventError(f"{field_name} {shown!r} is not a level (use debug, info, warn or error)")
    return level


def parse_event(
    obj: object,
    *,
    default_source: str,
    received_at: int,
    limits: Limits = DEFAULT_LIMITS,
    dialect_counts: dict[str, int] | None = None,
) -> Event:
    """Validate and normalise one decoded wire object into an ``Event``.

    Raises ``EventError`` naming the field at fault. Native events are validated
    strictly; only an object that fails, or carries a key only loggers write
    (``sidelog.dialects.MARKERS``), is offered to the dialect recognisers, so native
    events pay nothing for them, and one in no dialect keeps its native error.
    ``dialect_counts`` (when given) counts each recognised dialect by name.
    """
    try:
        return _parse_native(obj, default_source, received_at, limits, True)
    except _DialectMarked:  # valid as it is: read in a dialect only if that is valid too
        outcome = recognise(obj) if type(obj) is dict else None
        if isinstance(outcome, Recognised):
            with suppress(EventError):
                return parse_recognised(outcome, default_source, received_at, limits, dialect_counts)
        return _parse_native(obj, default_source, received_at, limits, False)
    except EventError:
        outcome = recognise(obj) if type(obj) is dict else None
        if outcome is None:
            raise
        if isinstance(outcome, Rejected):
            raise EventError(str(outcome)) from None
    return parse_recognised(outcome, default_source, received_at, limits, dialect_counts)


def parse_recognised(
    outcome: Recognised, source: str, received_at: int, limits: Limits, counts: dict[str, int] | None
) -> Event:
    """Validate a dialect's wire object; a rejection is prefixed with the dialect's name."""
    try:
        event = _parse_native(outcome.event, source, received_at, limits, False)
    except EventError as exc:
        raise EventError(f"{outcome.dialect}: {exc}") from None
    if counts is not None and outcome.dialect in DIALECTS:  # known names only: bounded
        counts[outcome.dialect] = counts.get(outcome.dialect, 0) + 1
    return event


class _DialectMarked(Exception):
    """A valid native event with a key only loggers write: ask the recognisers first."""


def _parse_native(obj: object, default_source: str, received_at: int, limits: Limits, markers: bool) -> Event:
    """The strict native validation (README "The event"): exact type tests inline for
    the common case, the slower path only to word a precise error. With ``markers``,
    a valid event carrying a dialect marker raises ``_DialectMarked`` instead."""
    if type(obj) is not dict:
        if isinstance(obj, InvalidValue):
            raise EventError(obj.reason)
        if not isinstance(obj, dict):
            raise EventError(f"an event must be a JSON object, got {json_type(obj)}")
    get = obj.get
    max_bytes = limits.max_field_bytes
    short = max_bytes // 4  # a str this short is within max_bytes in any encoding

    message = get("message")
    if message is None:
        message = get("msg")
        if message is None:
            raise EventError("message is required")
    if type(message) is not str:
        raise EventError(f"message must be a string, got {json_type(message)}")
    if not message or message.isspace():
        raise EventError("message must not be empty")
    if "\x00" in message:
        raise EventError("message must not contain a NUL character")

    category = get("category")
    if category is None:
        category = "general"
    else:
        if not (type(category) is str and len(category) <= short and "\x00" not in category):
            category = _text(category, "category", max_bytes)
        category = category.strip().lower()
        if not category:
            raise EventError("category must not be empty")

    level_value = get("type")
    if level_value is None:
        level_value = get("level")
        level = "info" if level_value is None else normalize_level(level_value, "level")
    else:
        alias = LEVEL_ALIASES.get(level_value) if type(level_value) is str else None
        level = alias if alias is not None else normalize_level(level_value, "type")

    source = get("source")
    if source is None:
        source = default_source
    else:
        if not (type(source) is str and len(source) <= short and "\x00" not in source):
            source = _text(source, "source", max_bytes)
        source = source.strip().lower()
        if not source:
            raise EventError("source must not be empty")

    stamp = get("timestamp")
    if stamp is None:
        stamp = get("ts")
    if stamp is None:
        timestamp = received_at
    elif type(stamp) is int and _MIN_TS <= stamp <= _MAX_TS:
        timestamp = stamp
    else:
        timestamp = _timestamp(stamp, received_at)

    uid = get("id")
    if uid is not None and (type(uid) is not str or not uid or len(uid) > MAX_UID_CHARS):
        if not isinstance(uid, str):
            raise EventError(f"id must be a string, got {json_type(uid)}")
        raise EventError(f"id must be 1 to {MAX_UID_CHARS} characters")

    resolved = get("resolved")
    if resolved is None:
        if level == "error":
            resolved = False
    elif type(resolved) is not bool:
        raise EventError(f"resolved must be true or false, got {json_type(resolved)}")
    show_to_user = get("showToUser")
    if show_to_user is None:
        show_to_user = get("show_to_user")
    if show_to_user is not None and type(show_to_user) is not bool:
        raise EventError(f"showToUser must be true or false, got {json_type(show_to_user)}")

    details_value = get("details")
    if not obj.keys() <= KNOWN_FIELDS:
        if markers and not MARKERS.isdisjoint(obj):
            raise _DialectMarked
        extra = {key: value for key, value in obj.items() if key not in KNOWN_FIELDS}
        details_value = merge_extra(details_value, extra)
    details = None
    redactor = limits.redactor
    if details_value is not None:
        done = screened_text(details_value, limits.max_details_depth, redactor)
        if done is None:
            raise EventError(f"details nests deeper than {limits.max_details_depth} levels")
        details_value, details = done
    url = get("url")
    if url is not None and not (type(url) is str and len(url) <= short and "\x00" not in url):
        url = _text(url, "url", max_bytes)
    if url is not None and redactor is not None and ("?" in url or "#" in url or "@" in url):
        url = redactor.url(url)

    fingerprint = fingerprint_of(category, message, details_value) if level == "error" else None
    # Optional text, checked in this order: a short clean string is taken as it is.
    texts: list[str | None] = []
    for name, alias in _OPTIONAL_TEXTS:
        value = get(name)
        if value is None:
            if alias in obj:
                value = _optional_text(obj, name, alias, max_bytes, short)
        elif not (type(value) is str and len(value) <= short and "\x00" not in value):
            value = _text(value, name, max_bytes)
        texts.append(value)
    user_id, session_id, user_agent, user_message = texts
    return Event(
        message,
        category,
        level,
        details,
        user_id,
        session_id,
        url,
        user_agent,
        timestamp,
        received_at,
        source,
        show_to_user,
        user_message,
        resolved,
        uid,
        fingerprint,
        None,
        None
        if type(details_value) is not dict or _TRACE_KEYS.isdisjoint(details_value)
        else trace_id_of(details_value),
    )


_TRACE_KEYS = frozenset(("trace_id", "traceId", "traceparent", "contexts"))
"""The only ``details`` keys ``trace_id_of`` reads: without any of them there is no trace id."""

_OPTIONAL_TEXTS = (
    ("userId", "user_id"),
    ("sessionId", "session_id"),
    ("userAgent", "user_agent"),
    ("userMessage", "user_message"),
)
"""The optional text fields after ``url``, each with the snake_case name loggers use."""


def _text(value: object, name: str, max_bytes: int) -> str:
    if not isinstance(value, str):
        raise EventError(f"{name} must be a string, got {json_type(value)}")
    # A str of n characters is at most 4n UTF-8 bytes: only measure the long ones.
    if len(value) * 4 > max_bytes and len(value.encode("utf-8", "surrogatepass")) > max_bytes:
        raise EventError(f"{name} is longer than {max_bytes} bytes")
    if "\x00" in value:
        raise EventError(f"{name} must not contain a NUL character")
    return value


def _optional_text(
    obj: dict[str, Any], name: str, alias: str | None, max_bytes: int, short: int
) -> str | None:
    value = obj.get(name)
    if value is None and alias is not None:
        value = obj.get(alias)
        if value is not None:
            name = alias
    if value is None:
        return None
    if type(value) is str and len(value) <= short and "\x00" not in value:
        return value
    return _text(value, name, max_bytes)


def _timestamp(value: object, received_at: int) -> int:
    if value is None:
        return received_at
    if isinstance(value, bool):
        raise EventError("timestamp must be milliseconds since the epoch or an ISO-8601 string")
    if isinstance(value, int | float):
        ms = int(value)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise EventError(f"timestamp {value[:40]!r} is not an ISO-8601 date-time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        ms = int(parsed.timestamp() * 1000)
    else:
        raise EventError(
            f"timestamp must be milliseconds since the epoch or an ISO-8601 string, got {json_type(value)}"
        )
    if not _MIN_TS <= ms <= _MAX_TS:
        raise EventError("timestamp is out of range (milliseconds between 1970 and 9999)")
    return ms
