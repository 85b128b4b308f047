"""GELF 1.1 (Graylog): ``short_message``, ``full_message``, syslog ``level``, ``_fields``.

``timestamp`` is epoch seconds with a fraction; ``level`` is syslog's 0 (emergency)
to 7 (debug); ``host`` names the sender; every additional field is written with a
leading underscore (``_user_id``), which is dropped in ``details``. ``full_message``
often holds a stack trace: it becomes ``details.exception`` when it parses as one.
"""

from __future__ import annotations

from typing import Any

from sidelog.dialects.common import Builder, Outcome, Rejected, json_type
from sidelog.dialects.stacks import parse_exception

_OWN = frozenset({"version", "host", "short_message", "full_message", "timestamp", "level"})
_LEGACY = {"facility": "logger", "file": "file", "line": "line"}


def recognise(obj: dict[str, Any]) -> Outcome | None:
    """A GELF message as a native event, or ``None`` when it is not one."""
    if "short_message" not in obj or not ("version" in obj or "host" in obj):
        return None
    builder = Builder("gelf")
    short = obj["short_message"]
    if not isinstance(short, str):
        return Rejected("gelf", f"short_message must be a string, got {json_type(short)}")
    builder.set_message(short, "short_message")
    version = obj.get("version")
    if version is not None and version != "1.1":
        builder.note(f"version {version!r} is not 1.1")
    builder.set_level(obj.get("level"), "level", "syslog")
    builder.set_time(obj.get("timestamp"), "timestamp")
    builder.meta("host", obj.get("host"))
    full = obj.get("full_message")
    exception = parse_exception(full) if isinstance(full, str) else None
    if exception is not None:
        builder.put("exception", exception)
    else:
        builder.meta("full_message", full)
    fields: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _OWN:
            continue
        if key.startswith("_"):
            fields[key[1:]] = value
        else:
            fields[_LEGACY.get(key, key)] = value
    if isinstance(fields.get("file"), str):
        line = fields.pop("line", None)
        builder.meta("caller", f"{fields.pop('file')}:{line}" if line is not None else fields.pop("file"))
    builder.fields(fields)
    return builder.build("short_message")
