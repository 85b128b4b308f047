"""Plain text and logfmt lines: the level read where the line states it, escape codes
stripped, structured prefixes (Python logging, Android, glog) taken apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from sidelog.dialects import Recognised, Rejected, classify_line, clean, line_level, recognise_text, text_line
from sidelog.dialects.logfmt import parse as parse_logfmt
from tests.support.linear import assert_linear


def event_of(text: str) -> dict[str, Any]:
    outcome = recognise_text(text)
    assert isinstance(outcome, Recognised), outcome
    return outcome.event


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("ERROR disk full", "error"),
        ("2024-05-01 12:00:00,123 WARNING shop: stock low", "warn"),
        ("[warn] cache cold", "warn"),
        ("[2024-05-01T12:00:00Z] [Error] upstream closed", "error"),
        ("2024-05-01 12:00:00.123 | ERROR    | __main__:<module>:5 - boom", "error"),
        ("W/ActivityManager( 1234): slow start", "warn"),
        ("E/Payments: declined", "error"),
        ("E0501 12:00:00.123456    42 server.go:42] upstream failed", "error"),
        ("level=warn something odd happened here", "warn"),
        (" ⨯ Error: Cannot find module 'x'", "error"),
        (" ⚠ Fast Refresh had to perform a full reload", "warn"),
        ('✘ [ERROR] Could not resolve "./missing"', "error"),
        ('▲ [WARNING] Duplicate key "a" in object literal', "warn"),
        ("[vite] Internal server error: Failed to resolve import", "error"),
        ("ERROR in ./src/App.js 3:5", "error"),
        ("Failed to compile.", "error"),
        ("Compiled with warnings.", "warn"),
        ("webpack 5.90.0 compiled with 2 errors in 312 ms", "error"),
        ("npm ERR! code ENOENT", "error"),
        ("npm warn deprecated inflight@1.0.6", "warn"),
        ("TypeError: Cannot read properties of undefined", "error"),
        ("Traceback (most recent call last):", "error"),
        ("panic: runtime error: index out of range", "error"),
        ("/app/x.py:3: DeprecationWarning: use y", "warn"),
        ("info: server started", "info"),
        ("DEBUG cache hit", "debug"),
        ("CRITICAL:root:out of memory", "error"),
        ("Server listening on http://localhost:3000", None),
        ("the error count is 0 after retry", None),
        ("    at foo (/x.js:1:1)", None),
    ],
)
def test_level_is_read_where_the_line_states_it(line: str, level: str | None) -> None:
    assert line_level(line) == level
    assert event_of(line)["type"] == (level or "info")


def test_python_logging_default_format() -> None:
    info = classify_line("WARNING:shop.cart:stock low: 2 left")
    assert (info.level, info.level_token, info.logger) == ("warn", "WARNING", "shop.cart")
    assert info.message == "stock low: 2 left"
    event = event_of("CRITICAL:root:out of memory")
    assert event["message"] == "out of memory"
    assert event["details"] == {"dialect": "text", "level": "CRITICAL", "logger": "root"}


def test_android_and_glog_prefixes() -> None:
    android = classify_line("W/ActivityManager( 1234): slow start")
    assert (android.level, android.logger, android.message) == ("warn", "ActivityManager", "slow start")
    glog = event_of("E0501 12:00:00.123456    42 server.go:42] upstream failed")
    assert glog["message"] == "upstream failed"
    assert glog["details"]["caller"] == "server.go:42"


def test_leading_time_is_the_timestamp_in_local_time() -> None:
    event = event_of("2024-05-01 12:00:00,250 ERROR shop: payment failed")
    assert event["timestamp"] == int(datetime(2024, 5, 1, 12, 0, 0, 250_000).timestamp() * 1000)
    assert event["message"] == "2024-05-01 12:00:00,250 ERROR shop: payment failed"
    assert "timestamp" not in event_of("no time here")


def test_escape_codes_are_stripped_from_what_is_stored() -> None:
    event = event_of("\x1b[31m\x1b[1mERROR\x1b[0m disk \x1b]0;title\x07full\x1b[K")
    assert (event["message"], event["type"]) == ("ERROR disk full", "error")
    assert clean("10%\r50%\r100% done\x07") == "100% done"


def test_logfmt() -> None:
    event = event_of('time=2024-05-01T12:00:00Z level=warn msg="disk low" disk=/dev/sda free="9 G" logger=db')
    started = int(datetime.fromisoformat("2024-05-01T12:00:00+00:00").timestamp() * 1000)
    assert (event["type"], event["message"], event["timestamp"]) == ("warn", "disk low", started)
    assert event["details"] == {"dialect": "logfmt", "logger": "db", "disk": "/dev/sda", "free": "9 G"}
    error = event_of('level=error msg="open failed" err="open /x: no such file" user_id=u_1')
    assert error["details"]["exception"] == {"type": "error", "message": "open /x: no such file", "stack": ""}
    assert error["userId"] == "u_1"
    plain = event_of("at=info method=GET path=/ status=200")  # Heroku's router: no msg
    assert plain["message"] == "at=info method=GET path=/ status=200"


@pytest.mark.parametrize(
    "line",
    [
        "x=1 and then some prose",
        "only=one",
        'msg="unterminated',
        "a=1 b=2",
        'msg="x"y level=info',
        "= level=info",
    ],
)
def test_what_is_not_logfmt(line: str) -> None:
    assert parse_logfmt(line) is None


def test_logfmt_escapes_and_speed() -> None:
    assert parse_logfmt('msg="say \\"hi\\"\\n" level=info') == {"msg": 'say "hi"\n', "level": "info"}
    assert_linear(lambda k: parse_logfmt('msg="' + "\\x" * k), 20_000)
    assert_linear(lambda k: parse_logfmt("a=" * k), 20_000)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"ERROR disk full", "ERROR disk full"),
        (b"  indented frame", "  indented frame"),
        (b"[warn] x", "[warn] x"),
        (b"[2024-05-01 12:00:00] started", "[2024-05-01 12:00:00] started"),
        (b"\x1b[31mred\x1b[0m", "\x1b[31mred\x1b[0m"),
        (b'{"message": torn', None),
        (b'  {"message": torn', None),
        (b"[1, 2", None),
        (b'[{"message": "x"}', None),
        (b"nul\x00byte", None),
        (b"\xff\xfe not utf-8", None),
        (b"\x01\x02\x03\x04\x05\x06\x07x", None),
    ],
)
def test_which_lines_are_text(raw: bytes, text: str | None) -> None:
    assert text_line(raw) == text


def test_empty_text_is_rejected() -> None:
    assert recognise_text(" \n\x1b[0m\n") == Rejected("text", "line is empty")


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("GET /api/users 500 in 12ms", "error"),  # Next.js dev server
        ("\x1b[2mGET /api/users 404 in 7ms\x1b[0m", "warn"),
        ("GET /api/users/500 200 in 3ms", "info"),  # a number in the path is not the status
        ('127.0.0.1 - - [01/May/2024 12:00:00] "GET /x HTTP/1.1" 503 -', "error"),  # werkzeug
        ("GET /api 500 12.345 ms - 21", "error"),  # morgan's dev format
        ("Completed 500 Internal Server Error in 5ms (ActiveRecord: 0.0ms)", "error"),  # Rails
        ("POST https://example.test/login 302 in 40ms", "info"),
        ("I GET things 500 times a day", None),  # prose, not an access log
        ('INFO: 127.0.0.1 - "GET / HTTP/1.1" 500', "info"),  # a stated level word wins
    ],
)
def test_access_log_lines_take_their_level_from_the_status(line: str, level: str | None) -> None:
    assert line_level(line) == level
