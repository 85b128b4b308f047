"""The most recent refused inputs, kept so a person can see *why* something was not stored.

Counters say how many lines and requests were refused; this log keeps the last
``KEEP`` of them (when, where from, the reason, and the first ``SAMPLE_BYTES`` of the
input) for the UI's "rejected" view, plus the HTTP refusals by status for
``GET /v1/health`` and the health bar. Memory is bounded whatever arrives: a fixed
ring, samples cut to ``SAMPLE_BYTES``, reasons to ``REASON_CHARS``, and statuses are
three-digit codes (at most a few hundred keys).

The sample is raw bytes: it reaches a terminal only through ``sidelog.textsafe``
(see ``Refusal.shown_sample``).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

__all__ = ["KEEP", "REASON_CHARS", "SAMPLE_BYTES", "Refusal", "RefusalLog"]

KEEP = 200
"""Refusals remembered; older ones are forgotten (their counts stay)."""
SAMPLE_BYTES = 200
"""Bytes of each refused input kept for display."""
REASON_CHARS = 300
"""Longest reason kept."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """One refused input."""

    at: float
    """Wall-clock time (epoch seconds)."""
    where: str
    """The endpoint and peer (``POST /v1/events 127.0.0.1:50312``, ``tcp 127.0.0.1:50400``)."""
    reason: str
    status: int | None = None
    """The HTTP status answered; ``None`` for a socket line (refused with a reply line)."""
    sample: bytes = b""
    """The first bytes of what was sent (raw: show through ``sidelog.textsafe``)."""

    def shown_sample(self) -> str:
        """The sample as one line of text safe for any terminal (control codes as placeholders)."""
        from sidelog.textsafe import safe_text

        text = self.sample.decode("utf-8", "replace")
        return safe_text(text)


class RefusalLog:
    """A bounded ring of recent refusals plus HTTP refusal counts by status."""

    def __init__(self, keep: int = KEEP) -> None:
        self._recent: deque[Refusal] = deque(maxlen=keep)
        self.by_status: dict[str, int] = {}
        """HTTP refusals by status code (``"403"``: 2); socket lines are counted as ``rejected``."""
        self.uncounted = 0
        """HTTP refusals that no other counter saw (a 403, 413, 415… refuses a request before any
        event is decoded): the capture rate counts them as inputs not stored."""
        self.total = 0
        """Refusals recorded (HTTP answers and socket lines)."""

    def add(
        self,
        where: str,
        reason: str,
        *,
        status: int | None = None,
        sample: bytes = b"",
        counted: bool = True,
    ) -> None:
        """Remember one refusal; ``counted`` is False when no other counter recorded it."""
        if len(reason) > REASON_CHARS:
            reason = reason[: REASON_CHARS - 1] + "…"
        self._recent.append(Refusal(time.time(), where[:200], reason, status, bytes(sample[:SAMPLE_BYTES])))
        self.total += 1
        if status is not None:
            key = str(status) if 100 <= status <= 999 else "other"
            self.by_status[key] = self.by_status.get(key, 0) + 1
            if not counted:
                self.uncounted += 1

    def recent(self) -> list[Refusal]:
        """The remembered refusals, newest first."""
        return list(reversed(self._recent))

    def by_reason(self, limit: int = 20) -> list[tuple[str, int]]:
        """Counts of the remembered refusals by reason (with numbers blurred), most frequent first."""
        counts: dict[str, int] = {}
        for refusal in self._recent:
            key = _reason_kind(refusal)
            counts[key] = counts.get(key, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _reason_kind(refusal: Refusal) -> str:
    """A reason with digits folded, so ``line 3`` and ``line 7`` count together."""
    reason = "".join("#" if ch.isdigit() else ch for ch in refusal.reason[:80])
    while "##" in reason:
        reason = reason.replace("##", "#")
    prefix = f"{refusal.status} " if refusal.status is not None else ""
    return prefix + reason
