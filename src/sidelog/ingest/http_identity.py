"""Naming the HTTP client behind every event it sends (``details.client``).

The guard middleware (sidelog/ingest/http.py) learns from the bearer token which
client of the tokens file is asking (``sidelog.ingest.tokens``) and sets
``CLIENT`` for the rest of that request. Every HTTP receiver (events, Sentry,
OTLP, logging, feedback, and any added later) hands its events to the app's
engine, so wrapping that engine in ``ClientStamping`` names the client on all of
them in one place: no receiver can forget, and a client cannot pick its own name.
The wrapper is only installed when the tokens file names a client.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from sidelog.ingest.tokens import TokenTable, stamp_client

if TYPE_CHECKING:
    from sidelog.events import Event
    from sidelog.ingest.sink import EngineAPI
    from sidelog.pipeline.queue import Origin

__all__ = ["CLIENT", "TOKENS", "ClientStamping", "acting_as", "with_client_names"]

TOKENS: web.AppKey[TokenTable] = web.AppKey("sidelog_tokens", TokenTable)
"""Every token the API accepts (shared and named)."""

CLIENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("sidelog_client", default=None)
"""The named client the current request authenticated as (``None``: unnamed)."""


@contextmanager
def acting_as(name: str | None) -> Iterator[None]:
    """Run the request's handler with ``CLIENT`` set to ``name`` (reset afterwards:
    a keep-alive connection serves its next request in the same task)."""
    reset = CLIENT.set(name)
    try:
        yield
    finally:
        CLIENT.reset(reset)


class ClientStamping:
    """An ``EngineAPI`` that names the current request's client on every admitted event."""

    def __init__(self, inner: EngineAPI) -> None:
        self._inner = inner

    def admit(self, events: list[Event], origin: Origin | None) -> None:
        """Stamp, then admit (see ``sidelog.ingest.sink.IngestSink.admit``)."""
        self._stamp(events)
        self._inner.admit(events, origin)

    def try_admit(self, events: list[Event], origin: Origin | None) -> None:
        """Stamp, then admit or raise ``Overloaded``."""
        self._stamp(events)
        self._inner.try_admit(events, origin)

    @staticmethod
    def _stamp(events: list[Event]) -> None:
        name = CLIENT.get()
        if name is not None:
            stamp_client(events, name)

    def __getattr__(self, name: str) -> Any:
        # Everything else (queries, counters, live properties) is the engine's own.
        return getattr(self._inner, name)


def with_client_names(api: EngineAPI, tokens: TokenTable) -> EngineAPI:
    """``api`` wrapped in ``ClientStamping`` when ``tokens`` names any client, else as is."""
    if not tokens.named:
        return api
    return cast("EngineAPI", ClientStamping(api))
