"""consola's log object, as a JSON reporter writes it.

consola has no JSON output of its own; a one-line reporter writes its log object
(README "Already logging with pino, winston, structlog…?"): ``{"date", "args",
"type", "level", "tag"}``. The ``type`` carries the meaning (``success``, ``start``,
``ready``, ``box``, ``fail``…); the numeric ``level`` (0 fatal/error … 5 trace) is the
fallback. The message is the text arguments joined by spaces, as consola prints
them; an error argument becomes ``details.exception``; the other arguments are kept
in ``details.args``.
"""

from __future__ import annotations

from typing import Any

from sidelog.dialects.common import Builder, Outcome, Rejected
from sidelog.dialects.levels import map_level
from sidelog.dialects.stacks import exception_from

_OWN = frozenset({"date", "args", "type", "level", "tag", "message", "additional", "title"})


def recognise(obj: dict[str, Any]) -> Outcome | None:
    """A consola log object as a native event, or ``None`` when it is not one."""
    args, kind = obj.get("args"), obj.get("type")
    if not (isinstance(args, list) and isinstance(kind, str)):
        return None
    if not ("date" in obj or "tag" in obj or "level" in obj):
        return None
    builder = Builder("consola")
    if map_level(kind) is not None:
        builder.set_level(kind, "type")
    elif map_level(obj.get("level"), "consola") is not None:
        builder.set_level(obj.get("level"), "level", "consola")
        builder.details["level"] = kind
    else:
        builder.set_level(kind, "type")
    builder.set_time(obj.get("date"), "date")
    builder.meta("logger", obj.get("tag"))
    parts: list[str] = []
    title = obj.get("title")
    if isinstance(title, str) and title:
        parts.append(title)
    exception = None
    kept = False
    for arg in args[:100]:
        if isinstance(arg, str):
            parts.append(arg)
        elif isinstance(arg, int | float) and not isinstance(arg, bool):
            parts.append(str(arg))
        elif exception is None and _error_like(arg):
            exception = exception_from(arg, "Error")
        else:
            kept = True
    if kept or len(args) > 100:
        builder.put("args", args)
    if exception is not None:
        builder.put("exception", exception)
    text = " ".join(parts)
    if not builder.set_message(obj.get("message"), "message") and text.strip():
        builder.message = text
    additional = obj.get("additional")
    if isinstance(additional, list | str) and additional:
        builder.put("additional", additional)
    if builder.message is None and exception is None and args and all(arg == {} for arg in args):
        return Rejected(
            "consola",
            "args has no text: an Error passed through JSON.stringify becomes {} "
            "(serialise errors in the reporter, see README)",
        )
    builder.fields(obj, _OWN)
    return builder.build("args")


def _error_like(value: object) -> bool:
    """An Error serialised by a reporter: ``stack``, or both ``name`` and ``message``."""
    return isinstance(value, dict) and (
        isinstance(value.get("stack"), str) or ("name" in value and "message" in value)
    )
