"""logfmt lines: ``time=… level=warn msg="disk low" key=value`` (logrus, slog's
TextHandler, go-kit, Heroku, Grafana's tools).

A line counts as logfmt only when every space-separated token is ``key=value``
(values bare or double-quoted with backslash escapes), there are at least two, and
one of them is a level, message or time key: prose that happens to contain ``=``
stays plain text. Values are kept as the strings they are; logfmt has no types.
"""

from __future__ import annotations

import re
from typing import Any

from sidelog.dialects.common import Builder, Outcome
from sidelog.dialects.stacks import exception_from

_KEYS = frozenset({"level", "lvl", "severity", "msg", "message", "time", "ts", "t"})
_OWN = frozenset({"level", "lvl", "severity", "msg", "message", "time", "ts", "t", "caller", "source"})
_LOGGER_KEYS = ("logger", "component", "module")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_PAIR = re.compile(r' *([^ ="]+)=(?:"((?:[^"\\]|\\.)*)"|([^ "]*))(?= |$)')
_ESCAPE = re.compile(r"\\(.)")


def parse(line: str) -> dict[str, str] | None:
    """The pairs of a logfmt line in order, or ``None`` when the line is not logfmt.

    One regex step per pair (linear: no nested repetition); a later duplicate key
    wins, as in most logfmt readers.
    """
    pairs: dict[str, str] = {}
    pos, end = 0, len(line)
    while pos < end:
        match = _PAIR.match(line, pos)
        if match is None:
            if line[pos:].strip(" "):
                return None
            break
        quoted = match.group(2)
        if quoted is None:
            pairs[match.group(1)] = match.group(3)
        else:
            pairs[match.group(1)] = _ESCAPE.sub(_unescape, quoted) if "\\" in quoted else quoted
        pos = match.end()
    if len(pairs) < 2 or _KEYS.isdisjoint(pairs):
        return None
    return pairs


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPES.get(match.group(1), match.group(1))


def recognise(line: str, pairs: dict[str, str] | None = None) -> Outcome | None:
    """A logfmt line (ANSI codes already stripped) as a native event, or ``None``."""
    if pairs is None:
        pairs = parse(line)
        if pairs is None:
            return None
    builder = Builder("logfmt")
    message = pairs.get("msg", pairs.get("message"))
    if not builder.set_message(message, "msg"):
        builder.message = line
    level = next((pairs[key] for key in ("level", "lvl", "severity") if key in pairs), None)
    builder.set_level(level, "level", "syslog")
    stamp = next((key for key in ("time", "ts", "t") if key in pairs), None)
    if stamp is not None:
        builder.set_time(pairs[stamp], stamp)
    caller = pairs.get("caller", pairs.get("source"))
    builder.meta("caller", caller)
    skip: set[str] = set(_OWN)
    logger_key = next((key for key in _LOGGER_KEYS if key in pairs), None)
    if logger_key is not None:
        builder.meta("logger", pairs[logger_key])
        skip.add(logger_key)
    for key in ("error", "err"):
        if pairs.get(key):
            exception = exception_from(pairs[key], "error")
            if exception is not None:
                builder.put("exception", exception)
                skip.add(key)
            break
    fields: dict[str, Any] = pairs
    builder.fields(fields, skip)
    return builder.build("msg")
