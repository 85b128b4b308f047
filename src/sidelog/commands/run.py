"""``sidelog run [--name N] [--to ADDR] [--headless] -- CMD ARGS…``: wrap a dev server.

The command runs as a child (``sources/child.py``); every line it prints on
stdout or stderr becomes an event in category ``--name`` (default: the command's
basename), a stack trace one event for all its lines (``sources/join.py``), and
its start and exit are recorded as ``system`` events. The child
is told where sidelog is (``SIDELOG_ADDRESS``, ``SENTRY_SPOTLIGHT``,
``OTEL_EXPORTER_OTLP_*``), so the SDKs it uses report here too. ``sidelog run``
exits with the child's status.

With ``--to`` the events go to a sidelog already running; there is no UI in this
terminal, so the child's output is echoed unchanged (colours included). Without
``--to``, ``sidelog run`` is to start its own sidelog (``run_with_own_server``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import signal
import sys
from collections.abc import Callable
from typing import Any

from sidelog.commands.common import CommandError
from sidelog.config import Settings, load_settings, parse_endpoint
from sidelog.sources.child import (
    DRAIN_TIMEOUT_S,
    GRACE_PERIOD_S,
    Child,
    ChildError,
    ChildResult,
    Exited,
    Lifecycle,
    child_env,
)
from sidelog.sources.join import IDLE_S, BlockJoiner
from sidelog.sources.sink import DEFAULT_ADDRESS, SinkError, SourceLine
from sidelog.sources.tcp_sink import TcpSink

EXIT_USAGE = 2
DEFAULT_HTTP_PORT = 7412
USAGE = "sidelog run [--name N] [--to ADDR] [--headless] -- CMD ARGS…"


def run_command(args: argparse.Namespace, settings: Callable[[], Settings] | None = None) -> int:
    """Entry point from ``cli.py``: the child's exit status (2 for a usage error).

    ``settings`` builds the server settings from the ``--db/--tcp/--http/--unix``
    flags; it is called only when this command starts its own sidelog.
    """
    argv = list(args.cmd)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(f"sidelog run: error: no command given (usage: {USAGE})", file=sys.stderr)
        return EXIT_USAGE
    name = args.name or os.path.basename(argv[0]) or "run"
    if args.to is None:
        return run_with_own_server(args, argv, name, settings or load_settings)
    address = args.to or os.environ.get("SIDELOG_ADDRESS") or DEFAULT_ADDRESS
    http = getattr(args, "http", None) or os.environ.get("SIDELOG_HTTP")
    return asyncio.run(report_to(address, argv, name=name, env=child_extras(address, http)))


def run_with_own_server(
    args: argparse.Namespace, argv: list[str], name: str, settings: Callable[[], Settings]
) -> int:
    """Start sidelog in this process and wrap the command.

    Headless (``--headless``, or when stdout is not a terminal) the child's output is
    echoed unchanged and sidelog stores it; otherwise the terminal UI shows it live
    (``sidelog.tui.run.run_app_with_child``). Either way the lines reach the engine
    through its own socket endpoint, the same path as ``--to``.
    """
    resolved = settings()
    running = _running_sidelog(resolved)
    if running is not None:  # the usual second terminal: report to the sidelog already open
        address, http = running
        print(
            f"sidelog: {resolved.db} is open in a running sidelog: sending to it at {address}",
            file=sys.stderr,
        )
        return asyncio.run(report_to(address, argv, name=name, env=child_extras(address, http)))
    if resolved.tcp_endpoint is None and resolved.unix is None:
        raise CommandError("sidelog run needs its TCP or Unix endpoint: do not set --tcp off without --unix")
    if args.headless or not sys.stdout.isatty():
        return asyncio.run(_headless(resolved, argv, name))
    from sidelog.tui.run import run_app

    async def wrap(endpoints: list[tuple[str, str]]) -> int:
        address, http = _own_addresses(endpoints)
        return await report_to(
            address,
            argv,
            name=name,
            env=child_extras(address, http),
            echo=False,
            forward_signals=False,
            announce=False,
        )

    return run_app(resolved, child=wrap)


async def _headless(settings: Settings, argv: list[str], name: str) -> int:
    from sidelog.server import StartupError, StoreError, start_server

    try:
        running = await start_server(settings)
    except (StartupError, StoreError) as exc:
        raise CommandError(str(exc)) from None
    try:
        address, http = _own_addresses(running.endpoints)
        status = await report_to(address, argv, name=name, env=child_extras(address, http))
    finally:
        report = await running.stop()
        stored = running.engine.counters.stored
        print(
            f"sidelog: stopped: {stored} stored this run, {report.unsaved} unsaved, "
            f"{report.write_failed} failed writes",
            file=sys.stderr,
        )
    return status


def _running_sidelog(settings: Settings) -> tuple[str, str] | None:
    """The socket and HTTP addresses of a sidelog serving ``settings.db`` now, from the endpoints
    its ``sidelog started`` event names (``None``: none running, or it has no socket endpoint)."""
    from sidelog.commands.remote import database_in_use, started_endpoints

    if settings.store.url is not None or not database_in_use(settings.db):
        return None
    endpoints = []
    for text in started_endpoints(settings.db) or []:
        kind, _, where = text.partition(" ")
        for wildcard, loopback in (("0.0.0.0:", "127.0.0.1:"), ("[::]:", "[::1]:")):
            where = loopback + where.removeprefix(wildcard) if where.startswith(wildcard) else where
        endpoints.append((kind, where))
    try:
        return _own_addresses(endpoints)
    except CommandError:
        return None


def _own_addresses(endpoints: list[tuple[str, str]]) -> tuple[str, str]:
    """Where the child's lines and SDKs should go: this process's socket and HTTP endpoints."""
    kinds = dict(reversed(endpoints))
    if "tcp" in kinds:
        address = kinds["tcp"]
    elif "unix" in kinds:
        address = f"unix:{kinds['unix']}"
    else:
        raise CommandError("sidelog run needs its TCP or Unix endpoint: do not set --tcp off without --unix")
    return address, kinds.get("http", "off")


def child_extras(address: str, http: str | None) -> dict[str, str]:
    """The variables that point the child's SDKs at sidelog.

    ``http`` is sidelog's HTTP endpoint (``--http``/``SIDELOG_HTTP``); by default
    the host of ``address`` on port 7412. ``off`` leaves the HTTP-based ones unset.
    """
    extras = {"SIDELOG_ADDRESS": address}
    if http is not None and http.strip().lower() == "off":
        return extras
    host = "127.0.0.1"
    if not address.startswith("unix:"):
        try:
            endpoint = parse_endpoint(address)
        except ValueError:
            endpoint = None
        if endpoint is not None:
            host = endpoint.host
    try:
        target = parse_endpoint(http, default_host=host) if http else None
    except ValueError as exc:
        raise CommandError(f"invalid --http / SIDELOG_HTTP: {exc}") from None
    host, port = (target.host, target.port) if target is not None else (host, DEFAULT_HTTP_PORT)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    extras["SENTRY_SPOTLIGHT"] = f"{base}/stream"
    extras["OTEL_EXPORTER_OTLP_ENDPOINT"] = base
    extras["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
    return extras


def lifecycle_event(fact: Lifecycle, name: str, argv: list[str]) -> dict[str, Any]:
    """The ``system`` event recording a child's start or exit."""
    command = shlex.join(argv)
    if isinstance(fact, Exited):
        how = f"killed by {_signal_name(fact.signal)}" if fact.signal else f"exited with status {fact.status}"
        clean = fact.status == 0 or fact.stopped
        return {
            "message": f"{name} {how}",
            "level": "info" if clean else "error",
            "category": name,
            "source": "system",
            "details": {"pid": fact.pid, "status": fact.status, "signal": fact.signal, "command": command},
        }
    return {
        "message": f"{name} started (pid {fact.pid})",
        "level": "info",
        "category": name,
        "source": "system",
        "details": {"pid": fact.pid, "argv": list(fact.argv), "command": command},
    }


async def report_to(
    address: str,
    argv: list[str],
    *,
    name: str,
    env: dict[str, str],
    echo: bool = True,
    grace_s: float = GRACE_PERIOD_S,
    drain_s: float = DRAIN_TIMEOUT_S,
    forward_signals: bool = True,
    announce: bool = True,
) -> int:
    """Run ``argv`` reporting to the sidelog at ``address``; the child's exit status.

    ``announce=False`` (under the UI, which owns the terminal) prints nothing: the
    start, the exit and any failure are events on screen instead.
    """

    def say(text: str) -> None:
        if announce:
            print(text, file=sys.stderr)

    sink = TcpSink(address, reconnect=True)
    try:
        await sink.connect()
    except SinkError as exc:
        raise CommandError(str(exc)) from None

    joiner = BlockJoiner()

    async def on_line(stream: str, text: str, raw: bytes) -> None:
        done = joiner.feed(SourceLine(text, stream, name, None, "run"))
        if done:
            await sink.lines(done)

    async def on_lifecycle(fact: Lifecycle) -> None:
        if isinstance(fact, Exited):
            await sink.lines(joiner.flush())  # its last stack trace before the exit
        await sink.events([lifecycle_event(fact, name, argv)])

    async def end_idle_blocks() -> None:
        # A traceback stays open until a line that does not continue it, or this.
        while True:
            await asyncio.sleep(IDLE_S / 2)
            done = joiner.flush_idle()
            if done:
                await sink.lines(done)

    child = Child(
        argv,
        on_line=on_line,
        on_lifecycle=on_lifecycle,
        env=child_env(env),
        echo=echo,
        grace_s=grace_s,
        drain_s=drain_s,
    )
    try:
        await child.start()
    except ChildError as exc:
        await sink.events([{"message": str(exc), "level": "error", "category": name, "source": "system"}])
        await sink.close()
        say(f"sidelog: {exc}")
        return exc.status
    idle = asyncio.create_task(end_idle_blocks(), name="run-idle-blocks")
    try:
        if forward_signals:
            with child.forward_signals():
                result = await child.wait()
        else:
            result = await child.wait()
    except asyncio.CancelledError:
        # The UI quit while the command ran: stop it as Ctrl+C would (TERM, then KILL),
        # waiting no longer than the grace period (the loop may be closing too).
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(child.stop()), grace_s + 1)
        sink.abort()
        raise
    finally:
        idle.cancel()
    try:
        summary = await sink.close()
    except SinkError as exc:
        say(f"sidelog: {exc}")
        return result.status
    lines = sum(result.stats.lines.values())
    say(f"sidelog: {name}: {_outcome(result)} · {lines:,} lines · {summary.describe()}{_dropped(result)}")
    return result.status


def _outcome(result: ChildResult) -> str:
    if result.signal:
        return f"killed by {_signal_name(result.signal)} (status {result.status})"
    return f"exit status {result.status}"


def _dropped(result: ChildResult) -> str:
    stats = result.stats
    if not stats.dropped_lines:
        return ""
    return f" · {stats.dropped_lines:,} lines dropped (sidelog fell behind the output)"


def _signal_name(signum: int | None) -> str:
    try:
        return signal.Signals(signum or 0).name
    except ValueError:
        return f"signal {signum}"
