"""The app-wide keys, declared once: the footer, the help screen and the palette all read them."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from sidelog.events import LEVELS

APP_BINDINGS: list[BindingType] = [
    # Footer order: at 80 columns only the first few fit, so Quit comes first, then help, and s/e
    # bring back the collapsed panes.
    Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit after saving every queued event"),
    Binding("question_mark", "help", "Help", id="app.help", tooltip="This list of keys"),
    Binding(
        "s", "toggle_sidebar", "Filters", id="app.sidebar", tooltip="Go to the filters pane; again hides it"
    ),
    Binding("e", "toggle_errors", "Errors", id="app.errors", tooltip="Go to the errors pane; again hides it"),
    Binding("slash", "search", "Search", id="app.search", tooltip="Search message and details"),
    Binding("at", "filter_user", "User", id="app.user", tooltip="Only the events of one userId"),
    Binding(
        "number_sign",
        "filter_session",
        "Session",
        show=False,
        id="app.session",
        tooltip="Only the events of one sessionId",
    ),
    Binding("c", "clear_filters", "Clear filters", id="app.clear", tooltip="Clear every filter"),
    Binding(
        "v",
        "timeline",
        "Timeline",
        show=False,
        id="app.timeline",
        tooltip="The event's session, user or trace in time order",
    ),
    Binding(
        "x",
        "show_rejected",
        "Rejected input",
        show=False,
        id="app.rejected",
        tooltip="Rejected input: the last refused lines and requests, and why",
    ),
    # The histogram above the stream (tui/histogram_actions.py); on the main screen only.
    Binding(
        "n",
        "error_spike(1)",
        "Next spike",
        show=False,
        id="app.spike-next",
        tooltip="Histogram: show the next error spike (sets since/until to it)",
    ),
    Binding(
        "N",
        "error_spike(-1)",
        "Previous spike",
        show=False,
        id="app.spike-previous",
        tooltip="Histogram: show the previous error spike (sets since/until to it)",
    ),
    Binding(
        "plus,equals_sign",
        "histogram_zoom(-1)",
        "Zoom in",
        show=False,
        id="app.zoom-in",
        tooltip="Histogram: finer buckets, a shorter time range",
    ),
    Binding(
        "minus",
        "histogram_zoom(1)",
        "Zoom out",
        show=False,
        id="app.zoom-out",
        tooltip="Histogram: coarser buckets, a longer time range",
    ),
    Binding(
        "h",
        "toggle_histogram",
        "Histogram",
        show=False,
        id="app.histogram",
        tooltip="Hide or show the histogram",
    ),
    *(
        Binding(str(n), f"toggle_level('{level}')", f"Toggle {level}", show=False, id=f"app.level-{level}")
        for n, level in enumerate(LEVELS, 1)
    ),
    Binding("ctrl+c", "quit", "Quit", show=False, id="app.quit-ctrl-c"),
]
"""Keys that work everywhere on the main screen (panes add their own)."""
