"""``sidelog export --format jsonl|csv``: stored events, with the stream's filters.

With ``--bundle FINGERPRINT`` it writes one error group's repro bundle instead
(Markdown, ``commands/bundle.py``). With ``--to http(s)://HOST:PORT`` it reads a server's
HTTP API instead of a store (commands/remote_export.py), writing the same bytes.

Reads the SQLite file directly through a read-only connection, so it works while a
server is running (WAL readers never block the writer) and needs no server at all; a
PostgreSQL store is read through the store's own read path (commands/pg_read.py).
Rows are read oldest first in keyset pages by id, so memory stays flat for any
size. JSON lines are the API's event objects; CSV has the ``events`` table's
columns. A progress bar is drawn on stderr only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

import orjson

from sidelog.commands.common import CommandError
from sidelog.config import Settings
from sidelog.filters import EventFilter
from sidelog.search import register as register_search
from sidelog.store.models import event_from_row, select_columns
from sidelog.store.reader import filter_sql
from sidelog.store.schema import EVENT_COLUMN_NAMES
from sidelog.textsafe import json_safe, safe_text

if TYPE_CHECKING:
    from sidelog.commands.pg_read import PgRows
    from sidelog.commands.remote_export import RemoteRows

PAGE = 5000
_BAR_WIDTH = 30


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to the database (``CommandError`` if it cannot be read)."""
    if not path.is_file():
        raise CommandError(f"no database at {path} (use --db or SIDELOG_DB)")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=10.0)
        register_search(conn)
        conn.execute("PRAGMA query_only = 1")
        conn.execute("SELECT 1 FROM events LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    return conn


def iter_rows(conn: sqlite3.Connection, flt: EventFilter) -> Iterator[tuple[Any, ...]]:
    """Matching rows, oldest first, one page (short read transaction) at a time."""
    terms, params = filter_sql(flt)
    where = " AND ".join([*terms, "id > ?"])
    sql = f"SELECT {select_columns(conn)} FROM events WHERE {where} ORDER BY id LIMIT {PAGE}"
    last = 0
    while True:
        rows = conn.execute(sql, [*params, last]).fetchall()
        yield from rows
        if len(rows) < PAGE:
            return
        last = rows[-1][0]


def count_rows(conn: sqlite3.Connection, flt: EventFilter) -> int:
    """How many rows the export will write (for the progress bar)."""
    terms, params = filter_sql(flt)
    where = f" WHERE {' AND '.join(terms)}" if terms else ""
    return int(conn.execute(f"SELECT count(*) FROM events{where}", params).fetchone()[0])


class _Progress:
    """A one-line bar on stderr, redrawn at most ten times a second (a count when the
    total is unknown: a remote export has no count to ask for)."""

    def __init__(self, total: int | None, stream: TextIO) -> None:
        self._total = None if total is None else max(total, 1)
        self._stream = stream
        self._drawn = 0.0

    def update(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._drawn < 0.1:
            return
        self._drawn = now
        if self._total is None:
            self._stream.write(f"\rexporting {done:,} events")
            self._stream.write("\n" if final else "")
            self._stream.flush()
            return
        share = min(done / self._total, 1.0)
        filled = int(share * _BAR_WIDTH)
        bar = "█" * filled + "░" * (_BAR_WIDTH - filled)
        self._stream.write(f"\rexporting {bar} {share:4.0%} {done:,}/{self._total:,}")
        if final:
            self._stream.write("\n")
        self._stream.flush()


def _write_jsonl(rows: Iterator[tuple[Any, ...]], out: TextIO, tick: Any) -> int:
    count = 0
    for row in rows:
        out.write(json_safe(orjson.dumps(event_from_row(row).to_wire()).decode()) + "\n")
        count += 1
        if count % 1000 == 0:
            tick(count)
    return count


_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is a formula to Excel, LibreOffice and Sheets."""


def inert_cell(value: str) -> str:
    """A text cell a spreadsheet shows as text: formula-leading values get a ``'`` prefix.

    Event text comes from apps and web pages; ``=HYPERLINK(…)`` in a message must not
    become a live link (or a command) when someone opens the export.
    """
    return "'" + value if value.startswith(_FORMULA_LEADS) else value


def _write_csv(rows: Iterator[tuple[Any, ...]], out: TextIO, tick: Any, for_terminal: bool) -> int:
    writer = csv.writer(out)
    writer.writerow(EVENT_COLUMN_NAMES)
    count = 0
    for row in rows:
        row = tuple(
            inert_cell(safe_text(value) if for_terminal else value) if isinstance(value, str) else value
            for value in row
        )
        writer.writerow(row)
        count += 1
        if count % 1000 == 0:
            tick(count)
    return count


_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_output(output: Path, db: Path) -> None:
    """Refuse to overwrite the database, its WAL/SHM/lock files, or any other SQLite file."""
    store_files = [db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", ".lock"))]
    for store_file in store_files:
        with contextlib.suppress(OSError):
            if output.resolve() == store_file.resolve() or output.samefile(store_file):
                raise CommandError(f"refusing to write the export over the store file {store_file}")
    with contextlib.suppress(OSError), open(output, "rb") as existing:
        if existing.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC:
            raise CommandError(f"refusing to overwrite {output}: it is a SQLite database")


def run_export(args: argparse.Namespace, settings: Settings, params: list[tuple[str, str]]) -> int:
    """Write the matching events to ``--output`` (or stdout); summary on stderr."""
    remote = _remote_url(args)
    if getattr(args, "bundle", None) is not None:
        return _run_bundle(args, settings, params, remote)
    try:
        flt = EventFilter.from_params(params)
    except ValueError as exc:
        raise CommandError(f"invalid filter: {exc}") from None
    fmt = getattr(args, "format", "jsonl") or "jsonl"
    output = getattr(args, "output", None)
    source = _open_source(settings, remote, getattr(args, "client_token", None))
    progress = _Progress(source.count(flt), sys.stderr) if sys.stderr.isatty() else None

    def tick(done: int) -> None:
        if progress is not None:
            progress.update(done)

    try:
        with contextlib.ExitStack() as stack:
            if output and output != "-":
                check_output(Path(output), settings.db)
                try:
                    out: TextIO = stack.enter_context(open(output, "w", encoding="utf-8", newline=""))
                except OSError as exc:
                    raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
                for_terminal = False
            else:
                out = sys.stdout
                for_terminal = sys.stdout.isatty()
            rows = source.rows(flt)
            if fmt == "csv":
                count = _write_csv(rows, out, tick, for_terminal)
            else:
                count = _write_jsonl(rows, out, tick)
            out.flush()
    except BrokenPipeError:
        return 0
    except sqlite3.Error as exc:
        raise CommandError(f"cannot read {settings.db}: {exc}") from None
    except OSError as exc:  # a full disk, a quota, a vanished mount: while writing or closing
        where = output if output and output != "-" else "stdout"
        raise CommandError(f"cannot write {where}: {exc.strerror or exc}") from None
    finally:
        source.close()
    if progress is not None:
        progress.update(count, final=True)
    where = output if output and output != "-" else "stdout"
    print(f"exported {count} events to {where}", file=sys.stderr)
    return 0


def _remote_url(args: argparse.Namespace) -> str | None:
    """``--to URL``: export from a server over HTTP (``--db`` names a store instead: not both)."""
    url = getattr(args, "to", None)
    if url is None:
        return None
    if getattr(args, "db", None):
        raise CommandError("--to reads a server over HTTP and --db a store: give one of them")
    if not url.strip():
        raise CommandError("--to needs a server address: http://HOST:PORT or https://HOST:PORT")
    return str(url)


def _run_bundle(
    args: argparse.Namespace, settings: Settings, params: list[tuple[str, str]], remote: str | None
) -> int:
    """``--bundle FINGERPRINT``: the group's repro bundle as Markdown (commands/bundle.py)."""
    from sidelog.commands.bundle import bundle_markdown, write_bundle

    if params:
        raise CommandError("--bundle takes no filter flags: the bundle is one error group's newest event")
    if getattr(args, "format", "jsonl") not in (None, "jsonl"):
        raise CommandError("--bundle writes Markdown: --format does not apply")
    output = getattr(args, "output", None)
    if output and output != "-":
        check_output(Path(output), settings.db)
    if remote is not None or settings.store.is_postgres:
        rows = _open_source(settings, remote, getattr(args, "client_token", None))
        assert not isinstance(rows, _FileRows)
        try:
            return write_bundle(rows.bundle, args.bundle, getattr(args, "events", 20), output)
        finally:
            rows.close()
    conn = open_readonly(settings.db)
    try:
        return write_bundle(
            lambda fingerprint, events: bundle_markdown(conn, fingerprint, events),
            args.bundle,
            getattr(args, "events", 20),
            output,
        )
    finally:
        conn.close()


class _FileRows:
    """The rows of a SQLite file, read-only (``open_readonly``)."""

    def __init__(self, path: Path) -> None:
        self._conn = open_readonly(path)

    def rows(self, flt: EventFilter) -> Iterator[tuple[Any, ...]]:
        return iter_rows(self._conn, flt)

    def count(self, flt: EventFilter) -> int:
        return count_rows(self._conn, flt)

    def close(self) -> None:
        self._conn.close()


def _open_source(
    settings: Settings, remote: str | None, token: str | None
) -> _FileRows | PgRows | RemoteRows:
    """The store's rows: the SQLite file read-only, a PostgreSQL database (commands/pg_read.py),
    or a server's HTTP API (``--to``: commands/remote_export.py)."""
    if remote is not None:
        from sidelog.commands.common import client_token
        from sidelog.commands.remote_export import RemoteRows

        return RemoteRows(remote, client_token(token))
    if settings.store.is_postgres:
        from sidelog.commands.pg_read import PgRows

        return PgRows(settings.store)
    return _FileRows(settings.db)
