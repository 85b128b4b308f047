"""Every timer of the UI in one place, so tests can run it with short ones.

``SidelogApp(settings, intervals=Intervals(...))`` passes them on to the panes. The
defaults suit a person watching; tests pass fractions of a second so that nothing
waits on a one-second timer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Intervals:
    """Seconds between the UI's periodic updates."""

    frame: float = 1 / 15
    """Shortest gap between two live updates of the panes: a burst of batches becomes one
    repaint, and a quiet stream still shows each event as soon as it is committed."""
    flood_frame: float = 1 / 5
    """The gap while a flood arrives (see ``sidelog.tui.live.FLOOD_EVENTS``): a full-screen
    frame costs the event loop milliseconds that ingest needs (measured over 1M events:
    at 15 fps the attached UI cut ingest to 0.74 of headless; at 5 fps, 0.99). Nobody
    reads rows scrolling past faster."""
    counts: float = 0.25
    """How often the sidebar's live counts are brought up to date: a count follows its
    events within a quarter of a second, and a flood pays for four sidebar updates a
    second (only rows whose counts changed are redrawn), not one per batch."""
    health: float = 1.0
    """How often the health bar reads the engine's figures."""
    errors_reload: float = 1.0
    """Shortest gap between two reads of the error groups while errors keep arriving."""
    ages: float = 15.0
    """How often the error groups' relative ages ("3m ago") are redrawn."""


__all__ = ["Intervals"]
