"""Request bodies for the receiver benchmark (``bench/receivers.py``), built before the clock starts.

Each Sentry body is shaped like what ``sentry_sdk`` sends, each OTLP body like an
OpenTelemetry exporter's, and ``native_bodies`` are the same events as sidelog's own
``POST /v1/events`` arrays, so one run compares a foreign format with the native one.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["client_report_bodies", "envelope_bodies", "native_bodies", "otlp_log_bodies", "trace_id"]


def trace_id(n: int) -> str:
    """The ``n``-th event's trace id: 32 hex digits spread like random ones (never all zeros)."""
    return f"{(n + 1) * 0x9E3779B97F4A7C15F39CC0605CEDC835 % 2**128:032x}"


_MODULES = {f"package{n}": f"{n}.{n % 7}.0" for n in range(40)}
"""The Python SDK's ``modules`` (installed packages; a small app has dozens)."""


def envelope_bodies(total: int, per_envelope: int = 1, frames: int = 20, run: int = 0) -> list[bytes]:
    """``total`` Sentry error events with ``frames``-frame stacks, ``per_envelope`` per envelope.

    Shaped like ``sentry_sdk``'s (2.x, default options): envelope header with the
    trace's dynamic sampling context, item header with ``content_type`` and
    ``length``, and each frame with ``module``, five lines of context either side
    and its local ``vars``; plus contexts, a breadcrumb, ``extra`` and ``modules``,
    about 12 KB an event. Event ids are unique per ``run``: sidelog stores an event id
    once (SDK retries).
    """
    bodies: list[bytes] = []
    source = [f"    value_{line} = compute(order, {line})" for line in range(40)]
    for start in range(0, total, per_envelope):
        items = []
        for n in range(start, min(start + per_envelope, total)):
            stack = [
                {
                    "filename": f"shop/module_{f}.py",
                    "abs_path": f"/srv/shop/module_{f}.py",
                    "function": f"step_{f}",
                    "module": f"shop.module_{f}",
                    "lineno": 10 + f,
                    "pre_context": source[f : f + 5],
                    "context_line": f"    result = step_{f + 1}(order, attempt={f})",
                    "post_context": source[f + 6 : f + 11],
                    "vars": {"order": f"<Order {n}>", "attempt": str(f), "self": "<Checkout object>"},
                    "in_app": f % 3 != 0,
                }
                for f in range(frames)
            ]
            trace = {"trace_id": trace_id(n), "span_id": trace_id(n)[:16], "parent_span_id": None}
            event = {
                "level": "error",
                "exception": {
                    "values": [
                        {
                            "mechanism": {"type": "generic", "handled": True},
                            "module": None,
                            "type": ("ValueError", "KeyError", "TimeoutError")[n % 3],
                            "value": f"order {n} could not be charged",
                            "stacktrace": {"frames": stack},
                        }
                    ]
                },
                "event_id": f"{run:08x}{n:024x}",
                "timestamp": f"2026-11-30T10:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}.{n % 1000:03d}000Z",
                "contexts": {
                    "trace": trace,
                    "runtime": {
                        "name": "CPython",
                        "version": "3.11.7",
                        "build": "3.11.7 (main) [GCC 12.2.0]",
                    },
                },
                "transaction_info": {},
                "breadcrumbs": {
                    "values": [
                        {
                            "ty": "log",
                            "level": "warning",
                            "category": "shop",
                            "message": f"retrying order {n}",
                            "timestamp": "2026-11-30T10:00:00.000000Z",
                            "data": {},
                            "type": "default",
                        }
                    ]
                },
                "extra": {"sys.argv": ["/srv/shop/app.py", "--port", "8000"]},
                "modules": _MODULES,
                "user": {"id": f"u_{n % 500}"},
                "release": "shop@1.2.3",
                "environment": "dev",
                "server_name": "dev-laptop",
                "tags": {"feature": "checkout", "region": "eu"},
                "sdk": {"name": "sentry.python", "version": "2.0.0", "packages": [], "integrations": []},
                "platform": "python",
            }
            payload = orjson.dumps(event)
            header = {"type": "event", "content_type": "application/json", "length": len(payload)}
            items.append(orjson.dumps(header) + b"\n" + payload + b"\n")
        dsc = {"trace_id": trace_id(start), "environment": "dev", "public_key": "anykey"}
        first = {"event_id": f"{run:08x}{start:024x}", "sent_at": "2026-11-30T10:00:00Z", "trace": dsc}
        bodies.append(orjson.dumps(first) + b"\n" + b"".join(items))
    return bodies


def otlp_log_bodies(total: int, per_request: int = 100) -> list[bytes]:
    """``total`` OTLP log records as protobuf ``ExportLogsServiceRequest`` bodies."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    bodies: list[bytes] = []
    for start in range(0, total, per_request):
        request = ExportLogsServiceRequest()
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.add(key="service.name").value.string_value = "checkout-svc"
        scope = resource_logs.scope_logs.add()
        scope.scope.name = "shop.payments"
        for n in range(start, min(start + per_request, total)):
            record = scope.log_records.add()
            record.time_unix_nano = 1_700_000_000_000_000_000 + n * 1_000_000
            record.severity_number = (5, 9, 9, 13, 17)[n % 5]
            record.body.string_value = f"order {n} step {n % 7} done"
            record.trace_id = bytes.fromhex(trace_id(n))
            record.span_id = bytes.fromhex(trace_id(n)[:16])
            for key, value in (
                ("user.id", f"u_{n % 500}"),
                ("http.route", "/checkout"),
                ("attempt", str(n % 3)),
            ):
                record.attributes.add(key=key).value.string_value = value
        bodies.append(request.SerializeToString())
    return bodies


def native_bodies(total: int, per_request: int, kind: str, run: int = 0) -> list[bytes]:
    """The same events as native ``POST /v1/events`` JSON arrays, ``per_request`` per body.

    ``kind="error"``: what the Sentry receiver stores for ``envelope_bodies`` (message,
    ``details.exception`` with a 20-frame traceback, user, release, tags, trace);
    ``kind="log"``: what the OTLP receiver stores for ``otlp_log_bodies``. The comparison
    shows what the foreign format costs over the native one, at the same batch size.
    """
    stack = "Traceback (most recent call last):\n" + "".join(
        f'  File "/srv/shop/module_{f}.py", line {10 + f}, in step_{f}{" (in app)" if f % 3 else ""}\n'
        f"    result = step_{f + 1}(order, attempt={f})\n"
        for f in range(20)
    )
    events: list[dict[str, Any]] = []
    for n in range(total):
        if kind == "error":
            exc_type = ("ValueError", "KeyError", "TimeoutError")[n % 3]
            value = f"order {n} could not be charged"
            events.append(
                {
                    "message": f"{exc_type}: {value}",
                    "type": "error",
                    "category": "sentry",
                    "source": "sentry.python",
                    "userId": f"u_{n % 500}",
                    "timestamp": 1_700_000_000_000 + n,
                    "id": f"n{run:07x}{n:024x}",
                    "details": {
                        "exception": {
                            "type": exc_type,
                            "message": value,
                            "stack": stack + f"{exc_type}: {value}\n",
                        },
                        "trace_id": trace_id(n),
                        "span_id": trace_id(n)[:16],
                        "platform": "python",
                        "release": "shop@1.2.3",
                        "environment": "dev",
                        "tags": {"feature": "checkout", "region": "eu"},
                    },
                }
            )
        else:
            events.append(
                {
                    "message": f"order {n} step {n % 7} done",
                    "type": ("debug", "info", "info", "warn", "error")[n % 5],
                    "category": "shop.payments",
                    "source": "checkout-svc",
                    "userId": f"u_{n % 500}",
                    "timestamp": 1_700_000_000_000 + n,
                    "details": {
                        "attributes": {"http.route": "/checkout", "attempt": str(n % 3)},
                        "resource": {"service.name": "checkout-svc"},
                        "trace_id": trace_id(n),
                        "span_id": trace_id(n)[:16],
                    },
                }
            )
    return [orjson.dumps(events[i : i + per_request]) for i in range(0, total, per_request)]


def client_report_bodies(total: int) -> list[bytes]:
    """Envelopes holding one ``client_report`` each (counted, never stored), as the SDKs
    send them now and then: what one envelope request costs without an event in it."""
    report = orjson.dumps({"timestamp": 1_700_000_000.0, "discarded_events": [{"reason": "sample_rate",
                           "category": "transaction", "quantity": 1}]})  # fmt: skip
    item = orjson.dumps({"type": "client_report", "length": len(report)}) + b"\n" + report + b"\n"
    return [orjson.dumps({"sent_at": "2026-11-30T10:00:00Z"}) + b"\n" + item for _ in range(total)]
