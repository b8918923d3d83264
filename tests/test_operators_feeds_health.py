"""The feeds page (add, poll now, discovered articles) and the capture health page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.capture.feeds import FeedPollResult
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.jobs import poll_due_feeds
from archive.capture.watches import add_watch
from archive.clock import utcnow
from archive.context import archive_context
from archive.store.db import get_db
from archive.store.models import Capture, Feed, Watch
from tests.context_support import with_settings
from tests.operator_support import audit_actions, count, logged_in, post

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Community news</title>
<item><title>Cafcass rated outstanding</title><link>{base}/cafcass/</link></item>
<item><title>Second article</title><link>{base}/second/</link></item></channel></rss>"""


@pytest.fixture
def ops(app):
    return logged_in(app)


def _dispatch_feeds(app: Flask) -> list[FeedPollResult]:
    """The feed step of the capturing process's next tick."""
    ctx = archive_context(app)
    with Fetcher.from_settings(ctx.settings) as fetcher:
        return poll_due_feeds(ctx, fetcher, "schedule")


def test_add_a_feed_poll_it_and_see_what_it_found(app, ops, local_server):
    local_server.route("/feed", FEED.format(base=local_server.base_url), content_type="application/rss+xml")
    added = post(ops, "/ops/feeds", {"url": local_server.url("/feed"), "every": "2h", "watch_for": "7d",
                                     "watch_every": "12h"}, form_path="/ops/feeds")
    assert added.status_code == 302
    listing = ops.get("/ops/feeds").get_data(as_text=True)
    assert "Feed 1 added" in listing and local_server.url("/feed") in listing and "every 2h" in listing

    queued = post(ops, "/ops/feeds/1/poll", form_path="/ops/feeds", follow_redirects=True)
    assert "Poll of feed 1 queued" in queued.get_data(as_text=True)
    assert local_server.count("/feed") == 0, "a web request never fetches"
    assert [r.line() for r in _dispatch_feeds(app)] == [f"[feed ok] {local_server.url('/feed')}: "
                                                        "2 new articles, 2 new watches"]
    page = ops.get("/ops/feeds/1").get_data(as_text=True)
    assert "Cafcass rated outstanding" in page and local_server.url("/second/") in page
    assert page.count(">watch ") == 2
    with get_db(app).read_session() as session:
        assert set(session.scalars(select(Watch.interval_seconds))) == {12 * 3600}
    assert "2 found, 2 watched" in ops.get("/ops/feeds").get_data(as_text=True)
    assert [a for _u, a, _t, _r in audit_actions(app) if a.startswith("feed")] == ["feed-add", "feed-poll"]


def test_a_broken_feed_shows_its_error_and_backoff(app, ops, local_server):
    local_server.route("/feed", "<rss><channel><item></channel>", content_type="application/rss+xml")
    post(ops, "/ops/feeds", {"url": local_server.url("/feed")}, form_path="/ops/feeds")
    post(ops, "/ops/feeds/1/poll", form_path="/ops/feeds")
    assert [r.outcome for r in _dispatch_feeds(app)] == ["malformed"]
    listing = ops.get("/ops/feeds").get_data(as_text=True)
    assert "malformed feed: " in listing and "1 failure in a row" in listing
    health = ops.get("/ops/health").get_data(as_text=True)
    assert "Failing feeds" in health and local_server.url("/feed") in health
    assert count(app, Watch) == 0


@pytest.mark.parametrize("form, message", [
    ({"url": "not a url"}, "http"),
    ({"url": "http://127.0.0.1:9/feed", "every": "often"}, "poll interval: not a duration"),
    ({"url": "http://127.0.0.1:9/feed", "every": "10s"}, "poll interval must be at least 1m"),
    ({"url": "http://127.0.0.1:9/feed", "watch_for": "forever"}, "watch for: not a duration"),
])
def test_bad_feed_input_changes_nothing(app, ops, form, message):
    response = post(ops, "/ops/feeds", form, form_path="/ops/feeds")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert count(app, Feed) == 0
    assert [a for _u, a, _t, _r in audit_actions(app) if a == "feed-add"] == []


def test_private_and_duplicate_feeds_are_refused(app, ops):
    assert post(ops, "/ops/feeds", {"url": "http://127.0.0.1:9/feed"}, form_path="/ops/feeds").status_code == 302
    again = post(ops, "/ops/feeds", {"url": "http://127.0.0.1:9/feed"}, form_path="/ops/feeds")
    assert again.status_code == 400 and "already polled as feed 1" in again.get_data(as_text=True)
    with_settings(app, allow_private_addresses=False)
    private = post(ops, "/ops/feeds", {"url": "http://192.168.1.1/feed"}, form_path="/ops/feeds")
    assert private.status_code == 400 and "ARCHIVE_ALLOW_PRIVATE_ADDRESSES" in private.get_data(as_text=True)
    assert count(app, Feed) == 1
    assert ops.get("/ops/feeds/99").status_code == 404


def _capture(session: Session, watch: Watch, outcome: str, reason: str = "", minutes_ago: int = 0) -> None:
    session.add(Capture(thread_id=watch.thread_id, watch_id=watch.id, outcome=outcome, reason=reason,
                        started_at=utcnow() - timedelta(minutes=minutes_ago), comments_found=2,
                        comments_claimed=5 if outcome == "suspect" else None))


def test_health_shows_outcomes_reasons_and_failing_watches_first(app, ops):
    with get_db(app).write() as session:
        ok = add_watch(session, "http://127.0.0.1:9/ok/", allow_private=True)
        bad = add_watch(session, "http://127.0.0.1:9/bad/", allow_private=True)
        worse = add_watch(session, "http://127.0.0.1:9/worse/", allow_private=True)
        paused = add_watch(session, "http://127.0.0.1:9/paused/", allow_private=True)
        bad.consecutive_failures, bad.last_outcome, bad.last_reason = 2, "failed", "the article answered HTTP 503"
        worse.consecutive_failures, worse.last_outcome = 7, "failed"
        worse.last_reason = "robots.txt disallows the article"
        worse.next_due_at = utcnow() + timedelta(hours=20)
        paused.paused, paused.consecutive_failures, paused.last_reason = True, 1, "timed out"
        _capture(session, ok, "good", minutes_ago=50)
        _capture(session, ok, "unchanged", minutes_ago=40)
        _capture(session, bad, "suspect", "the page says 5 comments but shows 2", minutes_ago=30)
        _capture(session, bad, "failed", "the article answered HTTP 503", minutes_ago=20)
        _capture(session, worse, "failed", "robots.txt disallows the article", minutes_ago=10)
        _capture(session, ok, "gone", "the article answered HTTP 410", minutes_ago=5)
        _capture(session, ok, "good", minutes_ago=60 * 30)
        ids = ok.id, bad.id, worse.id, paused.id
    page = ops.get("/ops/health").get_data(as_text=True)
    failing = page[page.index("<h2>Failing watches</h2>"):page.index("<h2>Recent captures</h2>")]
    order = [failing.index(f"/ops/watches/{i}/edit") for i in (ids[2], ids[1], ids[3])]
    assert order == sorted(order), "most failures first"
    assert f"/ops/watches/{ids[0]}/edit" not in failing
    assert "paused" in failing, "a failing paused watch is still listed"
    assert "<td>7</td>" in failing and "robots.txt disallows the article" in failing
    recent = page[page.index("<h2>Recent captures</h2>"):page.index("<h2>Next due</h2>")]
    for text in ("outcome-suspect", "the page says 5 comments but shows 2", "2 of 5 claimed",
                 "unchanged since the last capture (HTTP 304)", "the article answered HTTP 410",
                 ">robots</span>"):
        assert text in recent, text
    headline = page[page.index('<ul class="headline">'):page.index("</ul>")]
    assert "<strong>1</strong> good" in headline, "only the last day is counted"
    assert "<strong>2</strong> failed" in headline
    only_failed = ops.get("/ops/health", query_string={"outcome": "failed"}).get_data(as_text=True)
    recent = only_failed[only_failed.index("<h2>Recent captures</h2>"):]
    assert recent.count('<tr class="capture outcome-failed">') == 2
    assert "outcome-good" not in recent.split("Next due")[0]
    upcoming = page[page.index("<h2>Next due</h2>"):]
    assert f"watch {ids[3]} " not in upcoming, "a paused watch is not due"
    assert f"watch {ids[0]} " in upcoming
