"""Capturing an exception on the app's thread, cheaply, for formatting later.

``TracebackException(lookup_lines=False)`` copies what a traceback needs without
reading any source file; the sender thread formats it (and reads the lines) when it
encodes the event. Imported on the first ``EventLogger.error`` call, not before.
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType


class ExceptionInfo:
    """An exception captured on the app's thread, formatted later on the sender's.

    ``TracebackException(lookup_lines=False)`` copies what the traceback needs
    without reading source files; the lines are read when ``to_wire`` formats it.
    """

    __slots__ = ("type_name", "message", "_exception", "_stack")

    def __init__(
        self,
        type_name: str,
        message: str,
        exception: traceback.TracebackException | None,
        stack: traceback.StackSummary | None,
    ) -> None:
        self.type_name = type_name
        self.message = message
        self._exception = exception
        self._stack = stack

    @classmethod
    def capture(cls, exc: BaseException, tb: TracebackType | None = None, *, skip: int = 0) -> ExceptionInfo:
        """Capture ``exc``; one never raised gets the caller's stack instead of a traceback."""
        exc_type = type(exc)
        module = getattr(exc_type, "__module__", "builtins")
        name = (
            exc_type.__qualname__
            if module in ("builtins", "__main__")
            else f"{module}.{exc_type.__qualname__}"
        )
        message = safe_str(exc)
        if tb is not None or exc.__traceback__ is not None:
            captured = traceback.TracebackException(
                exc_type, exc, tb or exc.__traceback__, lookup_lines=False, capture_locals=False
            )
            return cls(name, message, captured, None)
        frame = sys._getframe(skip + 1)
        stack = traceback.StackSummary.extract(traceback.walk_stack(frame), limit=64, lookup_lines=False)
        stack.reverse()
        return cls(name, message, None, stack)

    def to_wire(self) -> dict[str, str]:
        """``{"type", "message", "stack"}``: the server fingerprints on type and top frame."""
        try:
            if self._exception is not None:
                stack = "".join(self._exception.format())
            elif self._stack is not None:
                stack = "Traceback (most recent call last):\n" + "".join(self._stack.format())
                stack += f"{self.type_name}: {self.message}\n"
            else:
                stack = ""
        except Exception as exc:  # a broken __str__ deep in a chain, a vanished file…
            stack = f"(stack could not be formatted: {type(exc).__name__})"
        return {"type": self.type_name, "message": self.message, "stack": stack}


def safe_str(value: object) -> str:
    """``str(value)`` that never raises: an app object's broken ``__str__`` must not break logging."""
    try:
        return str(value)
    except Exception:
        try:
            return repr(value)
        except Exception:
            return f"<unprintable {type(value).__name__}>"
