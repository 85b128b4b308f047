"""Textual's ``Footer``, rebuilt only when the keys it shows changed.

``Footer`` rebuilds every key widget (and styles them all) each time the screen says
its bindings changed, and opening a screen says so several times in a row (the screen
stack changes, focus moves, callbacks refresh them) mostly without any change to what
the footer shows. Opening the event detail view rebuilt its twenty keys five times, a
large share of what the view cost to open. This footer queues one rebuild per burst of
notices and skips it when the keys shown (key, action, description, enabled, tooltip)
are the ones it already shows.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class QuietFooter(Footer):
    """A ``Footer`` that rebuilds only for a real change (same looks, same keys)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rebuild_queued = False
        self._shown: tuple[Any, ...] | None = None
        """What the current key widgets were built from."""

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Queue one rebuild for after the next refresh, unless one is queued already."""
        self._bindings_ready = True
        if self._rebuild_queued or not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_queued = True
            self.call_after_refresh(self._rebuild)

    def keys_shown(self) -> tuple[Any, ...]:
        """What a rebuild would show now (the screen's active bindings, as ``Footer`` reads them)."""
        return tuple(
            (key, binding.action, binding.description, binding.show, enabled, tooltip, binding.group)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
        )

    async def _rebuild(self) -> None:
        self._rebuild_queued = False
        if not self.is_attached:
            return
        shown = self.keys_shown()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()


__all__ = ["QuietFooter"]
