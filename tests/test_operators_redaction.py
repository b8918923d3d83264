"""Redaction with a mandatory reason, counted in statistics, hidden from the public; the audit log."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.pipeline import capture_watch
from archive.capture.watches import add_watch
from archive.context import archive_context
from archive.research.stats_queries import build_stats
from archive.search import SearchQuery, query_index
from archive.store.db import get_db
from archive.store.models import AuditEntry, Comment
from tests.operator_support import audit_actions, logged_in, post
from tests.test_operators_watches import ARTICLE, OPTIONS

SECRET = "Critical comment"


@pytest.fixture
def captured(app, local_server):
    """A thread captured for real: three comments in the archive and the index."""
    local_server.route("/article/", ARTICLE)
    with get_db(app).write() as session:
        watch_id = add_watch(session, local_server.url("/article/"), allow_private=True,
                             adapter="generic-css", options=OPTIONS).id
    with Fetcher.from_settings(archive_context(app).settings) as fetcher:
        assert capture_watch(archive_context(app), watch_id, fetcher).outcome == "good"
    with get_db(app).read_session() as session:
        comment = session.scalar(select(Comment).where(Comment.key == "3"))
        assert comment is not None
        return comment.thread_id, comment.id


def comment_row(app: Flask, comment_id: int) -> Comment:
    with get_db(app).read_session() as session:
        return session.get_one(Comment, comment_id)


def found(app: Flask, text: str) -> set[int]:
    return {hit.comment_id for hit in query_index(archive_context(app), SearchQuery(text=text)).hits}


def seen(app: Flask) -> int:
    with get_db(app).read_session() as session:
        return sum(row["comments_seen"] for row in build_stats(session, "site"))


def test_redact_and_unredact_with_reasons(app, captured):
    thread_id, comment_id = captured
    ops = logged_in(app)
    form = f"/ops/comments/{comment_id}"
    thread_page = ops.get(f"/ops/threads/{thread_id}").get_data(as_text=True)
    assert f'href="/ops/comments/{comment_id}"' in thread_page and "onerror" not in thread_page
    assert SECRET in app.test_client().get(f"/threads/{thread_id}").get_data(as_text=True)
    assert comment_id in found(app, "critical")
    before = seen(app)

    for reason in ("", "   "):
        refused = post(ops, f"{form}/redact", {"reason": reason}, form_path=form)
        assert refused.status_code == 400 and "a reason is required" in refused.get_data(as_text=True)
    assert not comment_row(app, comment_id).redacted

    done = post(ops, f"{form}/redact", {"reason": "Names a child in care"}, form_path=form)
    assert done.status_code == 302
    row = comment_row(app, comment_id)
    assert row.redacted and row.redaction_reason == "Names a child in care"
    public = app.test_client().get(f"/threads/{thread_id}").get_data(as_text=True)
    assert SECRET not in public, "the public side no longer shows its text"
    assert comment_id not in found(app, "critical"), "nor finds it by its text"
    assert seen(app) == before, "statistics keep counting it"
    assert "Names a child in care" in ops.get(form).get_data(as_text=True)

    twice = post(ops, f"{form}/redact", {"reason": "again"}, form_path=form)
    assert twice.status_code == 400 and "already redacted" in twice.get_data(as_text=True)
    no_reason = post(ops, f"{form}/unredact", {"reason": ""}, form_path=form)
    assert no_reason.status_code == 400 and comment_row(app, comment_id).redacted

    lifted = post(ops, f"{form}/unredact", {"reason": "Court order lifted"}, form_path=form)
    assert lifted.status_code == 302
    row = comment_row(app, comment_id)
    assert not row.redacted and row.redaction_reason is None
    assert SECRET in app.test_client().get(f"/threads/{thread_id}").get_data(as_text=True)
    assert comment_id in found(app, "critical")
    assert [(who, what, target, why) for who, what, target, why in audit_actions(app)
            if what in ("redact", "unredact")] == [
        ("alice", "redact", f"comment {comment_id}", "Names a child in care"),
        ("alice", "unredact", f"comment {comment_id}", "Court order lifted")]


def test_unknown_comment(app):
    ops = logged_in(app)
    assert ops.get("/ops/comments/999").status_code == 404
    response = post(ops, "/ops/comments/999/redact", {"reason": "x"})
    assert response.status_code == 404
    with get_db(app).read_session() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "redact")) is None


def test_audit_log_lists_who_did_what_when_and_why(app, local_server):
    local_server.route("/article/", ARTICLE)
    ops = logged_in(app)
    post(ops, "/ops/watches/new", {"url": local_server.url("/article/"), "action": "add"})
    post(ops, "/ops/watches/1/pause")
    post(ops, "/ops/feeds", {"url": local_server.url("/feed"), "every": "1h", "watch_for": "14d"},
         form_path="/ops/feeds")
    page = ops.get("/ops/audit").get_data(as_text=True)
    rows = page[page.index("<tbody>"):]
    for action in ("feed-add", "watch-pause", "watch-add", "login"):
        assert f'<tr class="audit-{action}">' in rows
    assert rows.index("audit-feed-add") < rows.index("audit-watch-add"), "newest first"
    assert "<td>alice</td>" in rows and " UTC</time>" in rows
    only = ops.get("/ops/audit", query_string={"action": "watch-pause"}).get_data(as_text=True)
    assert "audit-watch-pause" in only and "audit-watch-add" not in only
