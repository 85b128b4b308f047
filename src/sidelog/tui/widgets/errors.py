"""The error groups pane: every unresolved group, newest first, resolved and reopened by key.

The pane owns its triage: ``r`` asks for an optional note and resolves through the
engine's single writer, ``u`` reopens, ``t`` switches between unresolved and all
groups, ``o`` cycles the order (last seen, count, first seen, regressed), Enter posts
``GroupChosen`` so the app can show that group's events. A group resolved here stays
listed (marked) until the view changes, so ``u`` undoes a slip.

Groups are read a page at a time into a window of at most 300 rows (tui/widgets/
errors_rows.py): the first page when errors arrive, the next or previous one when the
cursor nears an end of the window, the last one on ``end``, so the pane costs the same
over 10,000 groups as over 300. Each row names the exception type of the group's
newest event, read for the rows of each page only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events, work
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.store.group_pages import DEFAULT_SORT, SORTS, GroupQuery
from sidelog.store.models import ErrorGroup
from sidelog.textsafe import clip, safe_text
from sidelog.tui import humanize
from sidelog.tui.commands import PaletteCommand
from sidelog.tui.repro import copy_bundle
from sidelog.tui.screens.prompt import PromptScreen
from sidelog.tui.widgets.errors_keys import ERRORS_BINDINGS, FeedbackKey, palette_commands
from sidelog.tui.widgets.errors_pages import PageReader
from sidelog.tui.widgets.errors_rows import LoadedGroups, RowExtras, order, pane_title, prompt
from sidelog.tui.widgets.errors_watch import WatchTriage

GROUP_LIMIT = 100
"""Groups read per page (the first page is read again whenever errors arrive)."""
MORE_AHEAD = 40
"""Read the next page once the cursor is this close to the end of the list."""


class ErrorsPane(WatchTriage, FeedbackKey):
    """Error groups with count, last seen and regressed mark; triage keys act on the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = ERRORS_BINDINGS

    show_all: reactive[bool] = reactive(False)
    """List resolved groups too (``t``); otherwise only unresolved ones."""
    sort: reactive[str] = reactive(DEFAULT_SORT)
    """The order of the rows (``o``): a key of ``SORTS`` in store/group_pages.py."""

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
        self._loaded = LoadedGroups(DEFAULT_SORT)
        self._pages: PageReader | None = None
        self._kept: dict[str, ErrorGroup] = {}
        self._reload_pending = False
        self._last_reload = 0.0
        self._binding_state: tuple[bool, ...] = ()
        self._rebuilding = False
        self._unresolved_total = 0
        self._built: LRUCache[tuple[ErrorGroup, int, str, str, str, RowExtras], Option] = LRUCache(20_000)
        """Rows already built: a row rebuilt only when its group, width or shown age changes."""

    # ------------------------------------------------------------------ data

    def attach(self, engine: Engine) -> None:
        """Start showing ``engine``'s groups (called once the engine runs)."""
        self._engine = engine
        self._pages = PageReader(engine, self._clock)
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
        if self._engine is None or self._pages is None:
            return
        if self._bell is None:
            await self.start_watching()
        sort = self.sort
        query = self._query()
        query["sort"] = sort
        page, more = await self._pages.page(limit=GROUP_LIMIT, **query)
        self.snoozed = 0
        if not self.show_all:
            await self.count_snoozed()
        if more:  # the title counts them all, not just the listed ones
            self._unresolved_total = await self._engine.reader.unresolved_count() - self.snoozed
        else:
            self._unresolved_total = 0
        await self.check_regressions()
        if self._loaded.sort != sort:
            self._loaded = LoadedGroups(sort)
        self._loaded.first_page(page, more)  # unless the window is further down
        self.show_groups(self._listed())
        await self._pages.read_extras(page)  # sparklines, reports, snoozes: drawn once read
        self.rerender()

    def _query(self) -> GroupQuery:
        """The groups of the view: every one (``t``), or the unresolved ones not snoozed."""
        if self.show_all:
            return {"status": None}
        return {"status": "unresolved", "hide_snoozed_at": self._clock()}

    def _listed(self) -> list[ErrorGroup]:
        """The groups read so far, plus those resolved here (kept until the view changes)."""
        groups = list(self._loaded.groups)
        if not self.show_all:
            listed = {group.fingerprint for group in groups}
            for fingerprint in listed & self._kept.keys():
                del self._kept[fingerprint]  # regressed or reopened: it is live again
            groups.extend(self._kept.values())
            groups.sort(key=lambda group: order(group, self.sort), reverse=True)
        return groups

    @work(name="errors-more", group="errors-more", exclusive=True, exit_on_error=False)
    async def load_more(self, where: str = "after") -> None:
        """Move the window: the page ``after`` or ``before`` it, or the ``last`` page."""
        loaded = self._loaded
        cursor = loaded.prev if where == "before" else loaded.next
        if self._pages is None or (cursor is None and where != "last"):
            return
        query = self._query()
        query["sort"], query["backwards"] = loaded.sort, where == "last"
        query["after" if where == "after" else "before"] = cursor if where != "last" else None
        page, more = await self._pages.page(limit=GROUP_LIMIT, **query)
        if loaded is not self._loaded or cursor != (loaded.prev if where == "before" else loaded.next):
            return  # the view changed or a reload moved on meanwhile: the next move reads again
        {"after": loaded.later_page, "before": loaded.earlier_page, "last": loaded.last_page}[where](
            page, more
        )
        self.show_groups(self._listed())
        if where == "last" and self._groups:
            self.highlighted = len(self._groups) - 1
        await self._pages.read_extras(page)
        self.rerender()

    def action_last(self) -> None:
        """``end``: the last group of all (its page read backwards), not the window's last."""
        if self._loaded.next is not None:
            self.load_more("last")
        else:
            super().action_last()

    def action_first(self) -> None:
        """``home``: the first group of all, the window back at the top."""
        if self._loaded.prev is not None:
            self._loaded = LoadedGroups(self.sort)
            self.highlighted = None
            self.reload()
        else:
            super().action_first()

    def show_groups(self, groups: list[ErrorGroup]) -> None:
        """Replace the listed groups; the cursor stays on its group, or on the newest if it was there.

        A cursor on the top row follows the newest group (like a live tail); anywhere else it
        stays on the group the user moved to, scrolled into view, so ``r`` never acts on a
        row the user cannot see.
        """
        current = self.highlighted_group
        following = self.highlighted in (None, 0) and self._loaded.prev is None
        self._groups = list(groups)
        options = [self._option(group) for group in self._groups]
        if options != list(self.options):  # under a flood most reloads change nothing visible
            scroll_y = self.scroll_y
            # The cursor passes through None: not a change worth a footer or a page read.
            self._rebuilding = True
            try:
                self.set_options(options)
                self.scroll_to(y=scroll_y, animate=False, immediate=True)
                listed = {g.fingerprint for g in self._groups}
                if not following and current is not None and current.fingerprint in listed:
                    self.highlighted = self.get_option_index(current.fingerprint)
                elif self._groups:
                    self.highlighted = 0
            finally:
                self._rebuilding = False
        listed_open = sum(1 for group in self._groups if group.status == "unresolved")
        unresolved = max(listed_open, self._unresolved_total)
        at_top = self._loaded.prev is None
        self.border_title = pane_title(
            self.show_all, self.sort, unresolved, listed_open, at_top, self.snoozed
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
        kind = self._pages.kind(group) if self._pages is not None else ""
        extras = self._pages.extras(group) if self._pages is not None else RowExtras()
        key = (group, width, seen, resolved, kind, extras)
        option = self._built.get(key)
        if option is None:
            option = Option(prompt(group, width, seen, resolved, kind, extras), id=group.fingerprint)
            self._built[key] = option
        return option

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
        """Switching views forgets groups kept after a resolve and the pages read."""
        self._kept.clear()
        self._loaded = LoadedGroups(self.sort)
        if self._engine is not None:
            self.reload()

    def watch_sort(self) -> None:
        """A new order starts again from its first page, the cursor on the top row."""
        self._loaded = LoadedGroups(self.sort)
        self.highlighted = None
        if self._engine is not None:
            self.reload()

    def action_cycle_sort(self) -> None:
        """Order by the next key: last seen, count, first seen, regressed."""
        names = list(SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]

    # --------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Resolve only unresolved groups; reopen only resolved ones."""
        group = self.highlighted_group
        if action == "resolve":
            return group is not None and group.status == "unresolved"
        if action == "reopen":
            return group is not None and group.status == "resolved"
        if action in ("select", "copy_bundle"):
            return group is not None
        if action == "snooze":
            return self.snooze_allowed()
        return self.bulk_allowed(action)

    def watch_highlighted(self, highlighted: int | None) -> None:
        """The cursor moved: the resolve/reopen keys may have changed availability, and
        near the end of the list the next page is read."""
        super().watch_highlighted(highlighted)
        self._sync_bindings()
        if highlighted is None or self._rebuilding:
            return
        if highlighted >= len(self._groups) - MORE_AHEAD and self._loaded.next is not None:
            self.load_more("after")
        elif highlighted < MORE_AHEAD and self._loaded.prev is not None:
            self.load_more("before")

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

    def action_copy_bundle(self) -> None:
        """Copy the repro bundle of the highlighted group's newest event (tui/repro.py)."""
        if (group := self.highlighted_group) is not None:
            copy_bundle(self, fingerprint=group.fingerprint)

    def palette_commands(self) -> list[PaletteCommand]:
        """What the command palette offers for the pane (triage only where it applies)."""
        return palette_commands(self)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a group: ask the app to show its events."""
        event.stop()
        group = self.highlighted_group
        if group is not None:
            self.post_message(self.GroupChosen(group))

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
            self._loaded.replace(updated)
            self.show_groups([updated if g.fingerprint == fingerprint else g for g in self._groups])
            self.post_message(self.GroupTriaged(updated))
        self.reload()  # exclusive: also cancels a reload that read the state before this change
