"""Exceptions, whatever shape a logger writes them in, as ``{type, message, stack}``.

That is the shape sidelog's Python client puts in ``details.exception`` (see
``clients/python/src/sidelog_client/capture.py``), and the one ``sidelog.fingerprint``
groups errors by (exception type and top frame). Loggers write exceptions as objects
(pino's ``err``, bunyan's, ECS ``error.*``), as stack text (Python tracebacks, V8,
Java, .NET, Go panics) or as frame lists (structlog's ``dict_tracebacks``); all of them
are read here, with bounded, linear work on hostile input.
"""

from __future__ import annotations

import re
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_PY_HEAD = "Traceback (most recent call last):"
_PY_EXCEPTION = re.compile(r"([A-Za-z_][\w.]*)(?:: (.*))?")
_PY_CHAIN = ("During handling of the above exception", "The above exception was the direct cause")
# The header of a V8, Java or .NET stack: "TypeError: x", "TypeError [ERR_X]: x",
# 'Exception in thread "main" java.lang.IllegalStateException: x',
# "Unhandled exception. System.InvalidOperationException: x".
_HEADER = re.compile(
    r'(?:Exception in thread "[^"\n]*" |Uncaught |Unhandled exception\. |Unhandled Exception: )?'
    r"([A-Za-z_$][\w$.]*)(?: \[[\w-]+\])?(?:: (.*))?"
)
_GO_PANIC = re.compile(r"(panic|fatal error): (.*)")
MAX_SCAN_LINES = 2000
"""Lines of a stack looked at when searching for its header or exception line."""

Exception_ = dict[str, Any]


def strip_ansi(text: str) -> str:
    """``text`` without terminal escape sequences (colours, cursor moves, titles)."""
    return _ANSI.sub("", text) if "\x1b" in text else text


def parse_exception(text: str) -> Exception_ | None:
    """``{type, message, stack}`` from stack text of any language, or ``None``.

    Python (the last exception of a chain is the one raised), V8/Java/.NET (the
    header line before the first ``at`` frame) and Go (``panic:`` / ``fatal error:``).
    """
    text = strip_ansi(text)
    lines = text.split("\n", MAX_SCAN_LINES)[:MAX_SCAN_LINES]
    if _PY_HEAD in text:
        return _python(text, lines)
    for index, line in enumerate(lines):
        panic = _GO_PANIC.fullmatch(line.rstrip())
        if panic is not None:
            message = panic.group(2).removesuffix(" [recovered]")
            return {"type": panic.group(1), "message": message, "stack": "\n".join(lines[index:]).rstrip()}
    for index in range(len(lines) - 1):
        following = lines[index + 1]
        if following[:1] in (" ", "\t") and following.lstrip().startswith("at "):
            header = lines[index].strip()
            match = _HEADER.fullmatch(header)
            if match is None:
                return {"type": "", "message": header, "stack": "\n".join(lines[index:]).rstrip()}
            exc_type, message = match.group(1), match.group(2)
            if message is None:
                exc_type, message = (exc_type, "") if _looks_like_type(exc_type) else ("", exc_type)
            return {"type": exc_type, "message": message, "stack": "\n".join(lines[index:]).rstrip()}
    return None


def _python(text: str, lines: list[str]) -> Exception_:
    start = next(i for i, line in enumerate(lines) if _PY_HEAD in line)
    exc_type = message = ""
    for line in lines[start + 1 :]:
        candidate = line.rstrip()
        if not candidate or candidate[0] in " \t>" or candidate.startswith(_PY_CHAIN):
            continue
        if candidate.startswith(_PY_HEAD):
            exc_type = message = ""
            continue
        match = _PY_EXCEPTION.fullmatch(candidate)
        if match is not None and not exc_type:
            exc_type, message = match.group(1), match.group(2) or ""
    stack = text[text.index(_PY_HEAD) :].rstrip()
    return {"type": exc_type, "message": message, "stack": stack}


def _looks_like_type(name: str) -> bool:
    return name.endswith(("Error", "Exception", "Throwable", "Panic")) or "." in name


_TYPE_KEYS = ("type", "name", "exc_type", "errorType", "error_type", "class", "kind")
_MESSAGE_KEYS = ("message", "msg", "exc_value", "value", "reason", "error")
_STACK_KEYS = ("stack", "stack_trace", "stacktrace", "traceback", "backtrace", "trace", "frames")


def exception_from(value: object, type_hint: str = "") -> Exception_ | None:
    """``{type, message, stack}`` (plus any other scalar fields of the error object).

    ``value`` may be an error object, stack text, a one-line error message (Go's
    ``error`` field: ``type_hint`` then names it) or structlog's frame list.
    """
    if isinstance(value, str):
        if not value.strip():
            return None
        parsed = parse_exception(value)
        if parsed is not None:
            return parsed
        first, _, rest = strip_ansi(value).strip().partition("\n")
        return {"type": type_hint, "message": first, "stack": value if rest else ""}
    if isinstance(value, list):
        return _structlog_frames(value)
    if not isinstance(value, dict):
        return None
    exc_type = _first_text(value, _TYPE_KEYS)
    message = _first_text(value, _MESSAGE_KEYS)
    stack_value = next((value[key] for key in _STACK_KEYS if value.get(key)), None)
    stack = ""
    if isinstance(stack_value, str):
        stack = stack_value
    elif isinstance(stack_value, list):
        rendered = _structlog_frames([{"exc_type": exc_type, "exc_value": message, "frames": stack_value}])
        stack = rendered["stack"] if rendered else ""
    if stack and not (exc_type and message):
        parsed = parse_exception(stack)
        if parsed is not None:
            exc_type = exc_type or parsed["type"]
            message = message or parsed["message"]
    if not (exc_type or message or stack):
        return None
    result: Exception_ = {"type": exc_type or type_hint, "message": message, "stack": stack}
    used = {*_TYPE_KEYS, *_MESSAGE_KEYS, *_STACK_KEYS}
    for key, item in value.items():
        if key not in used and key not in result and isinstance(item, str | int | float | bool):
            result[key] = item
    return result


def _first_text(value: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        item = value.get(key)
        if isinstance(item, str) and item:
            return item
    return ""


def _structlog_frames(stacks: list[Any]) -> Exception_ | None:
    """structlog's ``dict_tracebacks`` (raised exception first, then its causes) as a
    Python traceback in the interpreter's order (causes first), locals left out."""
    chain = [item for item in stacks[:20] if isinstance(item, dict)]
    if not chain:
        return None
    parts: list[str] = []
    for position, item in enumerate(reversed(chain)):
        if position:
            previous = chain[len(chain) - position]
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
                if previous.get("is_cause")
                else "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        parts.append(_PY_HEAD + "\n")
        frames = item.get("frames")
        for frame in frames[:200] if isinstance(frames, list) else []:
            if isinstance(frame, dict):
                path = frame.get("filename") or frame.get("file") or frame.get("source") or "?"
                line = frame.get("lineno") or frame.get("line") or 0
                name = frame.get("name") or frame.get("func") or frame.get("function") or "?"
                parts.append(f'  File "{path}", line {line}, in {name}\n')
        exc_type, exc_value = item.get("exc_type") or "", item.get("exc_value") or ""
        parts.append(f"{exc_type}: {exc_value}\n" if exc_value else f"{exc_type}\n")
    first = chain[0]
    return {
        "type": str(first.get("exc_type") or ""),
        "message": str(first.get("exc_value") or ""),
        "stack": "".join(parts).rstrip(),
    }
