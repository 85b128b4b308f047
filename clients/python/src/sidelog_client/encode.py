"""Turning a logged call into one wire line, off the app's thread.

The hot path (``EventLogger.event``) stores a plain tuple: building a dict, reading
the clock twice or serialising would each cost more than the whole call may. The
sender thread calls ``encode_line`` when it is about to send, so a burst logged
while sidelog is down costs only the tuples. The integrations go one step further
and queue the raw values of a call (``rendered``): its message and details are
built here too. (Imported by the sender thread when it
starts, so importing the client does not pay for a JSON library: ``jsonlib.py``,
orjson if installed, else the standard library's ``json`` writing the same JSON.)
Encoding never raises: a value JSON cannot hold becomes its ``repr``, an object that
cannot be serialised at all is replaced by a note saying so, text that is not valid
Unicode gets U+FFFD, and an oversized event is cut down, not lost.
"""

from __future__ import annotations

from typing import Any

from sidelog_client.capture import ExceptionInfo, safe_str
from sidelog_client.jsonlib import (
    BACKEND,
    ENCODE_ERRORS,
    ORJSON_DUMPS,
    ORJSON_OPTIONS,
    as_orjson_sees_it,
    default,
    dumps,
)
from sidelog_client.levels import LEVEL_ALIASES
from sidelog_client.redact import redact_url

MAX_LINE_BYTES = 1024 * 1024
"""The server's default line limit; larger events are trimmed before sending."""
MAX_FIELD_BYTES = 8 * 1024
"""The server's default limit for short string fields (everything but message and details)."""
_MAX_MESSAGE_CHARS = 64 * 1024
_SHORT_CHARS = MAX_FIELD_BYTES // 4  # this many characters fit the byte limit in any encoding
_LEVEL_SPELLINGS = {
    spelling: name
    for alias, name in LEVEL_ALIASES.items()
    for spelling in (alias, alias.upper(), alias.capitalize())
}
_NAMES: dict[str, str] = {}
"""Categories and sources already normalised (most apps use a handful)."""
_NAMES_LIMIT = 4096
_FIELDS = 14
"""Length of an ordinary queued item (``outbox.py`` shows the layout); other lengths are deferred."""
_NO_FIELDS = (None,) * 8


def encode_line(item: tuple[Any, ...], uid: str, default_source: str) -> bytes:
    """The NDJSON line (with its newline) for one queued item. Called only on the sender thread.

    The common case (plain strings, a known level) takes the fast branches; anything
    unusual is normalised by the helpers below so the server never has to reject it.
    """
    if len(item) != _FIELDS:
        item = rendered(item)
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
        if type(url) is str and ("?" in url or "#" in url or "@" in url):
            url = redact_url(url)  # ?token=… never reaches the wire
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
        if ORJSON_DUMPS is not None:  # called directly: through a wrapper the call costs a fifth more
            line = ORJSON_DUMPS(obj, default=default, option=ORJSON_OPTIONS)
        else:
            line = dumps(obj)
    except ENCODE_ERRORS:
        line = _encode_hard_case(obj)
    if len(line) >= MAX_LINE_BYTES:
        obj["details"] = {"truncated": True, "original_bytes": len(line)}
        obj["message"] = obj["message"][:4096]
        line = dumps(obj)
    return line


def rendered(item: tuple[Any, ...]) -> tuple[Any, ...]:
    """A deferred item as an ordinary one: ``item[2](item)`` gives its message and details.

    A hook queues ``(seq, time, render, category, level, *raw values)`` so that the
    app's thread pays for neither a details dict nor a message; ``render`` builds them
    here, on the sender thread. A ``render`` that fails leaves an event saying so.
    """
    try:
        message, details = item[2](item)
    except Exception as exc:
        message, details = f"(event could not be rendered: {type(exc).__name__}: {safe_str(exc)})", None
    return (item[0], item[1], message, item[3], item[4], details, *_NO_FIELDS)


def _encode_hard_case(obj: dict[str, Any]) -> bytes:
    """The line for an event the first attempt could not encode; never raises.

    In order: text with lone surrogates (file names decoded with ``surrogateescape``
    are not UTF-8) gets U+FFFD in their place; with ``json``, details are first
    rewritten as orjson would see them (NaN, exotic keys); details still refused are
    replaced by a note saying why.
    """
    for key, value in obj.items():
        if type(value) is str:
            obj[key] = _scrub(value)
    try:
        return dumps(obj)
    except ENCODE_ERRORS as error:
        reason = error
    if BACKEND == "json" and "details" in obj:
        try:
            return dumps({**obj, "details": as_orjson_sees_it(obj["details"])})
        except ENCODE_ERRORS as error:
            reason = error
    obj["details"] = {"unserializable": f"details could not be encoded as JSON: {_scrub(safe_str(reason))}"}
    return dumps(obj)


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


def _scrub(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (and split pairs joined)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
