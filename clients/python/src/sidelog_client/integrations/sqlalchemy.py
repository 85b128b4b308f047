"""Database statements run through a SQLAlchemy engine as sidelog events.

    from sidelog_client.integrations import sqlalchemy as sidelog_sqlalchemy
    sidelog_sqlalchemy.instrument(engine, logger=log)     # an Engine or an AsyncEngine

Listens to the engine's ``before_cursor_execute``, ``after_cursor_execute`` and
``handle_error`` events. Each statement becomes one event, category ``db``: its kind
(SELECT, INSERT…) and first table, the duration, the statement itself cut at
``max_statement_chars`` with a marker, and never its parameters. Ordinary statements
are logged at ``level`` (``debug`` by default; ``None`` logs only slow and failed
ones), a statement slower than ``slow_ms`` is a ``warn``, a failed one an ``error``
with the driver's exception type and the first line of its message (drivers put the
offending values, if at all, on later lines). SQLAlchemy is imported only here.
"""

from __future__ import annotations

import re

from sidelog_client.capture import safe_str
from sidelog_client.integrations import Instrumentation, _clock, library, resolve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.logger import EventLogger

_STARTED = "sidelog.started"
"""Key in ``connection.info``: start times of statements run without an execution context."""
_HEAD_CHARS = 4096
"""Kind and table are read from this much of a statement (the rest may be megabytes of values)."""
_KIND = re.compile(r"\s*(?:(?:/\*.*?\*/|--[^\n]*(?:\n|$))\s*)*([A-Za-z]+)", re.DOTALL)
_NAME = r"((?:[`\"\[]?[\w$]+[`\"\]]?\.)?[`\"\[]?[\w$]+[`\"\]]?)"
_TABLES = {
    "FROM": re.compile(r"\bFROM\s+" + _NAME, re.IGNORECASE),
    "INTO": re.compile(r"\bINTO\s+" + _NAME, re.IGNORECASE),
    "UPDATE": re.compile(r"\bUPDATE\s+(?:OR\s+\w+\s+)?" + _NAME, re.IGNORECASE),
    "TABLE": re.compile(r"\b(?:TABLE|INDEX|VIEW)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?" + _NAME, re.IGNORECASE),
}
_TABLE_BY_KIND = {
    "SELECT": "FROM",
    "WITH": "FROM",
    "DELETE": "FROM",
    "INSERT": "INTO",
    "REPLACE": "INTO",
    "UPDATE": "UPDATE",
    "CREATE": "TABLE",
    "DROP": "TABLE",
    "ALTER": "TABLE",
}
_shapes: dict[str, tuple[str, str | None]] = {}
_SHAPES_LIMIT = 2048


def statement_shape(statement: str) -> tuple[str, str | None]:
    """``("SELECT", "users")`` for ``SELECT … FROM users …`` (memoised for statements of normal size)."""
    shape = _shapes.get(statement) if len(statement) <= _HEAD_CHARS else None
    if shape is not None:
        return shape
    head = statement[:_HEAD_CHARS]
    match = _KIND.match(head)
    kind = match.group(1).upper() if match else "SQL"
    table = None
    pattern = _TABLE_BY_KIND.get(kind)
    if pattern is not None:
        found = _TABLES[pattern].search(head)
        if found is not None:
            table = found.group(1).replace('"', "").replace("`", "").replace("[", "").replace("]", "")
    shape = (kind, table)
    if len(statement) <= _HEAD_CHARS:
        if len(_shapes) >= _SHAPES_LIMIT:
            _shapes.clear()
        _shapes[statement] = shape
    return shape


def cut(text: str, limit: int) -> str:
    """``text`` up to ``limit`` characters, with a marker saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… [cut: {len(text)} chars in all]"


def instrument(
    engine: Any,
    logger: EventLogger | None = None,
    *,
    slow_ms: float = 100.0,
    level: str | None = "debug",
    max_statement_chars: int = 2000,
    category: str = "db",
) -> Instrumentation:
    """Log the statements ``engine`` runs; returns the ``Instrumentation`` (``remove()`` undoes it)."""
    event = library("sqlalchemy.event")
    target = getattr(engine, "sync_engine", engine)  # an AsyncEngine's events live on its sync engine
    state = Instrumentation("sqlalchemy")
    log = resolve(logger)
    dialect = getattr(getattr(target, "dialect", None), "name", None)

    def record(statement: Any, started: float, executemany: bool, rowcount: int, error: Any) -> None:
        if not state.active:
            return
        duration_ms = int((_clock() - started) * 100_000 + 0.5) / 100  # ms, 2 decimals
        text = statement if isinstance(statement, str) else safe_str(statement)
        kind, table = statement_shape(text)
        slow = duration_ms >= slow_ms
        if error is None and not slow and level is None:
            return
        details: dict[str, Any] = {
            "kind": kind,
            "table": table,
            "duration_ms": duration_ms,
            "statement": cut(text, max_statement_chars),
        }
        if dialect:
            details["system"] = dialect
        if executemany:
            details["executemany"] = True
        if rowcount >= 0:
            details["rowcount"] = rowcount
        subject = f"{kind} {table}" if table else kind
        if error is not None:
            first_line = (safe_str(error).strip().splitlines() or [""])[0]
            details["error"] = {"type": type(error).__name__, "message": first_line[:1000]}
            message, event_level = f"{subject} failed: {type(error).__name__}", "error"
        elif slow:
            details["slow"] = True
            details["slow_ms"] = slow_ms
            message, event_level = f"{subject} (slow: {duration_ms:.0f} ms)", "warn"
        else:
            message, event_level = subject, str(level)
        log.event(message, category=category, level=event_level, details=details)
        state.logged += 1

    def before(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: bool) -> None:
        try:
            if context is not None:
                context.sidelog_started = _clock()  # one execution, one context: cheaper than conn.info
            else:
                conn.info.setdefault(_STARTED, []).append(_clock())
        except Exception as exc:
            state.failed(exc)

    def after(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: bool) -> None:
        try:
            started = _pop_start(conn, context)
            if started is not None:
                rowcount = getattr(cursor, "rowcount", -1)
                record(statement, started, many, rowcount if isinstance(rowcount, int) else -1, None)
        except Exception as exc:
            state.failed(exc)

    def on_error(context: Any) -> None:
        try:
            conn = context.connection
            started = _pop_start(conn, context.execution_context) if conn is not None else None
            if started is not None and context.statement is not None:
                many = bool(getattr(context.execution_context, "executemany", False))
                record(context.statement, started, many, -1, context.original_exception)
        except Exception as exc:
            state.failed(exc)

    listeners = (
        ("before_cursor_execute", before),
        ("after_cursor_execute", after),
        ("handle_error", on_error),
    )
    for name, function in listeners:
        event.listen(target, name, function)

    def undo() -> None:
        for name, function in listeners:
            if event.contains(target, name, function):
                event.remove(target, name, function)

    state._undo = undo
    return state


def _pop_start(conn: Any, context: Any) -> float | None:
    """The start time ``before`` kept for the statement that just ended, if any."""
    if context is not None:
        started: float | None = getattr(context, "sidelog_started", None)
        context.sidelog_started = None  # executemany batches share a context: each starts anew
        return started
    stack = conn.info.get(_STARTED)
    return stack.pop() if stack else None
