"""Uncaught exceptions, in the main thread and in other threads, as sidelog errors.

This is the error boundary for a Python process: whatever escapes is logged
with its stack (category ``error``, ``details.uncaught = true``) and then handed to
the hook that was installed before, so the usual traceback still prints. For the
main thread the logger is flushed briefly first, because the process is about to end.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sidelog_client.logger import EventLogger

_FLUSH_ON_CRASH_S = 2.0


def install_excepthook(logger: EventLogger | None = None) -> Callable[[], None]:
    """Log uncaught exceptions (``sys.excepthook`` and ``threading.excepthook``) to sidelog.

    Chains to the hooks installed before. Returns a function that restores them.
    ``KeyboardInterrupt`` is passed on without logging: stopping a program is not an error.
    """
    if logger is None:
        from sidelog_client.logger import default_logger

        logger = default_logger()
    target = logger
    previous_sys = sys.excepthook
    previous_thread = threading.excepthook

    def sys_hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(exc_type, KeyboardInterrupt):
            _report(target, exc, tb, thread=threading.current_thread().name, flush=True)
        previous_sys(exc_type, exc, tb)

    def thread_hook(args: Any) -> None:
        exc = args.exc_value
        if exc is not None and not issubclass(args.exc_type, SystemExit):
            name = args.thread.name if args.thread is not None else None
            _report(target, exc, args.exc_traceback, thread=name, flush=False)
        previous_thread(args)

    sys.excepthook = sys_hook
    threading.excepthook = thread_hook

    def uninstall() -> None:
        """Put back the hooks found at install time (only if ours are still the active ones)."""
        if sys.excepthook is sys_hook:
            sys.excepthook = previous_sys
        if threading.excepthook is thread_hook:
            threading.excepthook = previous_thread

    return uninstall


def _report(
    logger: EventLogger, exc: BaseException, tb: TracebackType | None, *, thread: str | None, flush: bool
) -> None:
    """Log one uncaught exception; a failure here must not hide the original traceback."""
    try:
        if tb is not None and exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        logger.error(exc, uncaught=True, thread=thread)
        if flush:
            # The process is ending: wait for sidelog briefly, and not at all if it is down.
            logger._flush(_FLUSH_ON_CRASH_S, fail_fast=True)
    except Exception:  # the previous hook still prints the traceback
        return
