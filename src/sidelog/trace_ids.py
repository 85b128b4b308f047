"""Trace ids: which trace an event belongs to, so a browser error and the server error it
caused can be found together (``?trace=``, ``sidelog tail --trace``, the detail screen's key).

W3C Trace Context, OpenTelemetry and Sentry all name a trace with 16 random bytes
written as 32 hex digits. ``trace_id_of`` is the one place an event's id is found,
whatever path it came in by; ``normalize_trace_id`` is what the filters accept. Pure
functions, no I/O: the store's migration uses ``trace_id_of`` on stored rows too.
"""

from __future__ import annotations

__all__ = ["TRACE_ID_DIGITS", "normalize_trace_id", "trace_id_of"]

TRACE_ID_DIGITS = 32
"""Hex digits of a trace id (W3C Trace Context, OpenTelemetry, Sentry)."""
_HEX_DIGITS = "0123456789abcdef"
_NO_TRACE = "0" * TRACE_ID_DIGITS


def normalize_trace_id(value: object) -> str | None:
    """``value`` as a trace id (32 hex digits, lower-cased), or ``None`` if it is not one.

    W3C Trace Context, OpenTelemetry and Sentry all use 16-byte ids written as 32 hex
    digits; all zeros is W3C's "no trace".
    """
    if type(value) is not str or len(value) != TRACE_ID_DIGITS:
        return None
    text = value.lower()
    if text.strip(_HEX_DIGITS) or text == _NO_TRACE:
        return None
    return text


def trace_id_of(details: object) -> str | None:
    """The trace id an event carries, or ``None``: the one place every ingest path gets it.

    Looked up in ``details`` (where a sender's unknown top-level fields land too), first
    valid wins: ``trace_id`` (the Sentry and OTLP receivers, loggers' trace fields),
    ``traceId``, a W3C ``traceparent`` header value (``00-<trace id>-<span id>-<flags>``),
    then Sentry's ``contexts.trace.trace_id``. A malformed id is ignored, not an error:
    it only means the event is not found by ``?trace=``.
    """
    if type(details) is not dict:
        return None
    get = details.get
    for key in ("trace_id", "traceId"):
        value = get(key)
        if value is not None and (found := normalize_trace_id(value)) is not None:
            return found
    parent = get("traceparent")
    if type(parent) is str and len(parent) >= 55 and parent[2] == "-" and parent[35] == "-":
        found = normalize_trace_id(parent[3:35])
        if found is not None:
            return found
    contexts = get("contexts")
    if type(contexts) is dict:
        trace = contexts.get("trace")
        if type(trace) is dict:
            return normalize_trace_id(trace.get("trace_id"))
    return None
