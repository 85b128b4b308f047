"""Log formats apps already emit ("dialects"), read without any configuration.

sidelog's own event (README "The event") is validated strictly; a JSON object that
fails that validation, or that carries a field only some logger writes
(``MARKERS``), is offered to ``recognise``, which knows pino, bunyan, winston,
consola, structlog, loguru, python-json-logger, Serilog CLEF, GELF, Elastic ECS and
Go's zap/zerolog/slog. A line that is not JSON at all goes to ``recognise_text``
(plain text and logfmt), after ``MultilineJoiner`` has joined stack traces.

Every recogniser is a pure function returning a native wire object (``Recognised``),
a reason naming the dialect and the field (``Rejected``), or ``None`` when the
object is not in that dialect. The dialect's name is kept in ``details.dialect``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sidelog.dialects import clef, consola, ecs, gelf, golang, pino, python, winston
from sidelog.dialects.common import DIALECT_KEY, DIALECTS, ISSUES_KEY, Outcome, Recognised, Rejected
from sidelog.dialects.multiline import Block, MultilineJoiner
from sidelog.dialects.text import LineInfo, classify_line, clean, line_level, recognise_text, text_line

__all__ = [
    "DIALECTS",
    "DIALECT_KEY",
    "ISSUES_KEY",
    "MARKERS",
    "Block",
    "LineInfo",
    "MultilineJoiner",
    "Outcome",
    "Recognised",
    "Rejected",
    "classify_line",
    "clean",
    "line_level",
    "recognise",
    "recognise_text",
    "text_line",
]

MARKERS: frozenset[str] = frozenset(
    {
        "levelname",  # python-json-logger
        "@t",  # CLEF
        "@m",
        "@mt",
        "short_message",  # GELF
        "@timestamp",  # ECS
        "log.level",
        "ecs.version",
        "ecs",
        "log",
        "hostname",  # pino/bunyan base fields (pino with string level labels is otherwise native)
        "pid",
        "time",  # zerolog, slog
        "caller",  # zap
        "stacktrace",
        "stack",  # winston's format.errors
        "args",  # consola
    }
)
"""Top-level keys that only loggers write: a *valid* native event carrying one of
them is still offered to ``recognise`` (its time, level or error would otherwise be
misread). Native events without such keys never reach the recognisers."""

_RECOGNISERS: tuple[Callable[[dict[str, Any]], Outcome | None], ...] = (
    python.loguru,
    clef.recognise,
    gelf.recognise,
    ecs.recognise,
    python.python_json_logger,
    consola.recognise,
    pino.recognise,
    python.structlog,
    golang.recognise,
    winston.recognise,
)


def recognise(obj: dict[str, Any]) -> Outcome | None:
    """The dialect ``obj`` is written in, read as a native wire object; ``None`` if none.

    The most specific signatures are tried first (loguru's ``record``, CLEF's ``@t``,
    GELF's ``short_message``…), winston's (sorted keys, a string level) last. A
    recogniser failing on hostile input (too deep a structure, a bug) counts as "no
    dialect": the caller's native validation then decides, so it cannot cost a line.
    """
    try:
        for recogniser in _RECOGNISERS:
            outcome = recogniser(obj)
            if outcome is not None:
                return outcome
    except (RecursionError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None
    return None
