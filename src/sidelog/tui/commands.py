"""The Ctrl+P palette: every keyboard action, findable by name.

The provider asks the app for its current commands (``PaletteCommands``), so the
palette offers exactly what the keys do, plus one entry per known category and
source, and never an action that is unavailable right now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.markup import escape

from sidelog.tui.sanitize import clip, safe_text

if TYPE_CHECKING:
    from sidelog.tui.app import SidelogApp


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


def app_commands(app: SidelogApp) -> Iterator[PaletteCommand]:
    """The keyed actions of the app and its panes, plus a toggle per known category and source."""
    from sidelog.tui.screens.help import bindings_of
    from sidelog.tui.widgets.errors import ErrorsPane
    from sidelog.tui.widgets.stream import StreamView

    seen: set[str] = set()
    for binding in bindings_of([type(app)]):
        if binding.action in seen:
            continue
        seen.add(binding.action)
        yield PaletteCommand(
            binding.description, f"key: {app.get_key_display(binding)}", _runner(app, binding.action)
        )
    for stream in app.query(StreamView):
        yield PaletteCommand("Follow the newest events", "key: f or end in the stream", stream.resume_follow)
    errors = app.query_one(ErrorsPane)
    in_pane = "key: {} in the errors pane"
    if errors.check_action("resolve", ()):
        yield PaletteCommand(
            "Resolve the highlighted error group", in_pane.format("r"), errors.action_resolve
        )
    if errors.check_action("reopen", ()):
        yield PaletteCommand("Reopen the highlighted error group", in_pane.format("u"), errors.action_reopen)
    yield PaletteCommand("Show resolved error groups too", in_pane.format("t"), errors.action_toggle_view)
    if app.engine is not None:
        counts = app.engine.facet_counts()
        for facet, field in (("category", "categories"), ("source", "sources")):
            for value in sorted(counts[facet]):
                title = f"Toggle {facet}: {safe_text(clip(value, 60))}"
                yield PaletteCommand(title, "filter", _toggler(app, field, value))


def _runner(app: SidelogApp, action: str) -> Callable[[], object]:
    return lambda: app.run_action(action)


def _toggler(app: SidelogApp, field: str, value: str) -> Callable[[], object]:
    return lambda: app.toggle_filter(field, value)
