"""A stack trace as real lines: frames parsed, the app's own emphasised, libraries dimmed.

Lines are classified lazily by ``sidelog.stackframes.Stack`` as they come on screen, so a
stack of 100,000 frames or a one-megabyte line opens at once. ``in_app_only`` hides
library frames (and their source lines) behind one note line per run; finding those
runs walks the whole stack, so it runs in a thread and the view switches when it is
done. Every line is sanitized (``safe_text``) before it is styled: frames are re-parsed
from the sanitized text, so styles always land on what is shown.
"""

from __future__ import annotations

import contextlib

from rich.style import Style
from rich.text import Text
from textual import work
from textual.reactive import var

from sidelog.stackframes import MAX_LINE_CHARS, SOURCE_LOOKBACK, Frame, Kind, Stack, parse_frame
from sidelog.textsafe import safe_text
from sidelog.tui.widgets.line_view import Entry, LineView, plain_cells

_KIND_STYLES = {
    Kind.HEADER: "stack--note",
    Kind.CHAIN: "stack--chain",
    Kind.EXCEPTION: "stack--exception",
    Kind.NOTE: "stack--note",
}
"""Component per kind of line (the rest, like the app's own frames, take the widget's colours:
every component class costs each stylesheet pass, so there are few)."""


class StackView(LineView):
    """One stack trace; ``in_app_only`` hides library frames."""

    COMPONENT_CLASSES = {
        "stack--library",
        "stack--file",
        "stack--function",
        "stack--chain",
        "stack--exception",
        "stack--note",
    }

    DEFAULT_CSS = """
    StackView {
        & > .stack--library { color: $text-disabled; }
        & > .stack--file { color: $text-accent; text-style: bold; }
        & > .stack--function { color: $text-primary; text-style: bold; }
        & > .stack--chain { color: $text-warning; background: $warning-muted; text-style: bold; }
        & > .stack--exception { color: $text-error; text-style: bold; }
        & > .stack--note { color: $text-muted; text-style: italic; }
    }
    """

    in_app_only: var[bool] = var(False, init=False)
    """Show the app's own frames only (library runs fold into one note line each)."""

    def __init__(self, text: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stack = Stack(text)
        """The stack shown, classified as it is drawn."""
        self._runs: list[tuple[int, int, int]] | None = None
        self._styles: dict[str, Style] = {}

    def line_count(self) -> int:
        """Lines of the stack."""
        return len(self.stack)

    def widest_hint(self) -> int:
        """Nothing measured up front (that would split every line): drawn lines widen the range."""
        return 0

    def line_cells(self, index: int) -> int:
        """Cells of a line as shown, without styling it."""
        raw = self.stack.lines[index]
        shown, more = _clipped(raw)
        if shown.isascii() and shown.isprintable():  # the usual line: shown as it is, one cell a character
            return len(shown) + len(more)
        return plain_cells(safe_text(shown)) + len(more)

    def line_text(self, index: int) -> Text:
        """Line ``index`` sanitized and styled by what it is."""
        parsed = self.stack.line(index)
        shown, more = _clipped(parsed.text)
        text = safe_text(shown)
        line = Text(text)
        if parsed.kind is Kind.FRAME and parsed.frame is not None:
            frame = parsed.frame if text is shown else parse_frame(text, marked=self.stack.marked)
            self._style_frame(line, frame if frame is not None else parsed.frame, exact=frame is not None)
        elif parsed.kind is Kind.SOURCE:
            owner = self._frame_above(index)
            if owner is not None and not owner.in_app:
                line.stylize(self._style("stack--library"))
        elif parsed.kind in _KIND_STYLES:
            line.stylize(self._style(_KIND_STYLES[parsed.kind]))
        if more:
            line.append(more, self._style("stack--note"))
        return line

    def notify_style_update(self) -> None:
        """Colours may have changed."""
        self._styles = {}
        super().notify_style_update()

    def watch_in_app_only(self, in_app_only: bool) -> None:
        """Switch between every line and the app's frames only."""
        if not in_app_only:
            self.set_entries(None)
        elif self._runs is not None:
            self._show_in_app(self._runs)
        else:
            self._find_library_runs()

    @work(thread=True, exclusive=True, name="stack-library-runs", group="stack", exit_on_error=False)
    def _find_library_runs(self) -> None:
        runs = self.stack.library_runs()
        with contextlib.suppress(RuntimeError):  # the app closed meanwhile: nobody to tell
            self.app.call_from_thread(self._runs_found, runs)

    def _runs_found(self, runs: list[tuple[int, int, int]]) -> None:
        self._runs = runs
        if self.in_app_only:
            self._show_in_app(runs)

    def _show_in_app(self, runs: list[tuple[int, int, int]]) -> None:
        entries: list[Entry] = []
        shown_from = 0
        note = self._style("stack--note")
        for start, end, frames in runs:
            entries.extend(range(shown_from, start))
            count = f"{frames:,} library frame{'' if frames == 1 else 's'}"
            entries.append(Text(f"  ┄ {count} hidden (a: show all)", note))
            shown_from = end
        entries.extend(range(shown_from, len(self.stack)))
        self.scroll_home(animate=False)
        self.set_entries(entries)

    def _frame_above(self, index: int) -> Frame | None:
        for before in range(index - 1, max(-1, index - 1 - SOURCE_LOOKBACK), -1):
            parsed = self.stack.line(before)
            if parsed.frame is not None:
                return parsed.frame
        return None

    def _style_frame(self, line: Text, frame: Frame, *, exact: bool) -> None:
        if not frame.in_app:
            line.stylize(self._style("stack--library"))
            return
        if not exact:
            return
        line.stylize(self._style("stack--file"), *frame.file_span)
        if frame.function_span is not None:
            line.stylize(self._style("stack--function"), *frame.function_span)
        if frame.line is not None:
            digits = str(frame.line)
            at = line.plain.find(digits, frame.file_span[1])
            if at >= 0:
                line.stylize(self._style("stack--file"), at, at + len(digits))

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name)
        return style


def _clipped(raw: str) -> tuple[str, str]:
    """A line cut to ``MAX_LINE_CHARS`` and the note saying how much was cut."""
    if len(raw) <= MAX_LINE_CHARS:
        return raw, ""
    return raw[:MAX_LINE_CHARS], f" … ({len(raw) - MAX_LINE_CHARS:,} more characters: copy as JSON)"


__all__ = ["StackView"]
