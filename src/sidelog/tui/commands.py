"""The Ctrl+P palette: every keyboard action, findable by name, fast whatever the data.

The palette (``sidelog.tui.palette``) asks the running app for its current commands
(any app with a ``palette_commands`` method, the ``PaletteCommands`` protocol), so it
offers exactly what the keys do, plus whatever the app adds, and never an action that is
unavailable right now; ``search`` picks what it lists for a query. This module knows
no sidelog widget and no sidelog app: the panes build their own ``PaletteCommand``s (and
``TypedCommand``s) and the app gathers them.

Titles can hold event text (a category's name), so two things stay bounded whatever
arrives: matching is linear in the title (``match``; Textual's own fuzzy matcher tries
every alignment, which a title like ``abab…`` and a query like ``aaaaaaaa`` turn into
seconds per title), and at most ``MAX_HITS`` results are handed to the palette per
keystroke (``MAX_DISCOVERED`` before anything is typed). A ``TypedCommand`` turns the
typed text itself into a command ("only category <typed>"), so any name can be used,
listed or not.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from textual.app import App
from textual.content import Content
from textual.dom import DOMNode

from sidelog.textsafe import clip, safe_text
from sidelog.tui.screens.help import bindings_of

MAX_HITS = 24
"""Results handed to the palette per keystroke: the best matches (the list shows a dozen).
Every result is laid out and wrapped by the palette on each key, so a long list is paid for
on every keystroke (measured at 200,000 distinct categories: ``sidelog.bench.distinct``)."""
MAX_DISCOVERED = 40
"""Entries listed before anything is typed (the app's own come first); the rest are found
by typing, which is why this is small: the palette lays out every entry it is given."""
TYPED_SCORE = 0.55
"""Where a ``TypedCommand`` ranks: below titles containing the query, above scattered matches."""
_MATCH_STYLE = "reverse"


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    """One palette entry: what it is called, what it does, and the key that does it too."""

    title: str
    """Plain text (may contain sanitized event text; never parsed as markup)."""
    help: str
    run: Callable[[], object]


@dataclass(frozen=True, slots=True)
class TypedCommand:
    """A palette entry made of whatever is typed: ``title`` with ``{}`` where the text goes.

    Offered for any non-empty query, so a name that no list holds (a category counted
    under "(other)") can still be acted on.
    """

    title: str
    """A ``str.format`` template with one ``{}``: the typed text (sanitized, cut to 60)."""
    help: str
    run: Callable[[str], object]
    """Called with the typed text, stripped."""

    def title_for(self, query: str) -> str:
        """The entry's title for ``query``."""
        return self.title.format(safe_text(clip(query.strip(), 60)))


PaletteEntry = PaletteCommand | TypedCommand
"""What an app's ``palette_commands`` may yield."""


@runtime_checkable
class PaletteCommands(Protocol):
    """An app that can list its palette commands."""

    def palette_commands(self) -> Iterable[PaletteEntry]:
        """The commands available right now."""
        ...


@dataclass(frozen=True, slots=True)
class Found:
    """One result of ``search``: the title with its matches highlighted, and what runs."""

    score: float
    title: Content
    help: str
    """Plain text (never markup)."""
    run: Callable[[], object]


def search(query: str, entries: Sequence[PaletteEntry]) -> list[Found]:
    """The ``MAX_HITS`` best matches of ``query``, and one entry per ``TypedCommand`` for the
    text itself, best first (among equals, the order of ``entries``)."""
    scored = (
        (match(query, entry.title), index, entry)
        for index, entry in enumerate(entries)
        if isinstance(entry, PaletteCommand)
    )
    best = heapq.nlargest(MAX_HITS, (item for item in scored if item[0][0] > 0), key=_rank)
    found = [
        Found(score, _highlight(command.title, offsets), command.help, command.run)
        for (score, offsets), _, command in best
    ]
    if query.strip():
        typed = (entry for entry in entries if isinstance(entry, TypedCommand))
        found += [
            Found(
                TYPED_SCORE, Content(entry.title_for(query)), entry.help, _typed_runner(entry, query.strip())
            )
            for entry in typed
        ]
    found.sort(key=lambda item: -item.score)  # stable: equal scores keep their order
    return found


def _rank(item: tuple[tuple[float, list[int]], int, PaletteCommand]) -> tuple[float, int]:
    """Best score first; among equals, the app's order."""
    return item[0][0], -item[1]


def _typed_runner(command: TypedCommand, text: str) -> Callable[[], object]:
    return lambda: command.run(text)


def match(query: str, title: str) -> tuple[float, list[int]]:
    """Score (0 to 1) and highlighted offsets of ``query`` in ``title``, in one pass over the title.

    Case-insensitive. The whole query (runs of spaces as one) inside the
    title scores from 0.6 (more for a word start and for a shorter title); its letters
    (spaces ignored) in order but apart score below 0.5, the tighter the better; else 0.
    """
    phrase = " ".join(query.lower().split())
    needle = phrase.replace(" ", "")
    if not needle:
        return 0.0, []
    hay = title.lower()
    if hay == phrase:
        return 1.0, list(range(len(title)))
    at = hay.find(phrase)
    if at >= 0:
        needle = phrase
        start_of_word = at == 0 or not hay[at - 1].isalnum()
        score = 0.6 + 0.25 * len(needle) / len(hay) + (0.1 if start_of_word else 0.0)
        return min(score, 0.99), list(range(at, at + len(needle)))
    offsets: list[int] = []
    position = 0
    for letter in needle:
        position = hay.find(letter, position)
        if position < 0:
            return 0.0, []
        offsets.append(position)
        position += 1
    span = offsets[-1] - offsets[0] + 1
    return 0.1 + 0.35 * len(needle) / span, offsets


def _highlight(title: str, offsets: list[int]) -> Content:
    """The title as plain ``Content`` (it may hold event text: never markup), matches reversed."""
    content = Content(title)
    for offset in offsets:
        content = content.stylize(_MATCH_STYLE, offset, offset + 1)
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


__all__ = [
    "Found",
    "PaletteCommand",
    "PaletteCommands",
    "PaletteEntry",
    "TypedCommand",
    "keyed_commands",
    "match",
    "search",
]
