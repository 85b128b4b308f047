"""The repro bundle's Markdown: a real Python traceback, hostile text, fences that hold.

Checked by parsing the Markdown with markdown-it (the CommonMark parser Textual itself
uses, with GitHub's tables), so "the table has 2 columns" and "no link came out of a
message" are facts about the parsed document, not about substrings.
"""

from __future__ import annotations

import re
import traceback
from typing import Any

import orjson
from markdown_it import MarkdownIt
from markdown_it.token import Token

from sidelog.bundle import Bundle, exception_type, fenced, md_text, render
from sidelog.events import Event
from sidelog.stackframes import Stack
from sidelog.store.models import ErrorGroup
from sidelog.textsafe import safe_text

T0 = 1_764_500_000_000
HOSTILE = (
    "\x1b]52;c;ZXZpbA==\x07 [click](https://evil.example) <img src=x onerror=1> | \u202egnp.exe ``` *x* $y$"
)


def _parse(markdown: str) -> list[Token]:
    return MarkdownIt("gfm-like").parse(markdown)


def _inline_kinds(tokens: list[Token]) -> set[str]:
    kinds = {token.type for token in tokens}
    for token in tokens:
        kinds.update(child.type for child in token.children or [])
    return kinds


def _real_traceback() -> tuple[str, str]:
    def load_cart(raw: str) -> int:
        return int(raw)

    try:
        try:
            load_cart("{not json")
        except ValueError as exc:
            raise RuntimeError("checkout failed") from exc
    except RuntimeError as exc:
        return "".join(traceback.format_exception(exc)), str(exc)
    raise AssertionError("unreachable")


def _error(message: str, details: dict[str, Any] | None, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "category": "payment",
        "level": "error",
        "source": "server",
        "timestamp": T0,
        "received_at": T0 + 5,
        "fingerprint": "fp-1",
        "session_id": "s-1",
        "id": 40,
    }
    values.update(fields)
    return Event(message=message, details=orjson.dumps(details).decode() if details else None, **values)


GROUP = ErrorGroup(
    "fp-1", "payment", "checkout failed", 7, T0 - 60_000, T0, 40, "unresolved", None, None, True
)


def test_a_real_python_traceback_becomes_frames_stack_and_details() -> None:
    stack, message = _real_traceback()
    details = {"exception": {"type": "RuntimeError", "message": message, "stack": stack}, "orderId": 7}
    before = [
        Event("clicked pay", category="ui", source="browser", timestamp=T0 - 2_000, id=10),
        Event("POST /api/pay 500", category="http", level="warn", source="api", timestamp=T0 - 1_500, id=12),
    ]
    markdown = render(Bundle(_error(message, details), GROUP, "session", "s-1", before, asked=20))
    tokens = _parse(markdown)

    assert markdown.startswith("## RuntimeError: checkout failed\n")
    assert "| exception type | RuntimeError |" in markdown
    assert "| group | 7 events · first seen 2025-11-30 10:52:20.000 UTC" in markdown
    assert "unresolved, regressed" in markdown
    # The frames, parsed: this test's own functions, in the order Python wrote them.
    assert f"| **load\\_cart** | **{md_text(__file__)}** |" in markdown
    functions = [frame.function for frame in Stack(stack).frames()]
    listed = [match[1] for match in re.findall(r"^\| ([0-9]+) \| \**(.*?)\** \|", markdown, re.M)]
    assert [name.replace("\\", "") for name in listed] == functions
    assert functions.count("load_cart") == 1
    assert "_real_traceback" in functions
    fences = [token for token in tokens if token.type == "fence"]
    assert [fence.info for fence in fences] == ["text", "json"]
    assert fences[0].content.rstrip("\n") == stack.rstrip("\n")  # the whole traceback, unchanged
    assert "The above exception was the direct cause" in fences[0].content
    assert orjson.loads(fences[1].content) == details  # details as stored
    # The session before it: oldest first, the error itself last, how long before it.
    rows = [line for line in markdown.splitlines() if line.startswith(("| 2025-", "| **2025-"))]
    assert [row.split(" | ")[5] for row in rows] == [
        "clicked pay",
        "POST /api/pay 500",
        "**checkout failed**",
    ]
    assert rows[0].split(" | ")[1] == "2.000 s"
    assert "(asked for 20; only 2 stored before it)" in markdown
    assert "### The 2 events before it in session s-1" in markdown


def test_hostile_text_stays_text() -> None:
    details = {
        "exception": {"type": "Boom", "stack": f"Boom: {HOSTILE}\n  at f (app.js:1:2)\n"},
        "n": HOSTILE,
    }
    event = _error(HOSTILE, details, user_message=HOSTILE, url=HOSTILE, category=HOSTILE)
    before = [Event(HOSTILE, category=HOSTILE, source=HOSTILE, timestamp=T0 - 1, id=3, user_message=HOSTILE)]
    markdown = render(Bundle(event, GROUP, "session", HOSTILE, before))

    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in markdown
    assert "␛" in markdown
    assert "⟨U+202E⟩" in markdown
    tokens = _parse(markdown)
    kinds = _inline_kinds(tokens)
    assert not kinds & {
        "image",
        "html_inline",
        "html_block",
        "code_inline",
        "s_open",
        "em_open",
    }
    # The one link is the bare URL itself, shown as written (GitHub links bare URLs too).
    links = [c for t in tokens for c in t.children or [] if c.type == "link_open"]
    assert {(link.markup, link.attrs["href"]) for link in links} == {("linkify", "https://evil.example")}
    # Each cell reads back as the whole (made visible) text: the `|` inside opened no column.
    shown = safe_text(HOSTILE)
    cells = [md_plain(token) for token in tokens if token.type == "inline" and "click" in token.content]
    # message, category, what the user saw and url; the earlier event's message, source, category
    # and what the user saw
    assert cells.count(shown) == 8
    heading = next(i for i, token in enumerate(tokens) if token.type == "heading_open")
    assert md_plain(tokens[heading + 1]) == "Boom: " + shown


def md_plain(token: Token) -> str:
    """The text markdown-it reads from an inline token (escapes resolved, no markup found)."""
    return "".join(child.content for child in token.children or [] if child.type == "text")


def test_a_fence_is_longer_than_any_backtick_run_inside() -> None:
    content = "a ``` b\n````\n`````` six\n"
    block = fenced(content, "text")
    assert block.startswith("```````text\n")  # seven: one more than the longest run (six)
    tokens = _parse("before\n\n" + block + "\nafter\n")
    fences = [token for token in tokens if token.type == "fence"]
    assert len(fences) == 1
    assert fences[0].content == content
    assert [t.content for t in tokens if t.type == "inline"] == ["before", "after"]
    assert fenced("plain").startswith("```\n")


def test_backticks_in_details_and_stack_cannot_close_their_blocks() -> None:
    details = {"exception": {"stack": "Error: ``````\n    at x (a.js:1:1)\n"}, "note": "```` end ```` "}
    markdown = render(Bundle(_error("e", details), scope="session", scope_value="s-1"))
    fences = [token for token in _parse(markdown) if token.type == "fence"]
    assert len(fences) == 2
    assert "``````" in fences[0].content
    assert "```` end ````" in fences[1].content
    assert "### Before it in session s-1" in markdown
    assert "Nothing earlier was stored." in markdown


def test_no_scope_no_details_no_stack() -> None:
    event = Event("plain failure", level="error", timestamp=T0, received_at=T0)
    markdown = render(Bundle(event))
    assert "No stack was sent." in markdown
    assert "No details were sent." in markdown
    assert "The event has no session, user or trace: nothing to line up before it." in markdown


def test_huge_stack_and_details_are_bounded() -> None:
    stack = "Traceback (most recent call last):\n" + '  File "/srv/app.py", line 1, in f\n' * 100_000
    details = {"exception": {"type": "RecursionError", "stack": stack}, "blob": "x" * 1_000_000}
    markdown = render(Bundle(_error("deep", details)))
    assert len(markdown) < 150_000
    assert "more lines not included" in markdown
    assert "frames not listed" in markdown
    assert "more characters not included" in markdown


def test_exception_type_and_escaping_helpers() -> None:
    assert exception_type({"exception": {"name": "TypeError"}}, None) == "TypeError"
    assert exception_type({}, Stack("Traceback (most recent call last):\nKeyError: 'a'\n")) == "KeyError"
    assert exception_type(None, None) is None
    assert md_text("a|b*c_[d](e)<f>") == "a\\|b\\*c\\_\\[d\\](e)\\<f\\>"
    assert md_text("x" * 50, 10) == "x" * 9 + "…"
