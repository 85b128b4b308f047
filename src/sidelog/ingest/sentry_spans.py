"""Sentry transactions, spans and logs as native events (README "Already using Sentry or OpenTelemetry?").

* ``transaction``: one event (info; warn when slower than ``slow_request_ms``;
  error when its status is a failure) plus one error event per failing span;
  healthy spans are counted (``sentry.span``), not stored.
* ``span`` (the span-streaming containers of newer SDKs such as ``@sentry/node``):
  segment spans like transactions, failing spans as errors, the rest counted.
* ``log`` (``sentry_sdk.logger``, ``Sentry.logger``): one event per entry of its
  ``items`` list; a bad entry is rejected alone.

A span fails when its status is neither ``ok`` nor one of the statuses Sentry's
failure rate leaves out (``cancelled``, ``unknown``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from sidelog.events import Event, EventError
from sidelog.ingest.receiver import Converted, bounded, build_event, clip, level_of, ms_from_seconds
from sidelog.ingest.sentry_items import (
    ItemContext,
    attributes_of,
    category_of,
    dict_of,
    event_id_of,
    sdk_name_of,
    tags_of,
    text_of,
)

__all__ = ["OK_STATUSES", "log_entries", "streamed_spans", "transaction_events"]

OK_STATUSES = frozenset({"", "ok", "cancelled", "unknown"})
"""Span statuses that are not failures."""


def transaction_events(doc: dict[str, Any], ctx: ItemContext) -> Converted:
    """A transaction: one event for it, one error per failing span, healthy spans counted."""
    levels = ctx.limits.max_details_depth - 1
    trace = dict_of(dict_of(doc.get("contexts")).get("trace"))
    user = dict_of(doc.get("user"))
    common = {
        "userId": text_of(user.get("id")) or None,
        "url": text_of(dict_of(doc.get("request")).get("url")) or None,
        "source": sdk_name_of(doc.get("sdk")) or ctx.sdk_name or "sentry",
    }
    name = text_of(doc.get("transaction")) or "(unnamed transaction)"
    listed = doc.get("spans")
    spans = [span for span in listed if isinstance(span, dict)] if isinstance(listed, list) else []
    failing = [
        span for span in spans if _failing(span.get("status") or dict_of(span.get("tags")).get("status"))
    ]
    extra = {
        "release": doc.get("release"),
        "environment": doc.get("environment"),
        "platform": doc.get("platform"),
        "tags": tags_of(doc.get("tags")),
        "contexts": bounded(doc.get("contexts"), levels),
        "measurements": bounded(doc.get("measurements"), levels),
        "spans": len(spans),
        "failed_spans": len(failing),
        "project": ctx.project,
    }
    result = Converted()
    result.events.append(
        _span_event(
            trace,
            name,
            doc.get("start_timestamp"),
            doc.get("timestamp"),
            ctx,
            {**common, "id": event_id_of(doc), "category": category_of(doc, "trace")},
            extra,
            segment=True,
        )
    )
    for span in failing:
        try:
            result.events.append(
                _span_event(
                    span,
                    text_of(span.get("description")) or name,
                    span.get("start_timestamp"),
                    span.get("timestamp"),
                    ctx,
                    {**common, "category": "trace"},
                    {
                        "transaction": name,
                        "data": bounded(span.get("data"), levels),
                        "tags": tags_of(span.get("tags")),
                    },
                    segment=False,
                )
            )
        except EventError as exc:
            result.rejected.append(f"span {text_of(span.get('span_id'))}: {exc}")
    if len(spans) > len(failing):
        result.count("sentry.span", len(spans) - len(failing))
    return result


def _streamed_span(span: dict[str, Any], ctx: ItemContext, result: Converted) -> None:
    """One span of a span-streaming container: segments and failures stored, the rest counted."""
    attrs = attributes_of(span.get("attributes"))
    status = span.get("status")
    segment = span.get("is_segment") is True
    if not segment and not _failing(status):
        result.count("sentry.span")
        return
    fields = {
        "trace_id": span.get("trace_id"),
        "span_id": span.get("span_id"),
        "parent_span_id": span.get("parent_span_id"),
        "op": attrs.get("sentry.op"),
        "status": status,
    }
    common = {
        "userId": text_of(attrs.get("user.id")) or None,
        "url": text_of(attrs.get("url.full")) or None,
        "source": text_of(attrs.get("sentry.sdk.name")).lower() or ctx.sdk_name or "sentry",
        "category": text_of(attrs.get("category")) or "trace",
    }
    name = text_of(span.get("name")) or "(unnamed span)"
    extra = {"attributes": bounded(attrs, ctx.limits.max_details_depth - 2), "project": ctx.project}
    result.events.append(
        _span_event(
            fields, name, span.get("start_timestamp"), span.get("end_timestamp"), ctx, common, extra, segment
        )
    )


def _span_event(
    span: dict[str, Any],
    name: str,
    start: object,
    end: object,
    ctx: ItemContext,
    wire: dict[str, Any],
    extra: dict[str, Any],
    segment: bool,
) -> Event:
    """A transaction or span as one event: ``op name: status, N ms``."""
    op = text_of(span.get("op"))
    status = text_of(span.get("status"))
    start_ms, end_ms = ms_from_seconds(start), ms_from_seconds(end)
    duration = end_ms - start_ms if start_ms is not None and end_ms is not None else None
    if _failing(status):
        level = "error"
    elif segment and duration is not None and duration > ctx.slow_ms:
        level = "warn"
    else:
        level = "info"
    message = f"{op} {name}" if op else name
    message += f": {status or 'ok'}" + (f", {duration} ms" if duration is not None else "")
    trace_id, span_id = text_of(span.get("trace_id")), text_of(span.get("span_id"))
    details = {
        "trace_id": trace_id or None,
        "span_id": span_id or None,
        "parent_span_id": text_of(span.get("parent_span_id")) or None,
        "op": op or None,
        "name": name,
        "status": status or None,
        "duration_ms": duration,
        **extra,
    }
    wire.update(
        message=message,
        type=level,
        timestamp=end_ms or start_ms,
        details={key: value for key, value in details.items() if value not in (None, {}, [])},
    )
    if not segment and trace_id and span_id:
        wire["id"] = clip(f"{trace_id}-{span_id}", 128)
    return build_event(wire, limits=ctx.limits, received_at=ctx.received_at)


def _failing(status: object) -> bool:
    return isinstance(status, str) and status.strip().lower() not in OK_STATUSES


# ----------------------------------------------------------------------- logs


def log_entries(doc: dict[str, Any], ctx: ItemContext) -> Converted:
    """A ``log`` item: one event per entry."""
    return _entries(doc, ctx, _log_entry)


def streamed_spans(doc: dict[str, Any], ctx: ItemContext) -> Converted:
    """A ``span`` container item: segments and failures stored, the rest counted."""
    return _entries(doc, ctx, _streamed_span)


def _entries(
    doc: dict[str, Any], ctx: ItemContext, one: Callable[[dict[str, Any], ItemContext, Converted], None]
) -> Converted:
    """Each entry of a container item's ``items`` list through ``one``; bad entries rejected alone."""
    entries = doc.get("items")
    result = Converted()
    if not isinstance(entries, list):
        result.rejected.append("the item has no 'items' list")
        return result
    for entry in entries:
        try:
            if not isinstance(entry, dict):
                raise EventError("an entry must be a JSON object")
            one(entry, ctx, result)
        except EventError as exc:
            result.rejected.append(str(exc))
        except (TypeError, ValueError, AttributeError) as exc:
            result.rejected.append(f"unexpected shape ({type(exc).__name__}: {str(exc)[:200]})")
    return result


def _log_entry(entry: dict[str, Any], ctx: ItemContext, result: Converted) -> None:
    """One structured log entry (``sentry_sdk.logger``, ``Sentry.logger``) as an event."""
    attrs = attributes_of(entry.get("attributes"))
    level = level_of(entry.get("level"), "")
    if not level:
        number = entry.get("severity_number", attrs.get("sentry.severity_number"))
        level = _severity(number) if type(number) is int else "info"
    body = entry.get("body")
    message = body if isinstance(body, str) else orjson.dumps(body).decode() if body is not None else ""
    details = {
        "attributes": bounded(attrs, ctx.limits.max_details_depth - 2),
        "trace_id": entry.get("trace_id"),
        "span_id": entry.get("span_id"),
        "project": ctx.project,
    }
    wire = {
        "message": message if message.strip() else "(empty log entry)",
        "category": text_of(attrs.get("category")) or text_of(attrs.get("logger.name")) or "log",
        "type": level,
        "details": {key: value for key, value in details.items() if value is not None},
        "userId": text_of(attrs.get("user.id")) or None,
        "timestamp": ms_from_seconds(entry.get("timestamp")),
        "source": text_of(attrs.get("sentry.sdk.name")).lower() or ctx.sdk_name or "sentry",
    }
    result.events.append(build_event(wire, limits=ctx.limits, received_at=ctx.received_at))


def _severity(number: int) -> str:
    """OpenTelemetry severity numbers (which Sentry logs use): 1-8 debug, 9-12 info, 13-16 warn, 17+ error."""
    return "debug" if number <= 8 else "info" if number <= 12 else "warn" if number <= 16 else "error"
