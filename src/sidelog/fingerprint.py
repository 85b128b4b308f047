"""Error-group keys: which error events are "the same error".

Two errors fall into one group when they share category, message shape (the message
with its volatile parts — numbers, hex ids, UUIDs, quoted values — replaced by
placeholders), and, when ``details`` carries a stack, exception type and top frame
(Python, JavaScript, Java, .NET and Go stacks, as the dialects in ``sidelog.dialects``
put them in ``details.exception``). Pure functions, so the store, the tests and the
UI agree on grouping.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`")
# Hex-looking tokens: ``0x…``, or a whole run of hex characters (between word
# boundaries) holding a digit and a letter; pure numbers are handled next, pure-letter
# words such as ``face`` are words. The two look-aheads only scan the run that starts
# where a word starts, so the pass stays linear on long runs, and no Python callback
# runs per token (``_hex_token`` states the same rule per token, for readers and tests).
_HEX_ID = re.compile(r"\b(?:0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]+)\b")
_HEX_HINT = re.compile(r"[0-9][a-fA-F]|[a-fA-F][0-9]|0[xX]")
_ID_WITH_DIGITS = re.compile(r"\b[A-Za-z]+_[A-Za-z0-9]*\d[A-Za-z0-9]*\b")
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*")
_MEMO_SIZE = 1024
"""Most stacks whose top frame is remembered (apps throw from a few hundred places)."""
_MEMO_CHARS = 4096
"""Longest stack remembered: so the memo holds at most 4 MiB of stack text."""
_MEMO_MESSAGE_CHARS = 256
"""Longest message whose shape is remembered (``fingerprint_of``)."""
_frames: dict[str, str] = {}
_shapes: dict[bytes, str] = {}
_finished: dict[bytes, str] = {}
"""The last rules' result per skeleton of a message with its varying tokens replaced."""
_fingerprints: dict[str, str] = {}
"""Fingerprint per hashed key (category, shape, signature): a group's errors repeat it."""
_SIGNATURE_KEYS = frozenset(("exception", "type", "name", "errorType", "stack", "traceback"))
"""The only ``details`` keys ``exception_signature`` reads."""
_DIGITS_AS_ONE = bytes.maketrans(b"23456789", b"11111111")
_VARYING_TEXT = re.compile(r"<(?:uuid|str|id|hex)>")
"""The placeholders that stand for text whose letters vary, not just its digits."""

# Frame lines: Python tracebacks (innermost frame is the last) and V8/JS stacks
# (innermost frame is the first).
_PY_FRAME = re.compile(r'File "([^"]+)", line \d+, in (\S+)')
# JS frame lines are split by hand (``_js_frame``): a location may be a URL with a
# scheme and port, and a regex that finds the trailing ``:line:column`` by
# backtracking is quadratic on hostile stacks.
_JS_AT = re.compile(r"^[ \t]*at (.*)$", re.MULTILINE)
_SCAN_CHARS = 64 * 1024
"""How much of a stack is searched for its frames (the top frame is near the start)."""


def _hex_token(match: re.Match[str]) -> str:
    """``<hex>`` for ``0x…`` or a token mixing digits and a-f letters; others unchanged
    (pure numbers are handled next, pure-letter words such as ``face`` are words)."""
    token = match.group(0)
    if token[:2] in ("0x", "0X"):
        return "<hex>"
    has_digit = has_letter = False
    for char in token:
        if char.isdigit():
            has_digit = True
        else:
            has_letter = True
        if has_digit and has_letter:
            return "<hex>"
    return token


def message_shape(message: str) -> str:
    """The message with volatile parts replaced, e.g. ``order 123 failed`` -> ``order # failed``."""
    return _numbers_replaced(_tokens_replaced(message[:2000]))


def _tokens_replaced(shape: str) -> str:
    """The first rules: UUIDs, quoted values, ids and hex tokens (whose letters vary)."""
    # Each rule needs a character most messages lack; testing for it is far cheaper
    # than a regex pass that finds nothing.
    if "-" in shape:
        shape = _UUID.sub("<uuid>", shape)
    if '"' in shape or "'" in shape or "`" in shape:
        shape = _QUOTED.sub("<str>", shape)
    if "_" in shape:
        shape = _ID_WITH_DIGITS.sub("<id>", shape)
    if _HEX_HINT.search(shape):  # a mixed hex token has a digit next to a letter a-f somewhere
        shape = _HEX_ID.sub("<hex>", shape)
    return shape


def _numbers_replaced(shape: str) -> str:
    """The last rules: numbers, then runs of whitespace as one space (``str.split``'s
    whitespace is the regex ``\\s``). Digits 1-9 are alike to both."""
    return " ".join(_NUMBER.sub("#", shape).split())


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
    frame = _top_frame_memo(stack) if isinstance(stack, str) else ""
    if not exc_type and not frame:
        return ""
    return f"{exc_type}|{frame}"


def _top_frame_memo(stack: str) -> str:
    """``top_frame``, remembered per stack text (bounded): an app's errors repeat the
    same few stacks, and finding the frame is most of an error's fingerprint cost."""
    frame = _frames.get(stack)
    if frame is None:
        frame = top_frame(stack)
        if len(stack) <= _MEMO_CHARS:  # long stacks are rare: not worth the memory
            if len(_frames) >= _MEMO_SIZE:
                _frames.clear()
            _frames[stack] = frame
    return frame


def top_frame(stack: str) -> str:
    """The innermost frame of a Python, JavaScript, Java, .NET or Go stack as ``file:function``."""
    py = _PY_FRAME.findall(stack)
    if py:
        path, function = py[-1]
        return f"{path}:{function}"
    for match in _JS_AT.finditer(stack):
        frame = _js_frame(match.group(1).strip())
        if frame:
            return frame
    for match in _JS_AT.finditer(stack, 0, _SCAN_CHARS):
        frame = _jvm_frame(match.group(1).strip())
        if frame:
            return frame
    return _go_frame(stack)


def _jvm_frame(rest: str) -> str:
    """``file:method`` from Java's ``pkg.Class.method(File.java:12)`` or .NET's
    ``Ns.Class.Method(args) in /path/File.cs:line 12``; ``""`` without a location."""
    if " in " in rest:
        name, _, location = rest.partition(" in ")
        path = location.rpartition(":line ")[0] if ":line " in location else location
        return f"{path.strip()}:{name.partition('(')[0]}" if path.strip() else ""
    if not rest.endswith(")") or "(" not in rest:
        return ""
    name, _, location = rest[:-1].partition("(")
    path, _, line = location.rpartition(":")
    return f"{path}:{name}" if path and line.isdigit() else ""


def _go_frame(stack: str) -> str:
    """``file:function`` of the first frame of a Go stack (a panic's goroutine dump or
    zap's ``stacktrace``: a function line, then a tab and ``file:line``) that is not
    the runtime's own panic machinery."""
    lines = stack[:_SCAN_CHARS].split("\n")
    for function, location in zip(lines, lines[1:], strict=False):
        if not location.startswith("\t") or function[:1] in ("", " ", "\t"):
            continue
        if function.startswith(("panic(", "runtime.", "goroutine ")):
            continue
        path = location.strip().partition(" ")[0].rpartition(":")[0]
        if path:
            name = function.rpartition("(")[0] if function.endswith(")") else function
            return f"{path}:{name.strip()}"
    return ""


def _js_frame(rest: str) -> str:
    """``location:function`` from ``fn (location:line:col)`` or ``location:line:col``;
    ``""`` for frames without a line number (``<anonymous>``, ``native``)."""
    function = "<anonymous>"
    if rest.endswith(")") and " (" in rest:
        name, _, rest = rest[:-1].partition(" (")
        for prefix in ("async ", "new "):
            name = name.removeprefix(prefix)
        function = name or function
    parts = rest.split(":")
    cut = 0
    while len(parts) > 1 and parts[-1].isdigit() and cut < 2:
        parts.pop()
        cut += 1
    return f"{':'.join(parts)}:{function}" if cut else ""


def _shape_of_new(message: str) -> str:
    """``message_shape`` for a message whose skeleton is not remembered. Once its varying
    tokens are replaced, what is left (``order <id> failed with status 404``) comes again
    with other numbers: the last rules' result is remembered by that text's skeleton."""
    partial = _tokens_replaced(message[:2000])
    skeleton = partial.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ONE)
    shape = _finished.get(skeleton)
    if shape is None:
        shape = _numbers_replaced(partial)
        if len(_finished) >= _MEMO_SIZE:
            _finished.clear()
        _finished[skeleton] = shape
    return shape


def fingerprint_of(category: str, message: str, details: object) -> str:
    """The error-group key: a short stable hash of category, message shape and stack."""
    if len(message) <= _MEMO_MESSAGE_CHARS:
        # Remembered by the message with its digits 1-9 as 1 (as UTF-8: bytes.translate is
        # ten times faster than str.translate): the shape cannot tell them apart, since
        # ``message_shape`` replaces every digit run and reads only the ``0`` of ``0x`` as
        # itself. So ``status 404`` and ``status 503`` are one entry: an app's errors repeat
        # with other numbers far more often than word for word.
        skeleton = message.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ONE)
        shape = _shapes.get(skeleton)
        if shape is None:
            shape = _shape_of_new(message)
            # A shape with a replaced id, hex or quoted value came from a message whose
            # letters vary too: its skeleton will not come again, so it is not kept (it
            # would only push out the ones that do).
            if "<" not in shape or not _VARYING_TEXT.search(shape):
                if len(_shapes) >= _MEMO_SIZE:
                    _shapes.clear()
                _shapes[skeleton] = shape
    else:
        shape = message_shape(message)
    # ``exception_signature`` reads only these keys: a ``details`` without them has none.
    if details is None or (type(details) is dict and _SIGNATURE_KEYS.isdisjoint(details)):
        key = f"{category}\x1f{shape}\x1f"
    else:
        key = "\x1f".join((category, shape, exception_signature(details)))
    fingerprint = _fingerprints.get(key)
    if fingerprint is None:
        fingerprint = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
        if len(key) <= _MEMO_CHARS:
            if len(_fingerprints) >= _MEMO_SIZE:
                _fingerprints.clear()
            _fingerprints[key] = fingerprint
    return fingerprint
