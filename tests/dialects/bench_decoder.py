"""Microbenchmark: ``LineDecoder.feed`` on 100k native lines of the benchmark mix.

Dialect recognition sits behind native validation; this measures that native events
pay nothing for it. Run: ``.venv/bin/python -m tests.dialects.bench_decoder [--lines N]``. On a busy machine,
compare instruction counts instead of times: ``--save FILE`` once, then run
``valgrind --tool=callgrind … -m tests.dialects.bench_decoder --data FILE --rounds 1``
for each version, and subtract a run on an empty file (imports only).
Prints the best of several rounds (the least disturbed by other processes) in ns/line,
as CPU time of this process (steadier than wall time on a shared machine).
"""

from __future__ import annotations

import argparse
import time

import orjson

from sidelog.ingest.protocol import LineDecoder
from sidelog.workload import Workload

CHUNK = 64 * 1024
"""Bytes per ``feed`` call, about what one socket read delivers under load."""


def payload(lines: int) -> bytes:
    """``lines`` native events of the benchmark mix as NDJSON."""
    workload = Workload(seed=11)
    return b"".join(orjson.dumps(event) + b"\n" for event in workload.events(lines, now_ms=1_700_000_000_000))


def run_once(data: bytes) -> tuple[float, int]:
    """CPU seconds to feed ``data`` through one decoder, and the number of events it produced."""
    decoder = LineDecoder(clock=lambda: 1_700_000_000_000)
    view = memoryview(data)
    events = 0
    start = time.process_time()
    for offset in range(0, len(data), CHUNK):
        events += len(decoder.feed(view[offset : offset + CHUNK].tobytes()))
    elapsed = time.process_time() - start
    return elapsed, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--data", help="read the NDJSON from this file (written by --save) instead")
    parser.add_argument("--save", help="write the generated NDJSON to this file and stop")
    args = parser.parse_args()
    if args.save:
        with open(args.save, "wb") as out:
            out.write(payload(args.lines))
        return
    if args.data:
        with open(args.data, "rb") as source:
            data = source.read()
        args.lines = data.count(b"\n")
    else:
        data = payload(args.lines)
    if args.lines == 0:
        return  # imports only: the baseline to subtract from an instruction count
    best = float("inf")
    for _ in range(args.rounds):
        elapsed, events = run_once(data)
        assert events == args.lines, events
        best = min(best, elapsed)
    print(f"{args.lines} lines: best {best * 1000:.1f} ms, {best / args.lines * 1e9:.0f} ns/line")


if __name__ == "__main__":
    main()
