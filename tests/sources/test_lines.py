"""The bounded line splitter: line ends, bad bytes, cut lines and flat memory."""

from __future__ import annotations

import asyncio
import tracemalloc

from sidelog.sources.lines import LineSplitter, cut_marker, split_stream


def test_lines_crlf_and_a_final_line_without_newline() -> None:
    splitter = LineSplitter()
    lines = splitter.feed(b"one\r\ntwo\nthr") + splitter.feed(b"ee\r\nfour")
    lines += splitter.finish()
    assert [line.text for line in lines] == ["one", "two", "three", "four"]
    assert [line.raw for line in lines] == [b"one\r", b"two", b"three\r", b"four"]
    assert [(line.offset, line.size) for line in lines] == [(0, 5), (5, 4), (9, 7), (16, 4)]
    assert splitter.finish() == []


def test_invalid_utf8_is_replaced_and_nul_bytes_removed() -> None:
    splitter = LineSplitter()
    bad, nul = splitter.feed(b"caf\xc3 \xff ok\n\x00\x00\x00resumed\x00\n")
    assert bad.text == "caf\ufffd \ufffd ok"
    assert bad.raw == b"caf\xc3 \xff ok"
    assert nul.text == "resumed"
    assert nul.raw == b"\x00\x00\x00resumed\x00"


def test_a_long_line_is_cut_marked_and_counted_and_the_next_line_is_whole() -> None:
    splitter = LineSplitter(limit=16)
    long_line = b"a" * 100
    lines = splitter.feed(long_line + b"\nnext\n" + b"b" * 16 + b"\n")
    assert lines[0].text == "a" * 16 + cut_marker(84)
    assert (lines[0].cut, lines[0].size, lines[0].raw) == (84, 101, b"a" * 16)
    assert lines[1].text == "next"
    assert lines[1].offset == 101
    assert lines[2].text == "b" * 16
    assert lines[2].cut == 0
    assert (splitter.cut_lines, splitter.cut_bytes) == (1, 84)


def test_a_long_line_across_chunks_is_discarded_as_it_arrives() -> None:
    splitter = LineSplitter(limit=10)
    assert splitter.feed(b"0123456789abcdef") == []
    assert splitter.pending == 10
    assert splitter.feed(b"g" * 1000) == []
    assert splitter.pending == 10
    lines = splitter.feed(b"tail\nafter\n")
    assert [line.text for line in lines] == ["0123456789" + cut_marker(1010), "after"]
    assert lines[1].offset == 1021
    # A cut line that never gets its newline still comes out at the end.
    splitter.feed(b"z" * 50)
    (last,) = splitter.finish()
    assert last.text == "z" * 10 + cut_marker(40)


def test_a_cut_never_splits_a_utf8_character() -> None:
    splitter = LineSplitter(limit=8)
    (line,) = splitter.feed("ééééé".encode() + b"\n")  # 10 bytes: the cut at 8 is a boundary
    assert line.text.startswith("éééé")
    assert "\ufffd" not in line.text
    (line,) = splitter.feed(b"a" + "ééééé".encode() + b"\n")  # the 8-byte cut falls mid-character
    assert line.text == "aééé" + cut_marker(4)
    assert line.raw == b"a" + "ééé".encode()


def test_a_two_gigabyte_line_does_not_grow_memory() -> None:
    chunk = b"x" * (1024 * 1024)
    splitter = LineSplitter(limit=64 * 1024)
    tracemalloc.start()
    try:
        for _ in range(2048):
            assert splitter.feed(chunk) == []
            assert splitter.pending <= 64 * 1024
        lines = splitter.feed(b"\nnext line\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024
    assert lines[0].cut == 2048 * 1024 * 1024 - 64 * 1024
    assert lines[0].size == 2048 * 1024 * 1024 + 1
    assert lines[1].text == "next line"
    assert lines[1].offset == 2048 * 1024 * 1024 + 1


def test_reset_forgets_an_unfinished_line() -> None:
    splitter = LineSplitter()
    splitter.feed(b"half a li")
    splitter.reset(0)
    assert [line.text for line in splitter.feed(b"new\n")] == ["new"]


async def test_split_stream_reads_an_asyncio_stream() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"first\nsec")
    reader.feed_data(b"ond\nno newline")
    reader.feed_eof()
    texts = [line.text async for batch in split_stream(reader, limit=1024) for line in batch]
    assert texts == ["first", "second", "no newline"]
