"""Triage announced to every server and viewer sharing a PostgreSQL store.

Resolving, reopening or snoozing a group in one UI changes rows the other servers'
errors panes show, but those servers wrote nothing and their live feed says nothing.
So each triage transaction on PostgreSQL also sends a notification on
``GROUPS_CHANNEL`` naming the writer and the groups it changed
(``"a1b2c3 fp1 fp2"``, or ``"a1b2c3 *"`` when the list would pass PostgreSQL's
payload limit). Sent inside the transaction, it is delivered only if the change
commits. store/pg_live.py hears it and publishes a "groups changed" batch, which
makes the errors pane reload. On SQLite (one server) it does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sidelog.store.async_core import AsyncConnection

GROUPS_CHANNEL = "sidelog_groups"
"""The notification channel triage changes are announced on."""
MAX_PAYLOAD = 7_900
"""PostgreSQL refuses notification payloads of 8,000 bytes and more."""
EVERY_GROUP = "*"
"""Stands for "many groups changed" when naming them all would not fit."""


def groups_payload(instance: str, fingerprints: Sequence[str]) -> str:
    """The notice for ``fingerprints`` changed by writer ``instance``."""
    text = " ".join(fingerprints)
    if not fingerprints or len(instance) + 1 + len(text.encode()) > MAX_PAYLOAD:
        text = EVERY_GROUP
    return f"{instance} {text}"


def parse_groups(payload: str) -> tuple[str, list[str]]:
    """``(instance, fingerprints)`` of a notice (``["*"]`` for many)."""
    instance, _, text = payload.partition(" ")
    return instance, text.split()


async def announce_groups(conn: AsyncConnection, instance: str, fingerprints: Sequence[str]) -> None:
    """Announce changed groups on a PostgreSQL connection (inside the caller's transaction)."""
    if conn.dialect.name != "postgresql" or not fingerprints:
        return
    await conn.exec_driver_sql(
        "SELECT pg_notify($1, $2)", (GROUPS_CHANNEL, groups_payload(instance, fingerprints))
    )
