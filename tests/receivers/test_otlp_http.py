"""OTLP/HTTP over real HTTP: OTLP/JSON (hex ids), protobuf answers, partial success, refusals."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from sidelog.config import Settings
from tests.receivers.conftest import Receiver, start_receiver
from tests.receivers.envelopes import post
from tests.support.wait import until
from tests.support.writer import spend_eager_write

JSON = {"Content-Type": "application/json"}
PROTOBUF = {"Content-Type": "application/x-protobuf"}
TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"


def logs_json(*records: dict[str, Any], service: str = "billing") -> dict[str, Any]:
    """An OTLP/JSON ``ExportLogsServiceRequest``, as the specification's examples write it."""
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return {
        "resourceLogs": [
            {
                "resource": resource,
                "scopeLogs": [{"scope": {"name": "billing.jobs"}, "logRecords": list(records)}],
            }
        ]
    }


def record(**fields: Any) -> dict[str, Any]:
    return {
        "timeUnixNano": "1700000000123000000",
        "severityNumber": 17,
        "severityText": "ERROR",
        "body": {"stringValue": "invoice failed"},
        "traceId": TRACE_ID,
        "spanId": SPAN_ID,
        "attributes": [
            {"key": "user.id", "value": {"stringValue": "u_5"}},
            {"key": "retries", "value": {"intValue": "3"}},
            {"key": "exception.type", "value": {"stringValue": "TimeoutError"}},
            {"key": "exception.message", "value": {"stringValue": "gateway timed out"}},
            {
                "key": "exception.stacktrace",
                "value": {
                    "stringValue": 'Traceback (most recent call last):\n  File "billing.py", line 9, in f\n'
                },
            },
        ],
        **fields,
    }


async def test_otlp_json_logs(receiver: Receiver, client: Any) -> None:
    structured = record(
        severityNumber=9,
        body={"kvlistValue": {"values": [{"key": "msg", "value": {"stringValue": "invoice sent"}}]}},
        attributes=[],
    )
    body = orjson.dumps(logs_json(record(), structured))
    status, answer, headers = await post(client, f"{receiver.base}/v1/logs", body, JSON)
    assert status == 200
    assert answer == {}  # an ExportLogsServiceResponse with nothing rejected
    assert headers["Content-Type"].startswith("application/json")
    await until(lambda: receiver.count() == 2)
    error, info = receiver.rows()
    assert (error["level"], error["message"], error["source"], error["category"]) == (
        "error",
        "invoice failed",
        "billing",
        "billing.jobs",
    )
    assert (error["user_id"], error["timestamp"]) == ("u_5", 1_700_000_000_123)
    details = error["details"]
    assert (details["trace_id"], details["span_id"]) == (TRACE_ID, SPAN_ID)
    assert details["exception"]["type"] == "TimeoutError"
    assert details["attributes"] == {"user.id": "u_5", "retries": 3}
    assert error["fingerprint"] is not None
    assert (info["level"], info["message"]) == ("info", "invoice sent")
    assert info["details"]["body"] == {"msg": "invoice sent"}


async def test_otlp_json_traces(receiver: Receiver, client: Any) -> None:
    span = {
        "traceId": TRACE_ID,
        "spanId": SPAN_ID,
        "parentSpanId": "0000000000000001",
        "name": "POST /pay",
        "kind": 2,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000250000000",
        "status": {"code": 2, "message": "card declined"},
        "links": [{"traceId": TRACE_ID, "spanId": SPAN_ID}],
    }
    healthy = {**span, "spanId": "0000000000000002", "status": {}}
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "pay"}}]},
                "scopeSpans": [{"scope": {"name": "pay.http"}, "spans": [span, healthy]}],
            }
        ]
    }
    status, answer, _ = await post(client, f"{receiver.base}/v1/traces", orjson.dumps(body), JSON)
    assert (status, answer) == (200, {})
    await until(lambda: receiver.count() == 1)
    [row] = receiver.rows()
    assert (row["level"], row["message"], row["source"]) == ("error", "POST /pay: card declined", "pay")
    details = row["details"]
    assert (details["kind"], details["duration_ms"]) == ("SPAN_KIND_SERVER", 250)
    assert details["parent_span_id"] == "0000000000000001"
    assert row["event_uid"] == f"{TRACE_ID}-{SPAN_ID}"
    # A retried export (exporters retry on 429/503) is stored once: once a later span
    # is in (one writer, in order), the retry has been written or skipped.
    assert (await post(client, f"{receiver.base}/v1/traces", orjson.dumps(body), JSON))[0] == 200
    span.update(spanId="0000000000000003", name="GET /later")
    assert (await post(client, f"{receiver.base}/v1/traces", orjson.dumps(body), JSON))[0] == 200
    await until(lambda: receiver.count("message LIKE 'GET /later%'") == 1)
    assert receiver.count() == 2


async def test_ids_must_be_hex_in_otlp_json(receiver: Receiver, client: Any) -> None:
    base64_id = record(traceId="W47/95gDgQPSabYzgT/GDA==")
    status, answer, _ = await post(
        client, f"{receiver.base}/v1/logs", orjson.dumps(logs_json(base64_id)), JSON
    )
    assert status == 400
    assert answer["error"] == (
        "resourceLogs[0].scopeLogs[0].logRecords[0].traceId must be 32 hex digits "
        "(OTLP/JSON encodes ids as hex), got 'W47/95gDgQPSabYzgT/GDA=='"
    )
    short = record(spanId="abc")
    status, answer, _ = await post(client, f"{receiver.base}/v1/logs", orjson.dumps(logs_json(short)), JSON)
    assert status == 400
    assert "logRecords[0].spanId must be 16 hex digits" in answer["error"]
    assert receiver.count() == 0


async def test_protobuf_partial_success_and_refusals(
    make_settings: Callable[..., Settings], client: Any
) -> None:
    receiver = await start_receiver(make_settings(http="127.0.0.1:0", max_line_bytes=64 * 1024))
    url = f"{receiver.base}/v1/logs"
    try:
        request = ExportLogsServiceRequest()
        scope = request.resource_logs.add().scope_logs.add()
        scope.log_records.add().body.string_value = "fits"
        scope.log_records.add().body.string_value = "x" * (100 * 1024)
        status, raw, headers = await post(
            client, url, gzip.compress(request.SerializeToString()), {**PROTOBUF, "Content-Encoding": "gzip"}
        )
        assert status == 200
        assert headers["Content-Type"] == "application/x-protobuf"
        answer = ExportLogsServiceResponse.FromString(raw["raw"])
        assert answer.partial_success.rejected_log_records == 1
        assert "over the 65536-byte limit" in answer.partial_success.error_message
        await until(lambda: receiver.count() == 1)
        status, answer_json, _ = await post(client, url, b"\xff\xff\xff", PROTOBUF)
        assert status == 400
        assert "not a protobuf ExportLogsServiceRequest" in answer_json["error"]
        status, answer_json, _ = await post(client, url, b"{nope", JSON)
        assert status == 400
        assert "not JSON" in answer_json["error"]
        status, answer_json, _ = await post(client, url, b'{"resourceLogs": 5}', JSON)
        assert status == 400
        assert "not an OTLP/JSON ExportLogsServiceRequest" in answer_json["error"]
        status, answer_json, _ = await post(client, url, b"{}", {"Content-Type": "text/plain"})
        assert status == 415
        assert "application/x-protobuf or application/json" in answer_json["error"]
        # Protobuf nested past the decoder's recursion limit is a 400 …
        deep = ExportTraceServiceRequest()
        span = deep.resource_spans.add().scope_spans.add().spans.add()
        span.name, span.status.code = "deep", 2
        value = span.attributes.add(key="deep").value
        for _ in range(60):
            value = value.kvlist_value.values.add(key="d").value
        value.string_value = "bottom"
        status, answer_json, _ = await post(
            client, f"{receiver.base}/v1/traces", deep.SerializeToString(), PROTOBUF
        )
        assert status == 400
        assert "not a protobuf ExportTraceServiceRequest" in answer_json["error"]
        # … while attributes merely deeper than details may go (within it) are cut, not refused.
        nested: dict[str, Any] = {"stringValue": "bottom"}
        for _ in range(31):
            nested = {"kvlistValue": {"values": [{"key": "d", "value": nested}]}}
        body = logs_json(record(attributes=[{"key": "deep", "value": nested}]))
        status, _, _ = await post(client, url, orjson.dumps(body), JSON)
        assert status == 200
        await until(lambda: receiver.count() == 2)
        assert "…" in orjson.dumps(receiver.rows()[-1]["details"]["attributes"]).decode()
    finally:
        await receiver.server.stop()


async def test_full_queue_answers_429(make_settings: Callable[..., Settings], client: Any) -> None:
    settings = make_settings(
        http="127.0.0.1:0", queue_size=2, batch_interval_ms=60_000, enable_system_logging=False
    )
    receiver = await start_receiver(settings)
    try:
        await spend_eager_write(receiver.server.engine)  # else the idle writer takes the two at once
        body = orjson.dumps(logs_json(record(), record()))
        assert (await post(client, f"{receiver.base}/v1/logs", body, JSON))[0] == 200
        status, answer, headers = await post(client, f"{receiver.base}/v1/logs", body, JSON)
        assert status == 429
        assert headers["Retry-After"] == "1"
        assert "queue full" in answer["error"]
    finally:
        await receiver.server.stop()
    assert receiver.count() == 3  # the two and the warm-up event
