"""The Alembic revisions build exactly the schema the models describe, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from archive.context import archive_context
from archive.store.db import get_db
from archive.store.models import Base
from archive.store.schema import include_name


def test_migrated_database_matches_models(app):
    with get_db(app).writer.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == [], f"models and migrations differ; add a revision: {diffs}"


def test_init_is_idempotent(runner):
    for _ in range(2):
        result = runner.invoke("init")
        assert result.exit_code == 0, result.output
        assert "database ready" in result.output


def test_init_rebuilds_a_stale_index(app, runner):
    from archive.search import SearchQuery, query_index
    from archive.store.models import Comment, CommentVersion, Site, Thread

    with get_db(app).write() as session:
        site = Site(host="www.communitycare.co.uk")
        thread = Thread(url="https://www.communitycare.co.uk/cafcass/", site=site)
        comment = Comment(thread=thread, key="5", author="Paul")
        comment.versions.append(CommentVersion(seq=1, text="moderated out", text_sha256="x"))
        session.add(comment)
    archive_context(app).search.mark_stale("a capture could not update the index")
    result = runner.invoke("init")
    assert result.exit_code == 0, result.output
    assert "search index ready: 1 comments" in result.output
    assert not archive_context(app).search.is_stale()
    assert query_index(archive_context(app), SearchQuery(text="moderated")).total == 1


def test_0004_gives_existing_operators_a_session_version(app):
    """Upgrading keeps operators able to log in; downgrading drops only the new column."""
    from alembic import command
    from sqlalchemy import inspect, text

    from archive.store.schema import _alembic_config

    engine = get_db(app).writer
    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    command.downgrade(cfg, "5e4c1d0a2b77")
    try:
        assert "session_version" not in {c["name"] for c in inspect(engine).get_columns("users")}
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (name, password_hash, created_at, failed_logins) "
                              "VALUES ('alice', 'x', CURRENT_TIMESTAMP, 0)"))
    finally:
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT session_version FROM users")).scalar_one() == 0


def test_0005_numbers_existing_captures_in_id_order_per_thread(app):
    """Upgrading gives each thread's captures 1, 2, 3 ... by id, the order `verify` chained them in."""
    from alembic import command
    from sqlalchemy import text

    from archive.store.schema import _alembic_config

    engine = get_db(app).writer
    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    command.downgrade(cfg, "0004")
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, host, name) VALUES (1, 'example.org', '')"))
            for thread_id in (1, 2):
                conn.execute(text("INSERT INTO threads (id, site_id, url, title, state, gone_misses, created_at) "
                                  "VALUES (:id, 1, :url, '', 'active', 0, CURRENT_TIMESTAMP)"),
                             {"id": thread_id, "url": f"https://example.org/{thread_id}/"})
            for capture_id, thread_id in ((1, 1), (2, 2), (3, 1), (4, 1), (5, 2)):
                conn.execute(text("INSERT INTO captures (id, thread_id, started_at, outcome, reason, coverage, "
                                  "comments_found, pages) VALUES (:id, :thread, CURRENT_TIMESTAMP, 'good', '', "
                                  "'none', 0, 0)"), {"id": capture_id, "thread": thread_id})
    finally:
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        numbered = conn.execute(text("SELECT id, seq FROM captures ORDER BY id")).all()
    assert [tuple(row) for row in numbered] == [(1, 1), (2, 1), (3, 2), (4, 3), (5, 2)]


def test_0007_fills_the_search_columns_of_an_existing_index(app):
    """PostgreSQL's search rows get their filter and sort columns from the comments
    (SQLite's FTS5 table is untouched); downgrading drops only those columns."""
    from datetime import datetime

    from alembic import command
    from sqlalchemy import inspect, text

    from archive.search import SearchQuery, query_index
    from archive.store.schema import _alembic_config
    from tests.context_support import with_settings

    engine = get_db(app).writer
    postgres = engine.dialect.name == "postgresql"
    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    command.downgrade(cfg, "0006")
    try:
        if postgres:
            assert "sort_at" not in {c["name"] for c in inspect(engine).get_columns("search_documents")}
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, host, name) VALUES (1, 'example.org', '')"))
            conn.execute(text("INSERT INTO threads (id, site_id, url, title, state, gone_misses, created_at) "
                              "VALUES (1, 1, 'https://example.org/1/', '', 'active', 0, CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO comments (id, thread_id, key, author, status, posted_at, first_seen_at, "
                "last_seen_at, position, misses, edit_count, times_removed, times_reinstated, redacted) "
                "VALUES (7, 1, 'k', 'Paul', 'removed', NULL, :seen, :seen, 0, 0, 1, 2, 1, false)"),
                {"seen": datetime(2018, 4, 1, 12)})
            if postgres:
                conn.execute(text("INSERT INTO search_documents (comment_id, body_vec, title_vec, author_vec, "
                                  "site_vec) VALUES (7, 'moderated:1', '', 'paul:1', 'example:1 org:2')"))
            else:
                conn.execute(text("INSERT INTO search_fts (rowid, body, title, author, site) "
                                  "VALUES (7, 'moderated', '', 'paul', 'example org')"))
    finally:
        command.upgrade(cfg, "head")
    if postgres:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT status, reinstated, edited, site_host, thread_id, sort_at "
                                    "FROM search_documents")).one()
        assert tuple(row) == ("removed", True, True, "example.org", 1, datetime(2018, 4, 1, 12))
    # The upgraded index answers without a reindex, filters included.
    # As on an archive that already searched with this engine before the upgrade;
    # quoted, because a row written without stems answers only the word as typed.
    with_settings(app, search_backend="database").search.mark_ready()
    found = query_index(archive_context(app), SearchQuery(text='"moderated"', status="reinstated"))
    assert [hit.comment_id for hit in found.hits] == [7] and found.total_exact
