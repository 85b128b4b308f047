"""The Ctrl+P palette: every keyboard action, findable by name.

The provider asks the running app for its current commands (any app with a
``palette_commands`` method, the ``PaletteCommands`` protocol), so the palette offers
exactly what the keys do, plus whatever the app adds, and never an action that is
unavailable right now. This module knows no sidelog widget and no sidelog app: the
panes build their own ``PaletteCommand``s and the app gathers them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.dom import DOMNode
from textual.markup import escape

from sidelog.tui.screens.help import bindings_of


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    """One palette entry: what it is called, what it does, and the key that does it too."""

    title: str
    """Plain text (may contain sanitized event text; never parsed as markup)."""
    help: str
    run: Callable[[], object]


@runtime_checkable
class PaletteCommands(Protocol):
    """An app that can list its palette commands."""

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """The commands available right now."""
        ...


class SidelogCommands(Provider):
    """Palette provider over the app's ``palette_commands``."""

    def _commands(self) -> list[PaletteCommand]:
        app = self.app
        return list(app.palette_commands()) if isinstance(app, PaletteCommands) else []

    async def discover(self) -> Hits:
        """Everything, when nothing is typed yet."""
        for command in self._commands():
            yield DiscoveryHit(Content(command.title), command.run, help=escape(command.help))

    async def search(self, query: str) -> Hits:
        """Fuzzy match on the titles."""
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, _highlight(matcher, command.title), command.run, help=escape(command.help))


def _highlight(matcher: Matcher, title: str) -> Content:
    """``Matcher.highlight`` parses its input as markup; titles may hold event text, so not that."""
    content = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def keyed_commands(app: App[Any], classes: Iterable[type[DOMNode]]) -> Iterator[PaletteCommand]:
    """One command per described binding of ``classes`` (each action once), run by ``app``."""
    seen: set[str] = set()
    for binding in bindings_of(classes):
        if binding.action in seen:
            continue
        seen.add(binding.action)
        yield PaletteCommand(
            binding.description, f"key: {app.get_key_display(binding)}", _runner(app, binding.action)
        )


def _runner(app: App[Any], action: str) -> Callable[[], object]:
    return lambda: app.run_action(action)


__all__ = ["PaletteCommand", "PaletteCommands", "SidelogCommands", "keyed_commands"]
