"""PostgreSQL's search: estimated counts above the exact limit, planner statistics, the date index.

The exact limit (ARCHIVE_SEARCH_EXACT_COUNT, 10,000) is set to 10 here, so
that the shared test archive's 45 filler letters are "too many to count".
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert, text

import config
from archive import create_app
from archive.context import archive_context
from archive.search import BULK_CHANGE, SearchQuery, index_comments, query_index, reindex
from archive.store.db import get_db
from archive.store.models import Comment
from tests.conftest import _truncate
from tests.test_search_engines import FILLER_KEYS, FILLER_START, build_archive, keys_of

EXACT = 10


@pytest.fixture
def pg_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """The `database` engine on PostgreSQL, counting exactly up to EXACT results."""
    url = request.getfixturevalue("postgres_url")
    if url is None:
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432 (set ARCHIVE_TEST_POSTGRES_URL)")
    app = create_app(config.TestConfig(DATA_DIR=str(tmp_path), DATABASE_URL=url, SEARCH_BACKEND="database",
                                SEARCH_EXACT_COUNT=EXACT))
    _truncate(app)
    yield app
    archive_context(app).close()


def _fillers_by_time(ids: dict[str, int]) -> list[str]:
    return sorted(FILLER_KEYS, key=lambda key: (FILLER_START + timedelta(hours=int(key[1:]) // 2), ids[key]))


def _search(app: Flask, **query: Any) -> Any:
    return query_index(archive_context(app), SearchQuery(**query))


def test_counts_above_the_limit_are_estimates_and_say_so(pg_app: Flask) -> None:
    ids = build_archive(pg_app)
    reindex(archive_context(pg_app))
    few = _search(pg_app, text="cafcass")
    assert (few.total, few.total_exact, few.ranked_among) == (6, True, None)
    many = _search(pg_app, text="filler", per_page=20)
    assert not many.total_exact and many.total >= EXACT
    # Every filler is a visible letter on the Guardian: the estimated facets
    # are the whole estimate.
    assert many.facets["status"]["visible"] == many.total
    assert many.facets["site"] == {"www.theguardian.com": many.total}
    # Relevance ranks EXACT of the matches only, and says so.
    assert many.ranked_among == EXACT
    ranked = keys_of(ids, [hit.comment_id for hit in many.hits])
    assert len(set(ranked)) == EXACT and set(ranked) <= set(FILLER_KEYS)
    assert many.next_cursor is None
    # A phrase is checked in at most EXACT + 1 comments holding its words:
    # few enough here, so it is exact (c9 has both words, in two versions).
    phrase = _search(pg_app, text='"moderated out"')
    assert keys_of(ids, [hit.comment_id for hit in phrase.hits]) == ["c1"] and phrase.total_exact
    # Every filler holds these words: more than EXACT + 1 to check.
    letters = _search(pg_app, text='"filler letter"', sort="newest", per_page=50)
    assert not letters.total_exact and letters.total >= EXACT
    assert keys_of(ids, [hit.comment_id for hit in letters.hits]) == _fillers_by_time(ids)[::-1]
    # Filters alone count the same way.
    browsed = _search(pg_app, thread_id=ids["T4"])
    assert not browsed.total_exact and browsed.ranked_among is None


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_sorted_pages_go_past_the_counted_matches(pg_app: Flask, sort: str) -> None:
    """Cursors and page numbers reach every match, beyond the EXACT + 1 read for counting."""
    ids = build_archive(pg_app)
    reindex(archive_context(pg_app))
    expected = _fillers_by_time(ids)
    expected = expected[::-1] if sort == "newest" else expected
    seen: list[str] = []
    cursor = None
    while True:
        page = _search(pg_app, text="filler", sort=sort, per_page=7, cursor=cursor)
        assert not page.total_exact
        seen.extend(keys_of(ids, [hit.comment_id for hit in page.hits]))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    page5 = _search(pg_app, text="filler", sort=sort, per_page=7, page=5)
    assert keys_of(ids, [hit.comment_id for hit in page5.hits]) == expected[28:35]


def test_search_page_and_api_label_estimates(pg_app: Flask) -> None:
    build_archive(pg_app)
    reindex(archive_context(pg_app))
    client = pg_app.test_client()
    page = " ".join(client.get("/search?q=filler").get_data(as_text=True).split())
    assert "About <strong>" in page and "an estimate" in page
    assert "among 10 of the matches" in page
    assert "visible (about " in page
    exact_page = " ".join(client.get("/search?q=cafcass").get_data(as_text=True).split())
    assert "<strong>6</strong> comments found" in exact_page and "About" not in exact_page
    body = client.get("/api/v1/search?q=filler").get_json()
    assert body["total_exact"] is False and body["ranked_among"] == EXACT and body["total"] >= EXACT
    body = client.get("/api/v1/search?q=filler&sort=newest").get_json()
    assert body["total_exact"] is False and body["ranked_among"] is None
    body = client.get("/api/v1/search?q=cafcass").get_json()
    assert (body["total"], body["total_exact"], body["ranked_among"]) == (6, True, None)


def _last_analyze(app: Flask) -> datetime | None:
    with get_db(app).writer.connect() as conn:
        return conn.execute(text("SELECT last_analyze FROM pg_stat_user_tables "
                                 "WHERE relname = 'search_documents'")).scalar_one()


def test_reindex_and_bulk_changes_analyze_the_search_table(pg_app: Flask) -> None:
    ids = build_archive(pg_app)
    before = _last_analyze(pg_app)
    reindex(archive_context(pg_app))
    after_reindex = _last_analyze(pg_app)
    assert after_reindex is not None and (before is None or after_reindex > before)
    # A few comments changed: no ANALYZE.
    with get_db(pg_app).read_session() as session:
        index_comments(archive_context(pg_app), session, [ids["c1"]])
    assert _last_analyze(pg_app) == after_reindex
    # A bulk change (a large thread captured at once) is analysed.
    with get_db(pg_app).write() as session:
        new = session.execute(insert(Comment).returning(Comment.id), [
            {"thread_id": ids["T4"], "key": f"bulk{i}", "author": "Bulk", "status": "visible",
             "first_seen_at": FILLER_START, "last_seen_at": FILLER_START}
            for i in range(BULK_CHANGE)]).scalars().all()
    with get_db(pg_app).read_session() as session:
        index_comments(archive_context(pg_app), session, new)
    after_bulk = _last_analyze(pg_app)
    assert after_bulk is not None and after_bulk > after_reindex
    assert _search(pg_app, text="author:bulk", per_page=1).total_exact is False


def test_newest_first_walks_the_date_index_instead_of_sorting_every_match(pg_app: Flask) -> None:
    """EXPLAIN of the statement a newest-first search runs, on a word in 40% of 5,000 comments."""
    ids = build_archive(pg_app)
    with get_db(pg_app).write() as session:
        session.execute(text(
            "INSERT INTO comments (thread_id, key, author, status, posted_at, first_seen_at, last_seen_at, "
            "position, misses, edit_count, times_removed, times_reinstated, redacted) "
            "SELECT :thread, 'g' || n, 'Gen', 'visible', :start + n * interval '1 minute', :start, :start, "
            "0, 0, 0, 0, 0, false FROM generate_series(1, 5000) AS n"),
            {"thread": ids["T4"], "start": FILLER_START})
        session.execute(text(
            "INSERT INTO comment_versions (comment_id, seq, text, html, text_sha256, seen_at) "
            "SELECT id, 0, CASE WHEN id % 5 < 2 THEN 'common word here' ELSE 'other text' END, '', 'x', "
            ":start FROM comments WHERE key LIKE 'g%'"), {"start": FILLER_START})
    reindex(archive_context(pg_app))
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    engine = get_db(pg_app).reader
    event.listen(engine, "before_cursor_execute", keep)
    try:
        found = _search(pg_app, text="common", sort="newest")
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert not found.total_exact and len(found.hits) == 20
    # More match than are counted: the page is read by its own statement.
    [(statement, parameters)] = [(s, p) for s, p in statements
                                 if "ORDER BY d.sort_at" in s and not s.startswith("WITH")]
    with engine.connect() as conn:
        [[explained]] = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).all()
    nodes = list(_nodes(explained[0]["Plan"]))
    assert any(node.get("Index Name") == "search_documents_sort" for node in nodes), explained
    assert not any(node["Node Type"] in ("Sort", "Incremental Sort") for node in nodes), explained


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def test_estimates_keep_two_significant_figures() -> None:
    from archive.search.postgres_search import two_significant

    assert [two_significant(n) for n in (0, 45, 10_001, 12_499.7, 412_345, 9_951)] == \
        [0, 45, 10_000, 12_000, 410_000, 10_000]
