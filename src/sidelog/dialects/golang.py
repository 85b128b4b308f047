"""Go's JSON loggers: zap, zerolog and log/slog's JSONHandler.

* zap (production config): ``{"level","ts"(epoch seconds),"caller","msg","logger",
  "error","stacktrace"}``.
* zerolog: ``{"level","time","message","error","caller","stack"}``.
* slog: ``{"time","level"("INFO", "ERROR+2"),"msg","source":{function,file,line}}``.

Go errors are plain strings (no type name), so ``details.exception.type`` is
``"error"`` for them; a stack, when the logger wrote one, is Go's
``function\\n\\tfile:line`` listing.
"""

from __future__ import annotations

from typing import Any

from sidelog.dialects.common import Builder, Outcome
from sidelog.dialects.stacks import exception_from
from sidelog.dialects.timestamps import to_ms

_OWN = frozenset(
    {"level", "ts", "time", "msg", "message", "logger", "caller", "source", "stacktrace", "stack"}
)


def dialect_of(obj: dict[str, Any]) -> str | None:
    """``zap``, ``zerolog`` or ``slog`` by the keys each one writes; ``None`` otherwise."""
    if not isinstance(obj.get("level"), str):
        return None
    if "ts" in obj and ("msg" in obj or "caller" in obj or "stacktrace" in obj):
        return "zap"
    if "time" in obj and to_ms(obj["time"]) is None:
        return None  # a native event with a field named "time", not a Go logger's stamp
    if "time" in obj and "msg" in obj:
        return "slog"
    # zerolog's stack (pkgerrors) is a frame list; a string "stack" is winston's
    zerolog_keys = "time" in obj or "caller" in obj or isinstance(obj.get("stack"), list)
    if "message" in obj and "msg" not in obj and zerolog_keys:
        return "zerolog"
    return None


def recognise(obj: dict[str, Any]) -> Outcome | None:
    """A zap, zerolog or slog line as a native event, or ``None``."""
    dialect = dialect_of(obj)
    if dialect is None:
        return None
    builder = Builder(dialect)
    message_key = "message" if dialect == "zerolog" else "msg"
    builder.set_message(obj.get(message_key), message_key)
    builder.set_level(obj["level"], "level")
    builder.set_time(obj.get("ts" if dialect == "zap" else "time"), "ts" if dialect == "zap" else "time")
    builder.meta("logger", obj.get("logger"))
    caller = obj.get("caller")
    source = obj.get("source")
    if isinstance(source, dict) and source.get("file"):
        builder.meta("caller", f"{source['file']}:{source.get('line', '?')}")
        builder.meta("function", source.get("function"))
    else:
        builder.meta("caller", caller if caller is not None else source)
    skip = {*_OWN}
    stack = _stack(obj.get("stacktrace") if dialect == "zap" else obj.get("stack"))
    error_key = next((key for key in ("error", "err") if obj.get(key) is not None), None)
    exception = exception_from(obj[error_key], "error") if error_key is not None else None
    if exception is not None:
        skip.add(str(error_key))
        if stack and not exception["stack"]:
            exception["stack"] = stack
    elif stack:
        exception = {"type": "", "message": "", "stack": stack}
    if exception is not None:
        builder.put("exception", exception)
    if stack is None:
        skip -= {"stacktrace", "stack"}
    builder.fields(obj, skip)
    return builder.build(message_key)


def _stack(value: object) -> str | None:
    """zap's stacktrace text, or zerolog's pkgerrors frame list as the same text."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, list):
        lines = []
        for frame in value[:200]:
            if isinstance(frame, dict):
                lines.append(
                    f"{frame.get('func', '?')}\n\t{frame.get('source', '?')}:{frame.get('line', '?')}"
                )
        return "\n".join(lines) or None
    return None
