"""The error groups pane: unresolved groups newest first, resolved and reopened by key.

The pane owns its triage: ``r`` asks for an optional note and resolves through the
engine's single writer, ``u`` reopens, ``t`` switches between unresolved and all
groups, Enter posts ``GroupChosen`` so the app can show that group's events. A group
resolved here stays listed (marked) until the view changes, so ``u`` undoes a slip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events, work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.store.models import ErrorGroup
from sidelog.textsafe import clip, safe_text
from sidelog.tui import humanize
from sidelog.tui.commands import PaletteCommand
from sidelog.tui.screens.prompt import PromptScreen

GROUP_LIMIT = 100
"""Most groups listed at once (the newest by activity)."""

_MAX_MESSAGE_CHARS = 400  # enough for two wrapped lines at any sane pane width


class ErrorsPane(OptionList):
    """Error groups with count, last seen and regressed mark; triage keys act on the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "resolve", "Resolve", id="errors.resolve"),
        Binding("u", "reopen", "Reopen", id="errors.reopen"),
        Binding("t", "toggle_view", "Resolved too", id="errors.toggle-view"),
        Binding("enter", "select", "Show events", id="errors.show-events"),
    ]

    show_all: reactive[bool] = reactive(False)
    """List resolved groups too (``t``); otherwise only unresolved ones."""

    @dataclass
    class GroupChosen(Message):
        """The user asked to see the events of one group."""

        group: ErrorGroup

    @dataclass
    class GroupTriaged(Message):
        """A group was resolved or reopened in the database."""

        group: ErrorGroup

    def __init__(
        self,
        *,
        clock: Callable[[], int] = now_ms,
        reload_every: float = 1.0,
        ages_every: float = 15.0,
        id: str | None = None,
    ) -> None:
        """``reload_every``: shortest gap in seconds between two reads of the groups while
        errors keep arriving; ``ages_every``: how often relative ages are redrawn."""
        super().__init__(id=id, markup=False)
        self._clock = clock
        self._reload_every = reload_every
        self._ages_every = ages_every
        self._engine: Engine | None = None
        self._groups: list[ErrorGroup] = []
        self._kept: dict[str, ErrorGroup] = {}
        self._reload_pending = False
        self._last_reload = 0.0
        self._binding_state: tuple[bool, ...] = ()
        self._rebuilding = False
        self._unresolved_total = 0
        self._built: LRUCache[tuple[ErrorGroup, int, str, str], Option] = LRUCache(4 * GROUP_LIMIT)
        """Rows already built: a row rebuilt only when its group, width or shown age changes."""

    # ------------------------------------------------------------------ data

    def attach(self, engine: Engine) -> None:
        """Start showing ``engine``'s groups (called once the engine runs)."""
        self._engine = engine
        self.reload()

    def errors_arrived(self) -> None:
        """New error events were committed: reload soon, at most once per ``reload_every``."""
        if not self._reload_pending:
            self._reload_pending = True
            wait = self._last_reload + self._reload_every - time.monotonic()
            self.set_timer(max(0.05, wait), self.reload)

    @work(name="errors-reload", group="errors", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Fetch the groups for the current view and show them."""
        self._reload_pending = False
        self._last_reload = time.monotonic()
        if self._engine is None:
            return
        status = None if self.show_all else "unresolved"
        groups = await self._engine.groups(status=status, limit=GROUP_LIMIT)
        if len(groups) >= GROUP_LIMIT:  # the title counts them all, not just the listed ones
            self._unresolved_total = await self._engine.reader.unresolved_count()
        else:
            self._unresolved_total = 0
        if not self.show_all:
            listed = {group.fingerprint for group in groups}
            for fingerprint in listed & self._kept.keys():
                del self._kept[fingerprint]  # regressed or reopened: it is live again
            groups.extend(self._kept.values())
        groups.sort(key=_activity, reverse=True)
        self.show_groups(groups)

    def show_groups(self, groups: list[ErrorGroup]) -> None:
        """Replace the listed groups; the cursor stays on its group, or on the newest if it was there.

        A cursor on the top row follows the newest group (like a live tail); anywhere else it
        stays on the group the user moved to, scrolled into view, so ``r`` never acts on a
        row the user cannot see.
        """
        current = self.highlighted_group
        following = self.highlighted in (None, 0)
        self._groups = list(groups)
        options = [self._option(group) for group in self._groups]
        if options != list(self.options):  # under a flood most reloads change nothing visible
            scroll_y = self.scroll_y
            self._rebuilding = True  # the cursor passes through None: not a change worth a footer
            try:
                self.set_options(options)
            finally:
                self._rebuilding = False
            self.scroll_to(y=scroll_y, animate=False, immediate=True)
            listed = {g.fingerprint for g in self._groups}
            if not following and current is not None and current.fingerprint in listed:
                self.highlighted = self.get_option_index(current.fingerprint)
            elif self._groups:
                self.highlighted = 0
        listed_open = sum(1 for group in self._groups if group.status == "unresolved")
        unresolved = max(listed_open, self._unresolved_total)
        shown = f" (newest {listed_open})" if unresolved > listed_open else ""
        label = "Errors" if self.show_all else "Unresolved errors"
        self.border_title = (
            f"{label} · {unresolved} open{shown}" if self.show_all else f"{label} · {unresolved}{shown}"
        )
        self.set_class(unresolved == 0, "-clear")
        self._sync_bindings()

    @property
    def groups(self) -> list[ErrorGroup]:
        """The groups as listed, top to bottom."""
        return list(self._groups)

    @property
    def highlighted_group(self) -> ErrorGroup | None:
        """The group under the cursor."""
        if self.highlighted is None or not 0 <= self.highlighted < len(self._groups):
            return None
        return self._groups[self.highlighted]

    # ------------------------------------------------------------- rendering

    def _option(self, group: ErrorGroup) -> Option:
        now = self._clock()
        width = max(16, (self.scrollable_content_region.width or 34) - 1)
        seen = humanize.age(group.last_seen, now, coarse=True)
        resolved = (
            humanize.age(group.resolved_at or now, now, coarse=True) if group.status == "resolved" else ""
        )
        key = (group, width, seen, resolved)
        option = self._built.get(key)
        if option is None:
            option = Option(self._prompt(group, width, seen, resolved), id=group.fingerprint)
            self._built[key] = option
        return option

    def _prompt(self, group: ErrorGroup, width: int, seen: str, resolved: str) -> Content:
        if group.status == "resolved":
            state: tuple[str, str] = (f"✓ resolved {resolved}", "$text-success")
        elif group.regressed:
            state = ("↻ regressed", "bold $text-warning")
        else:
            state = ("", "")
        room = max(8, 2 * width - len(group.category) - 3)
        message = safe_text(clip(group.message, _MAX_MESSAGE_CHARS))
        if len(message) > room:
            message = message[: room - 1] + "…"
        style = "$text-muted" if group.status == "resolved" else ""
        return Content.assemble(
            (f"×{humanize.count(group.count)}", "bold $text-error" if group.status != "resolved" else style),
            ("  " + seen, "$text-muted"),
            "  ",
            state,
            "\n",
            (safe_text(group.category), "$text-accent"),
            ": ",
            (message, style),
        )

    def rerender(self) -> None:
        """Rebuild the rows (ages are relative, so they go stale)."""
        if self._groups:
            self.show_groups(self._groups)

    def on_mount(self) -> None:
        """Keep relative ages fresh."""
        self.set_interval(self._ages_every, self.rerender, name="errors-ages")

    def on_resize(self, event: events.Resize) -> None:
        """Refit the rows to the new width."""
        self.rerender()

    def watch_show_all(self) -> None:
        """Switching views forgets groups kept after a resolve."""
        self._kept.clear()
        if self._engine is not None:
            self.reload()

    # --------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Resolve only unresolved groups; reopen only resolved ones."""
        group = self.highlighted_group
        if action == "resolve":
            return group is not None and group.status == "unresolved"
        if action == "reopen":
            return group is not None and group.status == "resolved"
        if action == "select":
            return group is not None
        return True

    def watch_highlighted(self, highlighted: int | None) -> None:
        """The cursor moved: the resolve/reopen keys may have changed availability."""
        super().watch_highlighted(highlighted)
        self._sync_bindings()

    def _sync_bindings(self) -> None:
        """Refresh the footer only when a key's availability changed (a refresh recomposes it)."""
        if self._rebuilding:
            return
        state = tuple(bool(self.check_action(action, ())) for action in ("resolve", "reopen", "select"))
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    def action_toggle_view(self) -> None:
        """Show resolved groups too, or only unresolved ones."""
        self.show_all = not self.show_all

    def action_resolve(self) -> None:
        """Ask for an optional note, then resolve the highlighted group."""
        group = self.highlighted_group
        if group is None or group.status != "unresolved":
            return

        def resolve_with(note: str | None) -> None:
            if note is not None:
                self._triage(group.fingerprint, resolve=True, note=note.strip() or None)

        self.app.push_screen(
            PromptScreen(
                "Resolve error group",
                Content.assemble("Resolving: ", safe_text(clip(group.message, 200))),
                placeholder="optional note, Enter to resolve, Escape to cancel",
            ),
            resolve_with,
        )

    def action_reopen(self) -> None:
        """Reopen the highlighted resolved group."""
        group = self.highlighted_group
        if group is not None and group.status == "resolved":
            self._triage(group.fingerprint, resolve=False, note=None)

    def palette_commands(self) -> list[PaletteCommand]:
        """What the command palette offers for the pane (triage only where it applies)."""
        in_pane = "key: {} in the errors pane"
        commands = []
        if self.check_action("resolve", ()):
            commands.append(
                PaletteCommand(
                    "Resolve the highlighted error group", in_pane.format("r"), self.action_resolve
                )
            )
        if self.check_action("reopen", ()):
            commands.append(
                PaletteCommand("Reopen the highlighted error group", in_pane.format("u"), self.action_reopen)
            )
        commands.append(
            PaletteCommand("Show resolved error groups too", in_pane.format("t"), self.action_toggle_view)
        )
        return commands

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a group: ask the app to show its events."""
        event.stop()
        group = self.highlighted_group
        if group is not None:
            self.post_message(self.GroupChosen(group))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed query or triage is shown, not swallowed."""
        if event.state == WorkerState.ERROR and event.worker.group.startswith("errors"):
            error = event.worker.error
            self.notify(f"Error groups: {type(error).__name__}: {error}", severity="error", markup=False)

    @work(name="errors-triage", group="errors-triage", exit_on_error=False)
    async def _triage(self, fingerprint: str, *, resolve: bool, note: str | None) -> None:
        if self._engine is None:
            return
        if resolve:
            updated = await self._engine.resolve(fingerprint, note)
        else:
            updated = await self._engine.reopen(fingerprint)
        if updated is None:
            self.notify("That error group no longer exists.", severity="warning")
        else:
            if resolve and not self.show_all:
                self._kept[fingerprint] = updated
            else:
                self._kept.pop(fingerprint, None)
            if self._unresolved_total:
                self._unresolved_total += -1 if resolve else 1
            # In place, so the cursor stays where the user is looking.
            self.show_groups([updated if g.fingerprint == fingerprint else g for g in self._groups])
            self.post_message(self.GroupTriaged(updated))
        self.reload()  # exclusive: also cancels a reload that read the state before this change


def _activity(group: ErrorGroup) -> tuple[int, int]:
    """Newest activity first, ties broken by the newest event (a stable, total order)."""
    return (group.last_seen, group.last_event_id or 0)
