"""Turning a logged call into one wire line, off the app's thread.

The hot path (``EventLogger.event``) stores a plain tuple: building a dict, reading
the clock twice or serialising would each cost more than the whole call may. The
sender thread calls ``encode_line`` when it is about to send, so a burst logged
while sidelog is down costs only the tuples. (Imported by the sender thread when it
starts, so ``import sidelog`` does not pay for orjson.) Encoding never raises: a value JSON
cannot hold becomes its ``repr``, an object that cannot be serialised at all is
replaced by a note saying so, and an oversized event is cut down, not lost.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidelog.client.capture import ExceptionInfo, safe_str
from sidelog.client.config import LEVEL_ALIASES

MAX_LINE_BYTES = 1024 * 1024
"""The server's default line limit; larger events are trimmed before sending."""
MAX_FIELD_BYTES = 8 * 1024
"""The server's default limit for short string fields (everything but message and details)."""
_MAX_MESSAGE_CHARS = 64 * 1024
_SHORT_CHARS = MAX_FIELD_BYTES // 4  # this many characters fit the byte limit in any encoding
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
_LEVEL_SPELLINGS = {
    spelling: name
    for alias, name in LEVEL_ALIASES.items()
    for spelling in (alias, alias.upper(), alias.capitalize())
}
_NAMES: dict[str, str] = {}
"""Categories and sources already normalised (most apps use a handful)."""
_NAMES_LIMIT = 4096


def encode_line(item: tuple[Any, ...], uid: str, default_source: str) -> bytes:
    """The NDJSON line (with its newline) for one queued item. Called only on the sender thread.

    The common case (plain strings, a known level) takes the fast branches; anything
    unusual is normalised by the helpers below so the server never has to reject it.
    """
    (
        _,
        when,
        message,
        category,
        level,
        details,
        user_id,
        session_id,
        url,
        show,
        user_message,
        source,
        extra,
        exc,
    ) = item
    level_name = _LEVEL_SPELLINGS.get(level) if type(level) is str else None
    if level_name is None:
        level_name = LEVEL_ALIASES.get(level.strip().lower()) if isinstance(level, str) else None
        if level_name is None:
            extra = {**(extra or {}), "level_given": safe_str(level)}
            level_name = "info"
    if type(message) is not str or not message or len(message) > _MAX_MESSAGE_CHARS or "\x00" in message:
        message = _message(message)
    elif message.isspace():
        message = "(empty message)"
    name = _NAMES.get(category) if type(category) is str else None
    if name is None:
        name = _name(category, "general")
    if source is None:
        source = default_source
    else:
        origin = _NAMES.get(source) if type(source) is str else None
        source = origin if origin is not None else _name(source, default_source)
    obj: dict[str, Any] = {
        "id": uid,
        "message": message,
        "category": name,
        "type": level_name,
        "timestamp": int(when * 1000),
        "source": source,
    }
    if user_id is not None:
        obj["userId"] = user_id if type(user_id) is str and len(user_id) <= _SHORT_CHARS else _short(user_id)
    if session_id is not None:
        obj["sessionId"] = (
            session_id if type(session_id) is str and len(session_id) <= _SHORT_CHARS else _short(session_id)
        )
    if url is not None:
        obj["url"] = url if type(url) is str and len(url) <= _SHORT_CHARS else _short(url)
    if user_message is not None:
        obj["userMessage"] = (
            user_message
            if type(user_message) is str and len(user_message) <= _SHORT_CHARS
            else _short(user_message)
        )
    if show is not None:
        obj["showToUser"] = bool(show)
    if extra or exc is not None:
        details = _details(details, extra, exc)
    if details is not None:
        obj["details"] = details
    try:
        line = orjson.dumps(obj, default=_fallback, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError) as error:
        obj["details"] = {"unserializable": f"details could not be encoded as JSON: {error}"}
        line = orjson.dumps(obj, default=_fallback, option=_OPTIONS)
    if len(line) >= MAX_LINE_BYTES:
        obj["details"] = {"truncated": True, "original_bytes": len(line)}
        obj["message"] = obj["message"][:4096]
        line = orjson.dumps(obj, default=_fallback, option=_OPTIONS)
    return line


def _name(value: Any, default: str) -> str:
    """A category or source as the server stores it (trimmed, lower-case), remembered for next time."""
    text = _short(value).lower() or default
    if type(value) is str and len(_NAMES) < _NAMES_LIMIT:
        _NAMES[value] = text
    return text


def _details(details: Any, extra: dict[str, Any] | None, exc: ExceptionInfo | None) -> Any:
    if details is None:
        merged: dict[Any, Any] = {}
    elif isinstance(details, dict):
        merged = dict(details)
    else:
        merged = {"details": details}
    if extra:
        for key, value in extra.items():
            merged.setdefault(key, value)
    if exc is not None:
        merged["exception"] = exc.to_wire()
    return merged


def _message(value: Any) -> str:
    text = value if isinstance(value, str) else safe_str(value)
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not text.strip():
        text = "(empty message)"
    return text[:_MAX_MESSAGE_CHARS]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else safe_str(value)
    text = text.strip()
    if len(text) > _SHORT_CHARS:
        text = text.encode("utf-8", "replace")[:MAX_FIELD_BYTES].decode("utf-8", "ignore")
    return text


def _fallback(value: Any) -> Any:
    """orjson's ``default``: anything it cannot encode natively."""
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, ExceptionInfo):
        return value.to_wire()
    if isinstance(value, BaseException):
        return (
            ExceptionInfo.capture(value).to_wire()
            if value.__traceback__
            else f"{type(value).__name__}: {value}"
        )
    return safe_str(value)
