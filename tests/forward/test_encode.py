"""Stored events out as OTLP, read back by sidelog's own OTLP decoder (the mapping is symmetric)."""

from __future__ import annotations

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from sidelog.config import Settings
from sidelog.events import Event
from sidelog.forward.encode import MAX_FLAT_LEAVES, encode_request
from sidelog.ingest.otlp import OtlpContext, logs_events

TRACE = "5b8efff798038103d269b633813fc60c"


def round_trip(events: list[Event]) -> tuple[ExportLogsServiceRequest, list[Event]]:
    request = ExportLogsServiceRequest()
    request.ParseFromString(encode_request(events))
    converted = logs_events(request, OtlpContext(Settings().limits, received_at=1))
    assert converted.rejected == []
    return request, converted.events


def stored(**fields: object) -> Event:
    values: dict[str, object] = {
        "message": "m",
        "timestamp": 1_700_000_000_123,
        "received_at": 1_700_000_000_456,
    }
    values.update(fields)
    event = Event(**values)  # type: ignore[arg-type]
    event.id = int(str(values.get("id", 7)))
    return event


def test_fields_survive_the_round_trip() -> None:
    details = {"exception": {"type": "KeyError", "message": "card", "stack": "Traceback…"}, "orderId": 7}
    event = stored(
        message="payment failed",
        level="error",
        category="payment",
        source="api",
        user_id="u_1",
        session_id="s_1",
        url="https://shop.test/pay",
        trace_id=TRACE,
        details=orjson.dumps(details).decode(),
        fingerprint="abc",
    )
    request, (back,) = round_trip([event])
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    assert (record.severity_number, record.severity_text) == (17, "ERROR")
    assert record.time_unix_nano == 1_700_000_000_123_000_000
    assert record.observed_time_unix_nano == 1_700_000_000_456_000_000
    assert record.trace_id.hex() == TRACE
    assert (back.message, back.level, back.category, back.source) == (
        "payment failed",
        "error",
        "payment",
        "api",
    )
    assert (back.user_id, back.session_id, back.url, back.trace_id) == (
        "u_1",
        "s_1",
        "https://shop.test/pay",
        TRACE,
    )
    assert back.timestamp == event.timestamp
    sent = orjson.loads(back.details or "{}")
    assert sent["exception"] == {"type": "KeyError", "message": "card", "stack": "Traceback…"}
    assert sent["attributes"]["details.orderId"] == 7
    assert sent["attributes"]["sidelog.id"] == 7
    assert sent["attributes"]["sidelog.fingerprint"] == "abc"


def test_levels_map_both_ways() -> None:
    events = [stored(level=level, id=i) for i, level in enumerate(("debug", "info", "warn", "error"), 1)]
    _, back = round_trip(events)
    assert [event.level for event in back] == ["debug", "info", "warn", "error"]


def test_one_resource_per_source_in_id_order() -> None:
    events = [stored(source=source, id=i, message=str(i)) for i, source in enumerate("abab", 1)]
    request, _ = round_trip(events)
    services = [r.resource.attributes[0].value.string_value for r in request.resource_logs]
    assert services == ["a", "b"]
    assert [
        [rec.body.string_value for rec in r.scope_logs[0].log_records] for r in request.resource_logs
    ] == [
        ["1", "3"],
        ["2", "4"],
    ]


def test_wide_or_deep_details_become_one_json_string() -> None:
    wide = {f"k{i}": i for i in range(MAX_FLAT_LEAVES + 1)}
    deep = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    for details in (wide, deep):
        _, (back,) = round_trip([stored(details=orjson.dumps(details).decode())])
        attributes = orjson.loads(back.details or "{}")["attributes"]
        assert orjson.loads(attributes["details"]) == details
        assert not any(key.startswith("details.") for key in attributes)


def test_lists_and_odd_values_are_kept() -> None:
    text = '{"tags": ["a", 1, true, null, {"x": 1}], "ratio": 0.5, "nested": {"ok": false}}'
    _, (back,) = round_trip([stored(details=text)])
    attributes = orjson.loads(back.details or "{}")["attributes"]
    assert attributes["details.tags"] == ["a", 1, True, None, '{"x":1}']
    assert attributes["details.ratio"] == 0.5
    assert attributes["details.nested.ok"] is False
