"""Generated wire lines, good and bad, and a canonical text of what ingest made of each.

The decode-equivalence tests feed the same seeded lines through the ingest path and
compare outcomes with figures recorded from an earlier version of that path (or with the
general path, live). The generator mixes plain native events with every way a line can
go wrong or take another route: wrong types, ``null``, NUL, huge fields, duplicate keys at
any depth, deep nesting, whitespace and escapes, lone surrogates, invalid UTF-8, logger
dialects, arrays, scalars, text, ``sync``/``auth`` lines and HTTP lines.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from sidelog.events import Event
from sidelog.ingest.protocol import AuthLine, HttpSighting, Item, Rejection, SyncRequest

_WORDS = ["order", "failed", "user", "signed in", "Payment", "évènement", "日本", "face", "x"]
_VALUES: list[Any] = [
    None, 0, -1, 7, 1.5, -0.0, 1e300, 2**70, True, False, "", " ", "ok", "a\x00b", "é",
    "\ud83d\ude00", "\U0001f600", [], {}, ["l"], {"k": 1}, "x" * 9000, "é" * 3000,
]  # fmt: skip
_LEVELS = ["info", "error", "ERROR", " warn ", "warning", "Fatal", "trace", "debug", "verbose", "loud", ""]
_STAMPS: list[Any] = [
    1_700_000_000_000, 0, -5, 253_402_300_800_000, 1.7e12, "2024-05-01T10:00:00Z", "2024-05-01 10:00",
    "yesterday", True, None, 2**64,
]  # fmt: skip
_DETAIL_KEYS = [
    "requestId", "note", "password", "api_key", "trace_id", "traceId", "traceparent", "exception", "contexts",
    "name", "stack",
]  # fmt: skip
_DIALECTS: list[dict[str, Any]] = [
    {"level": 30, "time": 1_700_000_000_000, "pid": 1, "hostname": "h", "msg": "pino line"},
    {"level": "info", "message": "winston", "stack": "Error: x\n    at f (/a.js:1:2)"},
    {"event": "structlog", "level": "warning", "timestamp": "2024-05-01T10:00:00Z"},
    {"text": "loguru", "record": {"level": {"name": "ERROR"}, "message": "m", "time": {"timestamp": 1.0}}},
    {"@t": "2024-05-01T10:00:00Z", "@mt": "clef {X}", "X": 1},
    {"version": "1.1", "host": "h", "short_message": "gelf", "level": 3},
    {"@timestamp": "2024-05-01T10:00:00Z", "log.level": "error", "message": "ecs", "ecs.version": "1.6.0"},
    {"levelname": "INFO", "message": "pjl", "name": "app"},
    {"level": "error", "ts": 1.7e9, "caller": "a.go:1", "msg": "zap", "stacktrace": "main.f\n\t/a.go:1"},
    {"message": "native with marker", "time": 5},
]
_TEXT = [
    b"plain text line", b"WARNING:root:disk low", b"Traceback (most recent call last):",
    b'  File "/a.py", line 3, in f', b"ValueError: boom", b"level=info msg=hi", b"POST / HTTP/1.1",
    b"Host: example.com", b"\xff\xfe binary", b"", b"   ", b'{"sync": true}', b'{"auth": "tok"}',
    b'{"sync": true, "x": 1}', b"42", b'"s"', b"null", b"[1, {\"message\": \"in array\"}]", b"[]",
]  # fmt: skip


_ODD = [
    b'{"message":"\\ud800"}', b'{"message":"m","details":{"a":"\\udfff"}}',
    b'{"message":"m\xff"}', b'{"message":"m","details":{"a":NaN}}',
    b'{"message":"m","timestamp":1e999}', b'{"message":"m","details":{"a":1e3}}',
    b'{"message":"m","details":{"a":-0}}', b'{"message":"m","details":{"a":"\\/"}}',
    b'\xef\xbb\xbf{"message":"bom"}', b'{"message":"crlf"}\r',
    b'{"message":"m","details":{"b":1,"a":2}} ',
    b'[{"message":"ok"},{"message":"\\ud800"}]',
]  # fmt: skip
"""Lines each decoder may read differently: escapes, numbers orjson rewrites, BOM, CR."""


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) + str(rng.randint(0, 999)) for _ in range(rng.randint(1, 4)))


def _details(rng: random.Random, level: int = 0) -> Any:
    roll = rng.random()
    if level > 2 or roll < 0.15:
        return rng.choice(_VALUES[:15])
    if roll < 0.25:
        return [_details(rng, level + 1) for _ in range(rng.randint(0, 3))]
    out: dict[str, Any] = {}
    for _ in range(rng.randint(0, 6)):
        key = rng.choice(_DETAIL_KEYS) if rng.random() < 0.3 else f"k{rng.randint(0, 9)}"
        if key == "exception":
            out[key] = {"type": "KeyError", "stack": f'File "/app/m{rng.randint(0, 3)}.py", line 4, in run\n'}
        elif key in ("trace_id", "traceId"):
            out[key] = rng.choice(["0af7651916cd43dd8448eb211c80319c", "zz", 5])
        elif key == "contexts":
            out[key] = {"trace": {"trace_id": "0af7651916cd43dd8448eb211c80319c"}}
        elif key in ("name", "stack"):
            out[key] = rng.choice(["TypeError", "    at f (/app/a.js:1:2)", 7])
        elif key == "traceparent":
            out[key] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        else:
            out[key] = _details(rng, level + 1) if rng.random() < 0.3 else rng.choice(_VALUES[:15])
    return out


def _native(rng: random.Random) -> dict[str, Any]:
    event: dict[str, Any] = {"message" if rng.random() < 0.9 else "msg": _text(rng)}
    optional: list[tuple[str, Any]] = [
        ("category", rng.choice(["auth", " Payment ", "UI", "", "x" * 3000])),
        ("type" if rng.random() < 0.8 else "level", rng.choice(_LEVELS)),
        ("source", rng.choice(["server", "Client", " api ", ""])),
        ("userId" if rng.random() < 0.7 else "user_id", f"user_{rng.randint(0, 99)}"),
        ("sessionId" if rng.random() < 0.7 else "session_id", f"sess_{rng.randint(0, 99)}"),
        ("url", rng.choice(["http://localhost:3000/a", "http://h/p?token=abc", "http://u:pw@h/"])),
        ("userAgent" if rng.random() < 0.7 else "user_agent", "Mozilla/5.0"),
        ("timestamp" if rng.random() < 0.8 else "ts", rng.choice(_STAMPS)),
        ("showToUser" if rng.random() < 0.7 else "show_to_user", rng.choice([True, False])),
        ("userMessage" if rng.random() < 0.7 else "user_message", "Please try again."),
        ("resolved", rng.choice([True, False])),
        ("id", rng.choice(["evt-1", "", "i" * 129, f"u{rng.randint(0, 9999)}"])),
        ("details", _details(rng)),
    ]
    for name, value in optional:
        if rng.random() < 0.45:
            event[name] = value
    if rng.random() < 0.25:  # a wrong type, a null, a NUL or a huge value somewhere
        event[rng.choice([name for name, _ in optional] + ["message"])] = rng.choice(_VALUES)
    if rng.random() < 0.08:
        event[rng.choice(["extra", "pid", "hostname", "context"])] = rng.choice(_VALUES[:15])
    if rng.random() < 0.04:  # a field past the 8 KiB limit (or, in message and details, allowed)
        name = rng.choice(["message", "category", "url", "userId", "user_message", "details", "source"])
        event[name] = rng.choice(["x" * 9000, "é" * 3000, "\U0001f600" * 2100])
    return event


def _deep(rng: random.Random) -> bytes:
    depth = rng.choice([30, 31, 32, 33, 40, 300, 1100])
    return b'{"message":"deep","details":' + b"[" * depth + b"]" * depth + b"}"


def _encode(rng: random.Random, value: Any) -> bytes:
    style = rng.random()
    if style < 0.7:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    elif style < 0.85:
        text = json.dumps(value)  # spaces after separators, \\u escapes
    else:
        text = json.dumps(value, indent=None, separators=(" ,", " : "), ensure_ascii=rng.random() < 0.5)
    return text.encode("utf-8", "surrogatepass")


def _duplicate(rng: random.Random, line: bytes) -> bytes:
    """``line`` with a key written twice (top level or inside ``details``)."""
    if rng.random() < 0.5 and b'"details":{' in line:
        return line.replace(b'"details":{', b'"details":{"k1":1,"k1":2,', 1)
    return line[:1] + b'"message":"first",' + line[1:]


def wire_lines(seed: int, count: int) -> list[bytes]:
    """``count`` lines (no newlines inside) of the mix, the same for the same seed."""
    rng = random.Random(seed)
    lines: list[bytes] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.62:
            line = _encode(rng, _native(rng))
            if rng.random() < 0.06:
                line = _duplicate(rng, line)
        elif roll < 0.74:
            line = _encode(rng, dict(rng.choice(_DIALECTS)))
        elif roll < 0.8:
            line = _encode(rng, [_native(rng) for _ in range(rng.randint(0, 3))])
        elif roll < 0.84:
            line = _deep(rng)
        elif roll < 0.88:
            line = rng.choice(_ODD)
        else:
            line = rng.choice(_TEXT)
        lines.append(line.replace(b"\n", b"\\n"))
    return lines


def outcome(item: Item) -> str:
    """A canonical one-line text of one decoded item (every field of an event)."""
    if isinstance(item, Event):
        fields = [getattr(item, name) for name in Event.__slots__]
        return "event " + repr(fields)
    if isinstance(item, Rejection):
        return f"rejected {item.line} {item.index} {item.reason}"
    if isinstance(item, SyncRequest | AuthLine | HttpSighting):
        return repr(item)
    raise TypeError(type(item))


def digest(texts: list[str]) -> str:
    """A short stable digest of outcome texts (what the recorded figures hold)."""
    joined = "\n".join(texts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=8).hexdigest()
