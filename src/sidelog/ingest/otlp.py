"""OTLP/HTTP export requests in, native events out (README "Already using Sentry or OpenTelemetry?").

Requests are decoded with the generated classes of the ``opentelemetry-proto``
package: binary protobuf with ``ParseFromString``, OTLP/JSON with
``google.protobuf.json_format`` into the same classes. OTLP/JSON differs from the
standard protobuf JSON mapping in one way that matters here: trace and span ids
are hex strings, not base64 (OTLP specification, "JSON Protobuf Encoding"), so
they are checked and converted first; a malformed id is a 400 naming the field.

* Logs: one event per record. Level from ``severity_number`` (else
  ``severity_text``), message from a string ``body`` (a structured body goes to
  ``details.body``, its ``message``/``msg`` becoming the message), the record's and
  the resource's attributes in details, ``service.name`` as the source, the
  ``exception.type/message/stacktrace`` attributes as ``details.exception`` (the
  shape ``fingerprint.py`` groups by), trace and span ids kept.
* Traces: a span with error status or an ``exception`` event is an error event;
  every other span is counted (``otlp.span``), not stored.

A record larger than ``max_line_bytes`` is rejected alone, like an oversized
line; the answer's ``partial_success`` says how many and why. No aiohttp here.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from sidelog.events import EventError, Limits
from sidelog.ingest.receiver import (
    CUT,
    Converted,
    PayloadError,
    build_event,
    level_of,
    ms_from_nanos,
)

__all__ = ["OtlpContext", "Signal", "decode_request", "export_response", "logs_events", "traces_events"]

Signal = Literal["logs", "traces"]

_HEX = re.compile(r"[0-9a-fA-F]*")
_ID_DIGITS = {
    "traceId": 32,
    "trace_id": 32,
    "spanId": 16,
    "span_id": 16,
    "parentSpanId": 16,
    "parent_span_id": 16,
}
_EXCEPTION_KEYS = ("exception.type", "exception.message", "exception.stacktrace", "exception.escaped")


@dataclass(frozen=True, slots=True)
class OtlpContext:
    """What converting a request needs beyond the request."""

    limits: Limits
    received_at: int


# -------------------------------------------------------------------- decoding


def decode_request(body: bytes, signal: Signal, as_json: bool) -> Message:
    """The ``Export*ServiceRequest`` in ``body`` (raises ``PayloadError`` 400 when undecodable)."""
    message: Message = ExportLogsServiceRequest() if signal == "logs" else ExportTraceServiceRequest()
    name = type(message).__name__
    if not as_json:
        try:
            message.ParseFromString(body)
        except (DecodeError, RecursionError) as exc:
            raise PayloadError(400, f"body is not a protobuf {name}: {exc}") from None
        return message
    try:
        doc = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise PayloadError(400, f"body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PayloadError(400, f"body must be a JSON object (an OTLP/JSON {name})")
    _hex_ids(doc, signal)
    try:
        json_format.ParseDict(doc, message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise PayloadError(400, f"body is not an OTLP/JSON {name}: {str(exc)[:300]}") from None
    return message


def _hex_ids(doc: dict[str, Any], signal: Signal) -> None:
    """Turn OTLP/JSON's hex ids into the base64 the protobuf JSON parser expects, in place."""
    outer, inner, leaf = (
        ("resourceLogs", "scopeLogs", "logRecords")
        if signal == "logs"
        else ("resourceSpans", "scopeSpans", "spans")
    )
    for i, resource in _items(doc, outer):
        for j, scope in _items(resource, inner):
            for k, record in _items(scope, leaf):
                path = f"{outer}[{i}].{inner}[{j}].{leaf}[{k}]"
                _hex_fields(record, path)
                for n, link in _items(record, "links"):
                    _hex_fields(link, f"{path}.links[{n}]")


def _items(parent: object, camel: str) -> list[tuple[int, dict[str, Any]]]:
    """The objects of a list field, found by its JSON (camelCase) or proto (snake_case) name."""
    if not isinstance(parent, dict):
        return []
    value = parent.get(camel)
    if value is None:
        value = parent.get(re.sub(r"([A-Z])", r"_\1", camel).lower())
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def _hex_fields(record: dict[str, Any], path: str) -> None:
    for key, digits in _ID_DIGITS.items():
        value = record.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) != digits or not _HEX.fullmatch(value):
            shown = value[:40] if isinstance(value, str) else type(value).__name__
            raise PayloadError(
                400, f"{path}.{key} must be {digits} hex digits (OTLP/JSON encodes ids as hex), got {shown!r}"
            )
        record[key] = base64.b64encode(bytes.fromhex(value)).decode()


def export_response(signal: Signal, rejected: list[str], as_json: bool) -> bytes:
    """The ``Export*ServiceResponse``, in the request's encoding, naming what was rejected."""
    if signal == "logs":
        logs = ExportLogsServiceResponse()
        if rejected:
            logs.partial_success.rejected_log_records = len(rejected)
            logs.partial_success.error_message = _summary(rejected)
        message: Message = logs
    else:
        traces = ExportTraceServiceResponse()
        if rejected:
            traces.partial_success.rejected_spans = len(rejected)
            traces.partial_success.error_message = _summary(rejected)
        message = traces
    if as_json:
        text: str = json_format.MessageToJson(message, indent=None)
        return text.encode()
    encoded: bytes = message.SerializeToString()
    return encoded


def _summary(rejected: list[str]) -> str:
    more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
    return f"{len(rejected)} rejected: {rejected[0]}{more}"


# ------------------------------------------------------------------ conversion


def logs_events(request: ExportLogsServiceRequest, ctx: OtlpContext) -> Converted:
    """One event per log record (bad records rejected alone)."""
    result = Converted()
    levels = ctx.limits.max_details_depth - 2
    for resource_logs in request.resource_logs:
        resource = attributes(resource_logs.resource.attributes, levels)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            for record in scope_logs.log_records:
                size = record.ByteSize()
                if size > ctx.limits.max_line_bytes:
                    result.rejected.append(_too_large("log record", size, ctx))
                    continue
                try:
                    result.events.append(_log_event(record, resource, scope.name, scope.version, ctx))
                except EventError as exc:
                    result.rejected.append(str(exc))
                except (TypeError, ValueError) as exc:  # a value no rule foresaw: this record only
                    result.rejected.append(f"unexpected value ({type(exc).__name__}: {str(exc)[:200]})")
    return result


def _log_event(record: Any, resource: dict[str, Any], scope: str, version: str, ctx: OtlpContext) -> Any:
    levels = ctx.limits.max_details_depth - 2
    attrs = attributes(record.attributes, levels)
    exception = _exception(attrs)
    if record.severity_number:
        level = _severity(record.severity_number)
    else:
        level = level_of(record.severity_text, "error" if exception else "info")
    body = any_value(record.body, levels)
    message = ""
    if isinstance(body, str):
        message, body = body, None
    elif isinstance(body, dict):
        found = body.get("message", body.get("msg"))
        message = found if isinstance(found, str) else ""
    if not message.strip() and body is not None:
        message = orjson.dumps(body).decode()[:500]
    if not message.strip():
        message = _exception_message(exception) or record.event_name or "(empty log record)"
    details = {
        "body": body,
        "exception": exception,
        "attributes": attrs,
        "resource": resource,
        "scope": {"name": scope, "version": version} if scope else None,
        "severity_text": record.severity_text,
        "severity_number": record.severity_number,
        "event_name": record.event_name,
        "trace_id": record.trace_id.hex(),
        "span_id": record.span_id.hex(),
    }
    stamp = ms_from_nanos(record.time_unix_nano) or ms_from_nanos(record.observed_time_unix_nano)
    wire = _wire(message, level, attrs, resource, scope or "otel", details, stamp)
    return build_event(wire, limits=ctx.limits, received_at=ctx.received_at)


def traces_events(request: ExportTraceServiceRequest, ctx: OtlpContext) -> Converted:
    """An error event per failed span (error status or an ``exception`` event); the rest counted."""
    result = Converted()
    levels = ctx.limits.max_details_depth - 2
    for resource_spans in request.resource_spans:
        resource: dict[str, Any] | None = None
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                failed = span.status.code == Status.STATUS_CODE_ERROR
                if not failed and not any(event.name == "exception" for event in span.events):
                    result.count("otlp.span")
                    continue
                size = span.ByteSize()
                if size > ctx.limits.max_line_bytes:
                    result.rejected.append(_too_large("span", size, ctx))
                    continue
                if resource is None:
                    resource = attributes(resource_spans.resource.attributes, levels)
                try:
                    result.events.append(_span_event(span, resource, scope.name, ctx))
                except EventError as exc:
                    result.rejected.append(str(exc))
                except (TypeError, ValueError) as exc:  # a value no rule foresaw: this record only
                    result.rejected.append(f"unexpected value ({type(exc).__name__}: {str(exc)[:200]})")
    return result


def _span_event(span: Any, resource: dict[str, Any], scope: str, ctx: OtlpContext) -> Any:
    levels = ctx.limits.max_details_depth - 2
    attrs = attributes(span.attributes, levels)
    exception = None
    for event in span.events:
        if event.name == "exception":
            exception = _exception(attributes(event.attributes, levels))
    status = span.status.message
    message = _exception_message(exception) or f"{span.name}: {status or 'error'}"
    start, end = ms_from_nanos(span.start_time_unix_nano), ms_from_nanos(span.end_time_unix_nano)
    trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
    details = {
        "exception": exception,
        "name": span.name,
        "kind": Span.SpanKind.Name(span.kind) if span.kind in Span.SpanKind.values() else span.kind,
        "status": {"code": Status.StatusCode.Name(span.status.code), "message": status or None},
        "duration_ms": end - start if start is not None and end is not None else None,
        "attributes": attrs,
        "resource": resource,
        "scope": scope or None,
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": span.parent_span_id.hex(),
        "events": [event.name for event in span.events][:100],
    }
    wire = _wire(message, "error", attrs, resource, scope or "trace", details, end or start)
    if trace_id and span_id:
        wire["id"] = f"{trace_id}-{span_id}"  # exporters retry: a resent span is stored once
    return build_event(wire, limits=ctx.limits, received_at=ctx.received_at)


def _wire(
    message: str,
    level: str,
    attrs: dict[str, Any],
    resource: dict[str, Any],
    category: str,
    details: dict[str, Any],
    stamp: int | None,
) -> dict[str, Any]:
    """The native wire event, with the semantic-convention attributes in their fields."""
    get = attrs.get
    return {
        "message": message,
        "type": level,
        "category": _attribute(get("category")) or category,
        "source": _text(resource.get("service.name")) or "otel",
        "details": {key: value for key, value in details.items() if value or _kept(value)},
        "userId": _attribute(get("user.id")) or _attribute(get("enduser.id")),
        "sessionId": _attribute(get("session.id")),
        "url": _attribute(get("url.full")) or _attribute(get("http.url")),
        "userAgent": _attribute(get("user_agent.original")) or _attribute(get("http.user_agent")),
        "timestamp": stamp,
    }


def _attribute(value: object) -> str | None:
    """An attribute that names a field: a non-empty string or an integer, as text."""
    kind = type(value)
    if kind is str:
        return value or None  # type: ignore[return-value]
    if kind is int:
        return str(value)
    return None


def _kept(value: object) -> bool:
    """A falsy detail still worth storing: ``0`` and ``false`` (not ``None``, ``""`` or empty containers)."""
    return value is not None and value != "" and type(value) is not dict and type(value) is not list


# -------------------------------------------------------------------- values


def attributes(pairs: Any, levels: int) -> dict[str, Any]:
    """``KeyValue`` attributes as a plain object (values nested deeper than ``levels`` cut)."""
    return {pair.key: any_value(pair.value, levels - 1) for pair in pairs}


def any_value(value: Any, levels: int) -> Any:
    """An ``AnyValue`` as plain JSON (bytes as base64, containers past ``levels`` as ``CUT``)."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "kvlist_value":
        return attributes(value.kvlist_value.values, levels) if levels > 0 else CUT
    if which == "array_value":
        return [any_value(item, levels - 1) for item in value.array_value.values] if levels > 0 else CUT
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, which)


def _exception(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """The semantic-convention exception attributes as ``{type, message, stack}`` (moved out of ``attrs``)."""
    found = {key: attrs.pop(key) for key in _EXCEPTION_KEYS if key in attrs}
    if "exception.type" not in found and "exception.message" not in found:
        return None
    return {
        "type": _text(found.get("exception.type")),
        "message": _text(found.get("exception.message")),
        "stack": _text(found.get("exception.stacktrace")),
    }


def _exception_message(exception: dict[str, Any] | None) -> str:
    if not exception:
        return ""
    kind, text = exception["type"], exception["message"]
    return f"{kind}: {text}" if kind and text else kind or text


def _severity(number: int) -> str:
    """OTLP ``SeverityNumber``: 1-8 trace/debug, 9-12 info, 13-16 warn, 17-24 error/fatal."""
    return "debug" if number <= 8 else "info" if number <= 12 else "warn" if number <= 16 else "error"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _too_large(what: str, size: int, ctx: OtlpContext) -> str:
    limit = ctx.limits.max_line_bytes
    return f"a {what} of {size} bytes is over the {limit}-byte limit (SIDELOG_MAX_LINE_BYTES)"
