"""A small app using the real OpenTelemetry SDK and OTLP/HTTP exporters, pointed at sidelog.

The exporters read ``OTEL_EXPORTER_OTLP_ENDPOINT`` (and ``…_COMPRESSION``) set by the
test, as a developer would. ``python otel_app.py logs``: a stdlib ``logging``
error with ``exc_info`` inside a span, through the OTel logging handler.
``python otel_app.py traces``: a span whose function raises. Each prints the trace id.
"""

from __future__ import annotations

import logging
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

RESOURCE = Resource.create({"service.name": "checkout-svc"})


def charge_card(order_id: int) -> None:
    raise ValueError(f"card declined for order {order_id}")


def logs() -> None:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    log = logging.getLogger("shop.payments")
    log.addHandler(LoggingHandler(logger_provider=provider))
    log.setLevel(logging.INFO)
    tracer = TracerProvider(resource=RESOURCE).get_tracer("shop")
    with tracer.start_as_current_span("checkout") as span:
        log.info("checkout started", extra={"user.id": "u_42"})
        try:
            charge_card(7)
        except ValueError:
            log.exception("payment failed", extra={"user.id": "u_42"})
        print(format(span.get_span_context().trace_id, "032x"), flush=True)
    provider.shutdown()


def traces() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    tracer = provider.get_tracer("shop")
    with tracer.start_as_current_span("checkout") as parent:
        parent.set_attribute("user.id", "u_42")
        with tracer.start_as_current_span("load cart"):
            pass
        try:
            with tracer.start_as_current_span("charge", attributes={"user.id": "u_42"}):
                charge_card(7)
        except ValueError:
            pass
        print(format(parent.get_span_context().trace_id, "032x"), flush=True)
    provider.shutdown()


if __name__ == "__main__":
    {"logs": logs, "traces": traces}[sys.argv[1]]()
