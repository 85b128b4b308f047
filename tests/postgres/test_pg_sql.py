"""The rewrite of the store's SQLite-flavoured SQL for PostgreSQL (store/pg_sql.py), without a server."""

from __future__ import annotations

import pytest

from sidelog.search import search_sql
from sidelog.store.pg_sql import to_postgres


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        ("SELECT a FROM t WHERE b = ? AND c IN (?, ?)", "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"),
        ("SELECT 1 WHERE s = 'why?' AND t = ?", "SELECT 1 WHERE s = 'why?' AND t = $1"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"),
        ("SELECT x FROM events NOT INDEXED WHERE id > ?", "SELECT x FROM events WHERE id > $1"),
        ("WHERE +fingerprint IN (SELECT 1) AND a + b > 0", "WHERE fingerprint IN (SELECT 1) AND a + b > 0"),
        (
            "SELECT max(0, a - b), max(id), min(x, min(y, ?))",
            "SELECT greatest(0, a - b), max(id), least(x, least(y, $1))",
        ),
        ("SELECT coalesce(max(id), 0) FROM events", "SELECT coalesce(max(id), 0) FROM events"),
        (
            "WHERE instr(e.details, 'x') > 0 AND instr(message, ?)",
            "WHERE strpos(e.details::text, 'x') > 0 AND strpos(message, $1)",
        ),
        ("SELECT max(1, 2) WHERE s = 'max(1, 2)'", "SELECT greatest(1, 2) WHERE s = 'max(1, 2)'"),
    ],
)
def test_sqlite_spellings_become_postgres_ones(sqlite: str, postgres: str) -> None:
    assert to_postgres(sqlite) == postgres


def test_search_terms_become_case_insensitive_matches_on_text() -> None:
    ascii_term, _ = search_sql("disk")
    assert to_postgres(ascii_term) == "(message ILIKE $1 ESCAPE '\\' OR details::text ILIKE $2 ESCAPE '\\')"
    folded_term, _ = search_sql("Größe")
    assert to_postgres(folded_term) == (
        "(strpos(lower(message), $1) > 0 OR strpos(lower(details::text), $2) > 0)"
    )


def test_statements_already_in_postgres_form_pass_unchanged() -> None:
    statement = "INSERT INTO t (a) SELECT a FROM unnest($1::text[]) AS b(a) ON CONFLICT DO NOTHING"
    assert to_postgres(statement) is statement
