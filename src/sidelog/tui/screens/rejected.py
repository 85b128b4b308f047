"""The "rejected" view: what sidelog refused lately, and why.

Counters in the health bar say *how many* inputs were refused; this screen says
which: the last refusals kept by the engine's ``RefusalLog`` (newest first) with
when, where from, the HTTP status (if any), the reason and the first bytes of the
input, plus counts by HTTP status and by reason. Everything sent is untrusted
text: it is shown through ``sidelog.textsafe`` and built as ``Content``, never as
markup. ``r`` re-reads the log; the view also refreshes itself every second.
``x`` opens it (``tui/keys.py``), and so does Ctrl+P "Rejected input".
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from sidelog.pipeline.refusals import Refusal, RefusalLog
from sidelog.textsafe import safe_text

__all__ = ["RejectedScreen", "open_rejected", "render_refusals"]

REFRESH_S = 1.0


def _line(refusal: Refusal) -> Content:
    stamp = time.strftime("%H:%M:%S", time.localtime(refusal.at))
    status = f"{refusal.status} " if refusal.status is not None else "line "
    head = Content.assemble(
        (f"{stamp} ", "$text-muted"),
        (status, "bold $text-warning"),
        safe_text(refusal.where),
    )
    reason = Content.assemble(("    ", ""), safe_text(refusal.reason))
    lines = [head, reason]
    if refusal.sample:
        cut = "…" if len(refusal.sample) >= 200 else ""
        lines.append(Content.assemble(("    sent: ", "$text-muted"), refusal.shown_sample() + cut))
    return Content("\n").join(lines)


def render_refusals(log: RefusalLog) -> Content:
    """The whole view as one block of text: totals, counts, then each refusal."""
    recent = log.recent()
    if not recent:
        return Content("Nothing refused since sidelog started.")
    statuses = ", ".join(f"{count}× {status}" for status, count in sorted(log.by_status.items()))
    parts = [
        Content.styled(
            f"{log.total:,} refused since start · showing the last {len(recent)}"
            + (f" · HTTP: {statuses}" if statuses else ""),
            "bold",
        ),
        Content.styled("By reason (of those shown)", "bold $text-accent"),
    ]
    for reason, count in log.by_reason(10):
        parts.append(Content.assemble((f"{count:>6}  ", "bold"), safe_text(reason)))
    parts.append(Content.styled("Latest first", "bold $text-accent"))
    parts.extend(_line(refusal) for refusal in recent)
    return Content("\n").join(parts)


class RejectedScreen(ModalScreen[None]):
    """The recent refusals; Escape or ``q`` closes, ``r`` refreshes."""

    DEFAULT_CSS = """
    RejectedScreen { align: center middle; }
    #rejected-box { width: 100; max-width: 95%; height: 90%; border: round $warning; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="rejected.close"),
        Binding("r", "reload", "Refresh", id="rejected.reload"),
    ]

    def __init__(self, log: RefusalLog) -> None:
        super().__init__()
        self._log = log

    def compose(self) -> ComposeResult:
        """One scrollable text block."""
        with VerticalScroll(id="rejected-box") as box:
            box.border_title = "Rejected input"
            box.border_subtitle = "r refreshes · Escape closes"
            yield Static(render_refusals(self._log), id="rejected-list", markup=False)

    def on_mount(self) -> None:
        """Keep the list current while it is open."""
        self.set_interval(REFRESH_S, self.action_reload, name="rejected-refresh")

    def action_reload(self) -> None:
        """Re-read the refusal log."""
        self.query_one("#rejected-list", Static).update(render_refusals(self._log))

    def action_close(self) -> None:
        """Back to the main view."""
        self.dismiss(None)


def open_rejected(app: Any) -> None:
    """Push the rejected view over ``app`` (nothing to show before its engine runs)."""
    engine = getattr(app, "engine", None)
    log = getattr(getattr(engine, "counters", None), "refusals", None)
    if isinstance(log, RefusalLog):
        app.push_screen(RejectedScreen(log))
