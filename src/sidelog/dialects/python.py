"""Python's JSON loggers: structlog's JSONRenderer, loguru's ``serialize=True``, and
python-json-logger's ``JsonFormatter`` on a stdlib ``logging`` handler.

* structlog: ``{"event", "level", "timestamp", "exception"}`` where ``exception`` is a
  formatted traceback (``format_exc_info``) or a frame list (``dict_tracebacks``).
* loguru: ``{"text", "record": {message, level{name,no}, time{timestamp,repr},
  exception{type,value}, extra, name, function, line, file, process…}}``; the
  traceback itself is only in ``text``.
* python-json-logger: the ``LogRecord`` attributes named in its format, at least
  ``levelname``; ``asctime`` is local time, ``exc_info`` a formatted traceback.
"""

from __future__ import annotations

import re
from typing import Any

from sidelog.dialects.common import Builder, Outcome, Rejected, json_type
from sidelog.dialects.levels import map_level
from sidelog.dialects.stacks import exception_from, parse_exception

_STRUCTLOG_OWN = frozenset(
    {"event", "level", "log_level", "timestamp", "logger", "logger_name", "exception", "exc_info"}
    | {"pathname", "filename", "lineno", "func_name", "process", "process_name", "thread", "thread_name"}
)
_LOGURU_TEXT = re.compile(
    r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) \| ([A-Za-z]+) *\| (\S+):(\S*):(\d+) - ([^\n]*)"
)
_PJL_OWN = frozenset(
    {"message", "levelname", "levelno", "asctime", "created", "msecs", "timestamp", "name"}
    | {"exc_info", "exc_text", "pathname", "filename", "lineno", "funcName", "process"}
)


def structlog(obj: dict[str, Any]) -> Outcome | None:
    """A structlog JSONRenderer line (``event`` instead of a message), or ``None``."""
    if not isinstance(obj.get("event"), str) or "message" in obj or "msg" in obj:
        return None
    builder = Builder("structlog")
    builder.set_message(obj["event"], "event")
    builder.set_level(obj.get("level", obj.get("log_level")), "level", "python")
    builder.set_time(obj.get("timestamp"), "timestamp")
    builder.meta("logger", obj.get("logger", obj.get("logger_name")))
    _caller(builder, obj.get("pathname") or obj.get("filename"), obj.get("lineno"), obj.get("func_name"))
    builder.meta("pid", obj.get("process"))
    skip = set(_STRUCTLOG_OWN)
    exception = exception_from(obj.get("exception"))
    if exception is None and isinstance(obj.get("exc_info"), str) and "Traceback" in obj["exc_info"]:
        exception = exception_from(obj["exc_info"])
    if exception is not None:
        builder.put("exception", exception)
    else:
        skip -= {"exception", "exc_info"}
    builder.fields(obj, skip)
    return builder.build("event")


def loguru(obj: dict[str, Any]) -> Outcome | None:
    """A loguru ``serialize=True`` line, or ``None`` when it is not one."""
    text, record = obj.get("text"), obj.get("record")
    if "record" in obj:
        if "text" not in obj:
            return None
        if not isinstance(record, dict):
            return Rejected("loguru", f"record must be an object, got {json_type(record)}")
        return _loguru_record(record, text if isinstance(text, str) else "")
    if isinstance(text, str) and (match := _LOGURU_TEXT.match(text)) is not None:
        builder = Builder("loguru")
        builder.note("record is missing: read from text")
        builder.set_message(match.group(6), "text")
        builder.set_level(match.group(2), "text", "python")
        builder.set_time(match.group(1), "text")
        builder.meta("logger", match.group(3))
        _caller(builder, match.group(3), match.group(5), match.group(4))
        if "Traceback" in text:
            builder.meta("exception", parse_exception(text))
        builder.fields(obj, ("text",))
        return builder.build("text")
    return None


def _loguru_record(record: dict[str, Any], text: str) -> Outcome:
    builder = Builder("loguru")
    builder.set_message(record.get("message"), "record.message")
    level = record.get("level")
    name = level.get("name") if isinstance(level, dict) else level
    number = level.get("no") if isinstance(level, dict) else None
    if map_level(name) is None and map_level(number, "python") is not None:
        builder.set_level(number, "record.level.no", "python")
        builder.details["level"] = name
    else:
        builder.set_level(name, "record.level.name", "python")
    when = record.get("time")
    if isinstance(when, dict):
        builder.set_time(when.get("timestamp", when.get("repr")), "record.time")
    else:
        builder.set_time(when, "record.time")
    builder.meta("logger", record.get("name"))
    file = record.get("file")
    path = file.get("path") if isinstance(file, dict) else file
    _caller(builder, path, record.get("line"), record.get("function"))
    process = record.get("process")
    builder.meta("pid", process.get("id") if isinstance(process, dict) else process)
    exc = record.get("exception")
    if isinstance(exc, dict) or "Traceback" in text:
        parsed = parse_exception(text) if "Traceback" in text else None
        exc = exc if isinstance(exc, dict) else {}
        builder.put(
            "exception",
            {
                "type": exc.get("type") or (parsed or {}).get("type", ""),
                "message": exc.get("value") or (parsed or {}).get("message", ""),
                "stack": (parsed or {}).get("stack", ""),
            },
        )
    if builder.message is None and record.get("message") is None:
        builder.note("record.message is missing")
    extra = record.get("extra")
    if isinstance(extra, dict):
        builder.fields(extra)
    return builder.build("record.message")


def python_json_logger(obj: dict[str, Any]) -> Outcome | None:
    """A python-json-logger line (``levelname`` marks it), or ``None``."""
    if not isinstance(obj.get("levelname"), str):
        return None
    builder = Builder("python-json-logger")
    builder.set_message(obj.get("message"), "message")
    name = obj["levelname"]
    if map_level(name) is None and map_level(obj.get("levelno"), "python") is not None:
        builder.set_level(obj.get("levelno"), "levelno", "python")
        builder.details["level"] = name
    else:
        builder.set_level(name, "levelname", "python")
    for key in ("created", "timestamp", "asctime"):
        if obj.get(key) is not None:
            builder.set_time(obj[key], key)
            break
    builder.meta("logger", obj.get("name"))
    _caller(builder, obj.get("pathname") or obj.get("filename"), obj.get("lineno"), obj.get("funcName"))
    builder.meta("pid", obj.get("process"))
    skip = set(_PJL_OWN)
    exception = exception_from(obj.get("exc_info") or obj.get("exc_text"))
    if exception is not None:
        builder.put("exception", exception)
    else:
        skip -= {"exc_info", "exc_text"}
    builder.fields(obj, skip)
    return builder.build("message")


def _caller(builder: Builder, path: object, line: object, function: object) -> None:
    if isinstance(path, str) and path:
        builder.meta("caller", f"{path}:{line}" if line is not None else path)
    builder.meta("function", function)
