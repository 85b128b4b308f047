"""Strict JSON decoding for ingest: what orjson refuses, plus duplicate keys, with
a lone surrogate costing only the array element that carries it.

Split from ``protocol.py`` (which frames lines and re-exports ``decode_json``) so
each stays small; the HTTP API decodes bodies with the same function.

Why orjson and a round trip rather than a typed decoder (msgspec into a struct that
keeps ``details`` as raw bytes): the typed decode is cheaper only until it proves what
this path proves. A struct keeps the last of two equal keys silently, so proving there
were none costs writing the struct back; the raw ``details`` must still be read for
its depth, secret names, trace id and error signature; and the Python that builds the
``Event`` is the same. Over ``LineDecoder.feed`` on the benchmark mix, such a fast
path (a second validator beside ``events.py``) took 0.88-0.89 of the time of the
plain path; this path's own shortcuts take it to 0.90-0.95 with one validator and no
new dependency.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from sidelog.events import EventError, InvalidValue


def decode_json(raw: bytes) -> Any:
    """Strictly decode one JSON document, or raise ``EventError`` with the reason.

    orjson already refuses invalid UTF-8, lone surrogates, NaN/Infinity, numbers
    that overflow a double and nesting past 1024 levels. Duplicate object keys are
    the one thing it accepts silently, so they are checked here (see
    ``_duplicate_key``). An escaped lone surrogate (``"\\ud800"``, which
    ``JSON.stringify`` emits for a cut emoji) must not cost the whole line: the
    document is decoded again leniently and only the array elements carrying one
    become ``InvalidValue`` (rejected by ``parse_event`` naming the field).
    """
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = f"invalid JSON: {_orjson_reason(exc)}"
        if "surrogate" in str(exc):
            return _decode_with_lone_surrogates(raw, reason)
        raise EventError(reason) from None
    kind = type(doc)  # orjson builds exact dicts and lists
    if kind is dict or kind is list:
        # When orjson writes the document back as exactly ``raw``, no key can have been
        # lost (its output holds each key once): compact senders (orjson,
        # ``JSON.stringify``, the Python client) pass this C-level test, inline here
        # because it decides almost every line; anything else takes the count.
        try:
            if orjson.dumps(doc) == raw:
                return doc
        except orjson.JSONEncodeError:  # nesting past orjson's write limit: count instead
            pass
        duplicate = _duplicate_key(doc, raw)
        if duplicate is not None:
            raise EventError(f"invalid JSON: duplicate key {duplicate!r}")
    return doc


def _orjson_reason(exc: orjson.JSONDecodeError) -> str:
    reason = str(exc.msg) if getattr(exc, "msg", None) else str(exc)
    if "depth limit" in reason or "recursion" in reason:
        return "nested too deeply"
    return f"{reason} (at byte {exc.pos})"


def _count_keys(doc: Any) -> int:
    """Keys in every object of ``doc`` (recursive; exact type tests, it runs per line)."""
    if type(doc) is dict:
        count = len(doc)
        children: Any = doc.values()
    else:
        count = 0
        children = doc
    for child in children:
        kind = type(child)
        if kind is dict or kind is list:
            count += _count_keys(child)
    return count


_SPACED_COLON = re.compile(rb'"[ \t\r\n]+:')


def _duplicate_key(doc: Any, raw: bytes) -> str | None:
    """Exact duplicate-key detection for a document that is not orjson's own writing
    (``decode_json`` tries that first); returns a duplicated key.

    Every key token written without whitespace before its colon ends with ``":``,
    and ``":`` inside strings only adds to the count, so when no key has whitespace
    before its colon the raw count of ``":`` is at least the number of key tokens.
    If the decoded objects hold exactly that many keys, no key was lost to a
    duplicate (JSON.stringify, json.dumps and orjson all write keys that way).
    Otherwise the slow, exact check decides.
    """
    try:
        keys = _count_keys(doc)
    except RecursionError:  # orjson allows 1024 levels, Python recursion fewer
        keys = -1
    if keys == raw.count(b'":') and not _SPACED_COLON.search(raw):
        return None
    try:
        json.loads(raw, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey as exc:
        return exc.key
    except (ValueError, RecursionError):
        return None
    return None


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_int(text: str) -> int | float:
    # orjson's rules: 64-bit integers stay integers, larger ones become doubles.
    value = int(text)
    if -(2**63) <= value < 2**64:
        return value
    return _parse_float(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number is infinity when parsed as double")
    return value


def _decode_with_lone_surrogates(raw: bytes, reason: str) -> Any:
    """Decode a document orjson refused only for a lone surrogate (same strictness
    otherwise), rejecting just the event(s) that carry one."""
    try:
        doc = json.loads(
            raw.decode("utf-8"),  # strictly: json.loads(bytes) would let UTF-8 surrogates pass
            object_pairs_hook=_refuse_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except _DuplicateKey as exc:
        raise EventError(f"invalid JSON: duplicate key {exc.key!r}") from None
    except (ValueError, RecursionError):
        raise EventError(reason) from None
    if isinstance(doc, list):
        return [_surrogate_free(element) for element in doc]
    bad = _surrogate_field(doc)
    if bad is not None:
        raise EventError(bad)
    return doc


def _surrogate_free(element: Any) -> Any:
    bad = _surrogate_field(element)
    return element if bad is None else InvalidValue(bad)


def _surrogate_field(value: Any) -> str | None:
    """A reason naming the top-level field that holds a lone surrogate, or ``None``."""
    fields = value.items() if isinstance(value, dict) else [(None, value)]
    for key, item in fields:
        if key is not None and _SURROGATE.search(key):
            return f"field name {key!r} contains a lone surrogate (not valid Unicode)"
        stack = [item]
        while stack:
            current = stack.pop()
            if isinstance(current, str):
                if _SURROGATE.search(current):
                    where = "the event" if key is None else key
                    return f"{where} contains a lone surrogate (not valid Unicode)"
            elif isinstance(current, dict):
                stack.extend(current.keys())
                stack.extend(current.values())
            elif isinstance(current, list):
                stack.extend(current)
    return None
