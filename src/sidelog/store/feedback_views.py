"""What users said about one error group, and how they took what they were shown.

Two questions a developer asks of a group before fixing it: did anyone report it
(the ``feedback`` events whose ``details.related_groups`` name it, see
``store/feedback_links.py``), and which ``userMessage`` did users see when it happened,
and how often did a report follow each (a report from the same session within
``WINDOW_MS`` after an event showing that message). The second measures whether a
user-facing error message helps: one that is followed by reports does not.

Both answers come from two bounded, indexed queries and a join in Python:

- the newest ``FEEDBACK_SCAN`` feedback events (``ix_events_category``, newest first);
  ``message`` and ``details`` are only returned for rows whose details contain the
  group's fingerprint (``instr``), the rest only give their session and time;
- the group's newest ``GROUP_SCAN`` events (``ix_events_fingerprint``), of which those
  with a ``user_message`` count (the text cut at ``MESSAGE_CHARS`` so memory stays
  bounded).

Reports and shown messages older than those windows are not counted; the result says
when a window was full. Times are the events' own times (``timestamp``): the report and
the event showing the message usually come from the same client, whose batches may
reach sidelog in any order.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

import orjson

from sidelog.store.feedback_links import CATEGORY, WINDOW_MS
from sidelog.store.reader import StoreReader

__all__ = [
    "FEEDBACK_SCAN",
    "GROUP_SCAN",
    "MAX_MESSAGES",
    "REPORTS_SHOWN",
    "FeedbackReport",
    "GroupFeedback",
    "ShownMessage",
    "group_feedback",
    "group_feedback_sql",
]

FEEDBACK_SCAN = 5_000
"""Newest feedback events read (reports are rare: this is weeks of them)."""
GROUP_SCAN = 20_000
"""Newest events of the group read for the messages users saw."""
REPORTS_SHOWN = 200
"""Linked reports listed (newest first)."""
MAX_MESSAGES = 50
"""Distinct user-facing messages listed (most shown first)."""
MESSAGE_CHARS = 1_000
"""Characters of a user-facing message kept (longer ones that agree this far count as one)."""
REPORT_CHARS = 2_000
"""Characters of a report's text kept."""


@dataclass(frozen=True, slots=True)
class FeedbackReport:
    """One user's report linked to the group."""

    id: int
    message: str
    email: str | None
    timestamp: int
    session_id: str | None
    user_id: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class ShownMessage:
    """One ``userMessage`` shown with the group's events, and what followed it."""

    text: str
    shown: int
    """Events of the group that showed it."""
    sessions: int
    """Distinct sessions it was shown in."""
    followed: int
    """Events showing it that a report from the same session followed within ``WINDOW_MS``."""
    without_session: int
    """Events showing it with no session (no report can be tied to those)."""
    last_shown: int

    @property
    def followed_share(self) -> float | None:
        """``followed`` out of the events that had a session (``None`` when none had)."""
        eligible = self.shown - self.without_session
        return self.followed / eligible if eligible else None


@dataclass(frozen=True, slots=True)
class GroupFeedback:
    """The reports linked to a group and the user-facing messages its events showed."""

    fingerprint: str
    reports: list[FeedbackReport]
    """Newest first, at most ``REPORTS_SHOWN``."""
    reports_total: int
    """Linked reports among the feedback read (``reports`` may list fewer)."""
    messages: list[ShownMessage]
    """Most shown first, at most ``MAX_MESSAGES``."""
    events_read: int
    """Events of the group read (``GROUP_SCAN`` means older ones were not)."""
    feedback_read: int
    """Feedback events read (``FEEDBACK_SCAN`` means older ones were not)."""

    @property
    def partial(self) -> bool:
        """Whether a bound was reached, so older reports or messages are not counted."""
        return self.events_read >= GROUP_SCAN or self.feedback_read >= FEEDBACK_SCAN


def group_feedback_sql(fingerprint: str) -> list[tuple[str, tuple[Any, ...]]]:
    """The three queries (feedback side, group side, how many of the group's events were read)."""
    needle = orjson.dumps(fingerprint).decode()  # as the writer stored it in related_groups
    feedback = (
        "SELECT id, timestamp, session_id, "
        f"CASE WHEN instr(details, ?) > 0 THEN substr(message, 1, {REPORT_CHARS}) END, "
        "CASE WHEN instr(details, ?) > 0 THEN details END, user_id, url "
        "FROM events WHERE category = ? ORDER BY id DESC LIMIT ?"
    )
    # The LIMIT inside keeps the read bounded; the outer WHERE stops SQLite from flattening it.
    shown = (
        f"SELECT substr(user_message, 1, {MESSAGE_CHARS}), session_id, timestamp FROM "
        "(SELECT user_message, session_id, timestamp FROM events WHERE fingerprint = ? "
        "ORDER BY id DESC LIMIT ?) WHERE user_message IS NOT NULL"
    )
    read = "SELECT count(*) FROM (SELECT 1 FROM events WHERE fingerprint = ? ORDER BY id DESC LIMIT ?)"
    return [
        (feedback, (needle, needle, CATEGORY, FEEDBACK_SCAN)),
        (shown, (fingerprint, GROUP_SCAN)),
        (read, (fingerprint, GROUP_SCAN)),
    ]


async def group_feedback(reader: StoreReader, fingerprint: str) -> GroupFeedback:
    """Read what users reported about ``fingerprint`` and how its user-facing messages fared."""
    # The reader's own read path: its pool and its in-flight guard (store/reader.py).
    feedback_rows, shown_rows, read = [
        await reader._all(sql, params) for sql, params in group_feedback_sql(fingerprint)
    ]
    return build(fingerprint, feedback_rows, shown_rows, int(read[0][0]))


def build(
    fingerprint: str, feedback_rows: list[Any], shown_rows: list[Any], events_read: int
) -> GroupFeedback:
    """Join the two reads: linked reports, and each shown message with the reports after it."""
    reports: list[FeedbackReport] = []
    total = 0
    report_times: dict[str, list[int]] = {}
    for row_id, timestamp, session_id, message, details, user_id, url in feedback_rows:
        if session_id is not None:
            report_times.setdefault(session_id, []).append(timestamp)
        if details is None:
            continue
        value = _object(details)
        related = value.get("related_groups")
        if not isinstance(related, list) or fingerprint not in related:
            continue  # the fingerprint appeared elsewhere in the details
        total += 1
        if len(reports) < REPORTS_SHOWN:
            email = value.get("email")
            reports.append(
                FeedbackReport(
                    int(row_id),
                    message or "",
                    email if isinstance(email, str) else None,
                    int(timestamp),
                    session_id,
                    user_id,
                    url,
                )
            )
    for times in report_times.values():
        times.sort()
    tallies: dict[str, list[Any]] = {}
    for text, session_id, timestamp in shown_rows:
        tally = tallies.get(text)
        if tally is None:
            tally = tallies[text] = [0, set(), 0, 0, timestamp]
        tally[0] += 1
        tally[4] = max(tally[4], timestamp)
        if session_id is None:
            tally[3] += 1
            continue
        tally[1].add(session_id)
        after = report_times.get(session_id)
        if after is not None:
            at = bisect_left(after, timestamp)
            if at < len(after) and after[at] - timestamp <= WINDOW_MS:
                tally[2] += 1
    messages = [
        ShownMessage(text, shown, len(sessions), followed, without, last)
        for text, (shown, sessions, followed, without, last) in tallies.items()
    ]
    messages.sort(key=lambda m: (-m.shown, -m.last_shown, m.text))
    return GroupFeedback(
        fingerprint, reports, total, messages[:MAX_MESSAGES], events_read, len(feedback_rows)
    )


def _object(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
