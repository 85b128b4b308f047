"""Stack traces joined per stream before they become events; keys and order kept."""

from __future__ import annotations

from sidelog.sources.join import BlockJoiner
from sidelog.sources.sink import SourceLine

TRACE = [
    "Traceback (most recent call last):",
    '  File "app.py", line 3, in <module>',
    "    main()",
    "ValueError: boom",
]


def lines(texts: list[str], stream: str = "stderr", first_key: int = 0) -> list[SourceLine]:
    return [SourceLine(text, stream, "web", f"k{first_key + i}", "import") for i, text in enumerate(texts)]


def feed_all(joiner: BlockJoiner, items: list[SourceLine], now: float = 0.0) -> list[SourceLine]:
    out: list[SourceLine] = []
    for item in items:
        out += joiner.feed(item, now=now)
    return out


def test_a_traceback_becomes_one_line_keyed_by_its_last_line() -> None:
    joiner = BlockJoiner()
    out = feed_all(joiner, lines(["starting", *TRACE, "next request"]))
    # A line that cannot start a multi-line entry is handed back at once, with its own key.
    assert [line.text for line in out] == ["starting", "\n".join(TRACE), "next request"]
    assert [line.key for line in out] == ["k0", "k4", "k5"]
    assert not joiner.pending
    assert joiner.flush() == []


def test_json_lines_pass_through_and_end_an_open_block_first() -> None:
    joiner = BlockJoiner()
    out = feed_all(joiner, lines([*TRACE, '{"message": "json"}', "after"]))
    assert [line.text for line in out] == ["\n".join(TRACE), '{"message": "json"}', "after"]


def test_streams_never_mix_inside_a_block() -> None:
    joiner = BlockJoiner()
    out = feed_all(joiner, lines(TRACE[:2], "stderr"))
    out += feed_all(joiner, lines(["stdout says hi"], "stdout", first_key=10))
    out += feed_all(joiner, lines(TRACE[2:], "stderr", first_key=2))
    out += joiner.flush()
    assert [(line.stream, line.text) for line in out] == [
        ("stdout", "stdout says hi"),
        ("stderr", "\n".join(TRACE)),
    ]


def test_an_open_block_ends_after_the_idle_time() -> None:
    joiner = BlockJoiner(idle_s=0.5)
    assert feed_all(joiner, lines(TRACE), now=10.0) == []
    assert joiner.flush_idle(now=10.2) == []
    (block,) = joiner.flush_idle(now=10.6)
    assert (block.text, block.key) == ("\n".join(TRACE), "k3")
    # The stream starts afresh: the next line is its own event.
    (line,) = feed_all(joiner, lines(["plain"], first_key=9), now=11.0)
    assert line.text == "plain"


def test_blank_lines_are_not_events() -> None:
    joiner = BlockJoiner()
    out = feed_all(joiner, lines(["one", "", "   ", "two"]))
    assert [line.text for line in out + joiner.flush()] == ["one", "two"]
