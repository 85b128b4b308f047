"""The fast decode paths against straightforward references, over many generated inputs.

Ingest takes shortcuts (a round-trip test instead of counting keys, C-level selection
of nested values, memoised names and stacks, a regex without a per-token callback);
each must decide exactly as the plain rule does, for good input and bad alike.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

import orjson
import pytest

from sidelog.event_details import TOO_DEEP, Secrets, depth, screened
from sidelog.events import EventError, parse_event
from sidelog.fingerprint import _hex_token, fingerprint_of, message_shape
from sidelog.ingest.strict_json import decode_json
from sidelog.redact import Redactor

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`")
_HEX = re.compile(r"\b(?:0[xX])?[0-9a-fA-F]+\b")
_ID = re.compile(r"\b[A-Za-z]+_[A-Za-z0-9]*\d[A-Za-z0-9]*\b")
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*")


def reference_shape(message: str) -> str:
    shape = _UUID.sub("<uuid>", message[:2000])
    shape = _QUOTED.sub("<str>", shape)
    shape = _ID.sub("<id>", shape)
    shape = _HEX.sub(_hex_token, shape)
    shape = _NUMBER.sub("#", shape)
    return re.sub(r"\s+", " ", shape).strip()


_PIECES = [
    "a", "f", "face", "x", "0x", "0X1f", "12", "3.5", "1,000", "-", "+", "_", "req_", "ab12", "12ab",
    "deadbeef", " ", "  ", "\t", "\n", "\u00a0", "\u2028", "\x1c", '"', "'", "`", "٣", "é", "Z9",
    "ed9bf0b6-d359-4872-8daf-f8e477d8c569", "g", ":", "/", "evt_0a1b",
]  # fmt: skip


def test_message_shape_matches_the_plain_rules() -> None:
    rng = random.Random(11)
    for _ in range(8_000):
        message = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 14)))
        assert message_shape(message) == reference_shape(message), repr(message)


def test_str_split_whitespace_is_the_regex_whitespace() -> None:
    """``message_shape`` collapses whitespace with ``str.split``; the rule says ``\\s+``."""
    every = "".join(map(chr, range(0x110000))).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    assert {c for c in every if c.isspace()} == set(re.findall(r"\s", every))


def test_fingerprint_is_the_same_with_its_memos_warm() -> None:
    details = {"exception": {"type": "KeyError", "stack": 'File "/app/a.py", line 3, in run\n'}}
    cold = fingerprint_of("api", "Order 12 failed", details)
    assert fingerprint_of("api", "Order 12 failed", details) == cold
    assert fingerprint_of("api", "Order 99 failed", details) == cold
    assert fingerprint_of("ui", "Order 12 failed", details) != cold


def test_fingerprints_through_the_memos_equal_the_plain_hash() -> None:
    """The shape memo is keyed by the message with its digits 1-9 as ``1``: whatever the
    digits, the memo's answer is the hash of the message's own shape, memo warm or cold."""
    rng = random.Random(13)
    digits = "0123456789"
    for _ in range(6_000):
        parts = [rng.choice(_PIECES) for _ in range(rng.randint(0, 10))]
        template = "".join(
            part if rng.random() < 0.7 else rng.choice(digits) * rng.randint(1, 3) for part in parts
        )
        for message in (template, "".join(rng.choice(digits) if c.isdigit() else c for c in template)):
            category = rng.choice(["api", "ui"])
            key = "\x1f".join((category, reference_shape(message), ""))
            plain = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
            assert fingerprint_of(category, message, None) == plain, repr(message)


def _reference_duplicate(raw: bytes) -> str | None:
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen and not found:
                found.append(key)
            seen.add(key)
        return dict(pairs)

    json.loads(raw, object_pairs_hook=hook)
    return found[0] if found else None


def _random_json(rng: random.Random, level: int = 0) -> str:
    """JSON text with random spacing, escapes and (sometimes) repeated keys."""
    roll = rng.random()
    if level > 3 or roll < 0.4:
        return rng.choice(["1", "-2.5", "true", "null", '"x"', '"a\\":b"', '"\\u00e9"', '"é"', "1e3"])
    space = rng.choice(["", " ", "\n", "\t"])
    if roll < 0.6:
        return "[" + f",{space}".join(_random_json(rng, level + 1) for _ in range(rng.randint(0, 3))) + "]"
    keys = [rng.choice("abcd") for _ in range(rng.randint(0, 4))]
    colon = rng.choice([":", ":", " :", ": "])
    return "{" + ",".join(f'"{key}"{colon}{_random_json(rng, level + 1)}' for key in keys) + "}"


def test_duplicate_keys_are_found_exactly_as_by_the_plain_parser() -> None:
    rng = random.Random(5)
    for _ in range(3_000):
        raw = _random_json(rng).encode()
        expected = _reference_duplicate(raw)
        if expected is None:
            assert decode_json(raw) == json.loads(raw), raw
        else:
            with pytest.raises(EventError, match="duplicate key"):
                decode_json(raw)


def test_compact_documents_round_trip_and_nesting_past_the_writer_limit_still_decodes() -> None:
    deep = b"[" * 300 + b"]" * 300  # orjson reads 1024 levels but writes only 254
    assert decode_json(deep) is not None
    with pytest.raises(EventError, match="duplicate key 'a'"):
        decode_json(b"[" * 300 + b'{"a":1,"a":2}' + b"]" * 300)


def _reference_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_reference_depth(child) for child in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_reference_depth(child) for child in value), default=0)
    return 0


def _reference_secret(value: object, redactor: Redactor) -> bool:
    if isinstance(value, dict):
        return any(redactor.is_secret(key) for key in value) or any(
            _reference_secret(child, redactor) for child in value.values()
        )
    if isinstance(value, list):
        return any(_reference_secret(child, redactor) for child in value)
    return False


def _random_value(rng: random.Random, level: int = 0) -> object:
    roll = rng.random()
    if level > 6 or roll < 0.35:
        return rng.choice([1, "x", None, True, 2.5])
    if roll < 0.6:
        return [_random_value(rng, level + 1) for _ in range(rng.randint(0, 3))]
    names = ["note", "region", "password", "api_key", "tokens_used", "sessionId", "x"]
    return {rng.choice(names): _random_value(rng, level + 1) for _ in range(rng.randint(0, 4))}


def test_depth_and_secret_walk_match_the_plain_recursion() -> None:
    rng = random.Random(3)
    redactor = Redactor()
    for _ in range(1_500):
        value = _random_value(rng)
        secrets = Secrets(redactor)
        full = depth(value, 64, secrets)
        assert full == _reference_depth(value)
        assert secrets.found == _reference_secret(value, redactor), value
        assert (depth(value, 2) > 2) == (_reference_depth(value) > 2)
        for limit in (0, 1, 2, 64):
            for _ in range(2):  # the second time every name is known
                result = screened(value, limit, redactor)
                if _reference_depth(value) > limit:
                    assert result is TOO_DEEP
                elif secrets.found:
                    assert result == redactor.value(value)
                else:
                    assert result is value
            assert screened(value, limit, None) is (TOO_DEEP if _reference_depth(value) > limit else value)


_TEXT_VALUES: list[object] = [None, "ok", "", "a\x00b", 7, "é" * 3000, "x" * 9000, ["l"]]
_TEXT_FIELDS = [("url", None), ("userId", "user_id"), ("sessionId", "session_id")]
_TEXT_FIELDS += [("userAgent", "user_agent"), ("userMessage", "user_message")]


def _reference_fault(wire: dict[str, Any]) -> str | None:
    """The first optional text field at fault, in the order validation checks them."""
    for name, alias in _TEXT_FIELDS:
        value, shown = wire.get(name), name
        if value is None and alias is not None and wire.get(alias) is not None:
            value, shown = wire[alias], alias
        if value is None:
            continue
        if not isinstance(value, str):
            return f"{shown} must be a string"
        if len(value.encode()) > 8 * 1024:
            return f"{shown} is longer than"
        if "\x00" in value:
            return f"{shown} must not contain a NUL"
    return None


def _pick(wire: dict[str, Any], name: str, alias: str) -> Any:
    value = wire.get(name)
    return wire.get(alias) if value is None else value


def test_optional_text_fields_fail_in_order_naming_the_field() -> None:
    rng = random.Random(9)
    for _ in range(3_000):
        wire: dict[str, Any] = {"message": "m"}
        for name, alias in _TEXT_FIELDS:
            if rng.random() < 0.5:
                wire[alias if alias and rng.random() < 0.3 else name] = rng.choice(_TEXT_VALUES)
        expected = _reference_fault(wire)
        line = orjson.dumps(wire)
        if expected is None:
            event = parse_event(decode_json(line), default_source="server", received_at=1)
            assert event.user_id == _pick(wire, "userId", "user_id")
            assert event.session_id == _pick(wire, "sessionId", "session_id")
            assert event.user_agent == _pick(wire, "userAgent", "user_agent")
            assert event.user_message == _pick(wire, "userMessage", "user_message")
            assert event.url == wire.get("url")
        else:
            with pytest.raises(EventError) as caught:
                parse_event(decode_json(line), default_source="server", received_at=1)
            assert str(caught.value).startswith(expected), (wire, str(caught.value))
