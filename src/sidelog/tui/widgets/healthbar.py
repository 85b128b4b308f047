"""The health bar: is sidelog listening, keeping up, and writing? One glance, bottom of the screen.

It renders a ``Health`` snapshot (the same figures as ``GET /v1/health``) as short
segments packed into as many lines as the width needs, and turns into an alarm
(``-alarm`` class, styled in TCSS) while writes to the database fail. HTTP
refusals by status and a WAL that cannot be kept short (pinned by a long reader,
checkpoints skipped for lack of disk room) get a segment of their own while they
matter; the capture rate is rounded down, so it never reads 100 % while anything
was refused. ``x`` (the rejected view) lists what was refused. Beside the unresolved
count, how well errors get fixed: the share of the last 24 hours' error groups that are
resolved and the median time from first seen to resolved (``store/resolution.py``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from sidelog.textsafe import safe_text
from sidelog.tui import humanize

if TYPE_CHECKING:  # the UI's first frame loads no store module (tui/startup.py)
    from sidelog.health import Health
    from sidelog.store.resolution import Resolution

SPARK_WIDTH = 20
"""Seconds of ingest history drawn in the sparkline."""

_SEPARATOR = Content.styled(" │ ", "$text-muted")
COMPACT_BELOW = 110
"""Below this many columns the bar abbreviates, so it fits two lines at 80."""

_SHORT_DROP_LABELS = (
    ("rejected", "rej"),
    ("rate_limited", "rl"),
    ("filtered", "filt"),
    ("overflow", "ovf"),
)
_DROP_LABELS = (
    ("rejected", "rejected"),
    ("rate_limited", "rate-limited"),
    ("filtered", "filtered"),
    ("overflow", "overflow"),
)


class HealthBar(Widget):
    """Endpoints, clients, rate with sparkline, totals, drops, capture rate, DB size, alarm."""

    DEFAULT_CSS = """
    HealthBar { height: auto; }
    """

    health: reactive[Health | None] = reactive(None)
    """The latest snapshot; ``None`` until the engine runs."""
    status: reactive[str] = reactive("starting…")
    """A lifecycle note shown before the figures (``starting…``, ``draining…``), or empty."""
    lagged: reactive[int] = reactive(0)
    """Batches the UI skipped because it fell behind (they are still stored)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._height: int = 0

    def watch_health(self, health: Health | None) -> None:
        """Raise or clear the write-failure alarm."""
        self.set_class(health is not None and health.write_failing, "-alarm")
        self._fit()

    def watch_status(self) -> None:
        """A new lifecycle note may change the height."""
        self._fit()

    def watch_lagged(self) -> None:
        """A lag note may change the height."""
        self._fit()

    def on_resize(self) -> None:
        """The layout just measured the bar at its new width; remember that height."""
        self._height = len(self.lines(max(1, self.content_region.width)))

    def _fit(self) -> None:
        # A layout pass reflows the whole screen, so only ask for one when the height changes.
        height = len(self.lines(max(1, self.content_region.width)))
        if height != self._height:
            self._height = height
            self.refresh(layout=True)

    def segments(self, compact: bool = False) -> list[Content]:
        """The bar's pieces, in priority order; ``compact`` abbreviates for narrow terminals."""
        parts: list[Content] = []
        if self.status:
            parts.append(Content.styled(self.status, "bold"))
        health = self.health
        if health is None:
            return parts
        if health.write_failing:
            reason = safe_text((health.last_write_error or "unknown error")[:160])
            parts.append(Content.assemble(("⚠ WRITES FAILING: ", "bold"), reason))
        shown = [_short_endpoint(e) for e in health.endpoints] if compact else health.endpoints
        endpoints = ", ".join(shown) or "no endpoints"
        clients = f"{health.clients} client" + ("" if health.clients == 1 else "s")
        parts.append(Content.assemble(safe_text(endpoints), " · ", clients))
        parts.append(
            Content.assemble(
                (f"{health.rate:,.0f}/s ", "bold"),
                (
                    humanize.sparkline(health.rate_series, SPARK_WIDTH // 2 if compact else SPARK_WIDTH),
                    "$text-accent",
                ),
            )
        )
        parts.append(Content(f"{humanize.count(health.stored_total)} stored"))
        unresolved_style = "bold $text-error" if health.unresolved else "$text-success"
        parts.append(Content.styled(f"{health.unresolved} unresolved", unresolved_style))
        resolution = resolution_segment(health.resolution, compact)
        if resolution is not None:
            parts.append(resolution)
        labels = _SHORT_DROP_LABELS if compact else _DROP_LABELS
        drops = [f"{health.drops.get(key, 0)} {label}" for key, label in labels]
        total_drops = sum(health.drops.get(key, 0) for key, _ in _DROP_LABELS)
        parts.append(
            Content.assemble(
                ("drops: ", "$text-muted"),
                (", ".join(drops), "$text-warning" if total_drops else ""),
            )
        )
        refused = health.refused
        if refused:
            by_status = ", ".join(f"{count} {status}" for status, count in sorted(refused.items()))
            label = "http refused: " if not compact else "http: "
            parts.append(Content.assemble((label, "$text-muted"), (by_status, "$text-warning")))
        capture_style = "$text-success" if health.capture_rate >= 0.95 else "bold $text-warning"
        capture = capture_text(health.capture_rate, 0 if compact else 1)
        parts.append(Content.styled(f"capture {capture}", capture_style))
        wal = health.wal_note()
        if wal is not None:
            parts.append(Content.styled(wal, "bold $text-warning"))
        over = health.db_bytes > health.db_budget_bytes
        parts.append(
            Content.styled(
                f"db {humanize.size(health.db_bytes)} / {humanize.size(health.db_budget_bytes)}",
                "bold $text-warning" if over else "",
            )
        )
        if self.lagged:
            parts.append(Content.styled(f"UI skipped {self.lagged} live batches", "$text-warning"))
        return parts

    def lines(self, width: int) -> list[Content]:
        """Pack the segments greedily into lines no wider than ``width``."""
        lines: list[Content] = []
        current = Content("")
        for part in self.segments(compact=width < COMPACT_BELOW):
            if not current.plain:
                current = part
            elif current.cell_length + _SEPARATOR.cell_length + part.cell_length <= width:
                current = current + _SEPARATOR + part
            else:
                lines.append(current)
                current = part
        if current.plain:
            lines.append(current)
        return [line.truncate(width, ellipsis=True) if line.cell_length > width else line for line in lines]

    def render(self) -> Content:
        """The packed lines."""
        return Content("\n").join(self.lines(max(1, self.content_region.width)))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As many lines as the packing needs at this width."""
        return max(1, len(self.lines(max(1, width))))


def capture_text(rate: float, decimals: int) -> str:
    """The capture rate as a percentage rounded *down*: 99.96 % stored reads 99.9 %, never 100 %."""
    scale = 10**decimals
    percent = math.floor(rate * 100 * scale) / scale
    return f"{percent:.{decimals}f}%"


def resolution_segment(resolution: Resolution | None, compact: bool = False) -> Content | None:
    """``24h: 42% of 12 groups resolved, median 3h to resolve`` (``None`` with nothing to say)."""
    if resolution is None or (resolution.seen == 0 and resolution.median_ms is None):
        return None
    rate = resolution.rate
    parts: list[str | tuple[str, str]] = [("24h: " if not compact else "24h ", "$text-muted")]
    if rate is not None:
        style = "$text-success" if rate >= 0.5 else "$text-warning"
        share = f"{math.floor(rate * 100):d}%"
        if compact:
            parts.append((f"{share} fixed", style))
        else:
            groups = f"group{'' if resolution.seen == 1 else 's'}"
            parts.append((f"{share} of {humanize.count(resolution.seen)} {groups} resolved", style))
    if resolution.median_ms is not None:
        took = duration(resolution.median_ms)
        parts.append(f"{', ' if rate is not None else ''}median {took}" + ("" if compact else " to resolve"))
    return Content.assemble(*parts)


def duration(ms: int) -> str:
    """``40s``, ``12m``, ``3h``, ``2d`` (whole units, rounded down)."""
    seconds = max(0, ms // 1000)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86_400:
        return f"{seconds // 3600}h{'' if seconds >= 36_000 else f' {seconds % 3600 // 60}m'}"
    return f"{seconds // 86_400}d"


def _short_endpoint(endpoint: str) -> str:
    """``tcp 127.0.0.1:7411`` -> ``tcp :7411`` (loopback is the default, the port is the news)."""
    kind, _, address = endpoint.partition(" ")
    host, sep, port = address.rpartition(":")
    if sep and host in ("127.0.0.1", "localhost", "[::1]"):
        return f"{kind} :{port}"
    return endpoint
