"""Real files: plain, gzip, broken gzip, zip bombs, NUL bytes, stdin, and following."""

from __future__ import annotations

import asyncio
import gzip
import io
import os
import shutil
import tracemalloc
import zlib
from pathlib import Path

import pytest

from sidelog.sources.files import KEY_PREFIX, FileReader, KeyedLine, SourceError
from sidelog.sources.lines import cut_marker
from sidelog.sources.progress import Progress
from tests.support.wait import until

LOG = b'{"message": "first", "level": "info"}\nsecond line\r\n\nthird line\n'


async def read_all(reader: FileReader) -> list[KeyedLine]:
    return [line async for batch in reader.batches() for line in batch]


async def collect(reader: FileReader, into: list[KeyedLine]) -> None:
    """Read everything into ``into``, so what came before an error stays visible."""
    async for batch in reader.batches():
        into.extend(batch)


async def texts_and_keys(path: Path) -> list[tuple[str, str]]:
    return [(line.text, line.key) for line in await read_all(FileReader(str(path)))]


async def test_a_plain_file_gives_every_line_with_a_key(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(LOG + b"no newline at the end")
    reader = FileReader(str(path))
    lines = await read_all(reader)
    assert [line.text for line in lines] == [
        '{"message": "first", "level": "info"}',
        "second line",
        "",
        "third line",
        "no newline at the end",
    ]
    assert [line.offset for line in lines] == [0, 38, 51, 52, 63]
    keys = [line.key for line in lines]
    assert len(set(keys)) == 5
    assert all(key.startswith(KEY_PREFIX) and len(key) <= 128 for key in keys)
    assert (reader.total, reader.consumed, reader.lines) == (84, 84, 5)


async def test_keys_follow_content_so_copies_and_rotations_import_once(tmp_path: Path) -> None:
    original = tmp_path / "app.log"
    original.write_bytes(LOG)
    copy = tmp_path / "elsewhere" / "copy.log"
    copy.parent.mkdir()
    shutil.copy(original, copy)
    compressed = tmp_path / "app.log.1"  # gzip without the .gz suffix: found by its magic bytes
    compressed.write_bytes(gzip.compress(LOG))
    first = await texts_and_keys(original)
    assert await texts_and_keys(copy) == first
    assert await texts_and_keys(compressed) == first
    # A file that grew keeps the keys of its old lines; only new lines get new ones.
    with original.open("ab") as handle:
        handle.write(b"a new line\n")
    grown = await texts_and_keys(original)
    assert grown[:-1] == first
    assert grown[-1][1] not in {key for _, key in first}
    # The same line in a different history is a different line.
    other = tmp_path / "other.log"
    other.write_bytes(b"something else\n" + LOG)
    assert not {key for _, key in await texts_and_keys(other)} & {key for _, key in first}


async def test_keys_sort_in_file_order_and_name_the_history(tmp_path: Path) -> None:
    # Ascending keys append at the right edge of the store's unique index instead of
    # landing on random pages; offsets past a hex digit boundary must still sort.
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(b'{"message": "event %d"}\n' % i for i in range(5000)))
    keys = [line.key for line in await read_all(FileReader(str(path), chunk=4096))]
    assert len(keys) == 5000
    assert keys == sorted(keys)
    assert len({len(key) for key in keys}) == 1
    # Two files that share a first line share the start of their keys, yet a line at the
    # same offset after they differ gets a different key: the chain names what came before.
    one, two = tmp_path / "one.log", tmp_path / "two.log"
    one.write_bytes(b"server started\nalpha\nsame\n")
    two.write_bytes(b"server started\nomega\nsame\n")
    first, second = await texts_and_keys(one), await texts_and_keys(two)
    assert first[0] == second[0]
    assert first[1][1] != second[1][1]
    assert first[2][0] == second[2][0]
    assert first[2][1] != second[2][1]
    assert first[2][1][:17] == second[2][1][:17]  # the same file identity


async def test_gzip_with_several_members_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "two.gz"
    path.write_bytes(gzip.compress(b"one\ntwo\n") + gzip.compress(b"three\n"))
    reader = FileReader(str(path))
    assert [line.text for line in await read_all(reader)] == ["one", "two", "three"]
    assert reader.compressed
    assert reader.consumed == path.stat().st_size


async def test_a_truncated_gzip_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    body = b"".join(b"line %05d of a rotated log\n" % i for i in range(20_000))
    packed = gzip.compress(body)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(packed[: len(packed) // 2])
    reader = FileReader(str(path), chunk=4096)
    got: list[KeyedLine] = []
    with pytest.raises(SourceError, match=r"cut\.log\.gz: truncated gzip") as error:
        await collect(reader, got)
    assert 0 < len(got) < 20_000
    assert [line.text for line in got] == [f"line {i:05d} of a rotated log" for i in range(len(got))]
    assert f"({len(got):,} lines)" in str(error.value)


async def test_corrupt_gzip_data_is_an_error(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(b"x" * 10_000 + b"\n"))
    packed[12:20] = b"\xff" * 8
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(SourceError, match="corrupt gzip data"):
        await read_all(FileReader(str(path)))


async def test_a_zip_bomb_stops_at_the_cap_with_flat_memory(tmp_path: Path) -> None:
    # 128 MiB of zeros (one endless NUL "line") packs into about 130 KB: a 1000:1 bomb.
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    path = tmp_path / "bomb.gz"
    with path.open("wb") as out:
        out.write(packer.compress(b"a real line\n"))
        for _ in range(128):
            out.write(packer.compress(zeros))
        out.write(packer.flush())
    assert path.stat().st_size < 256 * 1024
    reader = FileReader(str(path), max_decompressed_bytes=16 * 1024 * 1024)
    got: list[KeyedLine] = []
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="past the cap of 16.0 MiB .a zip bomb") as error:
            await collect(reader, got)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [line.text for line in got] == ["a real line"]
    assert peak < 16 * 1024 * 1024
    assert "--max-decompressed" in str(error.value)


async def test_nul_filled_regions_read_as_blank_or_clean_lines(tmp_path: Path) -> None:
    path = tmp_path / "crashed.log"
    # What a crash leaves: a pre-allocated run of NULs, then the app writing again.
    path.write_bytes(b"before\n" + bytes(4096) + b"after the crash\n" + bytes(100) + b"\n")
    assert [line.text for line in await read_all(FileReader(str(path)))] == ["before", "after the crash", ""]


async def test_over_long_lines_are_cut_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "wide.log"
    path.write_bytes(b"x" * 5000 + b"\nshort\n")
    reader = FileReader(str(path), max_line_bytes=1000)
    lines = await read_all(reader)
    assert lines[0].text == "x" * 1000 + cut_marker(4000)
    assert lines[0].cut == 4000
    assert lines[1].text == "short"
    assert reader.cut_lines == 1


async def test_missing_files_and_directories_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="nope.log: no such file"):
        await read_all(FileReader(str(tmp_path / "nope.log")))
    with pytest.raises(SourceError, match="is a directory"):
        await read_all(FileReader(str(tmp_path)))


async def test_stdin_from_a_pipe_is_read_as_it_arrives(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    reader = FileReader("-", stdin=os.fdopen(read_fd, "rb"))
    got: list[str] = []

    async def collect() -> None:
        async for batch in reader.batches():
            got.extend(line.text for line in batch)

    task = asyncio.create_task(collect())
    os.write(write_fd, b"one\ntw")
    await until(lambda: got == ["one"], message="first line handed on before EOF")
    os.write(write_fd, b"o\n" + gzip.compress(b"not gzip here: only the start counts\n")[:2] + b"\n")
    os.close(write_fd)
    await task
    assert got[:2] == ["one", "two"]
    assert len(got) == 3
    assert reader.name == "stdin"


async def test_stdin_redirected_from_a_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "in.gz"
    path.write_bytes(gzip.compress(LOG))
    with path.open("rb") as handle:
        reader = FileReader("-", stdin=handle)
        lines = await read_all(reader)
    assert [line.key for line in lines] == [key for _, key in await texts_and_keys_bytes(tmp_path, LOG)]
    assert reader.total == path.stat().st_size


async def texts_and_keys_bytes(tmp_path: Path, data: bytes) -> list[tuple[str, str]]:
    path = tmp_path / "plain-copy.log"
    path.write_bytes(data)
    return await texts_and_keys(path)


class Follower:
    """Collects a followed file's lines in a background task."""

    def __init__(self, path: Path) -> None:
        self.reader = FileReader(str(path), follow=True, poll_s=0.01)
        self.lines: list[KeyedLine] = []
        self.idle = 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for batch in self.reader.batches():
            if batch:
                self.lines.extend(batch)
            else:
                self.idle += 1

    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    async def stop(self) -> None:
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


async def test_follow_reads_a_growing_file_and_reports_when_caught_up(tmp_path: Path) -> None:
    path = tmp_path / "live.log"
    path.write_bytes(b"one\n")
    follower = Follower(path)
    try:
        await until(lambda: follower.texts() == ["one"] and follower.idle == 1)
        with path.open("ab") as handle:
            handle.write(b"two\nthr")
        await until(lambda: follower.texts() == ["one", "two"] and follower.idle == 2)
        with path.open("ab") as handle:
            handle.write(b"ee\n")
        await until(lambda: follower.texts() == ["one", "two", "three"])
    finally:
        await follower.stop()


async def test_follow_survives_rotation_truncation_and_deletion(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"a1\n")
    follower = Follower(path)
    try:
        await until(lambda: follower.texts() == ["a1"], message="first line")
        # Rotation by rename: what the app still writes to the old file is read first.
        rotated = tmp_path / "app.log.1"
        path.rename(rotated)
        with rotated.open("ab") as handle:
            handle.write(b"a2 (late write to the old file)\n")
        await until(lambda: len(follower.texts()) == 2, message="late line of the rotated file")
        path.write_bytes(b"b1\n")
        await until(lambda: follower.texts()[-1] == "b1", message="line of the new file")
        assert follower.reader.rotations == 1
        # Truncation (copytruncate): read again from the start.
        with path.open("ab") as handle:
            handle.write(b"b2 longer line\n")
        await until(lambda: follower.texts()[-1] == "b2 longer line")
        path.write_bytes(b"c1\n")
        await until(lambda: follower.texts()[-1] == "c1", message="line after truncation")
        assert follower.reader.truncations == 1
        # Deletion: the file that comes back at the path is followed from its start.
        path.unlink()
        path.write_bytes(b"d1\n")
        await until(lambda: follower.texts()[-1] == "d1", message="line of the recreated file")
    finally:
        await follower.stop()
    texts = follower.texts()
    assert texts == ["a1", "a2 (late write to the old file)", "b1", "b2 longer line", "c1", "d1"]
    # After truncation "c1" starts a new history: its key differs from the old line at offset 0.
    keys = [line.key for line in follower.lines]
    assert len(set(keys)) == len(keys)


async def test_follow_waits_for_a_file_that_does_not_exist_yet(tmp_path: Path) -> None:
    path = tmp_path / "later.log"
    follower = Follower(path)
    try:
        path.write_bytes(b"finally\n")
        await until(lambda: follower.texts() == ["finally"])
    finally:
        await follower.stop()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only_and_always_prints_the_summary() -> None:
    now = [100.0]
    screen = Terminal()
    bar = Progress(screen, every_s=0.1, clock=lambda: now[0])
    now[0] += 2.0
    bar.update(50 * 1024 * 1024, 200 * 1024 * 1024, 1000, 900, label="importing")
    bar.update(60 * 1024 * 1024, 200 * 1024 * 1024, 1200, 1000, label="importing")  # too soon: skipped
    bar.finish("imported app.log: done")
    drawn = screen.getvalue()
    assert drawn.count("\r") == 2  # one draw, one clear
    assert drawn.startswith("\rimporting ")
    assert drawn.endswith("\r\x1b[Kimported app.log: done\n")
    text = bar.render(50 * 1024 * 1024, 200 * 1024 * 1024, 1000, 900, label="importing")
    for part in ("25%", "1,000 lines, 900 stored", "25.0 MiB/s", "ETA 0:06", "50.0 MiB/200.0 MiB"):
        assert part in text

    piped = io.StringIO()
    quiet = Progress(piped)
    assert not quiet.enabled
    quiet.update(1, 2, 1, 1, label="importing")
    quiet.finish("imported app.log: done")
    assert piped.getvalue() == "imported app.log: done\n"
