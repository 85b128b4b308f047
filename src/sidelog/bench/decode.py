"""The ingest decode path, per event, without sockets, queues or the store.

What an event costs on the event loop before it is queued: ``decode_json`` (bytes to
objects, with the duplicate-key check), ``parse_event`` (validation, ``details``
depth and secret check, re-dump, fingerprint, trace id), the whole
``LineDecoder.feed`` (line split included) over 64 KiB chunks, and
``fingerprint_of`` for the error events alone. The input is the benchmark mix
(``workload.py``), encoded once up front. Each figure is the best of ``--repeat``
passes, since the machine may be busy with other work: the fastest pass is the one
least disturbed. Run it with ``python -m sidelog.bench.decode [--events N]
[--repeat R] [--json]``; to compare two trees, run it from each, close in time.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import orjson

from sidelog.events import Event, parse_event
from sidelog.fingerprint import fingerprint_of
from sidelog.ingest.protocol import LineDecoder
from sidelog.ingest.strict_json import decode_json
from sidelog.workload import Workload

_CHUNK = 64 * 1024
_RECEIVED_AT = 1_700_000_000_000


def _best_us(run: Callable[[], int], repeat: int) -> float:
    """Best µs of CPU per item of ``repeat`` passes (``run`` returns how many items it
    did). CPU time, not wall time: on a shared machine waiting for a core is not cost."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        count = run()
        elapsed = time.process_time() - start
        best = min(best, elapsed * 1e6 / max(count, 1))
    return best


def _chunks(lines: list[bytes]) -> list[bytes]:
    blob = b"".join(line + b"\n" for line in lines)
    return [blob[i : i + _CHUNK] for i in range(0, len(blob), _CHUNK)]


def measure(events: int = 50_000, repeat: int = 5, seed: int = 7) -> dict[str, Any]:
    """The per-event figures in µs (best of ``repeat``), with the counts they cover."""
    wires = list(Workload(seed=seed).events(events, now_ms=_RECEIVED_AT))
    lines = [orjson.dumps(wire) for wire in wires]
    docs = [decode_json(line) for line in lines]
    errors = [(e.category, e.message, orjson.loads(e.details) if e.details else None) for e in _errors(docs)]
    chunks = _chunks(lines)

    def decode() -> int:
        for line in lines:
            decode_json(line)
        return len(lines)

    def validate() -> int:
        for doc in docs:
            parse_event(doc, default_source="server", received_at=_RECEIVED_AT)
        return len(docs)

    def feed() -> int:
        decoder = LineDecoder(clock=lambda: _RECEIVED_AT)
        stored = 0
        for chunk in chunks:
            stored += len(decoder.feed(chunk))
        return stored

    def fingerprint() -> int:
        for category, message, details in errors:
            fingerprint_of(category, message, details)
        return len(errors)

    return {
        "events": events,
        "errors": len(errors),
        "repeat": repeat,
        "decode_us": round(_best_us(decode, repeat), 3),
        "validate_us": round(_best_us(validate, repeat), 3),
        "feed_us": round(_best_us(feed, repeat), 3),
        "fingerprint_us_per_error": round(_best_us(fingerprint, repeat), 3),
    }


def _errors(docs: list[Any]) -> list[Event]:
    out = []
    for doc in docs:
        event = parse_event(doc, default_source="server", received_at=_RECEIVED_AT)
        if event.level == "error":
            out.append(event)
    return out


def main(argv: list[str] | None = None) -> None:
    """``python -m sidelog.bench.decode``: print the figures (text or ``--json``)."""
    parser = argparse.ArgumentParser(prog="python -m sidelog.bench.decode", description=__doc__)
    parser.add_argument("--events", type=int, default=50_000, help="events of the mix (default 50000)")
    parser.add_argument("--repeat", type=int, default=5, help="passes; the best counts (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.events < 1 or args.repeat < 1:
        parser.error("--events and --repeat must be at least 1")
    result = measure(args.events, args.repeat)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['events']:,} events ({result['errors']:,} errors), best of {result['repeat']}:")
    print(f"  decode_json           {result['decode_us']:7.3f} µs/event")
    print(f"  parse_event           {result['validate_us']:7.3f} µs/event")
    print(f"  LineDecoder.feed      {result['feed_us']:7.3f} µs/event (split + decode + validate)")
    print(f"  fingerprint_of        {result['fingerprint_us_per_error']:7.3f} µs/error")


if __name__ == "__main__":
    main()
