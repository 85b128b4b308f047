"""The wire protocol as pure functions of bytes: every kind of bad input, no sockets."""

from __future__ import annotations

import pytest

from sidelog.events import Event, EventError, Limits
from sidelog.ingest.protocol import (
    AuthLine,
    HttpSighting,
    Item,
    LineDecoder,
    Rejection,
    SyncRequest,
    decode_json,
)

CLOCK = 1_700_000_000_000


def decoder(**limits: int) -> LineDecoder:
    return LineDecoder(limits=Limits(**limits) if limits else Limits(), clock=lambda: CLOCK)


def decode_all(data: bytes, **limits: int) -> list[Item]:
    d = decoder(**limits)
    return [*d.feed(data), *d.finish()]


def only_rejection(data: bytes) -> Rejection:
    items = decode_all(data)
    assert len(items) == 1, items
    assert isinstance(items[0], Rejection), items
    return items[0]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"message": "x"', "invalid JSON"),
        (b"\x00\x01\x02 binary \xfe\xff", "invalid JSON"),
        (b"not json \xff\xfe at all", "invalid JSON"),
        (b"nul\x00inside", "invalid JSON"),
        (b'{"message": "x",}', "invalid JSON"),
        (b'"just a string"', "must be a JSON object or array, got a string"),
        (b"42", "must be a JSON object or array, got a number"),
        (b"true", "must be a JSON object or array, got a boolean"),
        (b"null", "must be a JSON object or array, got null"),
        (b'{"category": "auth"}', "message is required"),
        (b'{"message": ""}', "message must not be empty"),
        (b'{"message": "   "}', "message must not be empty"),
        (b'{"message": 7}', "message must be a string, got a number"),
        (b'{"message": null, "msg": ["a"]}', "message must be a string, got an array"),
        (b'{"message": "x", "type": "loud"}', "type 'loud' is not a level"),
        (b'{"message": "x", "level": "verbose"}', "level 'verbose' is not a level"),
        (b'{"message": "x", "type": 3}', "type must be a string, got a number"),
        (b'{"message": "x", "category": 5}', "category must be a string, got a number"),
        (b'{"message": "x", "userId": 5}', "userId must be a string, got a number"),
        (b'{"message": "x", "user_id": {}}', "user_id must be a string, got an object"),
        (b'{"message": "x", "sessionId": []}', "sessionId must be a string, got an array"),
        (b'{"message": "x", "url": true}', "url must be a string, got a boolean"),
        (b'{"message": "x", "source": 1}', "source must be a string, got a number"),
        (b'{"message": "x", "showToUser": "yes"}', "showToUser must be true or false, got a string"),
        (b'{"message": "x", "resolved": 1}', "resolved must be true or false, got a number"),
        (b'{"message": "x", "timestamp": true}', "timestamp must be milliseconds"),
        (b'{"message": "x", "timestamp": "yesterday"}', "timestamp 'yesterday' is not an ISO-8601"),
        (b'{"message": "x", "ts": -5}', "timestamp is out of range"),
        (b'{"message": "x", "timestamp": [1]}', "timestamp must be milliseconds"),
        (b'{"message": "x", "id": 12}', "id must be a string, got a number"),
        (b'{"message": "x", "id": ""}', "id must be 1 to 128 characters"),
        (b'{"message": "x\\u0000y"}', "message must not contain a NUL character"),
        (b'{"message": "x", "userMessage": "a\\u0000"}', "userMessage must not contain a NUL"),
        (b'{"message": "bad \xff byte"}', "invalid JSON"),
        (b'{"message": "\xed\xa0\x80"}', "invalid JSON"),
        (b'{"message": "\\ud800"}', "message contains a lone surrogate"),
        (b'{"message": "x", "details": {"k": "\\udfff"}}', "details contains a lone surrogate"),
        (b'{"message": "x", "n": NaN}', "invalid JSON"),
        (b'{"message": "x", "n": Infinity}', "invalid JSON"),
        (b'{"message": "x", "n": -Infinity}', "invalid JSON"),
        (b'{"message": "x", "n": 1e999}', "invalid JSON"),
        (b'{"message": "x", "n": ' + b"9" * 5000 + b"}", "invalid JSON"),
    ],
)
def test_bad_line_is_rejected_naming_the_problem(line: bytes, reason: str) -> None:
    rejection = only_rejection(line + b"\n")
    assert reason in rejection.reason
    assert rejection.line == 1
    assert rejection.to_reply() == {"error": rejection.reason, "line": 1}


@pytest.mark.parametrize(
    ("line", "key"),
    [
        (b'{"message":"x","a":1,"a":2}', "a"),
        (b'{"message":"x","message":"y"}', "message"),
        (b'{"message":"x","details":{"k":1,"k":2}}', "k"),
        (b'[{"message":"x"},{"message":"y","z":[{"q":1,"q":1}]}]', "q"),
        # keys written with whitespace before the colon defeat a naive count of '":'
        (b'{"message" :"x","a":1,"a":2}', "a"),
        (b'{"message":"x","d":{"k" : 1,"k":2}}', "k"),
        (b'{"message"\t:"x", "b" :1, "b":2}', "b"),
        # '":' inside a string value must not hide a duplicate either
        (b'{"message":"a\\":b","a":1,"a":2}', "a"),
    ],
)
def test_duplicate_keys_are_rejected(line: bytes, key: str) -> None:
    rejection = only_rejection(line + b"\n")
    assert rejection.reason == f"invalid JSON: duplicate key {key!r}"


@pytest.mark.parametrize(
    "line",
    [
        b'{"message":"a\\":b","x":1}',
        b'{"message":"x", "details": {"q": "\\":\\":"}, "u": 1}',
        b'{"message" : "spaced", "a" : 1, "b" : {"c" : 2}}',
        b'{"message":"\\":\\":\\":"}',
        b'{"message":"x","a":{},"b":[]}',
    ],
)
def test_colons_in_strings_and_spaced_keys_are_not_duplicates(line: bytes) -> None:
    items = decode_all(line + b"\n")
    assert len(items) == 1
    assert isinstance(items[0], Event)


def test_nesting_100000_deep_is_rejected_without_recursion() -> None:
    deep = b'{"message":"x","details":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    rejection = only_rejection(deep + b"\n")
    assert rejection.reason == "invalid JSON: nested too deeply"


def test_details_deeper_than_the_limit_is_rejected() -> None:
    nested = b'{"message":"x","details":' + b"[" * 33 + b"]" * 33 + b"}"
    assert only_rejection(nested + b"\n").reason == "details nests deeper than 32 levels"
    ok = b'{"message":"x","details":' + b"[" * 32 + b"]" * 32 + b"}"
    assert isinstance(decode_all(ok + b"\n")[0], Event)


def test_lone_surrogate_only_rejects_its_own_array_element() -> None:
    line = b'[{"message":"a"},{"message":"cut \\ud83d"},{"message":"c","details":{"n":[1,2.5]}}]\n'
    items = decode_all(line)
    assert [type(item) for item in items] == [Event, Rejection, Event]
    assert isinstance(items[1], Rejection)
    assert items[1].index == 1
    assert items[1].reason == "message contains a lone surrogate (not valid Unicode)"
    assert isinstance(items[2], Event)
    assert items[2].details == '{"n":[1,2.5]}'


def test_valid_surrogate_pair_is_accepted() -> None:
    items = decode_all(b'{"message":"smile \\ud83d\\ude00"}\n')
    assert isinstance(items[0], Event)
    assert items[0].message == "smile \U0001f600"


def test_lenient_surrogate_path_keeps_every_other_rule() -> None:
    """The fallback decoder for lone surrogates is as strict as orjson otherwise."""
    for line in (
        b'[{"message":"\\ud800"},{"message":"x","n":NaN}]',
        b'[{"message":"\\ud800"},{"message":"x","n":' + b"9" * 400 + b"}]",
        b'[{"message":"\\ud800"},{"message":"x"',
    ):
        rejection = only_rejection(line + b"\n")
        assert rejection.reason.startswith("invalid JSON"), line
    dup = only_rejection(b'[{"message":"\\ud800"},{"message":"x","m":1,"m":2}]\n')
    assert dup.reason == "invalid JSON: duplicate key 'm'"


def test_bom_and_crlf_are_accepted() -> None:
    items = decode_all(b'\xef\xbb\xbf{"message":"bom"}\r\n{"message":"crlf"}\r\n')
    assert [item.message for item in items if isinstance(item, Event)] == ["bom", "crlf"]
    assert len(items) == 2


def test_blank_lines_count_but_produce_nothing() -> None:
    items = decode_all(b'\n\r\n   \n{"message": 1}\n')
    assert items == [Rejection(4, "message must be a string, got a number")]


def test_final_line_without_newline() -> None:
    d = decoder()
    assert d.feed(b'{"message":"a"}\n{"message":"b"}') != []
    last = d.finish()
    assert len(last) == 1
    assert isinstance(last[0], Event)
    assert last[0].message == "b"

    d = decoder()
    d.feed(b'{"message":"a"}\n{"message":"to')
    torn = d.finish()
    assert len(torn) == 1
    assert isinstance(torn[0], Rejection)
    assert torn[0].line == 2
    assert torn[0].reason.startswith("incomplete final line (no newline): invalid JSON")
    assert d.finish() == []


def test_line_split_across_many_feeds() -> None:
    d = decoder()
    data = b'{"message":"split","category":"ui"}\n'
    out: list[Item] = []
    for byte in data:
        out.extend(d.feed(bytes([byte])))
    assert len(out) == 1
    assert isinstance(out[0], Event)
    assert out[0].category == "ui"


def test_over_long_line_is_rejected_whole_and_reading_resumes() -> None:
    d = decoder(max_line_bytes=100)
    out = d.feed(b'{"message":"' + b"x" * 200 + b'"}\n{"message":"after"}\n')
    assert len(out) == 2
    assert isinstance(out[0], Rejection)
    assert out[0].line == 1
    assert "longer than 100 bytes" in out[0].reason
    assert isinstance(out[1], Event)
    assert out[1].message == "after"


def test_over_long_line_arriving_in_pieces_is_skipped_to_the_next_newline() -> None:
    d = decoder(max_line_bytes=100)
    out = d.feed(b'{"message":"' + b"x" * 60)
    assert out == []
    out = d.feed(b"y" * 60)  # now past the limit: rejected at once, buffer dropped
    assert [type(item) for item in out] == [Rejection]
    assert d.pending_bytes == 0
    assert d.feed(b"z" * 1000) == []
    assert d.pending_bytes == 0
    out = d.feed(b'zz"}\n{"message":"next"}\n')
    assert len(out) == 1
    assert isinstance(out[0], Event)
    assert out[0].message == "next"
    assert d.line_no == 2


def test_endless_line_keeps_pending_bytes_bounded() -> None:
    limit = 64 * 1024
    d = decoder(max_line_bytes=limit)
    chunk = b"a" * 65_536
    rejections = 0
    for _ in range(800):  # 50 MiB without a newline
        rejections += sum(isinstance(item, Rejection) for item in d.feed(chunk))
        assert d.pending_bytes <= limit
    assert rejections == 1
    assert d.finish() == []
    out = d.feed(b'\n{"message":"alive"}\n')
    assert len(out) == 1
    assert isinstance(out[0], Event)


def test_line_exactly_at_the_limit_is_accepted() -> None:
    line = b'{"message":"' + b"m" * 50 + b'"}'
    items = decode_all(line + b"\n", max_line_bytes=len(line))
    assert isinstance(items[0], Event)
    items = decode_all(line + b"\n", max_line_bytes=len(line) - 1)
    assert isinstance(items[0], Rejection)


@pytest.mark.parametrize(
    "line",
    [
        b"POST / HTTP/1.1",
        b"GET /v1/events HTTP/1.0",
        b"OPTIONS * HTTP/1.1",
        b"PRI * HTTP/2.0",
        b"GET /",
        b"Host: localhost:7411",
        b"user-agent: Mozilla/5.0",
        b"Content-Type: text/plain",
        b"Sec-Fetch-Mode: no-cors",
        b"Origin: http://evil.example",
    ],
)
def test_http_lines_are_sighted(line: bytes) -> None:
    items = decode_all(line + b"\r\n")
    assert items == [HttpSighting(1)]


@pytest.mark.parametrize(
    ("line", "level"),
    [
        (b"ERROR disk full", "error"),
        (b"Error: boom", "error"),
        (b"WARN low memory", "warn"),
        (b"Note: x", "info"),
    ],
)
def test_plain_text_log_lines_are_text_events_not_http(line: bytes, level: str) -> None:
    """``tail -f app.log | nc`` must not lose the whole connection at the first "Error: …",
    and the lines are stored as text events at the level they state."""
    items = decode_all(line + b"\n")
    assert len(items) == 1, items
    event = items[0]
    assert isinstance(event, Event)
    assert (event.message, event.level) == (line.decode(), level)
    assert event.details == '{"dialect":"text"}'


def test_sync_and_auth_lines() -> None:
    items = decode_all(b'{"sync": true}\n{"auth": "s3cret"}\n{"message":"m","sync":true}\n')
    assert items[0] == SyncRequest(1)
    assert items[1] == AuthLine(2, "s3cret")
    assert isinstance(items[2], Event)
    assert items[2].details == '{"sync":true}'


def test_array_elements_are_validated_separately() -> None:
    items = decode_all(b'[{"message":"a"}, 5, {"msg":"b","type":"nope"}, {"msg":"c"}]\n')
    assert [type(item) for item in items] == [Event, Rejection, Rejection, Event]
    assert isinstance(items[1], Rejection)
    assert items[1].to_reply() == {
        "error": "an event must be a JSON object, got a number",
        "line": 1,
        "index": 1,
    }
    assert isinstance(items[2], Rejection)
    assert items[2].index == 2


def test_line_numbers_count_every_line() -> None:
    items = decode_all(b'{"message":"a"}\nbad \xff\n{"message":"b"}\n[1]\n')
    rejections = [item for item in items if isinstance(item, Rejection)]
    assert [(r.line, r.index) for r in rejections] == [(2, None), (4, 0)]


def test_received_at_comes_from_the_clock() -> None:
    items = decode_all(b'{"message":"a"}\n')
    assert isinstance(items[0], Event)
    assert items[0].received_at == CLOCK
    assert items[0].timestamp == CLOCK


def test_decode_json_directly() -> None:
    assert decode_json(b'{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(EventError, match="duplicate key 'a'"):
        decode_json(b'{"a" : 1, "a" : 2}')
    with pytest.raises(EventError, match="invalid JSON"):
        decode_json(b"{")
