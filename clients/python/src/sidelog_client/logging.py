"""``SidelogHandler``: send stdlib ``logging`` records to sidelog.

::

    import logging
    from sidelog_client.logging import SidelogHandler   # or sidelog.logging, with the full tool
    logging.getLogger().addHandler(SidelogHandler())
    logging.getLogger("shop").warning("low stock", extra={"category": "payment", "user_id": "u1"})

A record keeps its logger name, level (WARNING → warn, CRITICAL → error, DEBUG →
debug), message, exception with stack (``exc_info``, grouped by type and top frame
like any error), ``stack_info``, and where it was logged (pathname, lineno, funcName)
in ``details``. ``extra`` keys named like event fields (``category``, ``user_id``,
``session_id``, ``url``, ``show_to_user``, ``user_message``) set those fields; other
``extra`` keys are kept in ``details``. Emitting only enqueues (see ``EventLogger``).

(Inside ``sidelog_client`` every import is absolute, so this module never shadows
the standard library's ``logging``.)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sidelog_client.logger import EventLogger

__all__ = ["SidelogHandler", "level_name"]

_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_FIELD_ATTRIBUTES = ("user_id", "session_id", "url", "show_to_user", "user_message")


def level_name(levelno: int) -> str:
    """sidelog's level for a ``logging`` level number (custom levels fall into the nearest below)."""
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


class SidelogHandler(logging.Handler):
    """A ``logging.Handler`` that turns records into sidelog events.

    ``logger`` defaults to the process-wide ``default_logger()``;
    ``category`` is used for records that do not name one in ``extra``.
    """

    def __init__(
        self, logger: EventLogger | None = None, level: int = logging.NOTSET, *, category: str = "general"
    ) -> None:
        super().__init__(level)
        self._logger = logger
        self.category = category

    @property
    def logger(self) -> EventLogger:
        """The ``EventLogger`` records go to."""
        if self._logger is None:
            from sidelog_client.logger import default_logger

            self._logger = default_logger()
        return self._logger

    def emit(self, record: logging.LogRecord) -> None:
        """Enqueue one record; a failure goes to ``handleError``, never to the caller."""
        try:
            attributes = record.__dict__
            details: dict[str, Any] = {
                "logger": record.name,
                "pathname": record.pathname,
                "lineno": record.lineno,
                "funcName": record.funcName,
                "thread": record.threadName,
                "process": record.process,
            }
            if record.stack_info:
                details["stack_info"] = record.stack_info
            for key, value in attributes.items():
                if key in _STANDARD_ATTRIBUTES or key == "category" or key in _FIELD_ATTRIBUTES:
                    continue
                if key == "details" and isinstance(value, dict):
                    for inner, inner_value in value.items():
                        details.setdefault(inner, inner_value)
                else:
                    details.setdefault(key, value)
            fields = {name: attributes[name] for name in _FIELD_ATTRIBUTES if name in attributes}
            category = attributes.get("category") or self.category
            level = level_name(record.levelno)
            message = record.getMessage()
            exc = record.exc_info[1] if record.exc_info else None
            if exc is not None:
                if exc.__traceback__ is None and record.exc_info and record.exc_info[2] is not None:
                    exc = exc.with_traceback(record.exc_info[2])
                self.logger.error(
                    exc, message=message, level=level, category=category, details=details, **fields
                )
            else:
                self.logger.event(message, level=level, category=category, details=details, **fields)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
