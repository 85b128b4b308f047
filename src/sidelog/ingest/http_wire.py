"""What aiohttp's own HTTP parser refuses, as one counted refusal instead of a traceback.

A request aiohttp cannot parse (a request line or header over 8 KiB, a bad method, broken
chunked framing) never reaches sidelog's handlers: aiohttp answers ``400`` itself and
logs the parser's exception with its full traceback on the ``aiohttp.server`` logger,
which lands on the terminal ``sidelog serve`` runs in. Such a request is bad input like
any other, so this logger's filter turns it into one line in the refusals list and the
``400`` count of ``GET /v1/health`` (the same place a refused ``POST /v1/events``
goes), and prints nothing. Any other exception (a bug in a handler, answered ``500``)
keeps aiohttp's traceback: that one is worth reporting.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

from sidelog.pipeline.refusals import RefusalLog

__all__ = ["wire_logger"]


class _ParserRefusals(logging.Filter):
    """Record parser refusals in a ``RefusalLog`` and drop their log records."""

    def __init__(self, refusals: RefusalLog) -> None:
        super().__init__()
        self._refusals = refusals

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else None
        where = "HTTP request" if peer is None else f"HTTP request {peer}"
        reason = " ".join(str(exc.message or type(exc).__name__).split())
        self._refusals.add(where, f"malformed HTTP request: {reason}", status=exc.code or 400, counted=False)
        return False


def wire_logger(refusals: RefusalLog) -> logging.Logger:
    """A logger for one HTTP endpoint's aiohttp protocol, counting parser refusals in ``refusals``.

    It hands every other record on to ``aiohttp.server`` (and so to wherever the
    application sends aiohttp's logs). It is made outside logging's registry, so each
    server (tests start many in one process) has its own and none outlives its server.
    """
    logger = logging.Logger("aiohttp.server.sidelog")
    logger.parent = logging.getLogger("aiohttp.server")
    logger.addFilter(_ParserRefusals(refusals))
    return logger
