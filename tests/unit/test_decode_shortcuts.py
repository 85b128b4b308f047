"""The decode path's shortcuts decide exactly as the plain rules they skip.

Each shortcut rests on a fact about the function it avoids calling: ``trace_id_of`` and
``exception_signature`` read only a few names, a JSON text with no ``{`` or ``[`` past
its first byte has nothing nested, the fingerprint of a message is a function of its
skeleton. These tests check each fact over generated inputs, so a change to the
function that breaks the fact fails here rather than in a stored row.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import orjson

from sidelog.event_details import TOO_DEEP, screened, screened_text
from sidelog.events import _TRACE_KEYS
from sidelog.fingerprint import _SIGNATURE_KEYS, exception_signature, fingerprint_of, message_shape
from sidelog.ingest.protocol import LineDecoder, Rejection, SyncRequest
from sidelog.redact import Redactor
from sidelog.trace_ids import trace_id_of

_TRACE = "0af7651916cd43dd8448eb211c80319c"
_NAMES = [
    "trace_id", "traceId", "traceparent", "contexts", "trace", "TraceId", "trace-id", "span_id",
    "sentry-trace",
    "context", "exception", "type", "name", "errorType", "stack", "traceback", "error", "err", "exc_info",
    "message", "password", "api_key", "note", "x", "{", "[", "a}", "b]",
]  # fmt: skip
"""Names spelled out (not taken from the shortcuts' own sets, which a change could shrink)."""
_LEAVES: list[Any] = [
    None, 1, 2.5, True, "", "x", "{", "[]", "a{b", _TRACE, f"00-{_TRACE}-b7ad6b7169203331-01",
    'File "/a.py", line 3, in run\n', "    at f (/app/a.js:1:2)", "KeyError",
]  # fmt: skip


def _value(rng: random.Random, level: int = 0) -> Any:
    roll = rng.random()
    if level > 4 or roll < 0.3:
        return rng.choice(_LEAVES)
    if roll < 0.45:
        return [_value(rng, level + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(_NAMES): _value(rng, level + 1) for _ in range(rng.randint(0, 5))}


def _shaped(rng: random.Random) -> Any:
    """A value where the trace and signature readers look: ``contexts.trace``, ``exception``."""
    return {
        rng.choice(_NAMES): {rng.choice(["trace", "x"]): {rng.choice(_NAMES): rng.choice(_LEAVES)}},
        rng.choice(_NAMES): rng.choice(_LEAVES),
    }


def test_without_its_names_there_is_no_trace_id_and_no_signature() -> None:
    rng = random.Random(21)
    for _ in range(8_000):
        roll = rng.random()
        details = (
            _value(rng, 1)
            if roll < 0.4
            else _shaped(rng)
            if roll < 0.7
            else {rng.choice(_NAMES): _value(rng, 1)}
        )
        if isinstance(details, dict) and _TRACE_KEYS.isdisjoint(details):
            assert trace_id_of(details) is None, details
        if isinstance(details, dict) and _SIGNATURE_KEYS.isdisjoint(details):
            assert exception_signature(details) == "", details
    shapes: list[Any] = [
        _TRACE,
        f"00-{_TRACE}-b7ad6b7169203331-01",
        "KeyError",
        'File "/a.py", line 3, in f\n',
    ]
    shapes += [{"trace": {"trace_id": _TRACE}}, {"type": "KeyError", "stack": "    at f (/a.js:1:2)"}]
    for name in _NAMES:  # every name with every value the readers look for
        for value in shapes:
            details = {name: value}
            if _TRACE_KEYS.isdisjoint(details):
                assert trace_id_of(details) is None, details
            if _SIGNATURE_KEYS.isdisjoint(details):
                assert exception_signature(details) == "", details
    assert trace_id_of({"contexts": {"trace": {"trace_id": _TRACE}}}) == _TRACE
    for name in ("type", "name", "errorType"):
        assert exception_signature({name: "KeyError"}) == "KeyError|"


def test_screened_text_is_screened_then_written() -> None:
    rng = random.Random(22)
    for _ in range(4_000):
        value = _value(rng)
        for limit in (0, 1, 2, 32):
            for redactor in (None, Redactor()):
                for _ in range(2):  # the second time every name is known to the redactor
                    expected = screened(value, limit, redactor)
                    got = screened_text(value, limit, redactor)
                    if expected is TOO_DEEP:
                        assert got is None, (value, limit)
                    else:
                        assert got == (expected, orjson.dumps(expected).decode()), (value, limit)


def test_screened_text_of_something_orjson_cannot_write_fails_as_before() -> None:
    deep: Any = []
    for _ in range(300):  # orjson writes 254 levels at most
        deep = [deep]
    assert screened_text(deep, 32, Redactor()) is None
    try:
        screened_text(deep, 1000, Redactor())
    except orjson.JSONEncodeError:
        pass
    else:  # pragma: no cover - the write must fail as it did before the shortcut
        raise AssertionError("a 300-level value was written")


def test_fingerprints_with_signatures_equal_the_plain_hash_warm_or_cold() -> None:
    rng = random.Random(23)
    messages = ["Order 12 failed", "Order 99 failed", "evt_0a1b2c failed", "status 404", "x" * 300, "ok 1"]
    for _ in range(5_000):
        category = rng.choice(["api", "ui"])
        message = rng.choice(messages)
        details = rng.choice(
            [None, {}, {"note": 1}, {"type": "KeyError"}, _value(rng), {"exception": _value(rng)}]
        )
        key = "\x1f".join((category, message_shape(message), exception_signature(details)))
        plain = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
        assert fingerprint_of(category, message, details) == plain, (category, message, details)


def _decode(data: bytes) -> list[Any]:
    decoder = LineDecoder(clock=lambda: 1)
    return [*decoder.feed(data), *decoder.finish()]


def test_the_object_shortcut_keeps_line_numbers_order_and_text_blocks() -> None:
    items = _decode(
        b"Traceback (most recent call last):\n"
        b'  File "/a.py", line 3, in f\n'
        b"ValueError: boom\n"
        b'{"message":"after the trace"}\n'
        b'{"sync":true}\n'
        b'{"message":"dup","message":"again"}\n'
        b'{"message":"crlf"}\r\n'
        b'  {"message":"indented"}  \n'
        b'{"message":"last, no newline"}'
    )
    assert [type(item).__name__ for item in items] == [
        "Event", "Event", "SyncRequest", "Rejection", "Event", "Event", "Event",
    ]  # fmt: skip
    assert items[0].message.startswith("ValueError") or "boom" in items[0].message
    assert items[1].message == "after the trace"
    assert items[2] == SyncRequest(5)
    assert items[3] == Rejection(6, "invalid JSON: duplicate key 'message'")
    assert [item.message for item in items[4:]] == ["crlf", "indented", "last, no newline"]


def test_a_torn_final_object_is_still_worded_as_incomplete() -> None:
    (item,) = _decode(b'{"message":"x","n":{}')
    assert isinstance(item, Rejection)
    assert item.reason.startswith("incomplete final line (no newline): invalid JSON")
