"""``sidelog bench --ui``: the terminal UI over a million stored events, measured headless.

The real ``SidelogApp`` runs under ``App.run_test`` with a driver that says it is a
terminal and throws the output away, so every frame is composed and encoded exactly
as for a user; only the bytes go nowhere. Load comes from a child process over TCP
(it must not share the UI's core or loop). Each phase starts from its own fresh copy
of the cached prefill. Everything is measured from outside the widgets: the frames the
app writes and the stream's public state when each went out (``ui_driver.FrameClock``).
Measured:

- first paint: app start to the first frame with stored events on it (the first page
  the app draws from a plain ``sqlite3`` read, or the stream); engine ready: to the
  endpoints bound and the panes started;
- filter change: setting the filter to its rows on screen (median and worst of several);
- paging back 10,000 events with PageUp, each press waiting for its frame;
- key-to-screen while 5,000 events/s arrive: a key posted as the terminal driver would,
  to the frame that shows the moved highlight (p50/p95/max);
- one event sent to an idle server (following, nothing queued) to the frame that shows
  it as the newest row (p50/p95/max of ``IDLE_SAMPLES``);
- ingest rate with the UI attached (following) against the engine alone, same store,
  same load: ``INGEST_RUNS`` floods per side, alternating, best of each compared; also
  this process's CPU time per event in both (of the best run), which stays comparable
  when other work on the machine makes the wall-clock rates noisy;
- peak RSS of this process after the full app's run, which comes first (``getrusage``;
  the prefill and the sender run elsewhere).

The same steps run a second time over ``StreamOnlyApp`` (the stream without the other
panes), so a miss can be traced to the stream or to the rest of the app.

Then the triage figures (``sidelog.bench.ui_triage``): the errors pane over 10,000
error groups, bulk resolve and undo, the histogram's redraw, the detail and feedback
views. ``--only stream`` or ``--only triage`` runs one of the two sections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sidelog.bench.prefill import bench_settings, ensure_prefill, send_events
from sidelog.engine import Engine
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.server import start_server

INGEST_EVENTS = 100_000
"""Events flooded in each ingest-rate run (UI attached, and engine alone)."""
INGEST_RUNS = 3
"""Floods per side (engine alone, full app, stream only), alternating, each on a fresh
store and a fresh app; the best of each side is compared, so a burst of other work on
the machine (2 cores) during one run does not decide the ratio."""
LOAD_RATE = 5_000
"""Events per second arriving during the key-to-screen run."""
KEY_SAMPLES = 40
IDLE_SAMPLES = 20
PAGE_BACK = 10_000
SCREEN = (160, 48)

TARGETS: dict[str, tuple[str, float]] = {
    "first_paint_ms": ("<=", 1000),
    "filter_change_ms": ("<=", 150),
    "key_to_screen_p95_ms": ("<=", 100),
    "idle_event_to_screen_p50_ms": ("<=", 20),
    "ingest_ratio": (">=", 0.8),
    "peak_rss_mb": ("<=", 300),
}


@dataclass
class _Load:
    """A sender child process and its handshake."""

    process: Any
    ready: Any
    go: Any
    results: Any

    async def start(self) -> None:
        if not await asyncio.to_thread(self.ready.wait, 300):
            raise RuntimeError("the load process did not get ready")
        self.go.set()

    async def result(self) -> dict[str, Any]:
        outcome: dict[str, Any] = await asyncio.to_thread(self.results.get, True, 600)
        await asyncio.to_thread(self.process.join)
        return outcome


def _spawn_load(port: int, count: int, rate: float) -> _Load:
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Event(), context.Event(), context.Queue()
    process = context.Process(
        target=send_events, args=(port, count, rate, ready, go, results), name="sidelog-bench-load"
    )
    process.start()
    return _Load(process, ready, go, results)


def _tcp_port(engine: Engine) -> int:
    for kind, address in engine.endpoints:
        if kind == "tcp":
            return int(address.rsplit(":", 1)[1])
    raise RuntimeError("the benchmark engine has no TCP endpoint")


@dataclass
class _Results:
    figures: dict[str, Any] = field(default_factory=dict)

    def set(self, name: str, value: float | int | None) -> None:
        if isinstance(value, float):  # ratios keep their precision: 0.75 must not pass as 0.8
            value = round(value, 3 if abs(value) < 10 else 1)
        self.figures[name] = value


UI_SECTIONS = ("stream", "triage")
"""What ``sidelog bench --ui --only`` can pick: the stream figures (``ui_driver``) and the
triage figures (errors pane, histogram, detail and feedback views: ``ui_triage``)."""


def run_bench_ui(args: argparse.Namespace) -> int:
    """Run the UI benchmark; print a table (or one JSON object with ``--json``); 0 if all targets met."""
    prefill = int(getattr(args, "prefill", 1_000_000))
    only = getattr(args, "only", None)
    sections = tuple(name.strip() for name in (only or ",".join(UI_SECTIONS)).split(",") if name.strip())
    unknown = [name for name in sections if name not in UI_SECTIONS]
    if unknown or not sections or prefill < 1:
        reason = (
            f"--only: unknown section {', '.join(unknown) or repr(only)} with --ui "
            f"(choose from {', '.join(UI_SECTIONS)})"
            if unknown or not sections
            else "--prefill must be a positive number"
        )
        print(f"sidelog: error: {reason}", file=sys.stderr)
        return 2
    folder = Path(args.dir) if getattr(args, "dir", None) else Path(tempfile.gettempdir()) / "sidelog-bench"
    cached, build_s = ensure_prefill(folder, prefill)
    results = _Results()
    results.set("prefill_events", prefill)
    results.set("prefill_build_s", build_s)
    results.set("load_avg_before", os.getloadavg()[0])
    if "stream" in sections:
        asyncio.run(_measure(cached, folder, results))
    if "triage" in sections:
        asyncio.run(_measure_triage(folder, prefill, results))
    results.set("load_avg_after", os.getloadavg()[0])
    figures = results.figures
    figures["sections"] = list(sections)
    figures["targets_met"] = _verdicts(figures, sections)
    ok = all(figures["targets_met"].values())
    if getattr(args, "json", False):
        print(json.dumps(figures))
    else:
        _print_table(figures)
    return 0 if ok else 1


async def _measure(cached: Path, folder: Path, results: _Results) -> None:
    """Each phase gets its own fresh copy of the prefill, so all start from the same store."""
    from multiprocessing import resource_tracker

    from sidelog.bench.ui_driver import ingest_with_ui, run_ui_steps  # the only part that needs Textual

    # The UI redirects stdio; the resource tracker must be running before it does, or
    # spawning load processes from inside the app fails.
    resource_tracker.ensure_running()
    plan = _UiLoad()
    with _fresh_copy(cached, folder) as db:  # first, so the peak RSS is this app's alone
        await run_ui_steps(bench_settings(db, tcp="127.0.0.1:0"), results.set, plan)
    results.set("peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    runs: dict[str, list[tuple[float, float]]] = {"headless": [], "ui": [], "stream_only_ui": []}
    for _ in range(INGEST_RUNS):  # alternating, so every side sees the same machine
        with _fresh_copy(cached, folder) as db:
            runs["headless"].append(await _ingest_headless(db))
        with _fresh_copy(cached, folder) as db:
            runs["ui"].append(await ingest_with_ui(bench_settings(db, tcp="127.0.0.1:0"), plan))
        with _fresh_copy(cached, folder) as db:
            settings = bench_settings(db, tcp="127.0.0.1:0")
            runs["stream_only_ui"].append(await ingest_with_ui(settings, plan, stream_only=True))
    for side, prefix in (
        ("headless", "ingest_headless"),
        ("ui", "ingest_ui"),
        ("stream_only_ui", "stream_only_ingest_ui"),
    ):
        for n, (rate, _) in enumerate(runs[side], 1):
            results.set(f"{prefix}_{n}_eps", rate)
        rate, cpu_us = max(runs[side])  # the best run of each side is compared
        results.set(f"{prefix}_eps", rate)
        results.set(f"{prefix}_cpu_us", cpu_us)
    with _fresh_copy(cached, folder) as db:
        await run_ui_steps(bench_settings(db, tcp="127.0.0.1:0"), results.set, plan, stream_only=True)
    headless = results.figures["ingest_headless_eps"]
    for prefix in ("", "stream_only_"):
        attached = results.figures[prefix + "ingest_ui_eps"]
        results.set(prefix + "ingest_ratio", round(attached / headless, 3) if headless else None)


async def _measure_triage(folder: Path, prefill: int, results: _Results) -> None:
    """The triage figures, over a fresh copy of the store with thousands of error groups."""
    from multiprocessing import resource_tracker

    from sidelog.bench.ui_triage import ensure_group_store, run_triage_steps

    resource_tracker.ensure_running()
    store, build_s = ensure_group_store(folder, prefill)
    results.set("triage_build_s", build_s)
    with _fresh_copy(store, folder) as db:
        await run_triage_steps(bench_settings(db, tcp="127.0.0.1:0"), results.set, screen=SCREEN)


@contextlib.contextmanager
def _fresh_copy(cached: Path, folder: Path) -> Iterator[Path]:
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="sidelog-bench-ui-", dir=folder) as work:
        db = Path(work) / "events.db"
        shutil.copyfile(cached, db)
        yield db


async def _ingest_headless(db: Path) -> tuple[float, float]:
    """Events/s of one flood with no UI, and this process's CPU microseconds per event."""
    engine = (await start_server(bench_settings(db, tcp="127.0.0.1:0"))).engine
    try:
        load = _spawn_load(_tcp_port(engine), INGEST_EVENTS, 0)
        await load.start()
        cpu = time.process_time()
        outcome = await load.result()
        cpu_us = (time.process_time() - cpu) * 1e6 / outcome["sent"]
    finally:
        await engine.stop()
    return float(outcome["sent"] / outcome["seconds"]), cpu_us


class _UiLoad:
    """The plan and load generator the UI steps run with (``sidelog.bench.ui_driver.UiPlan``)."""

    ingest_events = INGEST_EVENTS
    load_rate = LOAD_RATE
    key_samples = KEY_SAMPLES
    idle_samples = IDLE_SAMPLES
    page_back = PAGE_BACK
    screen = SCREEN
    filters: tuple[EventFilter, ...] = (
        EventFilter(levels=frozenset({"error"})),
        EventFilter(categories=frozenset({"payment"}), levels=frozenset({"warn", "error"})),
        EventFilter(user="user_0042"),
        EventFilter(sources=frozenset({"client"})),
        EMPTY_FILTER,
    )

    def spawn(self, port: int, count: int, rate: float) -> _Load:
        return _spawn_load(port, count, rate)

    @staticmethod
    def port(engine: Engine) -> int:
        return _tcp_port(engine)

    @staticmethod
    def summary(samples: list[float]) -> tuple[float, float, float]:
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return statistics.median(ordered), p95, ordered[-1]


def _targets(sections: tuple[str, ...]) -> dict[str, tuple[str, float]]:
    from sidelog.bench.ui_triage import TRIAGE_TARGETS

    return {**(TARGETS if "stream" in sections else {}), **(TRIAGE_TARGETS if "triage" in sections else {})}


def _verdicts(figures: dict[str, Any], sections: tuple[str, ...] = UI_SECTIONS) -> dict[str, bool]:
    verdicts = {}
    for name, (op, limit) in _targets(sections).items():
        value = figures.get(name)
        verdicts[name] = value is not None and (value <= limit if op == "<=" else value >= limit)
    return verdicts


_ROWS = (
    ("prefill_events", "stored events", ""),
    ("prefill_build_s", "prefill build (0 = cached)", "s"),
    ("engine_ready_ms", "app start to engine ready", "ms"),
    ("first_paint_ms", "app start to newest rows on screen", "ms"),
    ("filter_change_ms", "filter change to rows on screen (worst)", "ms"),
    ("filter_change_median_ms", "filter change (median)", "ms"),
    ("page_back_10k_ms", "page back 10,000 events (PageUp)", "ms"),
    ("page_back_keys", "PageUp presses for that", ""),
    ("key_to_screen_p50_ms", "key to screen at 5,000 ev/s (p50)", "ms"),
    ("key_to_screen_p95_ms", "key to screen at 5,000 ev/s (p95)", "ms"),
    ("key_to_screen_max_ms", "key to screen at 5,000 ev/s (max)", "ms"),
    ("load_achieved_eps", "load actually delivered", "ev/s"),
    ("idle_event_to_screen_p50_ms", "one event to an idle server, on screen (p50)", "ms"),
    ("idle_event_to_screen_p95_ms", "one event to an idle server, on screen (p95)", "ms"),
    ("ingest_headless_eps", "ingest, engine alone", "ev/s"),
    ("ingest_ui_eps", "ingest, UI attached", "ev/s"),
    ("ingest_ratio", "UI-attached / headless", ""),
    ("ingest_headless_cpu_us", "CPU per event, engine alone", "us"),
    ("ingest_ui_cpu_us", "CPU per event, UI attached", "us"),
    ("peak_rss_mb", "peak RSS", "MB"),
    ("load_avg_before", "machine load average before (2 cores)", ""),
    ("load_avg_after", "machine load average after", ""),
)


def _print_table(figures: dict[str, Any]) -> None:
    from sidelog.bench.ui_triage import TRIAGE_ROWS

    met = figures["targets_met"]
    sections = tuple(figures.get("sections", UI_SECTIONS))
    targets = _targets(sections)
    rows = [row for row in _ROWS if "stream" in sections or row[0] in _COMMON_ROWS]
    if "triage" in sections:
        rows[-2:-2] = TRIAGE_ROWS  # before the load averages
    print("sidelog bench --ui: headless, frames encoded as for a terminal; targets apply to the full app")
    print(f"  {'':<42} {'full app':>12} {'stream only':>12}")
    for key, label, unit in rows:
        shown = [_shown(key, figures.get(name)) for name in (key, "stream_only_" + key)]
        target = targets.get(key)
        verdict = ""
        if target is not None:
            verdict = f"target {target[0]} {target[1]:g}: {'ok' if met[key] else 'MISSED'}"
        print(f"  {label:<42} {shown[0]:>12} {shown[1]:>12} {unit:<5} {verdict}")


_COMMON_ROWS = ("prefill_events", "prefill_build_s", "load_avg_before", "load_avg_after")
"""Rows printed whichever sections ran."""


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "ingest_ratio":
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


__all__ = ["run_bench_ui"]
