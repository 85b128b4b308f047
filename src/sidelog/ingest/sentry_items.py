"""Sentry error and message events as native events (README "Already using Sentry or OpenTelemetry?").

An ``event`` item becomes one event. Level from the event; message ``Type: value``
of the last exception (the one raised; earlier ones are its causes), else the log
message; ``details.exception = {type, message, stack}`` with ``stack`` a
Python-style traceback text built from the frames, in-app frames marked
``(in app)``: the shape the Python client writes (``sidelog_client/capture.py``),
so the UI and ``fingerprint.py`` read both alike. At most ``MAX_FRAMES`` innermost
frames per exception and ``MAX_CHAIN`` exceptions per chain are kept, and the text
says how many were left out. Grouping follows the SDK's ``fingerprint`` when it
sets one, else exception type + the innermost in-app frame.

Also the helpers every Sentry item reader shares (``sentry_spans`` reads
transactions, spans and logs). Pure functions over decoded JSON in which every
field may have any type, so each is read defensively.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sidelog.event_details import depth
from sidelog.events import Event, EventError, Limits
from sidelog.fingerprint import fingerprint_of
from sidelog.ingest.receiver import bounded, build_event, clip, hashed_fingerprint, level_of, ms_from_seconds

__all__ = [
    "MAX_CHAIN",
    "MAX_FRAMES",
    "STORED_TYPES",
    "ItemContext",
    "attributes_of",
    "category_of",
    "dict_of",
    "event_from_sentry",
    "event_id_of",
    "frame_text",
    "sdk_name_of",
    "tags_of",
    "text_of",
    "traceback_text",
]

STORED_TYPES = frozenset({"event", "transaction", "log", "span"})
"""Item types that become events; every other type is counted only."""
MAX_FRAMES = 50
"""Innermost frames kept per exception (Sentry's SDKs send up to a few hundred)."""
MAX_CHAIN = 10
"""Exceptions kept per chain (the last ones: the raised exception and its nearest causes)."""
_DEFAULT = "{{ default }}"


@dataclass(frozen=True, slots=True)
class ItemContext:
    """What converting an item needs beyond its payload."""

    limits: Limits
    received_at: int
    slow_ms: int = 1000
    """Transactions slower than this are warnings (``slow_request_ms``)."""
    sdk_name: str | None = None
    """From the envelope header or the auth header: the source when an item names none."""
    user_agent: str | None = None
    """The request's ``User-Agent`` when a browser sent it (pages report through their SDK)."""
    project: str | None = None
    """The project id of the DSN path (``/api/<project>/…``), kept in details."""


def sdk_name_of(sdk: object) -> str | None:
    """``sdk.name`` of an event or envelope header (``sentry.python``, ``sentry.javascript.node``)."""
    name = sdk.get("name") if isinstance(sdk, dict) else None
    return name.strip().lower() if isinstance(name, str) and name.strip() else None


# --------------------------------------------------------------------- events


def event_from_sentry(doc: dict[str, Any], ctx: ItemContext) -> Event:
    """One Sentry error or message event as a native event (raises ``EventError``).

    Runs once per reported error, so it reads each field once: the frames of the
    raised exception serve both the traceback and the grouping, and the kept values
    go into ``details`` as they are (the depth check in ``parse_event`` walks them
    anyway; only an event it refuses as too deep is retried with the deep parts cut).
    """
    get = doc.get
    chain, omitted = _exception_chain(doc)
    tags = tags_of(get("tags"))
    logger = get("logger")
    category = text_of((tags or {}).get("category")) or text_of(logger) or "sentry"
    details: dict[str, Any] = {}
    exception: dict[str, str] | None = None
    frames: list[dict[str, Any]] = []
    if chain:
        stacks = [_frames(value) for value in chain]
        frames = stacks[-1][0]
        last = chain[-1]
        exc_type = text_of(last.get("type")) or "Error"
        value = text_of(last.get("value"))
        message = f"{exc_type}: {value}" if value else exc_type
        exception = {"type": exc_type, "message": value, "stack": traceback_text(chain, omitted, stacks)}
        details["exception"] = exception
        logged = _log_message(doc)
        if logged:
            details["logentry"] = logged
    else:
        message = _log_message(doc) or text_of(get("transaction")) or "(no message)"
    contexts = get("contexts")
    trace = contexts.get("trace") if type(contexts) is dict else None
    if type(trace) is dict:
        details["trace_id"] = trace.get("trace_id")
        details["span_id"] = trace.get("span_id")
    user = dict_of(get("user"))
    request = dict_of(get("request"))
    breadcrumbs = get("breadcrumbs")
    if type(breadcrumbs) is dict:
        breadcrumbs = breadcrumbs.get("values")
    details["event_id"] = get("event_id")
    for key in _KEPT:
        details[key] = get(key)
    details["sdk"] = sdk_of(get("sdk"))
    details["user"] = user if len(user) > 1 or (user and "id" not in user) else None
    details["request"] = request
    details["tags"] = tags
    details["contexts"] = contexts
    details["breadcrumbs"] = breadcrumbs
    details["extra"] = get("extra")
    details["fingerprint"] = get("fingerprint")
    details["project"] = ctx.project
    details = {
        key: found for key, found in details.items() if found is not None and found != {} and found != []
    }
    sdk_name = sdk_name_of(get("sdk"))
    wire = {
        "message": message,
        "category": category,
        "type": level_of(get("level"), "error"),
        "details": details,
        "userId": text_of(user.get("id")) or None,
        "url": text_of(request.get("url")) or None,
        "userAgent": header_of(request.get("headers"), "user-agent") or ctx.user_agent,
        "timestamp": ms_from_seconds(get("timestamp")),
        "source": sdk_name or ctx.sdk_name or "sentry",
        "id": event_id_of(doc),
    }
    fingerprint = _fingerprint(doc, category, message, exception, frames)
    try:
        return build_event(wire, limits=ctx.limits, received_at=ctx.received_at, fingerprint=fingerprint)
    except EventError:
        limit = ctx.limits.max_details_depth
        if depth(details, limit) <= limit:
            raise  # refused for another reason
        wire["details"] = bounded(details, limit)  # too deep: keep the event, its deepest parts cut
        return build_event(wire, limits=ctx.limits, received_at=ctx.received_at, fingerprint=fingerprint)


_KEPT = ("platform", "release", "environment", "dist", "server_name", "transaction", "logger")
"""Top-level fields kept in ``details`` as they are."""


def traceback_text(
    chain: list[dict[str, Any]],
    omitted: int = 0,
    stacks: list[tuple[list[dict[str, Any]], int]] | None = None,
) -> str:
    """A Python-style traceback of an exception chain (causes first, the raised one last).

    ``stacks`` are the chain's ``_frames`` when the caller already has them.
    """
    parts = [f"[… {omitted} earlier chained exceptions omitted]\n\n"] if omitted else []
    for index, value in enumerate(chain):
        if index:
            source = dict_of(chain[index - 1].get("mechanism")).get("source")
            parts.append(
                "\nDuring handling of the above exception, another exception occurred:\n\n"
                if source == "__context__"
                else "\nThe above exception was the direct cause of the following exception:\n\n"
            )
        exc_type = text_of(value.get("type")) or "Error"
        text = text_of(value.get("value"))
        frames, older = stacks[index] if stacks is not None else _frames(value)
        if frames or older:
            parts.append("Traceback (most recent call last):\n")
            if older:
                parts.append(f"  [… {older} older frames omitted: the innermost {MAX_FRAMES} are kept]\n")
            parts.extend(map(frame_text, frames))
        parts.append(f"{exc_type}: {text}\n" if text else f"{exc_type}\n")
    return "".join(parts)


_FRAME_LINES: dict[tuple[object, ...], str] = {}
"""``frame_text`` results by the frame's fields: an app reports the same frames again and
again (the same code paths fail), so most frames are found here."""
_MAX_FRAME_LINES = 8192
"""Entries kept in ``_FRAME_LINES`` (emptied when full: memory stays bounded)."""


def frame_text(frame: dict[str, Any]) -> str:
    """One frame as a traceback line (plus its source line when the SDK sent it)."""
    get = frame.get
    key = (get("abs_path") or get("filename") or get("module"), get("lineno"), get("function"),
           get("in_app") is True, get("context_line"))  # fmt: skip
    try:
        return _FRAME_LINES[key]
    except KeyError:
        pass
    except TypeError:  # a list or object where a string belongs: not a key, still a frame
        return _frame_text(*key)
    text = _frame_text(*key)
    if len(_FRAME_LINES) >= _MAX_FRAME_LINES:
        _FRAME_LINES.clear()
    _FRAME_LINES[key] = text
    return text


def _frame_text(path: object, lineno: object, function: object, in_app: bool, source: object) -> str:
    if type(path) is not str or len(path) > 512 or '"' in path or "\n" in path:
        path = clip(text_of(path) or "?", 512).replace('"', "'").replace("\n", " ")
    if type(function) is not str or not function or len(function) > 256 or "\n" in function:
        function = clip(text_of(function) or "?", 256).replace("\n", " ")
    mark = " (in app)" if in_app else ""
    text = f'  File "{path}", line {lineno if type(lineno) is int else "?"}, in {function}{mark}\n'
    if type(source) is str:
        source = source.strip()
        if source:
            text += f"    {source if len(source) <= 512 else clip(source, 512)}\n"
    return text


def _exception_chain(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The exception values (at most ``MAX_CHAIN``, the last ones) and how many were left out."""
    exc = doc.get("exception")
    values = exc.get("values") if isinstance(exc, dict) else exc
    if not isinstance(values, list):
        return [], 0
    kept = [value for value in values[-MAX_CHAIN:] if isinstance(value, dict)]
    return kept, max(0, len(values) - MAX_CHAIN)


def _frames(value: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The innermost ``MAX_FRAMES`` frames of one exception (oldest first) and the count left out."""
    frames = dict_of(value.get("stacktrace")).get("frames")
    if not isinstance(frames, list):
        return [], 0
    kept = [frame for frame in frames[-MAX_FRAMES:] if isinstance(frame, dict)]
    return kept, max(0, len(frames) - MAX_FRAMES)


def _fingerprint(
    doc: dict[str, Any],
    category: str,
    message: str,
    exception: dict[str, str] | None,
    frames: list[dict[str, Any]],
) -> str | None:
    """The SDK's grouping when it sets one, else type + innermost in-app frame.

    ``None`` means "the usual key": ``parse_event`` already groups by type + the
    innermost frame of ``exception["stack"]``, which is the wanted one unless a
    library frame sits below the innermost in-app frame, so only then (and for an
    SDK fingerprint) is a key computed here: one ``fingerprint_of`` per event, not two.
    """
    default: str | None = None
    in_app = next((frame for frame in reversed(frames) if frame.get("in_app") is True), None)
    if exception is not None and in_app is not None and in_app is not frames[-1]:
        default = fingerprint_of(category, message, {"exception": {**exception, "stack": frame_text(in_app)}})
    parts = doc.get("fingerprint")
    if not isinstance(parts, list) or not parts or all(part == _DEFAULT for part in parts):
        return default
    usual = default or fingerprint_of(category, message, {"exception": exception} if exception else None)
    return hashed_fingerprint([usual if part == _DEFAULT else str(part)[:200] for part in parts[:32]])


def _log_message(doc: dict[str, Any]) -> str:
    """The event's log message: ``logentry`` (formatted first) or ``message``."""
    for key in ("logentry", "message", "sentry.interfaces.Message"):
        value = doc.get(key)
        if isinstance(value, dict):
            value = value.get("formatted") or value.get("message")
        text = text_of(value)
        if text.strip():
            return text
    return ""


# -------------------------------------------------------------------- helpers


def text_of(value: object) -> str:
    """A string field, or ``""``; numbers (an integer user id) become their text."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def dict_of(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def event_id_of(doc: dict[str, Any]) -> str | None:
    value = doc.get("event_id")
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None


def sdk_of(sdk: object) -> dict[str, Any] | None:
    sdk = dict_of(sdk)
    kept = {key: sdk[key] for key in ("name", "version") if isinstance(sdk.get(key), str)}
    return kept or None


def tags_of(tags: object) -> dict[str, Any] | None:
    """Tags as an object (Sentry also allows a list of ``[key, value]`` pairs)."""
    if isinstance(tags, list):
        tags = {str(pair[0]): pair[1] for pair in tags if isinstance(pair, list) and len(pair) == 2}
    if not isinstance(tags, dict) or not tags:
        return None
    return {
        str(key): value if isinstance(value, str | int | float | bool) else str(value)
        for key, value in tags.items()
    }


def category_of(doc: dict[str, Any], default: str) -> str:
    """The ``category`` tag, else the logger name, else ``default``."""
    tags = tags_of(doc.get("tags")) or {}
    return text_of(tags.get("category")) or text_of(doc.get("logger")) or default


def attributes_of(attrs: object) -> dict[str, Any]:
    """Sentry's typed attributes (``{"value": v, "type": t}``) as plain key → value."""
    if not isinstance(attrs, dict):
        return {}
    return {
        str(key): value["value"] if isinstance(value, dict) and "value" in value else value
        for key, value in attrs.items()
    }


def header_of(headers: object, name: str) -> str | None:
    """A request header from an event (an object, or a list of ``[name, value]`` pairs)."""
    pairs = headers.items() if isinstance(headers, dict) else headers if isinstance(headers, list) else ()
    for pair in pairs:
        if isinstance(pair, tuple | list) and len(pair) == 2 and str(pair[0]).lower() == name:
            return text_of(pair[1]) or None
    return None
