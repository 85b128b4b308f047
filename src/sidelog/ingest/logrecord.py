"""A Python ``logging.LogRecord`` as ``logging.handlers.HTTPHandler`` sends it → a native event.

The standard library's ``HTTPHandler`` form-encodes ``record.__dict__`` with
``urllib.parse.urlencode``, so every value arrives as ``str(value)``: ``msg`` is the
unformatted template, ``args`` the repr of its arguments (``"('a', 3)"``),
``created`` the epoch seconds as text, ``exc_info`` the repr of a tuple (its
traceback object is gone) and ``exc_text`` the formatted traceback only when an
earlier handler's formatter produced one (``message`` likewise). This module
reads those strings back without running any of them: ``args`` through
``ast.literal_eval`` (bounded in size) and the ``%`` template only when its widths
are small, so a hostile record cannot make sidelog allocate more than it sent.

Pure functions, no I/O: ``sidelog.ingest.http_logging`` feeds them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from sidelog.dialects.common import Builder, Outcome, Rejected
from sidelog.dialects.levels import map_level
from sidelog.dialects.stacks import parse_exception

__all__ = ["DIALECT", "STANDARD_FIELDS", "convert_record", "render_message"]

DIALECT = "logging"
"""``details.dialect`` of an event that came through ``/v1/logging``."""

STANDARD_FIELDS = frozenset(
    {
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "taskName",
        "message",
        "asctime",
    }
)
"""``LogRecord`` attributes; any other field came from the app's ``extra=`` and is kept in details."""

MAX_ARGS_CHARS = 64 * 1024
"""Longest ``args`` repr that is parsed back; longer ones are shown beside the template."""
MAX_WIDTH_TOTAL = 64 * 1024
"""Sum of the ``%`` widths and precisions a template may ask for before it is not rendered."""

_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[a-zA-Z%]")
_EXC_INFO = re.compile(r"\(<class '([\w.]+)'>, (.*), <traceback object at 0x[0-9a-fA-F]+>\)", re.DOTALL)
_EXC_REPR = re.compile(r"([\w.]+)\((.*)\)", re.DOTALL)


def _text(fields: Mapping[str, str], key: str) -> str | None:
    """A field's value; ``None`` for an absent or ``None`` one (``str(None)`` on the wire)."""
    value = fields.get(key)
    if value is None or value == "None":
        return None
    return value


def _literal(text: str) -> Any:
    """A Python literal read back from its repr, or ``None`` when it is not one (or too big)."""
    if len(text) > MAX_ARGS_CHARS:
        return None
    try:
        return ast.literal_eval(text)
    except Exception:  # SyntaxError, ValueError, MemoryError, RecursionError: not a literal we take
        return None


def render_message(msg: str, args_text: str | None) -> tuple[str, bool]:
    """``msg % args`` as ``logging`` would render it, and whether that worked.

    When the arguments cannot be read back (an object's ``<… at 0x…>`` repr) or the
    template asks for huge widths (``%*d``, ``%999999999s``), the template is kept
    and the arguments shown after it, so nothing sent is lost.
    """
    if args_text is None or args_text in ("()", "{}", ""):
        return msg, True
    total = 0
    for match in _SPEC.finditer(msg):
        width, precision = match.group(1), match.group(2)
        if width == "*" or precision == "*":
            return f"{msg} {args_text}", False
        total += int(width or 0) + int(precision or 0)
        if total > MAX_WIDTH_TOTAL:
            return f"{msg} {args_text}", False
    args = _literal(args_text)
    if not isinstance(args, tuple | dict):
        return f"{msg} {args_text}", False
    try:
        return msg % args, True
    except Exception:  # TypeError, ValueError, KeyError: what logging would report as a bad call
        return f"{msg} {args_text}", False


def _exception(fields: Mapping[str, str]) -> dict[str, Any] | None:
    """``{type, message, stack}`` from ``exc_text`` (a full traceback), else from ``exc_info``'s repr."""
    exc_text = _text(fields, "exc_text")
    if exc_text:
        parsed = parse_exception(exc_text)
        if parsed is not None:
            return parsed
        return {"type": "", "message": exc_text.strip().splitlines()[-1], "stack": exc_text}
    exc_info = _text(fields, "exc_info")
    if not exc_info:
        return None
    match = _EXC_INFO.fullmatch(exc_info.strip())
    if match is None:
        return None
    exc_type, value_repr = match.group(1), match.group(2)
    message = ""
    inner = _EXC_REPR.fullmatch(value_repr)
    if inner is not None:
        args = _literal(f"({inner.group(2)},)") if inner.group(2) else ()
        if isinstance(args, tuple) and len(args) == 1:
            message = str(args[0])
        elif isinstance(args, tuple) and args:
            message = str(args)
    return {"type": exc_type.rsplit(".", 1)[-1], "message": message, "stack": ""}


def convert_record(fields: Mapping[str, str]) -> Outcome:
    """One form-decoded ``LogRecord`` as a native wire object, or a rejection naming the field."""
    builder = Builder(DIALECT)
    message = _text(fields, "message")
    if message is not None and message.strip():
        builder.message = message
    else:
        msg = fields.get("msg")
        if msg is None:
            return Rejected(
                DIALECT,
                "msg is required (send logging.LogRecord fields, as logging.handlers.HTTPHandler does)",
            )
        rendered, ok = render_message(msg, _text(fields, "args"))
        if not ok:
            builder.note("args could not be applied to msg: both are shown")
        builder.set_message(rendered, "msg")
    levelname = _text(fields, "levelname")
    levelno = _text(fields, "levelno")
    if levelname is not None and map_level(levelname) is not None:
        builder.set_level(levelname, "levelname", "python")
    elif levelno is not None and map_level(levelno, "python") is not None:
        builder.set_level(levelno, "levelno", "python")
        if levelname is not None:
            builder.details["level"] = levelname
    elif levelname is not None:
        builder.set_level(levelname, "levelname", "python")
    created = _text(fields, "created")
    if created is not None:
        try:
            seconds: object = float(created)
        except ValueError:
            seconds = created
        builder.set_time(seconds, "created")
    name = _text(fields, "name")
    if name is not None and name.strip():
        builder.native["category"] = name
        builder.meta("logger", name)
    path, line = _text(fields, "pathname"), _text(fields, "lineno")
    if path:
        builder.meta("caller", f"{path}:{line}" if line else path)
    builder.meta("function", _text(fields, "funcName"))
    process = _text(fields, "process")
    builder.meta("pid", int(process) if process is not None and process.isdigit() else process)
    thread = _text(fields, "threadName")
    if thread is not None and thread != "MainThread":
        builder.meta("thread", thread)
    exception = _exception(fields)
    if exception is not None:
        builder.put("exception", exception)
    stack_info = _text(fields, "stack_info")
    if stack_info:
        builder.meta("stack_info", stack_info)
    builder.fields({k: v for k, v in fields.items() if v != "None"}, STANDARD_FIELDS)
    return builder.build("msg")
