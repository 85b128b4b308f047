"""App-level messages: past-tense facts about the engine, posted to the app.

Widget-specific messages (a filter toggled, a group chosen) live nested in the widget
that posts them; these are the ones with no widget of origin.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from sidelog.engine import Engine


@dataclass
class EngineStarted(Message):
    """The engine opened the store and bound its endpoints."""

    engine: Engine


@dataclass
class EngineFailed(Message):
    """The engine could not start; ``reason`` is the one line to show the user."""

    reason: str


class EventsCommitted(Message):
    """New committed batches are waiting in the app's live buffer.

    A signal without payload: the handler drains everything buffered, so a newer
    pending signal can replace an older one and a burst becomes one UI update.
    """

    def can_replace(self, message: Message) -> bool:
        """Any pending ``EventsCommitted`` is redundant once this one is queued."""
        return isinstance(message, EventsCommitted)


@dataclass
class TriageFailed(Message):
    """A resolve or reopen did not reach the database."""

    reason: str
