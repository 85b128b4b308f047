"""Child scripts and helpers shared by the source tests.

Each script is written to ``tmp_path`` by the test that runs it, so every child
is a real process doing exactly what its name says.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

MIXED = r"""
import json, sys
print(json.dumps({"message": "json on stdout", "level": "debug", "category": "api"}))
print("time=2024-05-01T12:00:00Z level=error msg=\"logfmt failure\" user=u_1")
print("\x1b[32mINFO\x1b[0m \x1b[1mcoloured\x1b[0m text")
print("plain stdout line")
sys.stdout.flush()
sys.stderr.write(json.dumps({"message": "json on stderr", "level": "warn"}) + "\n")
sys.stderr.write("a plain stderr line\n")
sys.stderr.write("Traceback (most recent call last):\n")
sys.stderr.write('  File "app.py", line 3, in <module>\n')
sys.stderr.write("ValueError: boom\n")
sys.exit(3)
"""

FAST = r"""
import sys
count = int(sys.argv[1])
line = b"x" * 90
out = sys.stdout.buffer
for i in range(count):
    out.write(b"%08d " % i + line + b"\n")
out.write(b"last line\n")
out.flush()
"""

IGNORES_SIGTERM = r"""
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
while True:
    time.sleep(60)
"""

FORKS_DAEMON = r"""
import subprocess, sys
daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(f"daemon {daemon.pid}", flush=True)
sys.exit(0)
"""

CLOSES_STDOUT = r"""
import os, sys, time
from pathlib import Path
print("before close", flush=True)
os.close(1)
os.close(2)
Path(sys.argv[1]).write_text("closed")
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
sys.exit(5)
"""

HANDLES_SIGNALS = r"""
import signal, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
def stop(signum, frame):
    print(f"got signal {signum}", flush=True)
    worker.wait()
    sys.exit(42)
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
print(f"ready {worker.pid}", flush=True)
while True:
    time.sleep(60)
"""

PRINTS_ENV = r"""
import os
for name in ("SIDELOG_ADDRESS", "SENTRY_SPOTLIGHT", "OTEL_EXPORTER_OTLP_ENDPOINT", "EXTRA_FROM_TEST"):
    print(f"env {name}={os.environ.get(name)}")
"""


def script(tmp_path: Path, name: str, text: str) -> list[str]:
    """Write ``text`` to ``tmp_path/name`` and return the argv that runs it."""
    path = tmp_path / name
    path.write_text(text)
    return [sys.executable, str(path)]


def rows(
    db: Path, sql: str = "SELECT level, category, source, message, event_uid FROM events ORDER BY id"
) -> list[Any]:
    """Rows read straight from the SQLite file, as a user with ``sqlite3`` would."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def count(db: Path) -> int:
    """Number of stored events."""
    return int(rows(db, "SELECT count(*) FROM events")[0][0])
