"""Serilog/Seq compact log event format (CLEF).

``@t`` (ISO-8601 time, required), ``@m`` (the rendered message) or ``@mt`` (the
message template, rendered here with the event's properties), ``@l`` (level,
Information when absent), ``@x`` (the .NET exception text), ``@i`` (event id),
``@r`` (renderings of formatted tokens), ``@tr``/``@sp`` (trace and span ids). Every
other key is a property; a property whose name starts with ``@`` is written ``@@``.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidelog.dialects.common import Builder, Outcome, json_type
from sidelog.dialects.stacks import exception_from

_OWN = frozenset({"@t", "@m", "@mt", "@l", "@x", "@i", "@r", "@tr", "@sp"})
MAX_TEMPLATE_CHARS = 16 * 1024
"""Longest template rendered; a longer one is shown as written."""


def recognise(obj: dict[str, Any]) -> Outcome | None:
    """A CLEF line as a native event, or ``None`` when it has none of ``@t``/``@m``/``@mt``."""
    if not ("@t" in obj or "@m" in obj or "@mt" in obj):
        return None
    builder = Builder("clef")
    properties = {
        (key[1:] if key.startswith("@@") else key): value for key, value in obj.items() if key not in _OWN
    }
    if not builder.set_message(obj.get("@m"), "@m"):
        template = obj.get("@mt")
        if isinstance(template, str) and template.strip():
            renderings = obj.get("@r")
            builder.message = render(template, properties, renderings if isinstance(renderings, list) else [])
            builder.put("template", template)
        elif template is not None:
            builder.note(f"@mt is {json_type(template)}, not a string")
    if "@t" not in obj:
        builder.note("@t is missing; stored with the time received")
    elif not isinstance(obj["@t"], str):
        builder.details["@t"] = obj["@t"]
        builder.note(
            f"@t must be an ISO-8601 string, got {json_type(obj['@t'])}; stored with the time received"
        )
    else:
        builder.set_time(obj["@t"], "@t")
    builder.set_level(obj.get("@l", "Information"), "@l")
    builder.meta("event_id", obj.get("@i"))
    builder.meta("trace_id", obj.get("@tr"))
    builder.meta("span_id", obj.get("@sp"))
    builder.meta("logger", properties.pop("SourceContext", None))
    exception = exception_from(obj.get("@x"), "Exception")
    if exception is not None:
        builder.put("exception", exception)
    elif obj.get("@x") is not None:
        builder.put("@x", obj["@x"])
    builder.fields(properties)
    return builder.build("@m")


def render(template: str, properties: dict[str, Any], renderings: list[Any] | None = None) -> str:
    """A message template with its properties filled in, as Serilog renders it.

    ``{Name}``, ``{@Name}``/``{$Name}`` (captured or stringified), ``{Name:format}``
    (the matching ``@r`` rendering when present), ``{Name,width}``; ``{{``/``}}``
    are literal braces; a token without a property stays as written. Strings are
    quoted unless the format is ``l``, like Serilog's default rendering.
    """
    if len(template) > MAX_TEMPLATE_CHARS:
        return template
    out: list[str] = []
    formatted = iter(renderings or [])
    i, end = 0, len(template)
    next_close = template.find("}")  # cached: one scan of the template in all
    while i < end:
        char = template[i]
        if char in "{}" and template[i + 1 : i + 2] == char:
            out.append(char)
            i += 2
            continue
        if 0 <= next_close < i:
            next_close = template.find("}", i)
        close = next_close if char == "{" else -1
        if close < 0:
            out.append(char)
            i += 1
            continue
        token = template[i + 1 : close]
        name, _, fmt = token.partition(":")
        name = name.partition(",")[0].lstrip("@$")
        if not name or "{" in token or name not in properties:
            out.append(template[i : close + 1])
        elif fmt:
            rendering = next(formatted, None)
            out.append(rendering if isinstance(rendering, str) else _value(properties[name], fmt))
        else:
            out.append(_value(properties[name], ""))
        i = close + 1
    return "".join(out)


def _value(value: object, fmt: str) -> str:
    if isinstance(value, str):
        return value if fmt == "l" else f'"{value}"'
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()
