"""App-level messages: past-tense facts about the engine, posted to the app.

Widget-specific messages (a filter toggled, a group chosen) live nested in the widget
that posts them; these are the ones with no widget of origin.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from sidelog.engine import Engine
from sidelog.pipeline.batcher import CommittedBatch


@dataclass
class EngineStarted(Message):
    """The engine opened the store and bound its endpoints."""

    engine: Engine


@dataclass
class EngineFailed(Message):
    """The engine could not start; ``reason`` is the one line to show the user."""

    reason: str


@dataclass
class EventsCommitted(Message):
    """One frame's worth of committed events (``LiveFeed`` merged and paced them)."""

    batch: CommittedBatch
