"""The terminal UI: composes the panes, runs the engine on Textual's loop, routes events.

``SidelogApp(settings)`` is the whole UI; ``sidelog.tui.run.run_app`` (what ``cli.py``
calls when ``sidelog`` has no sub-command) runs it and prints how it ended. The app
holds the one piece of shared state, the active ``EventFilter``; each pane owns its
behaviour and reports facts back as messages. Live events reach the panes through
one throttle, the ``LiveFeed`` (``sidelog.tui.live``); every timer comes from the
``Intervals`` given to the app (``sidelog.tui.intervals``). The first frame needs no
SQLAlchemy, engine or endpoint module: they load after it (``sidelog.tui.startup``), so
every engine-side name here is imported where it is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from sidelog.config import Settings
from sidelog.errors import StartupError
from sidelog.events import now_ms
from sidelog.filters import EventFilter
from sidelog.pipeline.memory import freeze_start_up, release_heap
from sidelog.store.errors import StoreError
from sidelog.store.first_page import read_first_page
from sidelog.tui.commands import PaletteEntry, keyed_commands
from sidelog.tui.filter_actions import FilterActions
from sidelog.tui.held import HeldBatches
from sidelog.tui.histogram_actions import HistogramActions
from sidelog.tui.intervals import Intervals
from sidelog.tui.keys import APP_BINDINGS
from sidelog.tui.palette import PaletteActions
from sidelog.tui.pane_actions import STREAM_PLACES, PaneActions
from sidelog.tui.screens.help import HelpScreen
from sidelog.tui.screens.main import MainScreen
from sidelog.tui.screens.rejected import open_rejected
from sidelog.tui.styles import stylesheet_path
from sidelog.tui.timeline_actions import TimelineActions
from sidelog.tui.widgets.first_page import FirstPage
from sidelog.tui.widgets.healthbar import HealthBar
from sidelog.tui.widgets.quiet_footer import QuietFooter
from sidelog.tui.widgets.sidebar import FilterSidebar
from sidelog.tui.widgets.standin import StandIn
from sidelog.tui.widgets.stream_history import FIRST_PAGE
from sidelog.tui.widgets.summary import FilterSummary

if TYPE_CHECKING:
    from sidelog.engine import Engine, StopReport, Subscription
    from sidelog.pipeline.batcher import CommittedBatch
    from sidelog.pipeline.counters import Counters
    from sidelog.tui.messages import EngineFailed, EngineStarted, EventsCommitted
    from sidelog.tui.widgets.errors import ErrorsPane
    from sidelog.tui.widgets.stream import StreamView


class SidelogApp(PaletteActions, FilterActions, TimelineActions, HistogramActions, PaneActions):
    """sidelog's terminal UI over one engine it starts, feeds from, and drains on quit."""

    TITLE = "sidelog"
    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], int] = now_ms,
        intervals: Intervals | None = None,
        handle_signals: bool = False,
    ) -> None:
        """``clock`` dates relative ages and ``intervals`` sets every timer (tests pass their
        own of both); ``handle_signals`` drains on SIGTERM and SIGINT."""
        super().__init__(css_path=stylesheet_path())
        self.settings = settings
        self.engine: Engine | None = None
        self.ready = asyncio.Event()
        """Set once the engine runs and the stream is mounted (tests await it)."""
        self.failure: str | None = None
        """Why the engine could not start, shown by ``run_app`` after the UI closes."""
        self.stop_report: StopReport | None = None
        """What the drain on quit managed (``None`` until the engine stopped)."""
        self.stop_counters: Counters | None = None
        """The engine's counters at stop, for the summary line."""
        self._clock = clock
        self._intervals = intervals or Intervals()
        self._handle_signals = handle_signals
        self._subscription: Subscription | None = None
        self._quitting = False
        self._started: Engine | None = None
        self._counts_seen = -1
        self._lagged_seen = 0
        self._held = HeldBatches()

    def get_default_screen(self) -> MainScreen:
        """The main screen, which says when another screen stops covering it."""
        return MainScreen(id="_default")

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        """Sidebar left, stream centre, errors right, health bar and footer below. The stream's
        place shows the newest stored events until the engine's stream takes over, and the
        panes whose modules need the engine are stand-ins until then (tui/startup.py)."""
        newest = read_first_page(self.settings.store, FIRST_PAGE)
        with Horizontal(id="body"):
            yield FilterSidebar(id="sidebar")
            with Vertical(id="centre"):
                yield FilterSummary(id="summary")
                yield StandIn("histogram: counting…", id="histogram", classes="-histogram")
                if newest:
                    yield FirstPage(newest, clock=self._clock, id="first-page")
                else:
                    yield Static("starting sidelog…", id="stream-placeholder")
            yield StandIn(id="errors")
        yield HealthBar(id="health")
        yield QuietFooter()  # not rebuilt by every screen pushed over it (the palette's open)

    def on_mount(self) -> None:
        """Give the first page the keyboard, as the stream will have it; the engine starts
        once the first frame is on screen (``on_ready``)."""
        self.query_one("#sidebar", FilterSidebar).border_title = "Filters"
        for page in self.query(FirstPage):
            page.focus()
        self.watch(self.screen, "focused", self._focus_moved, init=False)
        if self._handle_signals:  # `kill` and `kill -INT` drain like `q` (Ctrl+C is a key in raw mode)
            for signum in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(signum, self.call_next, self.action_quit)

    def _focus_moved(self, focused: Widget | None) -> None:
        # A pane hidden by a narrower terminal drops the focus; the stream takes it.
        if focused is None and not self._quitting:
            for stream in self.query(STREAM_PLACES):
                stream.focus()

    # ---------------------------------------------------------------- engine

    def on_ready(self, _: events.Ready) -> None:
        """The first frame is on screen: load the engine's side and start it."""
        gc.enable()  # ``sidelog`` turns it off while the first frame's modules load (commands/piped.py)
        self._start_engine()

    @work(name="engine-start", group="engine", exclusive=True, exit_on_error=False)
    async def _start_engine(self) -> None:
        if self._quitting:  # `q` came before the first frame: start nothing
            return
        # ``sidelog serve``'s composition root too; imported here so the UI loads no endpoint code first.
        from sidelog.server import start_server
        from sidelog.tui.messages import EngineFailed, EngineStarted
        from sidelog.tui.startup import mount_panes

        await mount_panes(self, clock=self._clock, intervals=self._intervals)
        try:
            running = await start_server(self.settings, opened=self._store_opened)
        except (StartupError, StoreError, OSError) as exc:
            self.post_message(EngineFailed(str(exc)))
            return
        self._started = running.engine  # ``_stop_engine`` stops it even before EngineStarted is handled
        self.post_message(EngineStarted(running.engine))

    async def _store_opened(self, engine: Engine) -> None:
        """The store is open, nothing bound yet: the newest events go on screen first (tui/startup.py)."""
        from sidelog.tui.startup import show_newest

        if not self._quitting:
            self._subscription = engine.subscribe(maxsize=4096)
            await show_newest(self, engine, clock=self._clock, flt=self.flt)
            self._follow_live(self._subscription)

    async def on_engine_started(self, message: EngineStarted) -> None:
        """The endpoints are bound (the stream already shows the store): start the other panes."""
        if self._quitting:  # `q` came while starting: ``_stop_engine`` stops it, start nothing on it
            return
        from sidelog.tui.widgets.errors import ErrorsPane

        engine = self.engine = message.engine
        self.query_one("#errors", ErrorsPane).attach(engine)
        self._refresh_counts()
        self.set_interval(self._intervals.counts, self._refresh_counts, name="sidebar-counts")
        self.set_interval(self._intervals.health, self._refresh_health, name="health")
        self._refresh_health()
        # Start-up's garbage collected once (imports ran with the collector off; the young
        # generations hold it), the rest frozen: it lives as long as the app, so no ~100 ms
        # full scans of it; then the heap start-up freed goes back to the OS (pipeline/memory.py).
        freeze_start_up(generation=1)
        self.run_worker(asyncio.to_thread(release_heap), name="release-heap", exit_on_error=False)
        self.ready.set()

    def on_engine_failed(self, message: EngineFailed) -> None:
        """The engine could not start: leave with the reason (``run_app`` prints it)."""
        self.failure = message.reason
        self.exit(1, return_code=1)

    @work(name="live-events", group="live", exclusive=True, exit_on_error=False)
    async def _follow_live(self, subscription: Subscription) -> None:
        from sidelog.tui.live import LiveFeed
        from sidelog.tui.messages import EventsCommitted

        intervals = self._intervals
        async for batch in LiveFeed(subscription, frame=intervals.frame, flood_frame=intervals.flood_frame):
            self.post_message(EventsCommitted(batch))

    def on_events_committed(self, message: EventsCommitted) -> None:
        """Route one frame's committed events to the panes."""
        subscription = self._subscription
        if subscription is not None and subscription.lagged > self._lagged_seen:
            # Batches were dropped on the way: the store has them, so reload instead of showing a gap.
            self._lagged_seen = subscription.lagged
            self._apply_filter(self.flt)
            self._show_batches([], errors=True)
            return
        if self._covered:
            self._held.hold(message.batch)
        else:
            self._show_batches([message.batch], message.batch.has_error_news)

    def _show_batches(self, batches: list[CommittedBatch], errors: bool) -> None:
        from sidelog.tui.widgets.errors import ErrorsPane
        from sidelog.tui.widgets.histogram import HistogramBar
        from sidelog.tui.widgets.stream import StreamView

        with self.batch_update():
            for bar in self.query(HistogramBar):  # none while the app is closing
                bar.add_batches(batches)
            for stream in self.query(StreamView):
                for batch in batches:
                    stream.add_batch(batch)
            for pane in self.query("#errors").results(ErrorsPane) if errors else ():
                pane.errors_arrived()

    @property
    def _covered(self) -> bool:
        """Another screen covers the main one: live updates wait (see tui/screens/main.py)."""
        return len(self.screen_stack) > 1

    def on_main_screen_uncovered(self) -> None:
        """Apply what arrived while the main screen was covered, in one frame."""
        held = self._held.take()
        if held.reload:
            self._apply_filter(self.flt)
        self._show_batches(held.batches, held.errors)
        if self.engine is not None and not self._quitting:
            self._refresh_counts()
            self._refresh_health()

    def _refresh_counts(self) -> None:
        engine = self.engine
        if engine is None or engine.stored_total == self._counts_seen or self._covered:
            return
        self._counts_seen = engine.stored_total
        for sidebar in self.query(FilterSidebar):  # none once the app has begun to close
            sidebar.show(engine.facet_counts(), self.flt)

    @work(name="health", group="health", exclusive=True, exit_on_error=False)
    async def _refresh_health(self) -> None:
        if self.engine is None or self._quitting or self._covered:
            return
        health = await self.engine.health()
        if self._quitting:
            return
        for bar in self.query(HealthBar):  # none once the app has begun to close
            bar.status = ""
            bar.lagged = self._subscription.lagged if self._subscription is not None else 0
            bar.health = health

    # ---------------------------------------------------------------- filters

    def watch_flt(self, flt: EventFilter) -> None:
        """Show the new filter everywhere and reload the stream's history under it."""
        self.query_one("#summary", FilterSummary).flt = flt
        if self.engine is not None:
            self.query_one("#sidebar", FilterSidebar).show(self.engine.facet_counts(), flt)
        self._apply_filter(flt)

    @work(name="stream-filter", group="filter", exclusive=True, exit_on_error=False)
    async def _apply_filter(self, flt: EventFilter) -> None:
        from sidelog.tui.widgets.stream import StreamView

        for stream in self.query("#stream").results(StreamView):
            await stream.set_filter(flt)

    @on(FilterSidebar.Toggled)
    def _sidebar_toggled(self, message: FilterSidebar.Toggled) -> None:
        self.toggle_filter(message.field, message.value)

    def on_errors_pane_group_chosen(self, message: ErrorsPane.GroupChosen) -> None:
        """An error group was chosen: show its events."""
        # The group's events only: any other condition could hide some of them.
        self.flt = EventFilter(fingerprint=message.group.fingerprint)
        self._focus_stream()

    def on_errors_pane_group_triaged(self, message: ErrorsPane.GroupTriaged) -> None:
        """An error group was resolved or reopened: say so."""
        verb = "Resolved" if message.group.status == "resolved" else "Reopened"
        count = message.group.count
        self.notify(f"{verb} an error group of {count} event{'' if count == 1 else 's'}.", markup=False)
        self._refresh_health()

    def on_stream_view_event_selected(self, message: StreamView.EventSelected) -> None:
        """Enter on an event: its detail view."""
        from sidelog.tui.screens.detail import EventDetailScreen

        self.push_screen(EventDetailScreen(message.event), self._detail_closed)

    def _detail_closed(self, result: object) -> None:
        if isinstance(result, dict):
            changes: dict[str, Any] = {
                k: v for k, v in result.items() if k in ("user", "session", "fingerprint", "trace")
            }
            if changes:
                self.flt = replace(self.flt, **changes)

    def on_stream_view_follow_changed(self, message: StreamView.FollowChanged) -> None:
        """Follow mode changed: the summary line says so."""
        summary = self.query_one("#summary", FilterSummary)
        summary.following = message.following
        summary.new_since_pause = message.new_since_pause

    # ---------------------------------------------------------- panes, help

    def action_help(self) -> None:
        """Every key, by where it works."""
        self.push_screen(HelpScreen(self.help_sections()))

    def action_show_rejected(self) -> None:
        """The last refused inputs, and why (``tui/screens/rejected.py``)."""
        open_rejected(self)

    def help_sections(self) -> list[tuple[str, list[type[Any]]]]:
        """The classes whose keys the help screen lists, with headings."""
        from sidelog.tui.screens.detail import EventDetailScreen
        from sidelog.tui.widgets.errors import ErrorsPane
        from sidelog.tui.widgets.stream import StreamView

        return [
            ("Everywhere", [SidelogApp, Screen]),
            ("Stream (centre)", [StreamView]),
            ("Event detail (Enter on an event)", [EventDetailScreen]),
            ("Filters pane (left)", [FilterSidebar]),
            ("Errors pane (right)", [ErrorsPane]),
        ]

    def palette_commands(self) -> Iterator[PaletteEntry]:
        """What Ctrl+P offers: the keyed actions, the panes' own, store upkeep, filter values."""
        from sidelog.tui.store_commands import store_commands
        from sidelog.tui.widgets.errors import ErrorsPane
        from sidelog.tui.widgets.stream import StreamView

        yield from keyed_commands(self, [type(self)])
        for stream in self.query("#stream").results(StreamView):
            yield from stream.palette_commands()
        for pane in self.query("#errors").results(ErrorsPane):  # a stand-in until the engine starts
            yield from pane.palette_commands()
        yield from store_commands(self, self.engine)
        counts = self.engine.facet_counts() if self.engine is not None else None
        yield from self.query_one(FilterSidebar).palette_commands(counts)  # capped, plus any typed name

    # ------------------------------------------------------------------ quit

    def action_quit(self) -> None:  # type: ignore[override]
        """Stop accepting, drain what is queued into the database, then leave."""
        if not self._quitting:
            self._quitting = True
            self.query_one("#health", HealthBar).status = "draining queued events…"
            self._drain_and_exit()

    @work(name="quit", group="quit", exclusive=True, exit_on_error=False)
    async def _drain_and_exit(self) -> None:
        await self._stop_engine()
        report = self.stop_report
        clean = report is None or (report.unsaved == 0 and report.write_failed == 0)
        self.exit(0 if clean else 1, return_code=0 if clean else 1)

    async def _stop_engine(self) -> None:
        for worker in [w for w in self.workers if w.group == "engine" and not w.is_finished]:
            with contextlib.suppress(Exception):  # a start under way ends first: then it is stopped
                await worker.wait()
        self.workers.cancel_group(self, "live")
        if self._subscription is not None:
            self._subscription.close()
        engine, self.engine, self._started = self.engine or self._started, None, None
        if engine is not None:
            self.stop_report = await engine.stop()
            self.stop_counters = engine.counters

    async def on_unmount(self) -> None:
        """However the app ends, the engine drains and releases the database."""
        await self._stop_engine()
        gc.unfreeze()  # what the app froze may be collected again once it is gone
