"""The composition root: parse the command line, build Settings, run one command.

Every error a user can cause ends here as one line on stderr and a non-zero exit
status (2 for bad usage or settings, 1 for runtime failures), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from sidelog.commands.common import CommandError
from sidelog.config import Settings, SettingsError, load_settings

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _server_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server settings (each also an environment variable)")
    # SUPPRESS: a flag given before the sub-command must not be reset by the
    # sub-command's own default.
    group.set_defaults()
    group.argument_default = argparse.SUPPRESS
    group.add_argument(
        "--db", metavar="PATH|URL", help="SQLite file or postgresql:// URL (SIDELOG_DB; .sidelog/events.db)"
    )
    group.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        help="TCP NDJSON endpoint or 'off' (SIDELOG_TCP, default 127.0.0.1:7411)",
    )
    group.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="HTTP API endpoint or 'off' (SIDELOG_HTTP, default 127.0.0.1:7412)",
    )
    group.add_argument("--unix", metavar="PATH", help="Unix socket path (SIDELOG_UNIX, default off)")
    group.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow non-loopback binds; clients must send the token (SIDELOG_ALLOW_REMOTE)",
    )
    group.add_argument(
        "--tokens",
        dest="tokens_file",
        metavar="FILE",
        help="named and read-only client tokens, 'NAME TOKEN [read-only]' a line (SIDELOG_TOKENS_FILE)",
    )
    group.add_argument("--tls-cert", metavar="FILE", help="PEM certificate: serve HTTPS (SIDELOG_TLS_CERT)")
    group.add_argument("--tls-key", metavar="FILE", help="the certificate's PEM key (SIDELOG_TLS_KEY)")
    group.add_argument(
        "--forward",
        action="append",
        metavar="URL",
        help="send stored events onward as OTLP logs to otlp+http://HOST:PORT (or otlp+https); "
        "repeatable (SIDELOG_FORWARD)",
    )


def _to_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        metavar="HOST:PORT",
        help="sidelog's TCP address (SIDELOG_ADDRESS, default 127.0.0.1:7411)",
    )
    _token_flag(parser)


def _store_upkeep_flags(parser: argparse.ArgumentParser, what: str) -> None:
    """``--db``, ``--to`` and ``--token`` of a command a running server does in its place."""
    parser.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help="SQLite file (SIDELOG_DB)")
    parser.add_argument(
        "--to",
        metavar="HOST:PORT",
        help=f"the HTTP address of the sidelog using the database, asked to {what} when it runs "
        "(SIDELOG_HTTP, default 127.0.0.1:7412; https://HOST:PORT for TLS)",
    )
    _token_flag(parser)


def _token_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token",
        dest="client_token",
        metavar="TOKEN",
        help="the token a remote sidelog asks for (SIDELOG_TOKEN)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    parser = _Parser(
        prog="sidelog",
        description="A local event sidecar: apps send structured events, you triage them "
        "in the terminal. With no command, starts the servers and the UI.",
    )
    _server_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = commands.add_parser("serve", help="run the servers headless until SIGINT/SIGTERM")
    _server_flags(serve)

    send = commands.add_parser("send", help="send one event")
    send.add_argument("message", metavar="MESSAGE")
    send.add_argument("--category", help="e.g. auth, payment, ui (default general)")
    send.add_argument("--level", help="debug, info, warn or error (default info)")
    send.add_argument("--details", metavar="JSON", help="any JSON value, e.g. '{\"orderId\": 7}'")
    send.add_argument("--user", help="userId")
    send.add_argument("--session", help="sessionId")
    send.add_argument("--source", help="server, client, api, middleware… (default server)")
    _to_flag(send)

    demo = commands.add_parser("demo", help="send realistic traffic (payments, sign-ins, errors…)")
    demo.add_argument("--rate", type=float, default=20.0, help="events per second (default 20)")
    demo.add_argument(
        "--duration", type=float, default=60.0, help="seconds to run, 0 for no end (default 60)"
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    _to_flag(demo)

    bench = commands.add_parser("bench", help="measure ingest, latency and memory")
    bench.add_argument(
        "--prefill",
        type=int,
        default=1_000_000,
        help="events stored before measuring (default 1000000)",
    )
    bench.add_argument(
        "--events",
        type=int,
        default=200_000,
        help="events sent in the throughput run (default 200000)",
    )
    bench.add_argument("--connections", type=int, default=4, help="TCP connections (default 4)")
    bench.add_argument(
        "--latency-rate", type=int, default=2000, help="events/s for the latency run (default 2000)"
    )
    bench.add_argument(
        "--dir", metavar="PATH", help="where to keep the benchmark databases (default: a temp dir)"
    )
    bench.add_argument(
        "--import-lines",
        type=int,
        default=1_000_000,
        help="JSONL lines for the import figure (default 1000000)",
    )
    bench.add_argument(
        "--only",
        metavar="SECTIONS",
        help="comma-separated subset of: ingest, http, client, latency, receivers, import, "
        "integrations, browser (default: all)",
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--ui", action="store_true", help="measure the terminal UI instead (headless)")
    bench.add_argument(
        "--db", metavar="URL", help="measure a PostgreSQL server instead: postgresql://USER@HOST:PORT/NAME"
    )

    prune = commands.add_parser("prune", help="apply retention and the size budget now")
    _store_upkeep_flags(prune, "prune")
    vacuum = commands.add_parser(
        "vacuum", help="compact the database file, or have the running sidelog give free space back"
    )
    _store_upkeep_flags(vacuum, "give free pages back")
    recover = commands.add_parser(
        "recover", help="copy what can be read from a damaged database into a new one"
    )
    recover.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help="SQLite file (SIDELOG_DB)")

    tail = commands.add_parser("tail", help="print live events (plain or --json lines)")
    _filter_flags(tail)
    tail.add_argument("--json", action="store_true", help="one JSON object per line")
    tail.add_argument(
        "--to",
        metavar="HOST:PORT",
        help="sidelog's HTTP address, https://HOST:PORT for TLS (SIDELOG_HTTP, default 127.0.0.1:7412)",
    )
    _token_flag(tail)

    export = commands.add_parser("export", help="write stored events as JSON lines or CSV")
    _filter_flags(export)
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", "-o", metavar="PATH", help="file to write (default stdout)")
    export.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="SQLite file or postgresql:// URL (SIDELOG_DB)",
    )
    export.add_argument(
        "--to", metavar="URL", help="read a sidelog server over HTTP instead: http(s)://HOST:PORT"
    )
    _token_flag(export)
    export.add_argument("--bundle", metavar="FINGERPRINT", help="one error group's repro bundle (Markdown)")
    export.add_argument("--events", type=int, default=20, metavar="N", help="with --bundle: events before it")
    _source_commands(commands)
    return parser


def _source_commands(commands: Any) -> None:
    """``run`` and ``import``: lines from a wrapped command or from files become events."""
    run = commands.add_parser("run", help="wrap a dev server: its output becomes events")
    run.add_argument("--name", help="category of its lines (default: the command's name)")
    run.add_argument(
        "--to",
        nargs="?",
        const="",
        metavar="ADDR",
        help="report to a running sidelog, HOST:PORT or unix:/path "
        "(bare --to: SIDELOG_ADDRESS, else 127.0.0.1:7411)",
    )
    run.add_argument("--headless", action="store_true", help="no UI: echo the command's output here")
    _token_flag(run)
    _server_flags(run)
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS…")

    imports = commands.add_parser("import", help="import log files or stdin, each line once")
    imports.add_argument("files", nargs="*", metavar="FILE", help=".jsonl, .log, .gz…; '-' for stdin")
    imports.add_argument("-f", "--follow", action="store_true", help="keep reading as files grow (tail -F)")
    imports.add_argument("--name", help="category of the lines (default: the file's name)")
    imports.add_argument(
        "--max-decompressed", type=float, metavar="MB", help="cap per gzip file (default 4096)"
    )
    _to_flag(imports)


def _filter_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--level", action="append", help="level(s) to keep; repeat or comma-separate")
    parser.add_argument("--category", action="append", help="categories to keep")
    parser.add_argument("--source", action="append", help="sources to keep")
    parser.add_argument("--user", help="only this userId")
    parser.add_argument("--session", help="only this sessionId")
    parser.add_argument("--trace", help="only this trace id (32 hex digits)")
    parser.add_argument("-q", "--search", dest="q", help="text in message or details")
    parser.add_argument("--since", help="10m, 2h, 7d, today, yesterday, ISO-8601 or epoch ms")
    parser.add_argument("--until", help="same forms as --since (exclusive)")


def filter_params(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The filter flags as query parameters (``EventFilter.from_params`` input)."""
    params: list[tuple[str, str]] = []
    for name in ("level", "category", "source"):
        params.extend((name, value) for value in getattr(args, name) or [])
    for name in ("user", "session", "trace", "q", "since", "until"):
        value = getattr(args, name, None)
        if value is not None:
            params.append((name, value))
    return params


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings with the command-line flags on top of every other source."""
    overrides: dict[str, Any] = {}
    for name in (
        "db",
        "tcp",
        "http",
        "unix",
        "allow_remote",
        "forward",
        "tokens_file",
        "tls_cert",
        "tls_key",
    ):
        overrides[name] = getattr(args, name, None)
    return load_settings(**overrides)


def _run(args: argparse.Namespace) -> int:
    command = args.command
    if command == "send":
        from sidelog.commands.send import run_send

        print(
            run_send(
                args.message,
                to=args.to,
                category=args.category,
                level=args.level,
                details=args.details,
                user=args.user,
                session=args.session,
                source=args.source,
                token=args.client_token,
            )
        )
        return 0
    if command == "demo":
        from sidelog.commands.demo import run_demo

        print(
            run_demo(
                to=args.to, rate=args.rate, duration=args.duration, seed=args.seed, token=args.client_token
            ),
            file=sys.stderr,
        )
        return 0
    if command == "bench":
        from sidelog.bench.run import run_bench

        return run_bench(args)
    if command == "tail":
        from sidelog.commands.tail import run_tail

        return run_tail(args, filter_params(args))
    if command == "export":
        from sidelog.commands.export import run_export

        return run_export(args, settings_from_args(args), filter_params(args))
    if command in ("run", "import") and args.client_token is not None:
        os.environ["SIDELOG_TOKEN"] = args.client_token  # read by sources/tcp_sink.py and the child
    if command == "run":
        from sidelog.commands.run import run_command

        return run_command(args, lambda: settings_from_args(args))
    if command == "import":
        from sidelog.commands.import_file import run_import

        return run_import(args)
    settings = settings_from_args(args)
    if command in ("vacuum", "recover"):
        _sqlite_only(command, settings)
    if command == "prune":
        from sidelog.commands.prune import run_prune

        return asyncio.run(run_prune(settings, to=args.to, token=args.client_token))
    if command in ("vacuum", "recover"):
        from sidelog.commands.maintenance import run_recover, run_vacuum

        if command == "vacuum":
            return run_vacuum(settings, to=args.to, token=args.client_token)
        return run_recover(settings.db)
    from sidelog.commands.piped import run_serve, run_ui  # piped stdin becomes a source

    return run_serve(settings) if command == "serve" else run_ui(settings)


def _sqlite_only(command: str, settings: Settings) -> Settings:
    """``settings``, unless they name a PostgreSQL store, which this command cannot open yet."""
    if settings.store.is_postgres:
        where = settings.store.display()
        raise CommandError(f"sidelog {command} works on a SQLite file; {where} is PostgreSQL")
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sidelog`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except SettingsError as exc:
        print(f"sidelog: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as exc:
        print(f"sidelog: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
