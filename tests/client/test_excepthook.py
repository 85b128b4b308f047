"""``install_excepthook``: uncaught exceptions in the main thread and in threads become errors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading

from sidelog.engine import Engine
from sidelog_client import install_excepthook
from tests.client.conftest import MakeLogger, stored
from tests.conftest import tcp_port

SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from sidelog_client import EventLogger, install_excepthook

    install_excepthook(EventLogger(sys.argv[1]))

    def worker():
        raise KeyError("missing in worker")

    thread = threading.Thread(target=worker, name="worker-1")
    thread.start()
    thread.join()

    def main():
        raise RuntimeError("crash in main")

    main()
    """
)


async def test_uncaught_exceptions_in_main_and_threads_are_logged_and_still_printed(engine: Engine) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SCRIPT, f"127.0.0.1:{tcp_port(engine)}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    # The previous hooks still ran: both tracebacks are on stderr as usual.
    assert "KeyError: 'missing in worker'" in result.stderr
    assert "RuntimeError: crash in main" in result.stderr
    rows = stored(engine.settings.db)
    assert [row["message"] for row in rows] == [
        "KeyError: 'missing in worker'",
        "RuntimeError: crash in main",
    ]
    worker, main = rows
    assert worker["level"] == main["level"] == "error"
    assert worker["details"]["uncaught"] is True
    assert worker["details"]["thread"] == "worker-1"
    assert "in worker" in worker["details"]["exception"]["stack"]
    assert main["details"]["thread"] == "MainThread"
    assert main["details"]["exception"]["type"] == "RuntimeError"
    assert "in main" in main["details"]["exception"]["stack"]


def test_uninstall_restores_the_previous_hooks(make_logger: MakeLogger) -> None:
    before = (sys.excepthook, threading.excepthook)
    uninstall = install_excepthook(make_logger("127.0.0.1:9"))
    assert (sys.excepthook, threading.excepthook) != before
    uninstall()
    assert (sys.excepthook, threading.excepthook) == before


def test_keyboard_interrupt_is_passed_on_without_logging(make_logger: MakeLogger) -> None:
    log = make_logger("127.0.0.1:9")
    seen: list[type[BaseException]] = []
    previous = sys.excepthook
    sys.excepthook = lambda exc_type, exc, tb: seen.append(exc_type)
    try:
        uninstall = install_excepthook(log)
        sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
        uninstall()
    finally:
        sys.excepthook = previous
    assert seen == [KeyboardInterrupt]
    assert log.stats()["buffered"] == 0
