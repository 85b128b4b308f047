"""The event: the one record sidelog stores, with its validation and normalisation.

Everything here is pure (no I/O) so the wire protocol, the HTTP API, the client
libraries and the tests share one definition of what a valid event is. Validation
is hand-written rather than a pydantic model because it runs once per ingested
event on the hot path, and each rejection has to name the offending field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from sidelog.fingerprint import fingerprint_of

# The level tables live in sidelog.levels (shared with the light client); re-exported here.
from sidelog.levels import LEVEL_ALIASES as LEVEL_ALIASES
from sidelog.levels import LEVEL_RANK as LEVEL_RANK
from sidelog.levels import LEVELS as LEVELS

SOURCES: tuple[str, ...] = ("server", "client", "api", "middleware", "convex", "system")
"""The seed's source names; any other lower-case string is accepted too."""

KNOWN_FIELDS: frozenset[str] = frozenset(
    {
        "message",
        "msg",
        "category",
        "type",
        "level",
        "details",
        "userId",
        "user_id",
        "sessionId",
        "session_id",
        "url",
        "userAgent",
        "user_agent",
        "timestamp",
        "ts",
        "source",
        "showToUser",
        "show_to_user",
        "userMessage",
        "user_message",
        "resolved",
        "id",
    }
)
"""Top-level wire fields with a meaning; anything else is kept inside ``details``."""

MAX_UID_CHARS = 128
"""Longest accepted idempotency key (the wire ``id``)."""

# Earliest and latest accepted timestamps (ms): 1970 .. year 9999. Anything outside
# is almost certainly seconds-vs-milliseconds confusion in the reverse direction or junk.
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
    """Size limits applied to incoming events (SPEC section 2)."""

    max_line_bytes: int = 1024 * 1024
    """Largest line (socket) or body (HTTP), in bytes."""
    max_details_depth: int = 32
    """Deepest nesting of arrays/objects inside ``details``."""
    max_field_bytes: int = 8 * 1024
    """Largest string field other than ``message`` and ``details``, in UTF-8 bytes."""


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
        }


def now_ms() -> int:
    """Current wall-clock time in milliseconds since the epoch."""
    return int(datetime.now(UTC).timestamp() * 1000)


def normalize_level(value: object, field_name: str = "type") -> str:
    """Map any accepted level spelling to its stored name, or raise ``EventError``."""
    if not isinstance(value, str):
        raise EventError(f"{field_name} must be a string, got {_json_type(value)}")
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
) -> Event:
    """Validate and normalise one decoded wire object into an ``Event``.

    Raises ``EventError`` whose message names the field at fault. This runs once per
    ingested event, so the common case (short strings, no unknown fields) is checked
    inline with exact type tests; anything unusual takes the slower path that builds
    the precise error message.
    """
    if type(obj) is not dict:
        if isinstance(obj, InvalidValue):
            raise EventError(obj.reason)
        if not isinstance(obj, dict):
            raise EventError(f"an event must be a JSON object, got {_json_type(obj)}")
    get = obj.get
    max_bytes = limits.max_field_bytes
    short = max_bytes // 4  # a str this short is within max_bytes in any encoding

    message = get("message")
    if message is None:
        message = get("msg")
        if message is None:
            raise EventError("message is required")
    if type(message) is not str:
        raise EventError(f"message must be a string, got {_json_type(message)}")
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
            raise EventError(f"id must be a string, got {_json_type(uid)}")
        raise EventError(f"id must be 1 to {MAX_UID_CHARS} characters")

    resolved = get("resolved")
    if resolved is None:
        if level == "error":
            resolved = False
    elif type(resolved) is not bool:
        raise EventError(f"resolved must be true or false, got {_json_type(resolved)}")
    show_to_user = get("showToUser")
    if show_to_user is None:
        show_to_user = get("show_to_user")
    if show_to_user is not None and type(show_to_user) is not bool:
        raise EventError(f"showToUser must be true or false, got {_json_type(show_to_user)}")

    details_value = get("details")
    if not obj.keys() <= KNOWN_FIELDS:
        extra = {key: value for key, value in obj.items() if key not in KNOWN_FIELDS}
        details_value = _merge_extra(details_value, extra)
    details = None
    if details_value is not None:
        _check_depth(details_value, limits.max_details_depth)
        details = orjson.dumps(details_value).decode()

    fingerprint = None
    if level == "error":
        fingerprint = fingerprint_of(category, message, details_value)
    return Event(
        message,
        category,
        level,
        details,
        _optional_text(obj, "userId", "user_id", max_bytes, short),
        _optional_text(obj, "sessionId", "session_id", max_bytes, short),
        _optional_text(obj, "url", None, max_bytes, short),
        _optional_text(obj, "userAgent", "user_agent", max_bytes, short),
        timestamp,
        received_at,
        source,
        show_to_user,
        _optional_text(obj, "userMessage", "user_message", max_bytes, short),
        resolved,
        uid,
        fingerprint,
    )


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
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


def _text(value: object, name: str, max_bytes: int) -> str:
    if not isinstance(value, str):
        raise EventError(f"{name} must be a string, got {_json_type(value)}")
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
            f"timestamp must be milliseconds since the epoch or an ISO-8601 string, got {_json_type(value)}"
        )
    if not _MIN_TS <= ms <= _MAX_TS:
        raise EventError("timestamp is out of range (milliseconds between 1970 and 9999)")
    return ms


def _merge_extra(details: object, extra: dict[str, Any]) -> object:
    """Fold unknown top-level fields into ``details`` without overwriting anything."""
    if details is None:
        return extra
    if isinstance(details, dict):
        merged = dict(details)
        clashes = {}
        for key, value in extra.items():
            if key in merged:
                clashes[key] = value
            else:
                merged[key] = value
        if clashes:
            merged["_extra"] = clashes
        return merged
    return {"details": details, **extra}


def _check_depth(value: object, limit: int) -> None:
    """Raise if ``value`` nests arrays/objects deeper than ``limit`` levels."""
    if _depth(value, limit) > limit:
        raise EventError(f"details nests deeper than {limit} levels")


def _depth(value: object, limit: int) -> int:
    """Nesting depth of ``value`` (1 for a flat object), stopping once past ``limit``."""
    kind = type(value)
    if kind is dict:
        children: Any = value.values()  # type: ignore[attr-defined]
    elif kind is list:
        children = value
    else:
        return 0
    if limit <= 0:
        return 1
    deepest = 0
    for child in children:
        child_kind = type(child)
        if child_kind is dict or child_kind is list:
            depth = _depth(child, limit - 1)
            if depth > deepest:
                deepest = depth
    return deepest + 1
