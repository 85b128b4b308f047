"""Stored events out as an OTLP ``ExportLogsServiceRequest`` (the reverse of ingest/otlp.py).

Built with the generated classes of ``opentelemetry-proto``, so what a collector,
Loki, ClickHouse or Elastic decodes is the format's own, not a hand-written copy.
The mapping mirrors what sidelog's OTLP receiver reads, so a second sidelog stores
a forwarded event with the same level, message, category, source, user, session,
trace and exception (grouped by the same fingerprint):

* one ``ResourceLogs`` per source (``service.name`` = source), records in id order;
* severity number and text from the level, ``body`` = message, time = the event's
  timestamp, observed time = when sidelog received it (both in ns);
* attributes: ``category``, ``user.id``, ``session.id``, ``url.full``,
  ``user_agent.original``, ``exception.type/message/stacktrace`` (from
  ``details.exception``), ``sidelog.id`` (the stored row id), ``sidelog.event_uid``,
  ``sidelog.fingerprint``, ``sidelog.user_message``; ``details`` flattened into
  ``details.<path>`` attributes, or kept whole as one JSON string ``details`` when it
  is too deep or has too many leaves to flatten usefully.
"""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs

from sidelog.events import Event

SEVERITY: dict[str, tuple[int, str]] = {
    "debug": (5, "DEBUG"),
    "info": (9, "INFO"),
    "warn": (13, "WARN"),
    "error": (17, "ERROR"),
}
"""OTLP ``SeverityNumber`` and text of each level (the first number of each range)."""
SCOPE_NAME = "sidelog"
MAX_FLAT_LEAVES = 64
"""``details`` with more leaf values than this is sent as one JSON string."""
MAX_FLAT_DEPTH = 4
"""``details`` nested deeper than this is sent as one JSON string."""
_NS_PER_MS = 1_000_000
_EXCEPTION_ATTRIBUTES = (
    ("type", "exception.type"),
    ("message", "exception.message"),
    ("stack", "exception.stacktrace"),
)


def encode_request(events: list[Event]) -> bytes:
    """The serialized ``ExportLogsServiceRequest`` for ``events`` (stored, ids ascending)."""
    request = ExportLogsServiceRequest()
    by_source: dict[str, ResourceLogs] = {}
    for event in events:
        resource_logs = by_source.get(event.source)
        if resource_logs is None:
            resource_logs = request.resource_logs.add()
            _put(resource_logs.resource.attributes, "service.name", event.source)
            resource_logs.scope_logs.add().scope.name = SCOPE_NAME
            by_source[event.source] = resource_logs
        fill_record(resource_logs.scope_logs[0].log_records.add(), event)
    data: bytes = request.SerializeToString()
    return data


def fill_record(record: LogRecord, event: Event) -> None:
    """Write ``event`` into an empty ``LogRecord``."""
    number, text = SEVERITY.get(event.level, SEVERITY["info"])
    record.severity_number = number  # type: ignore[assignment]
    record.severity_text = text
    record.body.string_value = event.message
    record.time_unix_nano = max(event.timestamp, 0) * _NS_PER_MS
    record.observed_time_unix_nano = max(event.received_at, 0) * _NS_PER_MS
    if event.trace_id:
        with contextlib.suppress(ValueError):
            record.trace_id = bytes.fromhex(event.trace_id)
    attrs = record.attributes
    _put(attrs, "category", event.category)
    for key, value in (
        ("user.id", event.user_id),
        ("session.id", event.session_id),
        ("url.full", event.url),
        ("user_agent.original", event.user_agent),
        ("sidelog.event_uid", event.uid),
        ("sidelog.fingerprint", event.fingerprint),
        ("sidelog.user_message", event.user_message),
    ):
        if value is not None:
            _put(attrs, key, value)
    if event.id is not None:
        _put(attrs, "sidelog.id", event.id)
    if event.details is not None:
        _details(attrs, event.details)


def _details(attrs: Any, text: str) -> None:
    """``details`` as attributes: the exception in its semantic-convention names, the rest flattened."""
    try:
        details = orjson.loads(text)
    except orjson.JSONDecodeError:
        _put(attrs, "details", text)
        return
    if not isinstance(details, dict):
        _put(attrs, "details", text)
        return
    exception = details.get("exception")
    if isinstance(exception, dict):
        details = {key: value for key, value in details.items() if key != "exception"}
        for key, name in (
            ("type", "exception.type"),
            ("message", "exception.message"),
            ("stack", "exception.stacktrace"),
        ):
            value = exception.get(key)
            if isinstance(value, str) and value:
                _put(attrs, name, value)
    leaves: list[tuple[str, Any]] = []
    if _flatten(details, "details", 1, leaves):
        for key, value in leaves:
            _put(attrs, key, value)
    elif details:
        _put(attrs, "details", orjson.dumps(details).decode())


def _flatten(value: dict[str, Any], prefix: str, depth: int, out: list[tuple[str, Any]]) -> bool:
    """Append ``(dotted.key, scalar-or-list)`` leaves; False when too deep or too many."""
    if depth > MAX_FLAT_DEPTH:
        return False
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if isinstance(item, dict):
            if not _flatten(item, name, depth + 1, out):
                return False
            continue
        out.append((name, item))
        if len(out) > MAX_FLAT_LEAVES:
            return False
    return True


def _put(attrs: Any, key: str, value: Any) -> None:
    """Append one ``KeyValue`` to a repeated attributes field."""
    pair: KeyValue = attrs.add()
    pair.key = key
    _fill(pair.value, value)


def _fill(target: AnyValue, value: Any) -> None:
    """Set an ``AnyValue`` from a JSON value (lists become arrays; nested objects JSON text)."""
    if value is None:
        return
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        if -(2**63) <= value < 2**63:
            target.int_value = value
        else:
            target.string_value = str(value)
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, list):
        array = target.array_value
        for item in value:
            element = array.values.add()
            if isinstance(item, dict | list):
                element.string_value = orjson.dumps(item).decode()
            else:
                _fill(element, item)
    else:
        target.string_value = orjson.dumps(value).decode()
