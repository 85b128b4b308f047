"""Ingest decodes generated lines exactly as the version before the fast decode path did.

``RECORDED`` holds one digest per chunk of ``CHUNK`` lines from ``wire_lines``: the
outcome texts (every field of every event, every rejection's wording) that the earlier
general-path-only decoder produced, through ``LineDecoder`` (TCP) and through
``decode_events`` (HTTP, one body per line and one NDJSON body per chunk). Any change in
what is stored or how a rejection is worded shows up as a chunk whose digest differs;
the failure lists that chunk's lines and outcomes. To re-record after an intended change:
``python -c "from tests.unit.test_decode_recorded import record; print(record())"``.
"""

from __future__ import annotations

from sidelog.events import Limits
from sidelog.ingest.http_body import decode_events
from sidelog.ingest.http_security import ApiError
from sidelog.ingest.protocol import LineDecoder
from tests.support.wire_cases import digest, outcome, wire_lines

SEED = 20261130
LINES = 2400
CHUNK = 100
CLOCK = 1_700_000_000_000


def chunk_outcomes(lines: list[bytes]) -> list[str]:
    """What the TCP decoder and the HTTP body decoder make of ``lines``."""
    decoder = LineDecoder(limits=Limits(), clock=lambda: CLOCK)
    texts = [outcome(item) for item in [*decoder.feed(b"\n".join(lines) + b"\n"), *decoder.finish()]]
    for line in lines:
        try:
            decoded = decode_events(line, "json", source="api", received_at=CLOCK, limits=Limits())
        except ApiError as exc:
            texts.append(f"http {exc.status} {exc}")
            continue
        texts.extend("http " + outcome(event) for event in decoded.events)
        texts.extend(f"http rejected {index} {reason}" for index, reason in decoded.rejected)
    body = decode_events(b"\n".join(lines), "ndjson", source="api", received_at=CLOCK, limits=Limits())
    texts.extend("ndjson " + outcome(event) for event in body.events)
    texts.extend(f"ndjson rejected {index} {reason}" for index, reason in body.rejected)
    return texts


def record() -> list[str]:
    """The digest of every chunk (what ``RECORDED`` holds)."""
    lines = wire_lines(SEED, LINES)
    return [digest(chunk_outcomes(lines[i : i + CHUNK])) for i in range(0, LINES, CHUNK)]


RECORDED: list[str] = [
    "24901fa44de97ab3",
    "c6d9e9476dfe2b8d",
    "0c0d377dccf7f2b9",
    "2dbf2ef1bddd43fa",
    "f626883c150c35af",
    "8f9276b648a4131e",
    "18986ab15ebe5bbb",
    "b158c121bcb5a5aa",
    "15229be59bd74146",
    "67653979740b51a6",
    "312d752e00265308",
    "dadf3090775d9d9e",
    "987c65bfb776cf5c",
    "dcebf1beb41d619f",
    "490cb667a7d18b57",
    "928e2b29e708f23e",
    "2816168d99475a04",
    "c7c31c8b94be445a",
    "919908a6d37b7062",
    "5f97e3fe7a40f85c",
    "f67aaa5af70210cc",
    "8bcfbfa65911325e",
    "cc22b4a5e4f138c5",
    "798f6cde16ffcb98",
]


def test_every_chunk_decodes_as_recorded() -> None:
    lines = wire_lines(SEED, LINES)
    assert len(RECORDED) == LINES // CHUNK
    for number, expected in enumerate(RECORDED):
        chunk = lines[number * CHUNK : (number + 1) * CHUNK]
        texts = chunk_outcomes(chunk)
        detail = "\n".join([repr(line)[:300] for line in chunk] + [text[:300] for text in texts])
        assert digest(texts) == expected, f"chunk {number} decodes differently:\n{detail}"


def test_the_generated_mix_reaches_every_route() -> None:
    """The lines exercise what the recorded figures are meant to pin down."""
    texts = [
        text for i in range(0, 600, CHUNK) for text in chunk_outcomes(wire_lines(SEED, LINES)[i : i + CHUNK])
    ]
    joined = "\n".join(texts)
    for needle in (
        "duplicate key",
        "nests deeper than",
        "lone surrogate",
        "must be a string, got",
        "is longer than",
        "NUL character",
        "is not a level",
        "timestamp",
        '"dialect":',
        "SyncRequest",
        "AuthLine",
        "HttpSighting",
        "[redacted]",
        "0af7651916cd43dd8448eb211c80319c']",  # a trace id, the event's last field
    ):
        assert needle in joined, needle
    assert sum(text.startswith("event ") for text in texts) > 150
