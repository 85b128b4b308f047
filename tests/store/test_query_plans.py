"""One ``EXPLAIN QUERY PLAN`` check per access path: each query runs on the index store/schema.py
gives it, and none that pages sorts its matches in a temporary B-tree.

The SQL is what the code runs (the reader's builders, retention's and the writer's
statements), planned by the SQLite the application uses, on a file created at the current
schema. Without ``ANALYZE`` statistics the planner's choice depends on the schema only, so
an empty file plans as a million-row one does.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from sidelog.filters import EventFilter
from sidelog.store import feedback_links, group_status, retention, timeline
from sidelog.store.feedback_views import group_feedback_sql
from sidelog.store.group_activity import spark_sql
from sidelog.store.group_pages import groups_sql
from sidelog.store.histogram import SPAN_SQL, Window, histogram_sql
from sidelog.store.histogram_levels import level_counts_sql
from sidelog.store.migrations import initialise
from sidelog.store.reader import FACET_COLUMNS, events_sql, facet_sql, filter_sql
from sidelog.store.schema import EVENT_COLUMN_NAMES

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    db = tmp_path_factory.mktemp("plans") / "events.db"
    db.touch()
    initialise(db)
    with contextlib.closing(sqlite3.connect(db)) as connection:
        yield connection


def plan(conn: sqlite3.Connection, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> str:
    """SQLite's plan for ``sql`` as one line of steps joined by `` | ``."""
    return " | ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", tuple(params)))


def page(flt: EventFilter, **cursor: int) -> tuple[str, list[Any]]:
    """The stream's page query for ``flt`` (``StoreReader.events``)."""
    return events_sql(flt, limit=300, **cursor)


# (access path, query, the plan must contain this); no sort in any of them.
PAGED = [
    ("newest page", page(EventFilter()), "SCAN events"),
    ("older page", page(EventFilter(), before=500), "SEARCH events USING INTEGER PRIMARY KEY (rowid<?)"),
    ("catching up", page(EventFilter(), after=500), "SEARCH events USING INTEGER PRIMARY KEY (rowid>?)"),
    ("level", page(EventFilter(levels=frozenset({"error"}))), "USING INDEX ix_events_level (level=?)"),
    (
        "level, older page",
        page(EventFilter(levels=frozenset({"warn"})), before=500),
        "USING INDEX ix_events_level (level=? AND rowid<?)",
    ),
    ("category", page(EventFilter(categories=frozenset({"payment"}))), "USING INDEX ix_events_category"),
    ("source", page(EventFilter(sources=frozenset({"client"}))), "USING INDEX ix_events_source (source=?)"),
    ("user", page(EventFilter(user="u_1")), "USING INDEX ix_events_user (user_id=?)"),
    ("fingerprint", page(EventFilter(fingerprint="f" * 16)), "USING INDEX ix_events_fingerprint"),
    ("trace", page(EventFilter(trace=TRACE)), "USING INDEX ix_events_trace (trace_id=?)"),
    ("error group by user", page(EventFilter(user="u_1", levels=frozenset({"error"}))), "ix_events_user"),
    # One-sided time ranges: SQLite walks the newest rows by id and stops after a page.
    ("since", page(EventFilter(since=1)), "SCAN events"),
    ("until", page(EventFilter(until=2)), "SCAN events"),
    ("session", page(EventFilter(session="s_1")), "USING INDEX ix_events_session (session_id=?)"),
    # No index by text: the same walk (store/schema.py says why).
    ("text search", page(EventFilter(q="timeout")), "SCAN events"),
]


@pytest.mark.parametrize(("path", "query", "expected"), PAGED, ids=[case[0] for case in PAGED])
def test_each_page_query_walks_its_index_in_id_order(
    conn: sqlite3.Connection, path: str, query: tuple[str, list[Any]], expected: str
) -> None:
    steps = plan(conn, *query)
    assert expected in steps, f"{path}: {steps}"
    assert "TEMP B-TREE" not in steps, f"{path}: {steps}"


def test_several_values_of_one_facet_read_its_index(conn: sqlite3.Connection) -> None:
    # Several levels: one ordered run of the index per value; SQLite stops each run once
    # the page is full (measured: python -m sidelog.bench.filters), so the sort is bounded.
    steps = plan(conn, *page(EventFilter(levels=frozenset({"warn", "error"}))))
    assert "USING INDEX ix_events_level (level=?)" in steps, steps


def test_a_time_window_reads_the_level_time_index(conn: sqlite3.Connection) -> None:
    # Both bounds and no other indexed condition: one range of ix_events_level_time per
    # stored level (found by seeks into ix_events_level, never a scan), its matches sorted
    # by id (a narrow window of old events costs its own size, not the rows since).
    for flt in (EventFilter(since=1, until=2), EventFilter(since=1, until=2, q="timeout")):
        steps = plan(conn, *page(flt))
        assert "USING INDEX ix_events_level_time (level=? AND timestamp>? AND timestamp<?)" in steps, steps
        assert "SCAN events" not in steps, steps


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (EventFilter(levels=frozenset({"error"}), since=1, until=2), "ix_events_level (level=?)"),
        (EventFilter(categories=frozenset({"payment"}), since=1, until=2), "ix_events_category (category=?)"),
        (EventFilter(user="u_1", since=1, until=2), "ix_events_user (user_id=?)"),
    ],
    ids=["level", "category", "user"],
)
def test_a_window_under_another_filter_walks_that_filters_index(
    conn: sqlite3.Connection, flt: EventFilter, expected: str
) -> None:
    steps = plan(conn, *page(flt))
    assert expected in steps, steps
    assert "TEMP B-TREE" not in steps, steps


def test_counting_a_window_reads_only_the_index(conn: sqlite3.Connection) -> None:
    terms, params = filter_sql(EventFilter(since=1, until=2))
    steps = plan(conn, f"SELECT count(*) FROM events WHERE {' AND '.join(terms)}", params)
    assert "COVERING INDEX ix_events_level_time (level=? AND timestamp>? AND timestamp<?)" in steps, steps


def test_no_index_on_the_clients_timestamp_alone(conn: sqlite3.Connection) -> None:
    names = {row[1] for row in conn.execute("PRAGMA index_list(events)")}
    assert "ix_events_timestamp" not in names


def test_one_event_by_id(conn: sqlite3.Connection) -> None:
    sql = f"SELECT {', '.join(EVENT_COLUMN_NAMES)} FROM events WHERE id = ?"
    assert plan(conn, sql, (1,)) == "SEARCH events USING INTEGER PRIMARY KEY (rowid=?)"


@pytest.mark.parametrize(("facet", "column"), FACET_COLUMNS)
def test_facet_counts_stream_their_index(conn: sqlite3.Connection, facet: str, column: str) -> None:
    steps = plan(conn, facet_sql(column, 200))
    assert f"SCAN events USING COVERING INDEX ix_events_{column}" in steps, steps
    assert "GROUP BY" not in steps, steps  # no temporary table per distinct value
    assert facet in ("level", "category", "source")


def test_counting_reads_an_index_not_the_rows(conn: sqlite3.Connection) -> None:
    assert "COVERING INDEX" in plan(conn, "SELECT count(*) FROM events")
    terms, params = filter_sql(EventFilter(categories=frozenset({"payment"})))
    assert "COVERING INDEX ix_events_category" in plan(
        conn, f"SELECT count(*) FROM events WHERE {terms[0]}", params
    )


def test_unresolved_groups_newest_first(conn: sqlite3.Connection) -> None:
    steps = plan(conn, *groups_sql(status="unresolved", user=None, limit=200))
    assert "ix_error_groups_status_last_seen (status=?)" in steps, steps
    assert "TEMP B-TREE" not in steps, steps
    count = plan(conn, "SELECT count(*) FROM error_groups WHERE status = 'unresolved'")
    assert "COVERING INDEX ix_error_groups_status_" in count, count  # any order's index counts


def test_a_users_unresolved_groups_read_one_covering_index(conn: sqlite3.Connection) -> None:
    steps = plan(conn, *groups_sql(status="unresolved", user="u_1", limit=200))
    assert "COVERING INDEX ix_events_user_unresolved (user_id=? AND resolved=?)" in steps, steps


def test_one_group_by_fingerprint(conn: sqlite3.Connection) -> None:
    steps = plan(conn, "SELECT * FROM error_groups WHERE fingerprint = ?", ("f",))
    assert "sqlite_autoindex_error_groups_1 (fingerprint=?)" in steps, steps


def test_resolving_a_group_touches_only_its_events(conn: sqlite3.Connection) -> None:
    sql = "UPDATE events SET resolved = ? WHERE fingerprint = ? AND resolved = ?"
    assert "USING INDEX ix_events_fingerprint (fingerprint=?)" in plan(conn, sql, (1, "f", 0))


def test_idempotency_keys_are_looked_up_in_the_unique_index(conn: sqlite3.Connection) -> None:
    sql = "SELECT event_uid FROM events WHERE event_uid IN (?, ?, ?)"
    assert "COVERING INDEX ux_events_event_uid (event_uid=?)" in plan(conn, sql, ("a", "b", "c"))
    unique = conn.execute("PRAGMA index_list(events)").fetchall()
    assert ("ux_events_event_uid", 1) in {(row[1], row[2]) for row in unique}


def test_retention_finds_victims_by_age(conn: sqlite3.Connection) -> None:
    for sql, params in (
        (retention.EXPIRED_BOUND_SQL, (5, 0)),
        (retention.BUDGET_BOUND_SQL, (0,)),
        (retention.highest_id_sql(retention.UP_TO), (5, 5, 5)),
        (retention.delete_sql(retention.UP_TO), (5, 5, 5)),
    ):
        steps = plan(conn, sql, params)
        assert "ix_events_received_at" in steps, (sql, steps)
        assert "TEMP B-TREE" not in steps, (sql, steps)


def test_feedback_links_read_only_the_newest_rows(conn: sqlite3.Connection) -> None:
    steps = plan(conn, feedback_links._RECENT_SQL, (0, "s", 0, 20))
    assert "SEARCH events USING INTEGER PRIMARY KEY (rowid>?)" in steps, steps


def test_the_last_start_is_found_through_the_source_index(conn: sqlite3.Connection) -> None:
    sql = (
        "SELECT details FROM events WHERE source = 'system' AND message = 'sidelog started' "
        "ORDER BY id DESC LIMIT 1"
    )
    steps = plan(conn, sql)
    assert "USING INDEX ix_events_source (source=?)" in steps, steps
    assert "TEMP B-TREE" not in steps, steps


@pytest.mark.parametrize(
    "flt",
    [EventFilter(), EventFilter(since=1), EventFilter(categories=frozenset({"payment"}))],
    ids=["everything", "since", "category"],
)
def test_export_pages_forward_without_sorting(conn: sqlite3.Connection, flt: EventFilter) -> None:
    # sidelog export: oldest first in keyset pages (commands/export.py ``iter_rows``).
    terms, params = filter_sql(flt)
    where = " AND ".join([*terms, "id > ?"])
    steps = plan(conn, f"SELECT id FROM events WHERE {where} ORDER BY id LIMIT 5000", [*params, 0])
    assert "TEMP B-TREE" not in steps, steps
    assert "rowid>?" in steps, steps


EVENT_INDEXES = {
    "ux_events_event_uid": ["event_uid"],
    "ix_events_user": ["user_id"],
    "ix_events_category": ["category"],
    "ix_events_level": ["level"],
    "ix_events_source": ["source"],
    "ix_events_user_unresolved": ["user_id", "resolved", "fingerprint"],
    "ix_events_session": ["session_id"],
    "ix_events_fingerprint": ["fingerprint"],
    "ix_events_received_at": ["received_at"],
    "ix_events_trace": ["trace_id"],
    "ix_events_level_time": ["level", "timestamp"],
}
"""Exactly the indexes the access paths above need: every one is written for every event
that has its columns, so one more must come with its own plan test here."""


def test_events_has_exactly_the_indexes_the_access_paths_use(conn: sqlite3.Connection) -> None:
    indexed = {
        row[1]: [info[2] for info in conn.execute(f"PRAGMA index_info({row[1]})")]
        for row in conn.execute("PRAGMA index_list(events)")
    }
    assert indexed == EVENT_INDEXES


WINDOW = Window(start=60_000, bucket_ms=60_000, buckets=100)


@pytest.mark.parametrize("later", [True, False], ids=["ends now", "in the past"])
def test_the_histogram_of_levels_reads_only_the_level_time_index(
    conn: sqlite3.Connection, later: bool
) -> None:
    for flt in (EventFilter(), EventFilter(levels=frozenset({"error"}))):
        sql, params = level_counts_sql(flt, WINDOW.start, WINDOW.bucket_ms, WINDOW.buckets, later=later)
        steps = plan(conn, sql, params)
        assert "COVERING INDEX ix_events_level_time (level=? AND timestamp>? AND timestamp<?)" in steps, steps
        assert "SCAN events" not in steps, steps


@pytest.mark.parametrize(
    "flt",
    [EventFilter(categories=frozenset({"payment"})), EventFilter(levels=frozenset({"warn"}), q="x")],
    ids=["category", "level and text"],
)
def test_the_histogram_of_a_narrow_window_reads_its_time_ranges(
    conn: sqlite3.Connection, flt: EventFilter
) -> None:
    steps = plan(conn, *histogram_sql(flt, WINDOW, by_time=True, later=False))
    assert "INDEX ix_events_level_time (level=? AND timestamp>? AND timestamp<?)" in steps, steps
    assert "SCAN events" not in steps, steps
    wide = plan(conn, *histogram_sql(flt, WINDOW, by_time=False, later=False))
    assert "SCAN events" not in wide, wide  # the filter's own index


def test_the_stores_time_span_is_a_few_seeks(conn: sqlite3.Connection) -> None:
    steps = plan(conn, SPAN_SQL)
    assert "COVERING INDEX ix_events_level_time (level=?)" in steps, steps
    assert "SCAN events" not in steps, steps
    assert "TEMP B-TREE" not in steps, steps


@pytest.mark.parametrize(
    ("scope", "index"),
    [("session", "ix_events_session"), ("user", "ix_events_user"), ("trace", "ix_events_trace")],
)
def test_a_timeline_reads_its_scopes_index(
    conn: sqlite3.Connection, scope: timeline.Scope, index: str
) -> None:
    # By event time: the scope's events are read from its index and sorted (a timeline
    # is one session's, user's or trace's events, never the store's).
    steps = plan(conn, *timeline._newest_sql("id", timeline.scope_filter(scope, "x"), 1000))
    assert f"USING INDEX {index}" in steps, steps
    assert "SCAN events" not in steps, steps


def test_a_groups_activity_reads_received_at_and_the_group(conn: sqlite3.Connection) -> None:
    edge = "SELECT id FROM events WHERE received_at >= ? ORDER BY received_at LIMIT 1"
    assert "COVERING INDEX ix_events_received_at (received_at>?)" in plan(conn, edge, (5,))
    steps = plan(conn, *spark_sql(["a", "b"], [10, 20, 30]))
    assert "ix_events_fingerprint (fingerprint=?" in steps, steps


def test_feedback_reads_its_category_and_group_newest_first(conn: sqlite3.Connection) -> None:
    for sql, params in group_feedback_sql("f" * 16):
        steps = plan(conn, sql, params)
        assert "ix_events_category (category=?)" in steps or "ix_events_fingerprint (fingerprint=?)" in steps
        assert "TEMP B-TREE" not in steps, steps


def test_bulk_flags_and_the_feedback_mark_read_their_indexes(conn: sqlite3.Connection) -> None:
    # A bulk resolve flags its groups' events (store/group_status.py); the errors pane asks
    # for the newest feedback event's id (store/group_activity.py ``reports_mark``).
    flags = plan(conn, group_status._FLAG_SQL.format(marks="?, ?"), (1, 0, 10, "a", "b", "resolved"))
    assert "USING INDEX ix_events_fingerprint (fingerprint=? AND rowid<?)" in flags, flags
    mark = plan(conn, "SELECT max(id) FROM events WHERE category = ?", ("feedback",))
    assert "COVERING INDEX ix_events_category (category=?)" in mark, mark
