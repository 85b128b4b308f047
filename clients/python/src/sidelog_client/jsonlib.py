"""The JSON library the client writes and reads with: orjson if installed, else ``json``.

orjson is used when installed (the ``fast`` extra, and always with the full sidelog
tool); otherwise the standard library's ``json``, made to produce the same JSON
values: dates, times, UUIDs, enums and dataclasses as orjson writes them, NaN and
infinities as ``null``, non-string keys as orjson's ``OPT_NON_STR_KEYS`` spells
them (``tests/client/test_encode_backends.py`` compares the two). They differ only
at the edges: ``json`` keeps integers wider than 64 bits and nesting deeper than
orjson's 254 levels, where orjson refuses the value. Imported by the sender thread
(through ``encode.py``), never by ``import sidelog_client``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

from sidelog_client.capture import ExceptionInfo, safe_str

_MISSING = object()


def default(value: Any) -> Any:
    """The encoders' ``default``: anything neither JSON library encodes natively."""
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, ExceptionInfo):
        return value.to_wire()
    if isinstance(value, BaseException):
        return (
            ExceptionInfo.capture(value).to_wire()
            if value.__traceback__
            else f"{type(value).__name__}: {safe_str(value)}"
        )
    return safe_str(value)


def json_default(value: Any) -> Any:
    """``default`` for ``json``: orjson's native types first, then ``default``.

    Any exception becomes a ``TypeError``, as orjson reports a failing ``default``.
    """
    try:
        native = _orjson_native(value)
        return default(value) if native is _MISSING else native
    except Exception as exc:
        raise TypeError(f"Type is not JSON serializable: {type(value).__name__}") from exc


def _json_dumps_function() -> Callable[[Any], bytes]:
    """``json`` set up to write what orjson would: compact UTF-8, a newline, no NaN.

    ``JSONEncoder.encode`` builds a new C encoder on every call; reusing one built
    once (``json.encoder.c_make_encoder``, what ``encode`` itself calls) makes a
    typical event about a third cheaper. It has no cycle check (``markers=None``): a
    cycle ends in ``RecursionError``, which the caller handles. If this interpreter's
    C encoder is missing or behaves differently, the public ``encode`` is used.
    """
    import json.encoder

    encode = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=json_default
    ).encode

    def public(obj: Any) -> bytes:
        return (encode(obj) + "\n").encode("utf-8")

    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return public
    try:
        chunks = make(None, json_default, json.encoder.encode_basestring, None, ":", ",", False, False, False)
        if "".join(chunks({"a": [1, None, "é"]}, 0)) != '{"a":[1,null,"é"]}':
            return public
    except Exception:  # a different signature in some other Python
        return public

    def reused(obj: Any) -> bytes:
        return ("".join(chunks(obj, 0)) + "\n").encode("utf-8")

    return reused


def _orjson_native(value: Any) -> Any:
    """What orjson writes for the types it encodes natively and ``json`` does not (else ``_MISSING``).

    Looked up in ``sys.modules``: a value of a type whose module was never imported
    cannot exist, so nothing is imported here.
    """
    modules = sys.modules
    dt = modules.get("datetime")
    if dt is not None and isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    enum = modules.get("enum")
    if enum is not None and isinstance(value, enum.Enum):
        return value.value
    uuid = modules.get("uuid")
    if uuid is not None and isinstance(value, uuid.UUID):
        return str(value)
    dataclasses = modules.get("dataclasses")
    if dataclasses is not None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    return _MISSING


def as_orjson_sees_it(value: Any, depth: int = 0) -> Any:
    """``value`` rebuilt from JSON types only, with orjson's rules, for ``json`` to encode.

    NaN and infinities become ``None``; keys orjson's ``OPT_NON_STR_KEYS`` accepts become
    its strings; other keys raise ``TypeError`` as in orjson, as does nesting past its limit.
    """
    if depth > 254:
        raise TypeError("Recursion limit reached")
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_key(key): as_orjson_sees_it(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_orjson_sees_it(item, depth + 1) for item in value]
    if isinstance(value, (str, int)):
        return value
    return as_orjson_sees_it(json_default(value), depth + 1)


def _key(key: Any) -> Any:
    """A dict key as orjson's ``OPT_NON_STR_KEYS`` writes it (``json`` spells these the same)."""
    if isinstance(key, (str, int, float)) or key is None:
        return key
    native = _orjson_native(key)
    if native is _MISSING or not isinstance(native, (str, int, float)):
        raise TypeError("Dict key must be a type serializable with OPT_NON_STR_KEYS")
    return native


# ------------------------------------------------------------------ which library

dumps: Callable[[Any], bytes]
"""One JSON value as compact UTF-8 plus a newline (one wire line)."""
loads: Callable[[bytes], Any]
"""Parse one JSON value (a reply line from sidelog)."""
ENCODE_ERRORS: tuple[type[BaseException], ...]
"""What ``dumps`` raises for a value it cannot encode."""
ORJSON_DUMPS: Callable[..., bytes] | None = None
"""``orjson.dumps`` when it is installed, called with ``ORJSON_OPTIONS``."""
ORJSON_OPTIONS = 0

BACKEND: str
"""Which JSON library encodes: ``"orjson"`` or ``"json"``."""

try:
    import orjson
except ImportError:  # the optional ``fast`` extra is not installed
    import json

    BACKEND = "json"
    dumps = _json_dumps_function()
    loads = json.loads
    # ValueError: NaN (allow_nan=False), a circular reference, or a lone surrogate (UnicodeEncodeError);
    # RecursionError: nesting deeper than the interpreter's limit.
    ENCODE_ERRORS = (TypeError, ValueError, RecursionError)
else:
    BACKEND = "orjson"
    ORJSON_DUMPS = orjson.dumps
    ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE

    def _orjson_dumps(obj: Any) -> bytes:
        return orjson.dumps(obj, default=default, option=ORJSON_OPTIONS)

    dumps = _orjson_dumps
    loads = orjson.loads
    ENCODE_ERRORS = (TypeError,)  # orjson.JSONEncodeError is a TypeError
