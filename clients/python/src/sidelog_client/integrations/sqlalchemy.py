"""Database statements run through a SQLAlchemy engine as sidelog events.

    from sidelog_client.integrations import sqlalchemy as sidelog_sqlalchemy
    sidelog_sqlalchemy.instrument(engine, logger=log)     # an Engine or an AsyncEngine

Listens to the engine's dialect events ``do_execute``, ``do_executemany`` and
``do_execute_no_params``: the listener runs the statement itself with the dialect's
own method (what SQLAlchemy documents a listener returning ``True`` to do) and times
it, so it sees the duration, the row count and the driver's exception in one place.
This is several times cheaper than the cursor events, which switch every statement
of the engine onto SQLAlchemy's slower path for events (``python -m
sidelog.bench.integrations``). The exception goes on exactly as before: SQLAlchemy
wraps it as without sidelog. A ``do_execute`` listener the app registers itself still
runs if it was registered before ``instrument``; one added after it would never run
(call ``instrument`` last). Each statement becomes one event, category ``db``: its kind
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
from sidelog_client.integrations import (
    DIRECT,
    QUIET,
    Instrumentation,
    _clock,
    _wall,
    fast_mode,
    library,
    resolve,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.logger import EventLogger

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
    dialect = target.dialect
    state = Instrumentation("sqlalchemy")
    log = resolve(logger)
    system = getattr(dialect, "name", None)
    statements = _Statements(log, state, slow_ms, level, max_statement_chars, category, system)
    record = statements.record
    fast, slow_s = fast_mode(log, level), slow_ms / 1000
    many = statements.many
    # The dialect's own methods, looked up once: the listeners below run the statement with them.
    do_execute = dialect.do_execute
    do_executemany = dialect.do_executemany
    do_execute_no_params = dialect.do_execute_no_params

    def done(statement: Any, elapsed: float, executemany: Any, rowcount: Any) -> None:
        """A statement that ran: the hot path, inline for the usual fast one (see ``_Statements``)."""
        if elapsed < slow_s and type(statement) is str:
            if fast is DIRECT:
                if log._on and state.active:
                    log._append(
                        (
                            log._next(),
                            _wall(),
                            render_statement,
                            category,
                            level,
                            statements,
                            statement,
                            elapsed,
                            executemany,
                            rowcount,
                        )
                    )
                    state.logged += 1
                    if log._immediate:
                        log._wake()
                return
            if fast is QUIET:
                return
        record(statement, elapsed, executemany, rowcount, None)

    def on_execute(cursor: Any, statement: Any, parameters: Any, context: Any) -> bool:
        started = _clock()
        try:
            do_execute(cursor, statement, parameters, context)
        except BaseException as exc:
            record(statement, _clock() - started, getattr(context, "executemany", False), -1, exc)
            raise
        elapsed = _clock() - started
        try:
            if elapsed < slow_s:
                if fast is QUIET:
                    return True  # the usual production setting: a fast statement costs two clock reads
                if fast is DIRECT and type(statement) is str and many:
                    # ``done`` queues it for the sender, which reads the plain ``execute_style``
                    # (``context.executemany`` is a property costing thousands of instructions).
                    done(statement, elapsed, getattr(context, "execute_style", False), cursor.rowcount)
                    return True
            done(statement, elapsed, getattr(context, "executemany", False), cursor.rowcount)
        except Exception as exc:
            state.failed(exc)
        return True

    def on_executemany(cursor: Any, statement: Any, parameters: Any, context: Any) -> bool:
        started = _clock()
        try:
            do_executemany(cursor, statement, parameters, context)
        except BaseException as exc:
            record(statement, _clock() - started, True, -1, exc)
            raise
        elapsed = _clock() - started
        try:
            done(statement, elapsed, True, cursor.rowcount)
        except Exception as exc:
            state.failed(exc)
        return True

    def on_execute_no_params(cursor: Any, statement: Any, context: Any) -> bool:
        started = _clock()
        try:
            do_execute_no_params(cursor, statement, context)
        except BaseException as exc:
            record(statement, _clock() - started, False, -1, exc)
            raise
        elapsed = _clock() - started
        try:
            done(statement, elapsed, False, cursor.rowcount)
        except Exception as exc:
            state.failed(exc)
        return True

    listeners = (
        ("do_execute", on_execute),
        ("do_executemany", on_executemany),
        ("do_execute_no_params", on_execute_no_params),
    )
    for name, function in listeners:
        event.listen(target, name, function)

    def undo() -> None:
        for name, function in listeners:
            if event.contains(target, name, function):
                event.remove(target, name, function)

    state._undo = undo
    return state


class _Statements:
    """Turns one finished or failed statement into one event (or none: fast ones with ``level=None``).

    The usual fast statement does not come here: the listener queues its raw values
    (statement, duration, row count) and ``render_statement`` makes the event on the
    sender thread. ``record`` takes the slow and failed ones, and every statement
    when the logger is a subclass with its own ``event``.
    """

    __slots__ = ("event", "state", "slow_ms", "level", "max_chars", "category", "system", "many")

    def __init__(
        self,
        log: EventLogger,
        state: Instrumentation,
        slow_ms: float,
        level: str | None,
        max_chars: int,
        category: str,
        system: str | None,
    ) -> None:
        self.event = log.event
        self.state = state
        self.slow_ms = slow_ms
        self.level = level
        self.max_chars = max_chars
        self.category = category
        self.system = system
        self.many = _many_styles()
        """SQLAlchemy 2's ``ExecuteStyle`` values of an executemany: the fast path reads the
        context's plain ``execute_style`` attribute, as its ``executemany`` property costs
        more than all the rest of queueing the statement. Empty for SQLAlchemy 1.4."""

    def record(self, statement: Any, elapsed: float, executemany: Any, rowcount: Any, error: Any) -> None:
        """Log it; never raises (a failure is counted in ``state.failures``)."""
        state = self.state
        try:
            if not state.active:
                return
            slow = elapsed * 1000 >= self.slow_ms
            if error is None and not slow and self.level is None:
                return
            text = statement if type(statement) is str else safe_str(statement)
            subject, details = self.describe(text, elapsed, executemany, rowcount)
            if error is not None:
                first_line = (safe_str(error).strip().splitlines() or [""])[0]
                details["error"] = {"type": type(error).__name__, "message": first_line[:1000]}
                message, level = f"{subject} failed: {type(error).__name__}", "error"
            elif slow:
                details["slow"] = True
                details["slow_ms"] = self.slow_ms
                message, level = f"{subject} (slow: {details['duration_ms']:.0f} ms)", "warn"
            else:
                message, level = subject, str(self.level)
            self.event(message, category=self.category, level=level, details=details)
            state.logged += 1
        except Exception as exc:
            state.failed(exc)

    def describe(
        self, text: str, elapsed: float, executemany: Any, rowcount: Any
    ) -> tuple[str, dict[str, Any]]:
        """``"SELECT users"`` and the details every statement's event has."""
        kind, table = statement_shape(text)
        details: dict[str, Any] = {
            "kind": kind,
            "table": table,
            "duration_ms": int(elapsed * 100_000 + 0.5) / 100,  # ms, 2 decimals
            "statement": text if len(text) <= self.max_chars else cut(text, self.max_chars),
        }
        if self.system:
            details["system"] = self.system
        if executemany:
            details["executemany"] = True
        if type(rowcount) is int and rowcount >= 0:
            details["rowcount"] = rowcount
        return (f"{kind} {table}" if table else kind), details


def render_statement(item: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
    """On the sender thread: message and details of a fast statement queued as raw values.

    ``item`` is ``(seq, time, render_statement, category, level, statements, statement,
    elapsed, executemany, rowcount)``.
    """
    _, _, _, _, _, statements, statement, elapsed, executemany, rowcount = item
    if type(executemany) is not bool:  # do_execute's listener queued the context's ``execute_style``
        executemany = executemany in statements.many
    described: tuple[str, dict[str, Any]] = statements.describe(statement, elapsed, executemany, rowcount)
    return described


def _many_styles() -> frozenset[Any]:
    """``ExecuteStyle.EXECUTEMANY`` and ``INSERTMANYVALUES`` (SQLAlchemy 2), else nothing."""
    styles = getattr(library("sqlalchemy.engine.interfaces"), "ExecuteStyle", None)
    if styles is None:
        return frozenset()
    return frozenset(
        getattr(styles, name) for name in ("EXECUTEMANY", "INSERTMANYVALUES") if hasattr(styles, name)
    )
