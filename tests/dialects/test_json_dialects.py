"""Each JSON dialect read from literal samples (CLEF, GELF, ECS, zap/zerolog/slog, pino…),
broken-but-recognisable input, and the line between a dialect and a native event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from sidelog.dialects import DIALECTS, Recognised, Rejected, recognise
from sidelog.dialects.clef import render
from sidelog.events import Event, EventError, parse_event
from sidelog.fingerprint import exception_signature
from tests.support.linear import assert_linear

NOW = 1_700_000_000_000
MAY_1_NOON_MS = int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp() * 1000)


def parse(obj: dict[str, Any], counts: dict[str, int] | None = None) -> Event:
    return parse_event(obj, default_source="server", received_at=NOW, dialect_counts=counts)


def details(event: Event) -> dict[str, Any]:
    assert event.details is not None
    result: dict[str, Any] = orjson.loads(event.details)
    return result


def test_clef_template_is_rendered_with_its_properties() -> None:
    event = parse(
        {
            "@t": "2024-05-01T12:00:00.123Z",
            "@mt": "User {UserId} signed in from {Ip} after {Attempts} tries",
            "@l": "Warning",
            "UserId": "u_1",
            "Ip": "10.0.0.1",
            "Attempts": 3,
            "SourceContext": "Shop.Auth",
        }
    )
    assert event.message == 'User "u_1" signed in from "10.0.0.1" after 3 tries'
    assert (event.level, event.timestamp, event.user_id) == ("warn", MAY_1_NOON_MS + 123, "u_1")
    assert details(event) == {
        "dialect": "clef",
        "template": "User {UserId} signed in from {Ip} after {Attempts} tries",
        "logger": "Shop.Auth",
        "Ip": "10.0.0.1",
        "Attempts": 3,
    }


def test_clef_exception_and_levels() -> None:
    event = parse(
        {
            "@t": "2024-05-01T12:00:00Z",
            "@m": "Checkout failed",
            "@l": "Fatal",
            "@i": "a1b2c3d4",
            "@x": "System.InvalidOperationException: Cart is empty\n"
            "   at Shop.Cart.Checkout(Int32 id) in /src/Cart.cs:line 42\n"
            "   at Shop.Program.Main() in /src/Program.cs:line 7",
        }
    )
    assert (event.level, event.message) == ("error", "Checkout failed")
    found = details(event)
    assert found["level"] == "Fatal"
    assert found["event_id"] == "a1b2c3d4"
    assert found["exception"]["type"] == "System.InvalidOperationException"
    assert found["exception"]["message"] == "Cart is empty"
    assert exception_signature(found) == "System.InvalidOperationException|/src/Cart.cs:Shop.Cart.Checkout"
    assert parse({"@t": "2024-05-01T12:00:00Z", "@m": "m"}).level == "info"  # no @l: Information
    verbose = parse({"@t": "2024-05-01T12:00:00Z", "@m": "m", "@l": "Verbose", "@@l": "mine"})
    assert verbose.level == "debug"
    assert details(verbose)["level"] == "Verbose"
    assert details(verbose)["@l"] == "mine"  # "@@l" escapes the app's own property "@l"


def test_clef_rendering_rules() -> None:
    props = {"Name": "bob", "Count": 2, "Cart": {"items": 1}, "On": True}
    assert render("{{literal}} {Name}", props) == '{literal} "bob"'
    assert render("{Name:l} has {Count,5} and {@Cart}", props) == 'bob has 2 and {"items":1}'
    assert render("{Missing} stays, {On}", props) == "{Missing} stays, True"
    assert render("Total {Count:0.00}", props, ["2.00"]) == "Total 2.00"
    assert render("unclosed {Name", props) == "unclosed {Name"
    assert_linear(lambda k: render("{a" * k, {"a": 1}), 800)


def test_clef_broken_time_is_stored_with_the_problem_noted() -> None:
    event = parse({"@t": 5, "@m": "boom"})
    assert (event.message, event.timestamp) == ("boom", NOW)
    found = details(event)
    assert found["@t"] == 5
    assert found["dialect_issues"] == [
        "@t must be an ISO-8601 string, got a number; stored with the time received"
    ]


def test_gelf() -> None:
    event = parse(
        {
            "version": "1.1",
            "host": "web-1",
            "short_message": "disk low",
            "timestamp": 1714564800.125,
            "level": 4,
            "_user_id": "u_1",
            "_disk": "/dev/sda",
        }
    )
    assert (event.message, event.level, event.timestamp, event.user_id) == (
        "disk low",
        "warn",
        MAY_1_NOON_MS + 125,
        "u_1",
    )
    assert details(event) == {"dialect": "gelf", "host": "web-1", "disk": "/dev/sda"}
    syslog = {0: "error", 2: "error", 3: "error", 4: "warn", 5: "info", 6: "info", 7: "debug"}
    for number, level in syslog.items():
        assert parse({"version": "1.1", "host": "h", "short_message": "m", "level": number}).level == level


def test_gelf_full_message_stack_becomes_the_exception() -> None:
    event = parse(
        {
            "version": "1.1",
            "host": "api",
            "short_message": "request failed",
            "level": 3,
            "full_message": 'Exception in thread "main" java.lang.IllegalStateException: closed\n'
            "\tat com.acme.Pool.get(Pool.java:42)\n\tat com.acme.Main.main(Main.java:7)",
        }
    )
    found = details(event)
    assert found["exception"]["type"] == "java.lang.IllegalStateException"
    assert exception_signature(found) == "java.lang.IllegalStateException|Pool.java:com.acme.Pool.get"


def test_gelf_rejection_names_the_dialect_and_field() -> None:
    with pytest.raises(EventError, match=r"^gelf: short_message must be a string, got a number$"):
        parse({"version": "1.1", "host": "h", "short_message": 5})


def test_ecs_flat_and_nested_fields() -> None:
    event = parse(
        {
            "@timestamp": "2024-05-01T12:00:00.250Z",
            "log.level": "error",
            "message": "payment failed",
            "ecs.version": "1.6.0",
            "log": {
                "logger": "shop",
                "origin": {"file": {"line": 12, "name": "pay.py"}, "function": "charge"},
            },
            "process": {"pid": 42, "name": "gunicorn"},
            "error": {
                "type": "ValueError",
                "message": "card declined",
                "stack_trace": "Traceback (most recent call last):\n"
                '  File "/app/pay.py", line 12, in charge\n'
                "ValueError: card declined",
            },
            "user.id": "u_1",
            "service": {"name": "shop"},
        }
    )
    assert (event.level, event.message, event.timestamp, event.user_id) == (
        "error",
        "payment failed",
        MAY_1_NOON_MS + 250,
        "u_1",
    )
    found = details(event)
    assert found["logger"] == "shop"
    assert found["caller"] == "pay.py:12"
    assert found["function"] == "charge"
    assert found["pid"] == 42
    assert found["process"] == {"name": "gunicorn"}
    assert found["service"] == {"name": "shop"}
    assert "log" not in found
    assert "error" not in found
    assert exception_signature(found) == "ValueError|/app/pay.py:charge"
    nested = parse({"@timestamp": "2024-05-01T12:00:00Z", "log": {"level": "warn"}, "message": "m"})
    assert (nested.level, details(nested)) == ("warn", {"dialect": "ecs"})


def test_zap() -> None:
    event = parse(
        {
            "level": "error",
            "ts": 1714564800.1234567,
            "caller": "shop/pay.go:42",
            "msg": "payment failed",
            "orderId": 7,
            "error": "card declined",
            "stacktrace": "main.charge\n\t/src/shop/pay.go:42\nmain.main\n\t/src/shop/main.go:10",
        }
    )
    assert (event.level, event.message, event.timestamp) == ("error", "payment failed", MAY_1_NOON_MS + 123)
    found = details(event)
    assert (found["dialect"], found["caller"], found["orderId"]) == ("zap", "shop/pay.go:42", 7)
    assert found["exception"]["type"] == "error"
    assert found["exception"]["message"] == "card declined"
    assert exception_signature(found) == "error|/src/shop/pay.go:main.charge"
    dpanic = parse({"level": "dpanic", "ts": 1714564800, "caller": "x.go:1", "msg": "m"})
    assert (dpanic.level, details(dpanic)["level"]) == ("error", "dpanic")


@pytest.mark.parametrize(
    "stamp",
    [1714564800, 1714564800.0, 1714564800000, 1714564800000000, 1714564800000000000, "2024-05-01T12:00:00Z"],
)
def test_epoch_units_are_told_apart_by_magnitude(stamp: object) -> None:
    event = parse({"level": "info", "ts": stamp, "caller": "x.go:1", "msg": "m"})
    assert event.timestamp == MAY_1_NOON_MS


def test_zerolog_and_slog() -> None:
    zerolog = parse(
        {
            "level": "warn",
            "error": "timeout",
            "stack": [{"func": "query", "line": "42", "source": "db.go"}],
            "time": "2024-05-01T14:00:00+02:00",
            "message": "slow query",
        }
    )
    assert (zerolog.level, zerolog.message, zerolog.timestamp) == ("warn", "slow query", MAY_1_NOON_MS)
    assert details(zerolog)["dialect"] == "zerolog"
    expected = {"type": "error", "message": "timeout", "stack": "query\n\tdb.go:42"}
    assert details(zerolog)["exception"] == expected
    slog = parse(
        {
            "time": "2024-05-01T12:00:00.123456789Z",
            "level": "INFO+2",
            "msg": "retrying",
            "source": {"function": "main.retry", "file": "/src/main.go", "line": 12},
            "attempt": 2,
        }
    )
    assert (slog.level, slog.timestamp) == ("info", MAY_1_NOON_MS + 123)
    assert details(slog) == {
        "dialect": "slog",
        "level": "INFO+2",
        "caller": "/src/main.go:12",
        "function": "main.retry",
        "attempt": 2,
    }
    assert parse({"time": "2024-05-01T12:00:00Z", "level": "ERROR+4", "msg": "m"}).level == "error"


def test_pino_with_a_broken_level_is_stored_with_the_problem_noted() -> None:
    event = parse({"level": "x", "time": 1714564800000, "pid": 1, "hostname": "h", "msg": "hi"})
    assert (event.level, event.timestamp) == ("info", MAY_1_NOON_MS)
    found = details(event)
    assert found["level"] == "x"
    assert found["dialect_issues"] == ["level 'x' is not a pino level; stored as info"]
    assert parse({"level": 35, "time": 1, "msg": "custom"}).level == "info"
    fatal = parse({"level": 60, "time": 1714564800000, "msg": "down"})
    assert (fatal.level, details(fatal)["level"]) == ("error", 60)


def test_loguru_without_record() -> None:
    event = parse({"text": "2024-05-01 12:00:00.123 | WARNING  | shop:pay:12 - low stock\n"})
    assert (event.level, event.message) == ("warn", "low stock")
    found = details(event)
    assert found["dialect"] == "loguru"
    assert found["dialect_issues"] == ["record is missing: read from text"]
    assert found["caller"] == "shop:12"
    with pytest.raises(EventError, match=r"^loguru: record must be an object, got a number$"):
        parse({"text": "x", "record": 5})


def test_structlog_dict_tracebacks_from_the_real_library() -> None:
    import io

    import structlog

    out = io.StringIO()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("lookup failed") from exc
    except RuntimeError:
        structlog.get_logger().exception("request failed")
    finally:
        structlog.reset_defaults()
    event = parse(orjson.loads(out.getvalue()))
    exception = details(event)["exception"]
    assert event.level == "error"
    assert (exception["type"], exception["message"]) == ("RuntimeError", "lookup failed")
    assert "The above exception was the direct cause" in exception["stack"]
    assert exception["stack"].index("KeyError") < exception["stack"].index("RuntimeError: lookup failed")
    name = test_structlog_dict_tracebacks_from_the_real_library.__name__
    assert exception_signature(details(event)) == f"RuntimeError|{__file__}:{name}"


def test_native_events_keep_their_errors_and_stay_native() -> None:
    with pytest.raises(EventError, match=r"^level 'verbose' is not a level"):
        parse({"message": "x", "level": "verbose"})  # not winston: its keys are not sorted
    with pytest.raises(EventError, match=r"^message is required$"):
        parse({"category": "auth"})
    native = parse({"message": "x", "pid": 3, "time": "at noon"})  # markers, but no dialect
    assert details(native) == {"pid": 3, "time": "at noon"}
    winston = parse({"level": "verbose", "message": "x"})
    assert (winston.level, details(winston)) == ("debug", {"dialect": "winston", "level": "verbose"})


def test_a_valid_native_event_with_a_marker_is_read_in_its_dialect() -> None:
    event = parse({"message": "stock low", "levelname": "WARNING", "name": "shop"})
    assert (event.level, details(event)) == ("warn", {"dialect": "python-json-logger", "logger": "shop"})


def test_a_valid_native_event_stays_valid_when_its_dialect_reading_is_not() -> None:
    deep: Any = {}
    for _ in range(31):
        deep = {"a": deep}  # 32 levels: the limit; read as python-json-logger it would be 33
    event = parse({"message": "x", "levelname": "WARNING", "details": deep})
    assert event.level == "info"
    assert details(event)["levelname"] == "WARNING"


def test_dialect_output_still_meets_the_native_limits() -> None:
    with pytest.raises(EventError, match=r"^pino: message must not contain a NUL character$"):
        parse({"level": 30, "time": 1, "msg": "a\x00b"})


def test_unknown_level_is_info_with_the_original_kept() -> None:
    event = parse({"event": "hi", "level": "loud"})
    assert (event.level, details(event)["level"]) == ("info", "loud")


def test_counts_by_dialect() -> None:
    counts: dict[str, int] = {}
    parse({"level": 30, "time": 1, "msg": "a"}, counts)
    parse({"event": "b"}, counts)
    parse({"message": "native"}, counts)
    assert counts == {"pino": 1, "structlog": 1}


@pytest.mark.parametrize(
    "obj",
    [
        {"level": 30, "msg": "m"},
        {"name": "a", "hostname": "h", "pid": 1, "level": 30, "msg": "m", "time": "2024-05-01", "v": 0},
        {"level": "http", "message": "m"},
        {"args": ["m"], "type": "info", "level": 3, "date": "2024-05-01T12:00:00Z"},
        {"event": "m"},
        {"text": "t", "record": {"message": "m"}},
        {"levelname": "INFO", "message": "m"},
        {"@t": "2024-05-01T12:00:00Z", "@m": "m"},
        {"version": "1.1", "host": "h", "short_message": "m"},
        {"@timestamp": "2024-05-01T12:00:00Z", "log.level": "info", "message": "m"},
        {"level": "info", "ts": 1, "msg": "m"},
        {"level": "info", "time": "2024-05-01T12:00:00Z", "message": "m"},
        {"level": "INFO", "time": "2024-05-01T12:00:00Z", "msg": "m"},
    ],
)
def test_every_recogniser_names_a_known_dialect(obj: dict[str, Any]) -> None:
    outcome = recognise(obj)
    assert isinstance(outcome, Recognised)
    assert outcome.dialect in DIALECTS
    assert outcome.event["details"]["dialect"] == outcome.dialect


def test_hostile_input_costs_no_line() -> None:
    deep: Any = "x"
    for _ in range(900):
        deep = {"error": deep}
    assert recognise({"level": 50, "msg": "m", "err": deep}) is not None
    assert isinstance(recognise({"text": "t", "record": []}), Rejected)
