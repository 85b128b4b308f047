"""Where an event's trace id comes from (one rule for every path) and the ``trace`` filter."""

from __future__ import annotations

import pytest

from sidelog.events import parse_event
from sidelog.filters import EventFilter
from sidelog.trace_ids import normalize_trace_id, trace_id_of

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ({"message": "m", "trace_id": TRACE.upper()}, TRACE),  # a top-level field lands in details
        ({"message": "m", "traceId": TRACE}, TRACE),
        ({"message": "m", "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}, TRACE),
        ({"message": "m", "details": {"traceparent": f"00-{TRACE.upper()}-00f067aa0ba902b7-01"}}, TRACE),
        ({"message": "m", "details": {"contexts": {"trace": {"trace_id": TRACE}}}}, TRACE),
        ({"message": "m", "details": {"trace_id": "", "traceId": TRACE}}, TRACE),  # first valid wins
        ({"message": "m", "details": {"trace_id": "x" * 32}}, None),
        ({"message": "m", "details": {"trace_id": "0" * 32}}, None),  # W3C: no trace
        ({"message": "m", "details": {"trace_id": 123}}, None),
        ({"message": "m", "details": {"traceparent": f"00-{TRACE}"}}, None),
        ({"message": "m", "details": [TRACE]}, None),
        ({"message": "m"}, None),
    ],
)
def test_the_trace_id_is_found_in_what_was_sent(wire: dict[str, object], expected: str | None) -> None:
    event = parse_event(wire, default_source="api", received_at=1)
    assert event.trace_id == expected
    assert event.to_wire()["traceId"] == expected
    assert event.message == "m"  # a bad trace id never costs the event


def test_normalize_accepts_32_hex_digits_only() -> None:
    assert normalize_trace_id(TRACE.upper()) == TRACE
    assert normalize_trace_id(" " + TRACE) is None
    assert normalize_trace_id(TRACE[:-1] + "-") is None
    assert trace_id_of({"trace_id": TRACE}) == TRACE


def test_the_filter_matches_the_trace_and_round_trips_as_a_parameter() -> None:
    flt = EventFilter.from_params([("trace", f" {TRACE.upper()} ")])
    assert flt.trace == TRACE
    assert flt.to_query_string() == f"?trace={TRACE}"
    assert EventFilter.from_params(flt.to_params()) == flt
    inside = parse_event({"message": "a", "trace_id": TRACE}, default_source="api", received_at=1)
    outside = parse_event({"message": "b"}, default_source="api", received_at=1)
    assert flt.matches(inside)
    assert not flt.matches(outside)
    assert EventFilter.from_params([("trace", "")]).trace is None


def test_a_malformed_trace_filter_names_the_rule() -> None:
    with pytest.raises(ValueError, match=r"^trace must be a trace id of 32 hex digits .*'nope'$"):
        EventFilter.from_params([("trace", "nope")])
