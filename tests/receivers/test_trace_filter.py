"""One trace across every ingest path: a Sentry envelope, an OTLP log record, a native
event with ``traceparent`` or ``traceId``, found together by ``GET /v1/events?trace=``
(and ``/v1/stream``), a malformed ``?trace=`` refused with a one-line reason."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from sidelog.filters import EventFilter
from sidelog.store.reader import filter_sql
from tests.receivers.conftest import Receiver, stored
from tests.receivers.envelopes import envelope, event, item, post

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER = "0af7651916cd43dd8448eb211c80319c"


def otlp_log(trace_id: str, body: str) -> bytes:
    request = ExportLogsServiceRequest()
    resource = request.resource_logs.add()
    resource.resource.attributes.add(key="service.name").value.string_value = "api"
    record = resource.scope_logs.add().log_records.add()
    record.severity_number = 17
    record.body.string_value = body
    record.trace_id = bytes.fromhex(trace_id)
    record.span_id = bytes.fromhex("00f067aa0ba902b7")
    encoded: bytes = request.SerializeToString()
    return encoded


async def send_one_trace(receiver: Receiver, client: Any) -> None:
    """The same trace through four paths, plus one event of another trace and one of none."""
    base = receiver.base
    browser = event(
        event_id="1" * 32,
        contexts={"trace": {"trace_id": TRACE.upper(), "span_id": "b" * 16}},  # any case
        exception={"values": [{"type": "TypeError", "value": "browser failed"}]},
    )
    status, _, _ = await post(client, f"{base}/stream", envelope(item("event", browser)))
    assert status == 200
    status, _, _ = await post(
        client, f"{base}/v1/logs", otlp_log(TRACE, "api failed"), {"Content-Type": "application/x-protobuf"}
    )
    assert status == 200
    native = [
        {"message": "middleware saw it", "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"},
        {"message": "worker saw it", "type": "error", "details": {"traceId": TRACE}},
        {"message": "another trace", "details": {"trace_id": OTHER}},
        {"message": "no trace", "details": {"trace_id": "not-a-trace"}},
    ]
    status, answer, _ = await post(client, f"{base}/v1/events", orjson.dumps(native))
    assert status == 202, answer
    await stored(receiver, 6)


async def test_every_path_that_carries_the_trace_is_found_by_it(receiver: Receiver, client: Any) -> None:
    await send_one_trace(receiver, client)
    async with client.get(f"{receiver.base}/v1/events", params={"trace": TRACE.upper()}) as response:
        assert response.status == 200
        found = (await response.json())["events"]
    assert sorted(e["message"] for e in found) == [
        "TypeError: browser failed",
        "api failed",
        "middleware saw it",
        "worker saw it",
    ]
    assert {e["traceId"] for e in found} == {TRACE}
    rows = receiver.rows("trace_id IS NOT NULL")
    assert sorted(row["trace_id"] for row in rows) == sorted([TRACE] * 4 + [OTHER])
    assert receiver.rows("message = 'no trace'")[0]["trace_id"] is None  # malformed: ignored, kept


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc", "'abc'"),
        ("g" * 32, "'" + "g" * 32 + "'"),
        ("0" * 32, "'" + "0" * 32 + "'"),
        (TRACE + "00", repr(TRACE + "00")),
    ],
)
async def test_a_malformed_trace_is_refused_with_one_line(
    receiver: Receiver, client: Any, value: str, shown: str
) -> None:
    for path in ("/v1/events", "/v1/stream"):
        async with client.get(f"{receiver.base}{path}", params={"trace": value}) as response:
            assert response.status == 400
            reason = (await response.json())["error"]
        assert reason.startswith("trace must be a trace id of 32 hex digits")
        assert shown in reason
        assert "\n" not in reason


async def test_the_trace_query_uses_its_index(receiver: Receiver) -> None:
    terms, params = filter_sql(EventFilter(trace=TRACE))
    plan = await receiver.server.engine.reader.explain(
        f"SELECT id FROM events WHERE {' AND '.join(terms)} ORDER BY id DESC LIMIT 100", tuple(params)
    )
    assert any("ix_events_trace" in step for step in plan), plan
