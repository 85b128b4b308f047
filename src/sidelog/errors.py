"""Failures every layer may raise or catch, kept apart so no layer imports another for them.

``StartupError`` is raised by the endpoints in ``sidelog.ingest`` and by the
composition root in ``sidelog.server``; ``Overloaded`` by the engine and caught by
the HTTP routes. Defining them here keeps the import graph one-directional:
ingest never needs the engine or the server just to name an exception.
"""

from __future__ import annotations

import errno

__all__ = ["Overloaded", "StartupError", "startup_reason"]


class StartupError(RuntimeError):
    """An endpoint could not be opened; the message is the one line to show."""


class Overloaded(Exception):
    """The queue is full; the caller should retry later (HTTP: 429 + Retry-After)."""


def startup_reason(exc: BaseException) -> str:
    """Why an endpoint could not be opened, as the tail of a one-line ``StartupError``."""
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return "address already in use (is another sidelog running?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
