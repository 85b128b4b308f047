"""pino and bunyan: Node's JSON loggers with numeric levels.

pino writes ``{"level":30,"time":<epoch ms>,"pid":…,"hostname":…,"msg":…}`` and an
error under ``err`` as ``{type, message, stack}``; bunyan writes the same levels
(10 trace … 60 fatal) with ``name``, an ISO ``time``, ``v: 0`` and ``err`` as
``{name, message, stack}``. Both merge the app's own fields into the top level.
"""

from __future__ import annotations

from typing import Any

from sidelog.dialects.common import Builder, Outcome
from sidelog.dialects.stacks import exception_from

_OWN = frozenset({"level", "time", "msg", "pid", "hostname", "name", "src"})


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def recognise(obj: dict[str, Any]) -> Outcome | None:
    """A pino or bunyan line as a native event, or ``None`` when it is neither.

    bunyan is told by its format version ``v`` beside ``name``, ``hostname`` and
    ``pid``; pino by a numeric ``level`` with its ``msg``/``time``, or by its base
    fields (``pid`` and ``hostname`` with an epoch ``time``) whatever the level.
    """
    if _number(obj.get("v")) and "name" in obj and "hostname" in obj and "pid" in obj and "level" in obj:
        return _convert(obj, "bunyan")
    level = obj.get("level")
    if _number(level) and ("msg" in obj or "time" in obj or "pid" in obj or "hostname" in obj):
        return _convert(obj, "pino")
    if "pid" in obj and "hostname" in obj and _number(obj.get("time")) and ("msg" in obj or "level" in obj):
        return _convert(obj, "pino")
    return None


def _convert(obj: dict[str, Any], dialect: str) -> Outcome:
    builder = Builder(dialect)
    message_key = "msg" if "msg" in obj else "message"
    builder.set_message(obj.get(message_key), message_key)
    builder.set_level(obj.get("level"), "level", "pino")
    builder.set_time(obj.get("time"), "time")
    builder.meta("logger", obj.get("name"))
    builder.meta("host", obj.get("hostname"))
    builder.meta("pid", obj.get("pid"))
    source = obj.get("src")
    if isinstance(source, dict) and source.get("file"):
        builder.meta("caller", f"{source.get('file')}:{source.get('line', '?')}")
        builder.meta("function", source.get("func"))
    skip = {*_OWN, message_key}
    if dialect == "bunyan":
        skip.add("v")  # bunyan's format version, always 0
    for key in ("err", "error"):
        exception = exception_from(obj.get(key), "Error")
        if exception is not None:
            builder.put("exception", exception)
            skip.add(key)
            break
    builder.fields(obj, skip)
    return builder.build(message_key)
