"""Error-group keys: which error events are "the same error".

Two errors fall into one group when they share category, message shape (the message
with its volatile parts — numbers, hex ids, UUIDs, quoted values — replaced by
placeholders), and, when ``details`` carries a stack, exception type and top frame.
Pure functions, so the store, the tests and the UI agree on grouping.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`")
_HEX = re.compile(
    r"\b(?:0x)?[0-9a-fA-F]*\d[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b(?:0x)?[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\d[0-9a-fA-F]*\b"
)
_ID_WITH_DIGITS = re.compile(r"\b[A-Za-z]+_[A-Za-z0-9]*\d[A-Za-z0-9]*\b")
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*")
_SPACES = re.compile(r"\s+")

# Frame lines: Python tracebacks (innermost frame is the last) and V8/JS stacks
# (innermost frame is the first).
_PY_FRAME = re.compile(r'File "([^"]+)", line \d+, in (\S+)')
_JS_FRAME = re.compile(r"^\s*at (?:(\S+) \()?([^():\s]+?)(?::\d+)*\)?\s*$", re.MULTILINE)


def message_shape(message: str) -> str:
    """The message with volatile parts replaced, e.g. ``order 123 failed`` -> ``order # failed``."""
    shape = _UUID.sub("<uuid>", message[:2000])
    shape = _QUOTED.sub("<str>", shape)
    shape = _ID_WITH_DIGITS.sub("<id>", shape)
    shape = _HEX.sub("<hex>", shape)
    shape = _NUMBER.sub("#", shape)
    return _SPACES.sub(" ", shape).strip()


def exception_signature(details: object) -> str:
    """``type|top frame`` when ``details`` carries an exception or stack, else ``""``."""
    if not isinstance(details, dict):
        return ""
    exc: Any = details.get("exception")
    source: dict[str, Any] = exc if isinstance(exc, dict) else details
    exc_type = source.get("type") or source.get("name") or source.get("errorType") or ""
    stack = source.get("stack") or source.get("traceback") or ""
    if not isinstance(exc_type, str):
        exc_type = ""
    frame = top_frame(stack) if isinstance(stack, str) else ""
    if not exc_type and not frame:
        return ""
    return f"{exc_type}|{frame}"


def top_frame(stack: str) -> str:
    """The innermost frame of a Python or JavaScript stack as ``file:function``."""
    py = _PY_FRAME.findall(stack)
    if py:
        path, function = py[-1]
        return f"{path}:{function}"
    js = _JS_FRAME.search(stack)
    if js:
        function, path = js.group(1) or "<anonymous>", js.group(2)
        return f"{path}:{function}"
    return ""


def fingerprint_of(category: str, message: str, details: object) -> str:
    """The error-group key: a short stable hash of category, message shape and stack."""
    key = "\x1f".join((category, message_shape(message), exception_signature(details)))
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
