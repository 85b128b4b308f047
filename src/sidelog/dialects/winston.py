"""winston's ``format.json()``: npm levels, ``message``, ``stack`` from ``format.errors``.

Its JSON differs from a native event only by the levels sidelog does not accept
natively (``verbose``, ``http``, ``silly``, syslog's ``notice``…) and by the top-level
``stack`` that ``format.errors({stack: true})`` adds. What tells it apart from a
native event with a typo is that winston's JSON always has its keys sorted (it
serialises with safe-stable-stringify): ``{"level":"verbose","message":"x"}`` is
winston, ``{"message":"x","level":"verbose"}`` stays a native event with a bad level.
"""

from __future__ import annotations

from typing import Any

from sidelog.dialects.common import Builder, Outcome, Rejected
from sidelog.dialects.stacks import exception_from

_OWN = frozenset({"level", "message", "timestamp", "stack", "label"})


def recognise(obj: dict[str, Any]) -> Outcome | None:
    """A winston JSON line as a native event, or ``None`` when it is not one."""
    level = obj.get("level")
    if not isinstance(level, str):
        return None
    keys = list(obj)
    if keys != sorted(keys):
        return None
    if "message" not in obj and "stack" not in obj:
        if level == "error":
            # What logger.error(new Error("…")) writes without format.errors().
            return Rejected(
                "winston",
                "message is required (logger.error(err) keeps the error only with "
                "format.errors({stack: true}) before format.json())",
            )
        return None
    builder = Builder("winston")
    builder.set_message(obj.get("message"), "message")
    builder.set_level(level, "level")
    builder.set_time(obj.get("timestamp"), "timestamp")
    builder.meta("logger", obj.get("label"))
    stack = obj.get("stack")
    exception = exception_from(stack, "Error") if isinstance(stack, str) else None
    skip = set(_OWN)
    if exception is not None:
        builder.put("exception", exception)
    elif stack is not None:
        skip.discard("stack")
    builder.fields(obj, skip)
    return builder.build("message")
