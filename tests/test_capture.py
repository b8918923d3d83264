"""The capture pipeline end to end over real HTTP on loopback: rule 1 in practice.

Pages are served by tests/local_server.py and changed between captures; the
WordPress adapter reads them. Every failure mode must leave comments alone.
"""
from __future__ import annotations

from collections.abc import Sequence

import pytest
from flask import Flask
from sqlalchemy import select

from archive.capture.fetch.fetcher import Fetcher
from archive.capture.pipeline import MAX_API_CHECKS, CaptureSummary, capture_watch
from archive.capture.watches import add_watch
from archive.context import archive_context
from archive.store.db import get_db
from archive.store.evidence import capture_record_hash
from archive.store.models import Capture, Comment, Event, Watch
from scrapers.base import FollowUp
from scrapers.wordpress.page import WordPressAdapter
from tests.context_support import with_settings
from tests.local_server import LocalServer
from tests.wordpress_markup import C, wp_page

SEED = [C(1, "WL", "This is bonkers."), C(2, "Cha", "This is fantastic, we'll done."),
        C(3, "Nell", "Lets assume they are not seeking to privatise Cafcass then."),
        C(5, "Paul", "Other criticisms of cafcass have been moderated out."),
        C(6, "Mike", "My comment was removed.", parent=5)]


class Site:
    """A watched article on the local server: serve it, capture it, read what the archive made of it."""

    def __init__(self, app: Flask, server: LocalServer, path: str, watch_id: int) -> None:
        self.app, self.server, self.path, self.watch_id = app, server, path, watch_id
        self.url = server.url(path)

    def serve(self, comments: Sequence[C] = SEED, *, claimed: int | None = -1, pages: Sequence[str] = ()) -> None:
        self.server.route(self.path, wp_page(list(comments), base=self.url, claimed=claimed, pages=pages),
                          content_type="text/html; charset=UTF-8")

    def capture(self) -> CaptureSummary:
        return capture_watch(archive_context(self.app), self.watch_id,
                             Fetcher.from_settings(archive_context(self.app).settings))

    def statuses(self) -> dict[str, str]:
        with get_db(self.app).read_session() as session:
            return dict(session.execute(select(Comment.key, Comment.status)).all())

    def events(self) -> list[tuple[str, str]]:
        with get_db(self.app).read_session() as session:
            return [(k or "", kind) for k, kind in session.execute(
                select(Comment.key, Event.kind).outerjoin(Comment, Event.comment_id == Comment.id)
                .order_by(Event.id))]


@pytest.fixture
def site(app: Flask, local_server: LocalServer) -> Site:
    """A watched article on the local server, with helpers to serve and capture it."""
    with_settings(app, fetch_retries=0)
    path = "/cafcass-rated-outstanding/"
    with app.app_context(), get_db(app).write() as session:
        watch_id = add_watch(session, local_server.url(path), allow_private=True, adapter="wordpress").id
    return Site(app, local_server, path, watch_id)


ALL_VISIBLE = {"1": "visible", "2": "visible", "3": "visible", "5": "visible", "6": "visible"}


def test_first_capture_keeps_evidence_and_chains_it(app, site):
    site.serve()
    summary = site.capture()
    assert (summary.outcome, summary.comments_found, summary.events["appeared"]) == ("good", 5, 5)
    assert site.statuses() == ALL_VISIBLE
    site.capture()
    with get_db(app).read_session() as session:
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
        assert [c.outcome for c in captures] == ["good", "good"]
        first, second = captures
        exchange = first.exchanges[0]
        assert exchange.status == 200 and exchange.url == site.url
        assert exchange.body_sha256 is not None
        assert archive_context(app).evidence.get(exchange.body_sha256).startswith(b"<!doctype html>")
        assert second.exchanges[0].body_sha256 == exchange.body_sha256, "same bytes, one blob"
        assert first.prev_hash is None and second.prev_hash == first.record_hash
        assert second.record_hash == capture_record_hash(second, first.record_hash)
        mike = session.scalar(select(Comment).where(Comment.key == "6"))
        assert mike is not None
        assert (mike.author, mike.parent_key, mike.current.text) == ("Mike", "5", "My comment was removed.")


def test_removal_needs_two_good_captures_and_keeps_its_window(app, site):
    site.serve()
    first = site.capture()
    site.serve([c for c in SEED if c.id != 3])
    site.capture()
    assert site.statuses()["3"] == "missing"
    site.capture()
    assert site.statuses()["3"] == "removed"
    with get_db(app).read_session() as session:
        nell = session.scalar(select(Comment).where(Comment.key == "3"))
        assert nell is not None
        times = session.scalars(select(Capture.started_at).order_by(Capture.id)).all()
        assert (nell.removed_after, nell.removed_before) == (times[0], times[1])
        assert nell.times_removed == 1
    assert first.outcome == "good"


def test_rest_checks_after_a_mass_removal_are_capped(app, site):
    vanishing = MAX_API_CHECKS + 10
    readers = [C(i, f"Reader {i}", f"Comment number {i}.") for i in range(1, vanishing + 6)]
    site.serve(readers)
    site.capture()
    site.serve(readers[vanishing:])
    summary = site.capture()
    assert (summary.outcome, summary.events["missing"]) == ("good", vanishing)
    checks = [r.path for r in site.server.requests if r.path.startswith("/wp-json/wp/v2/comments/")]
    # Each missing comment is asked about once, until the cap: the site never sees a flood.
    assert len(checks) == len(set(checks)) == MAX_API_CHECKS


def test_follow_ups_reach_only_hosts_a_capture_may_follow(app, site, monkeypatch):
    # The same server under another host name stands in for a host the adapter
    # was talked into asking (keys and URLs come from hostile pages).
    own, foreign = site.server.url("/check/3"), site.server.url("/check/3", host="localhost")
    monkeypatch.setattr(WordPressAdapter, "follow_ups", lambda self, url, keys: [
        FollowUp(key, link) for key in keys for link in (foreign, own)])
    site.server.route("/check/3", "held", status=401)
    site.serve()
    site.capture()
    site.serve([c for c in SEED if c.id != 3])
    assert site.capture().outcome == "good"
    asked = [r for r in site.server.requests if r.path == "/check/3"]
    assert len(asked) == 1 and asked[0].header("host") == own.split("/")[2]
    with get_db(app).read_session() as session:
        checks = session.scalars(select(Event).where(Event.kind == "api-check")).all()
        assert [c.details for c in checks] == [
            {"url": own, "http_status": 401, "meaning": "exists but hidden"}]


@pytest.mark.parametrize("status", [500, 503, 429, 403])
def test_error_answers_fail_the_capture_and_back_off(app, site, status):
    site.serve()
    site.capture()
    site.server.route(site.path, "<html>Briefly unavailable</html>", status=status)
    for _ in range(3):
        summary = site.capture()
        assert summary.outcome == "failed" and f"HTTP {status}" in summary.reason
    assert site.statuses() == ALL_VISIBLE
    with get_db(app).read_session() as session:
        watch = session.scalar(select(Watch))
        assert watch is not None and watch.last_capture_at is not None
        assert watch.consecutive_failures == 3 and watch.last_outcome == "failed"
        assert (watch.next_due_at - watch.last_capture_at).total_seconds() == 4 * 3600


def test_server_down_fails_without_removals(app, site):
    site.serve()
    site.capture()
    site.server.close()
    for _ in range(2):
        summary = site.capture()
        assert summary.outcome == "failed" and summary.reason
    assert site.statuses() == ALL_VISIBLE


@pytest.mark.parametrize("body, reason", [
    (b"<html><body><h1>Checking your browser</h1><div class='cf-challenge'>captcha</div></body></html>", ""),
    (b"<html><body><form id='consent'>We value your privacy. Accept all cookies</form></body></html>", ""),
    (b"", ""),
])
def test_pages_without_the_comment_area_are_suspect(app, site, body, reason):
    site.serve()
    site.capture()
    site.server.route(site.path, body, content_type="text/html")
    for _ in range(2):
        summary = site.capture()
        assert summary.outcome == "suspect", summary.line()
        assert summary.reason
    assert site.statuses() == ALL_VISIBLE


def test_drop_contradicted_by_the_page_count_is_suspect(app, site):
    site.serve()
    site.capture()
    site.serve(SEED[:2], claimed=5)
    for _ in range(2):
        summary = site.capture()
        assert summary.outcome == "suspect" and "says 5 comments but shows 2" in summary.reason
    assert site.statuses() == ALL_VISIBLE


def test_everything_vanishing_without_a_count_is_suspect(app, site):
    site.serve(claimed=None)
    site.capture()
    site.serve([], claimed=None)
    assert site.capture().outcome == "suspect"
    assert site.capture().outcome == "suspect"
    assert site.statuses() == ALL_VISIBLE


def test_not_modified_reuses_the_kept_body(app, site):
    site.server.route(site.path, wp_page(SEED, base=site.url), content_type="text/html; charset=UTF-8",
                      etag='"v1"')
    assert site.capture().outcome == "good"
    second = site.capture()
    assert (second.outcome, second.comments_found) == ("unchanged", 5)
    assert site.server.last(site.path).header("if-none-match") == '"v1"'
    assert site.statuses() == ALL_VISIBLE
    with get_db(app).read_session() as session:
        latest = session.scalars(select(Capture).order_by(Capture.id.desc())).first()
        assert latest is not None
        exchange = latest.exchanges[0]
        assert exchange.status == 304 and exchange.reused_body and exchange.body_sha256


def test_gone_thread_is_one_event_not_removals(app, site):
    site.serve()
    site.capture()
    site.server.remove(site.path)
    assert site.capture().outcome == "gone"
    assert site.capture().outcome == "gone"
    assert site.statuses() == ALL_VISIBLE
    assert [e for e in site.events() if e[1] != "appeared"] == [("", "thread-gone")]
    site.serve()
    assert site.capture().outcome == "good"
    assert site.events()[-1] == ("", "thread-returned")


def test_robots_disallow_fails_with_its_reason(app, site):
    site.serve()
    site.capture()
    site.server.robots("User-agent: *\nDisallow: /cafcass\n")
    summary = site.capture()
    assert summary.outcome == "failed" and "robots.txt" in summary.reason
    assert site.statuses() == ALL_VISIBLE


def test_oversized_page_fails(app, site):
    site.serve()
    site.capture()
    with_settings(app, max_response_bytes=1000)
    summary = site.capture()
    assert summary.outcome == "failed" and "larger than 1000 bytes" in summary.reason
    assert site.statuses() == ALL_VISIBLE


def test_comment_pages_are_one_capture(app, site):
    page2 = site.url + "comment-page-2/"
    site.serve(SEED[:3], claimed=5, pages=[page2, "http://elsewhere.example/comment-page-9/"])
    site.server.route(site.path + "comment-page-2/", wp_page(SEED[3:], base=site.url, claimed=5,
                                                            pages=[site.url]),
                      content_type="text/html; charset=UTF-8")
    summary = site.capture()
    assert (summary.outcome, summary.comments_found) == ("good", 5)
    assert site.statuses() == ALL_VISIBLE
    # A failed comment page fails the whole capture: no half-seen thread is diffed.
    site.server.route(site.path + "comment-page-2/", "busy", status=503)
    summary = site.capture()
    assert summary.outcome == "failed" and "comment page" in summary.reason
    assert site.statuses() == ALL_VISIBLE
    assert site.server.count("/comment-page-9/") == 0


def test_hostile_and_non_utf8_bodies_are_kept_as_data(app, site):
    hostile = C(7, "<b>Eve</b>", "<script>alert(1)</script> caf\u00e9 <img src=x onerror=alert(2)>")
    site.serve(SEED + [hostile])
    assert site.capture().outcome == "good"
    site.server.route(site.path, wp_page(SEED + [hostile], base=site.url).decode().encode("latin-1", "replace"),
                      content_type="text/html; charset=ISO-8859-1")
    assert site.capture().outcome == "good"
    with get_db(app).read_session() as session:
        eve = session.scalar(select(Comment).where(Comment.key == "7"))
        assert eve is not None
        assert eve.author == "<b>Eve</b>" and "<script>" in eve.current.text
        assert eve.edit_count == 0, "the same words in another encoding are not an edit"
