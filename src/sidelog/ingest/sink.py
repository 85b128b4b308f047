"""What ingest needs from the rest of sidelog, as structural types (``typing.Protocol``).

The endpoints in this package move bytes; everything they hand over or ask about
goes through these interfaces, which ``sidelog.engine.Engine`` satisfies without
naming them. So ingest never imports the engine, the engine never imports an
endpoint, and ``sidelog.server`` is the one place that puts the two together.

* ``IngestSink``: what one socket connection needs: admit, reject, sync, the
  queue-full check and a way to wait for room, the limits, the counters and
  connection tracking.
* ``EngineAPI``: the HTTP API's wider view: the sink plus queries, triage, health
  and live subscriptions.
* ``Connection`` and ``Listener``: what the engine, in turn, needs from the
  endpoints at shutdown.
* ``PruneOutcome``: what ``POST /v1/prune`` reports, at least.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from typing import Any, Unpack

    from sidelog.events import Event, Limits
    from sidelog.filters import EventFilter
    from sidelog.health import Health
    from sidelog.pipeline.counters import Counters
    from sidelog.pipeline.live import Subscription
    from sidelog.pipeline.queue import Origin
    from sidelog.store.group_pages import GroupQuery
    from sidelog.store.models import ErrorGroup

__all__ = ["Connection", "EngineAPI", "IngestSink", "Listener", "PruneOutcome"]


class Connection(Protocol):
    """An open ingest connection, as the engine sees it during shutdown."""

    def stop_reading(self) -> None:
        """Read nothing more, but keep the connection open for pending replies."""

    def close(self) -> None:
        """Close the connection now."""


class Listener(Protocol):
    """One bound endpoint: how health names it and how shutdown closes it."""

    @property
    def kind(self) -> str:
        """``tcp``, ``unix`` or ``http``."""

    @property
    def address(self) -> str:
        """The real bound address (``127.0.0.1:7411``, a socket path)."""

    async def close(self) -> None:
        """Stop accepting new connections (shutdown's first step)."""

    async def wait_closed(self) -> None:
        """Wait until the listening sockets are gone (after the connections closed)."""


class PruneOutcome(Protocol):
    """What one retention pass removed (the engine's result may carry more figures)."""

    @property
    def deleted(self) -> int:
        """Events deleted."""

    @property
    def archived(self) -> int:
        """Errors archived before their deletion."""


class IngestSink(Protocol):
    """Where a connection hands its events; never blocks the caller."""

    @property
    def limits(self) -> Limits:
        """The size limits every decoded line or body must respect."""

    @property
    def counters(self) -> Counters:
        """Process-wide counters (refusals, dropped replies) the endpoints add to."""

    @property
    def queue_full(self) -> bool:
        """True while producers should stop reading (sockets) or answer 429 (HTTP)."""

    def when_room(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the queue has drained enough to read again."""

    def admit(self, events: list[Event], origin: Origin | None) -> None:
        """Filter, rate-limit and queue validated events (never refuses for room)."""

    def try_admit(self, events: list[Event], origin: Origin | None) -> None:
        """``admit``, or raise ``sidelog.errors.Overloaded`` when the queue is full."""

    def reject(self, count: int, origin: Origin | None = None) -> None:
        """Count input that failed validation."""

    def request_sync(self, origin: Origin, callback: Callable[[Origin], None]) -> None:
        """Call ``callback(origin)`` once everything ``origin`` queued so far is written."""

    async def wait_committed(self, origin: Origin) -> Origin:
        """Wait until everything ``origin`` queued so far is written."""

    def track_connection(self, connection: Connection, opened: bool) -> None:
        """Count a connection in or out, so shutdown can stop and close it."""


class EngineAPI(IngestSink, Protocol):
    """The HTTP API's view: the sink plus what its query, triage and stream routes call."""

    def system_event(self, level: str, message: str, details: dict[str, Any] | None = None) -> None:
        """Record one of sidelog's own events (``source=system``)."""

    def subscribe(self, maxsize: int = 1024) -> Subscription:
        """A live subscription to committed batches."""

    async def events(
        self,
        flt: EventFilter,
        *,
        limit: int = 100,
        before: int | None = None,
        after: int | None = None,
    ) -> list[Event]:
        """Stored events matching ``flt``, keyset-paged by id."""

    async def groups(self, *, limit: int = 200, **query: Unpack[GroupQuery]) -> list[ErrorGroup]:
        """One page of error groups, newest activity first unless ``sort`` says otherwise."""

    async def resolve(self, fingerprint: str, note: str | None = None) -> ErrorGroup | None:
        """Resolve a group; ``None`` if unknown."""

    async def reopen(self, fingerprint: str) -> ErrorGroup | None:
        """Reopen a group; ``None`` if unknown."""

    async def health(self) -> Health:
        """The figures of ``GET /v1/health``."""

    async def prune(self) -> PruneOutcome:
        """Apply retention and the size budget now (``POST /v1/prune``)."""
