"""The event model: aliases, defaults, limits and normalisation (README, "The event")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from sidelog.events import Event, EventError, Limits, normalize_level, parse_event

NOW = 1_700_000_000_000


def parse(obj: Any, **kwargs: Any) -> Event:
    kwargs.setdefault("default_source", "server")
    kwargs.setdefault("received_at", NOW)
    return parse_event(obj, **kwargs)


def test_defaults() -> None:
    event = parse({"message": "hi"})
    assert event == Event(
        message="hi",
        category="general",
        level="info",
        details=None,
        timestamp=NOW,
        received_at=NOW,
        source="server",
        resolved=None,
    )
    assert event.fingerprint is None
    assert event.uid is None


def test_error_defaults_to_unresolved_and_gets_a_fingerprint() -> None:
    event = parse({"message": "boom", "type": "error"})
    assert event.resolved is False
    assert event.fingerprint is not None
    assert parse({"message": "boom", "type": "error", "resolved": True}).resolved is True
    assert parse({"message": "fine", "type": "warn"}).resolved is None


def test_default_source_is_the_endpoints() -> None:
    assert parse({"message": "m"}, default_source="client").source == "client"
    assert parse({"message": "m", "source": " Middleware "}).source == "middleware"


def test_every_alias() -> None:
    event = parse(
        {
            "msg": "aliased",
            "level": "WARNING",
            "user_id": "u1",
            "session_id": "s1",
            "user_agent": "curl/8",
            "ts": 1_600_000_000_000,
            "show_to_user": True,
            "user_message": "Try again",
        }
    )
    assert (event.message, event.level, event.user_id, event.session_id) == ("aliased", "warn", "u1", "s1")
    assert event.user_agent == "curl/8"
    assert event.timestamp == 1_600_000_000_000
    assert event.show_to_user is True
    assert event.user_message == "Try again"
    assert event.details is None  # aliases are known fields, not extras


def test_canonical_names_win_over_aliases() -> None:
    event = parse({"message": "canonical", "msg": "alias", "type": "error", "level": "debug"})
    assert event.message == "canonical"
    assert event.level == "error"


@pytest.mark.parametrize(
    ("spelling", "level"),
    [
        ("debug", "debug"),
        ("TRACE", "debug"),
        ("Info", "info"),
        ("warn", "warn"),
        ("Warning", "warn"),
        ("WARNING", "warn"),
        ("error", "error"),
        ("ERR", "error"),
        ("Fatal", "error"),
        ("critical", "error"),
        (" CRITICAL ", "error"),
    ],
)
def test_level_aliases_any_case(spelling: str, level: str) -> None:
    assert parse({"message": "m", "type": spelling}).level == level
    assert parse({"message": "m", "level": spelling}).level == level
    assert normalize_level(spelling) == level


def test_category_is_lower_cased_and_free_text() -> None:
    assert parse({"message": "m", "category": " Payment "}).category == "payment"
    assert parse({"message": "m", "category": "my-own"}).category == "my-own"
    with pytest.raises(EventError, match="category must not be empty"):
        parse({"message": "m", "category": "  "})


def test_unknown_fields_are_kept_in_details() -> None:
    event = parse({"message": "m", "orderId": 7, "tags": ["a"]})
    assert orjson.loads(event.details or "") == {"orderId": 7, "tags": ["a"]}


def test_unknown_fields_merge_into_object_details_without_overwriting() -> None:
    event = parse({"message": "m", "details": {"a": 1, "b": 2}, "b": 3, "c": 4})
    assert orjson.loads(event.details or "") == {"a": 1, "b": 2, "c": 4, "_extra": {"b": 3}}


def test_unknown_fields_beside_non_object_details() -> None:
    event = parse({"message": "m", "details": [1, 2], "extra": True})
    assert orjson.loads(event.details or "") == {"details": [1, 2], "extra": True}


@pytest.mark.parametrize("details", [{"k": [1, {"x": None}]}, [1, 2], "text", 3.5, True])
def test_details_any_json_stored_as_json_text(details: Any) -> None:
    event = parse({"message": "m", "details": details})
    assert event.details is not None
    assert orjson.loads(event.details) == details


def test_string_field_limit_is_8_kib_in_utf8_bytes() -> None:
    ok = "x" * 8192
    assert parse({"message": "m", "url": ok}).url == ok
    with pytest.raises(EventError, match="url is longer than 8192 bytes"):
        parse({"message": "m", "url": ok + "x"})
    # 2,731 three-byte characters: under 8 KiB in characters, over it in bytes
    with pytest.raises(EventError, match="userMessage is longer than 8192 bytes"):
        parse({"message": "m", "userMessage": "€" * 2731})
    for name in ("category", "source", "userId", "user_id", "sessionId", "userAgent", "user_message"):
        with pytest.raises(EventError, match=f"{name} is longer than 8192 bytes"):
            parse({"message": "m", name: "y" * 8193})


def test_message_and_details_are_not_subject_to_the_field_limit() -> None:
    big = "z" * 100_000
    event = parse({"message": big, "details": {"blob": big}})
    assert event.message == big


def test_limits_are_configurable() -> None:
    limits = Limits(max_line_bytes=1024, max_details_depth=2, max_field_bytes=4)
    with pytest.raises(EventError, match="category is longer than 4 bytes"):
        parse({"message": "m", "category": "abcde"}, limits=limits)
    with pytest.raises(EventError, match="details nests deeper than 2 levels"):
        parse({"message": "m", "details": {"a": {"b": {}}}}, limits=limits)
    assert parse({"message": "m", "details": {"a": {"b": 1}}}, limits=limits).details == '{"a":{"b":1}}'


def test_details_depth_limit_is_32() -> None:
    value: Any = 1
    for _ in range(32):
        value = [value]
    assert parse({"message": "m", "details": value}).details is not None
    with pytest.raises(EventError, match="details nests deeper than 32 levels"):
        parse({"message": "m", "details": [value]})


def test_unknown_fields_count_towards_details_depth() -> None:
    value: Any = 1
    for _ in range(32):
        value = [value]
    with pytest.raises(EventError, match="details nests deeper than 32 levels"):
        parse({"message": "m", "extra": value})


def test_id_limit_is_128_characters() -> None:
    assert parse({"message": "m", "id": "k" * 128}).uid == "k" * 128
    with pytest.raises(EventError, match="id must be 1 to 128 characters"):
        parse({"message": "m", "id": "k" * 129})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_600_000_000_123, 1_600_000_000_123),
        (1_600_000_000_123.9, 1_600_000_000_123),
        ("2024-05-01T12:00:00Z", int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp() * 1000)),
        ("2024-05-01T12:00:00.250+02:00", int(datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp() * 1000) + 250),
        ("2024-05-01T12:00:00", int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp() * 1000)),
        ("2024-05-01", int(datetime(2024, 5, 1, tzinfo=UTC).timestamp() * 1000)),
        (0, 0),
    ],
)
def test_timestamps_ms_and_iso8601(value: Any, expected: int) -> None:
    assert parse({"message": "m", "timestamp": value}).timestamp == expected
    assert parse({"message": "m", "ts": value}).timestamp == expected


@pytest.mark.parametrize("value", [-1, 10**16, "not a date", True, [], {}])
def test_bad_timestamps(value: Any) -> None:
    with pytest.raises(EventError, match="timestamp"):
        parse({"message": "m", "timestamp": value})


def test_rejections_name_the_alias_used() -> None:
    with pytest.raises(EventError, match="^user_id must be a string"):
        parse({"message": "m", "user_id": 1})
    with pytest.raises(EventError, match="^userId must be a string"):
        parse({"message": "m", "userId": 1})
    with pytest.raises(EventError, match="^level 'x' is not a level"):
        parse({"message": "m", "level": "x"})


def test_nul_is_refused_in_every_text_field() -> None:
    with pytest.raises(EventError, match="message must not contain a NUL"):
        parse({"message": "a\x00"})
    with pytest.raises(EventError, match="sessionId must not contain a NUL"):
        parse({"message": "m", "sessionId": "a\x00"})


def test_to_wire_round_trip() -> None:
    event = parse({"message": "m", "details": {"k": 1}, "id": "abc", "userId": "u"})
    wire = event.to_wire()
    assert wire["message"] == "m"
    assert wire["details"] == {"k": 1}
    assert wire["eventId"] == "abc"
    assert wire["userId"] == "u"
    assert wire["type"] == "info"
    assert wire["id"] is None
