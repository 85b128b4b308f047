"""Elastic Common Schema (ecs-logging for Python, Node, Java, .NET, Go).

``@timestamp``, ``message``, ``log.level`` and ``ecs.version`` are written flat (dotted
keys) by ecs-logging; other fields may be flat or nested (``error.type`` or
``{"error": {"type": …}}``), so every field is looked up both ways. ``error.*``
becomes ``details.exception``; ``user.id``, ``url.full`` and ``user_agent.original``
become the native fields; ``log.logger``, ``log.origin.*``, ``process.pid`` and
``host.hostname`` become the logger, caller, pid and host.
"""

from __future__ import annotations

from typing import Any

from sidelog.dialects.common import Builder, Outcome
from sidelog.dialects.stacks import exception_from


def recognise(obj: dict[str, Any]) -> Outcome | None:
    """An ECS line as a native event, or ``None`` when it is not one."""
    if "@timestamp" not in obj:
        return None
    ecs_fields = "log.level" in obj or "ecs.version" in obj or isinstance(obj.get("ecs"), dict)
    if not ecs_fields and not isinstance(obj.get("log"), dict):
        return None
    rest = dict(obj)  # fields are taken out of copies: the input is never modified
    builder = Builder("ecs")
    builder.set_time(rest.pop("@timestamp"), "@timestamp")
    builder.set_message(rest.pop("message", None), "message")
    builder.set_level(_take(rest, "log.level"), "log.level", "syslog")
    _take(rest, "ecs.version")
    builder.meta("logger", _take(rest, "log.logger"))
    origin_file, origin_line = _take(rest, "log.origin.file.name"), _take(rest, "log.origin.file.line")
    if isinstance(origin_file, str):
        builder.meta("caller", f"{origin_file}:{origin_line}" if origin_line is not None else origin_file)
    builder.meta("function", _take(rest, "log.origin.function"))
    builder.meta("pid", _take(rest, "process.pid"))
    builder.meta("host", _take(rest, "host.hostname") or _take(rest, "host.name"))
    error = {
        key: value
        for key in ("type", "message", "stack_trace", "code", "id")
        if (value := _take(rest, f"error.{key}")) is not None
    }
    exception = exception_from(error, "Error") if error else None
    if exception is not None:
        builder.put("exception", exception)
    for native, path in (("userId", "user.id"), ("url", "url.full"), ("userAgent", "user_agent.original")):
        value = _take(rest, path)
        if value is not None:
            builder.fields({native: value})
    builder.fields(rest)
    return builder.build("message")


def _take(obj: dict[str, Any], path: str) -> Any:
    """Remove and return ``path`` from ``obj`` (a copy; nested dicts are copied on the way), written flat
    (``"a.b"``), nested (``{"a": {"b": …}}``) or half-way (``{"a.b": {"c": …}}``);
    parents left empty are removed."""
    if path in obj:
        return obj.pop(path)
    parts = path.split(".")
    for cut in range(1, len(parts)):
        head = ".".join(parts[:cut])
        child = obj.get(head)
        if isinstance(child, dict):
            child = dict(child)
            value = _take(child, ".".join(parts[cut:]))
            if value is not None:
                if child:
                    obj[head] = child
                else:
                    del obj[head]
                return value
    return None
