"""Feed discovery: a real local HTTP server publishes new articles over time."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from flask import Flask
from sqlalchemy import select

from archive.capture.feeds import add_feed, parse_feed, poll_feed
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.jobs import poll_due_feeds
from archive.capture.watches import add_watch
from archive.clock import utcnow
from archive.context import archive_context
from archive.store.db import get_db
from archive.store.models import Feed, FeedEntry, Watch
from tests.context_support import with_settings
from tests.local_server import LocalServer
from tests.operator_support import audit_actions, count

RSS = "application/rss+xml; charset=utf-8"


def rss(server: LocalServer, items: list[tuple[str, str]], published: datetime | None = None) -> str:
    when = format_datetime((published or utcnow()).replace(tzinfo=UTC), usegmt=True)
    entries = "".join(f"<item><title>{title}</title><link>{server.url(path)}</link>"
                      f"<pubDate>{when}</pubDate></item>" for path, title in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Example news</title>'
            f"<link>{server.base_url}/</link><description>x</description>{entries}</channel></rss>")


@pytest.fixture
def fetcher(app):
    with Fetcher.from_settings(archive_context(app).settings) as fetcher:
        yield fetcher


def new_feed(app: Flask, url: str, *, every: timedelta = timedelta(hours=1),
             watch_for: timedelta = timedelta(days=14), **kwargs: timedelta) -> int:
    with get_db(app).write() as session:
        return add_feed(session, url, allow_private=True, every=every, watch_for=watch_for, **kwargs).id


def watches(app: Flask) -> list[Watch]:
    with get_db(app).read_session() as session:
        return list(session.scalars(select(Watch).order_by(Watch.id)))


def feed_row(app: Flask, feed_id: int) -> Feed:
    with get_db(app).read_session() as session:
        feed = session.get(Feed, feed_id)
        assert feed is not None, f"no feed {feed_id}"
        return feed


# -- parsing (pure) --------------------------------------------------------------

def test_parse_rss_resolves_links_and_skips_junk() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>  News  </title>
      <item><title>One</title><link>/2025/one/</link><pubDate>Sat, 01 Mar 2025 10:00:00 GMT</pubDate></item>
      <item><title>One again</title><link>https://example.org/2025/one/#comments</link></item>
      <item><title>Bad</title><link>javascript:alert(1)</link></item>
      <item><title>No link</title></item>
    </channel></rss>"""
    parsed = parse_feed(body, "https://example.org/feed/")
    assert parsed.ok and parsed.title == "News"
    assert [(i.url, i.title, i.published) for i in parsed.items] == [
        ("https://example.org/2025/one/", "One", datetime(2025, 3, 1, 10, 0))]


def test_parse_atom() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
      <title>Atom news</title><id>urn:x</id><updated>2025-03-01T10:00:00Z</updated>
      <entry><title>Two</title><id>urn:2</id><link rel="alternate" href="https://example.org/two/"/>
      <updated>2025-03-02T10:00:00+01:00</updated></entry></feed>"""
    parsed = parse_feed(body, "https://example.org/atom.xml")
    assert parsed.ok and [(i.url, i.published) for i in parsed.items] == [
        ("https://example.org/two/", datetime(2025, 3, 2, 9, 0))]


@pytest.mark.parametrize("body, error", [
    (b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item><title>a</item></channel>",
     "malformed feed:"),
    (b"<!doctype html><html><body><p>Just a page</p></body></html>", "malformed feed:"),
    (b"", "not an RSS or Atom feed"),
])
def test_parse_refuses_what_is_not_a_clean_feed(body: bytes, error: str) -> None:
    parsed = parse_feed(body, "https://example.org/feed/")
    assert not parsed.ok and parsed.items == () and parsed.error.startswith(error)


# -- polling a real server ----------------------------------------------------------

def test_new_articles_over_time_become_watches_with_a_tightening_schedule(app, local_server, fetcher):
    local_server.route("/feed", rss(local_server, [("/a/", "A"), ("/b/", "B")]), content_type=RSS, etag='"v1"')
    feed_id = new_feed(app, local_server.url("/feed"))
    before = utcnow()
    first = poll_feed(archive_context(app), feed_id, fetcher)
    assert first.outcome == "ok" and first.new_entries == 2 and len(first.watch_ids) == 2, first
    made = watches(app)
    assert [w.url for w in made] == [local_server.url("/a/"), local_server.url("/b/")]
    for w in made:
        assert (w.interval_seconds, w.early_interval_seconds, w.early_seconds) == (6 * 3600, 3600, 2 * 86400)
        assert w.feed_id == feed_id and w.adapter is None
        assert w.until is not None
        assert before + timedelta(days=14) <= w.until <= utcnow() + timedelta(days=14)
    state = feed_row(app, feed_id)
    assert state.title == "Example news" and state.etag == '"v1"' and state.last_outcome == "ok"
    assert state.next_due_at > utcnow() + timedelta(minutes=59)

    local_server.route("/feed", rss(local_server, [("/c/", "C"), ("/a/", "A"), ("/b/", "B")]),
                       content_type=RSS, etag='"v2"')
    second = poll_feed(archive_context(app), feed_id, fetcher)
    assert local_server.last("/feed").header("if-none-match") == '"v1"'
    assert second.new_entries == 1 and [w.url for w in watches(app)][-1] == local_server.url("/c/")
    assert count(app, FeedEntry) == 3 and count(app, Watch) == 3


def test_304_means_unchanged_never_gone(app, local_server, fetcher):
    local_server.route("/feed", rss(local_server, [("/a/", "A")]), content_type=RSS,
                       last_modified="Sat, 01 Mar 2025 10:00:00 GMT")
    feed_id = new_feed(app, local_server.url("/feed"))
    assert poll_feed(archive_context(app), feed_id, fetcher).new_entries == 1
    again = poll_feed(archive_context(app), feed_id, fetcher)
    assert local_server.last("/feed").header("if-modified-since") == "Sat, 01 Mar 2025 10:00:00 GMT"
    assert again.outcome == "not-modified" and again.new_entries == 0
    assert "not modified" in again.line()
    state = feed_row(app, feed_id)
    assert state.last_outcome == "not-modified" and state.consecutive_failures == 0
    assert state.last_modified == "Sat, 01 Mar 2025 10:00:00 GMT"
    assert count(app, Watch) == 1 and count(app, FeedEntry) == 1


def test_malformed_feed_is_reported_and_creates_nothing(app, local_server, fetcher):
    broken = rss(local_server, [("/a/", "A")]).replace("</item>", "")
    local_server.route("/feed", broken, content_type=RSS)
    feed_id = new_feed(app, local_server.url("/feed"))
    result = poll_feed(archive_context(app), feed_id, fetcher)
    assert result.outcome == "malformed" and "mismatched tag" in result.error
    assert count(app, FeedEntry) == 0 and count(app, Watch) == 0
    state = feed_row(app, feed_id)
    assert state.last_outcome == "malformed" and state.last_error == result.error
    assert state.consecutive_failures == 1
    assert state.last_polled_at is not None
    first_wait = state.next_due_at - state.last_polled_at
    poll_feed(archive_context(app), feed_id, fetcher)
    state = feed_row(app, feed_id)
    assert state.consecutive_failures == 2
    assert state.last_polled_at is not None
    assert state.next_due_at - state.last_polled_at == 2 * first_wait, "backs off, never drops"
    local_server.route("/feed", rss(local_server, [("/a/", "A")]), content_type=RSS)
    assert poll_feed(archive_context(app), feed_id, fetcher).outcome == "ok"
    assert feed_row(app, feed_id).consecutive_failures == 0 and count(app, Watch) == 1


def test_http_error_is_a_failure_with_its_status(app, local_server, fetcher):
    feed_id = new_feed(app, local_server.url("/missing-feed"))
    result = poll_feed(archive_context(app), feed_id, fetcher)
    assert (result.outcome, result.error) == ("failed", "the feed answered HTTP 404")
    assert feed_row(app, feed_id).consecutive_failures == 1


def test_old_articles_are_recorded_but_not_watched(app, local_server, fetcher):
    local_server.route("/feed", rss(local_server, [("/old/", "Old")], utcnow() - timedelta(days=30)),
                       content_type=RSS)
    feed_id = new_feed(app, local_server.url("/feed"))
    result = poll_feed(archive_context(app), feed_id, fetcher)
    assert result.new_entries == 1 and result.watch_ids == []
    assert "older than the feed's watch period" in result.skipped[0][1]
    assert count(app, FeedEntry) == 1 and count(app, Watch) == 0


def test_an_article_already_watched_is_linked_not_duplicated(app, local_server, fetcher):
    with get_db(app).write() as session:
        existing = add_watch(session, local_server.url("/a/"), allow_private=True).id
    local_server.route("/feed", rss(local_server, [("/a/", "A")]), content_type=RSS)
    result = poll_feed(archive_context(app), new_feed(app, local_server.url("/feed")), fetcher)
    assert result.skipped == [(local_server.url("/a/"), "already watched")]
    with get_db(app).read_session() as session:
        assert session.scalar(select(FeedEntry.watch_id)) == existing
    assert count(app, Watch) == 1


def test_private_article_addresses_are_refused(app, local_server):
    local_server.route("/feed", rss(local_server, [("/a/", "A")]).replace(
        local_server.url("/a/"), "http://10.1.2.3/article/"), content_type=RSS)
    feed_id = new_feed(app, local_server.url("/feed"))
    ctx = with_settings(app, allow_private_addresses=False)
    # The fetcher may still reach the loopback test server; the articles are judged by the app's rule.
    with Fetcher.from_settings(replace(ctx.settings, allow_private_addresses=True)) as fetcher:
        result = poll_feed(archive_context(app), feed_id, fetcher)
    assert result.watch_ids == [] and "10.1.2.3" in result.skipped[0][0]
    assert "ARCHIVE_ALLOW_PRIVATE_ADDRESSES" in result.skipped[0][1]
    assert count(app, Watch) == 0 and count(app, FeedEntry) == 1


def test_per_feed_schedule_overrides(app, local_server, fetcher):
    local_server.route("/feed", rss(local_server, [("/a/", "A")]), content_type=RSS)
    feed_id = new_feed(app, local_server.url("/feed"), watch_for=timedelta(days=3),
                       watch_every=timedelta(hours=12), early_every=timedelta(minutes=30),
                       early_for=timedelta(hours=6))
    poll_feed(archive_context(app), feed_id, fetcher)
    (w,) = watches(app)
    assert (w.interval_seconds, w.early_interval_seconds, w.early_seconds) == (12 * 3600, 1800, 6 * 3600)
    assert w.until is not None and w.until <= utcnow() + timedelta(days=3)


def test_poll_due_feeds_polls_due_unpaused_feeds_once(app, local_server, fetcher):
    local_server.route("/one", rss(local_server, [("/a/", "A")]), content_type=RSS)
    local_server.route("/two", rss(local_server, [("/b/", "B")]), content_type=RSS)
    one, two = new_feed(app, local_server.url("/one")), new_feed(app, local_server.url("/two"))
    with get_db(app).write() as session:
        feed = session.get(Feed, two)
        assert feed is not None
        feed.paused = True
    assert [r.feed_id for r in poll_due_feeds(archive_context(app), fetcher, "schedule")] == [one]
    assert poll_due_feeds(archive_context(app), fetcher, "schedule") == [], "not due again before its interval"
    assert local_server.count("/two") == 0
    later = poll_due_feeds(archive_context(app), fetcher, "schedule", now=utcnow() + timedelta(hours=2))
    assert [r.feed_id for r in later] == [one]


def test_capture_due_polls_due_feeds(app, runner, local_server):
    local_server.route("/feed", rss(local_server, [("/a/", "A")]), content_type=RSS)
    local_server.route("/a/", "<html><body><p>No comment area here</p></body></html>")
    feed_id = new_feed(app, local_server.url("/feed"))
    result = runner.invoke("capture", "--due")
    assert result.exit_code == 0, result.output
    assert feed_row(app, feed_id).last_outcome == "ok"
    assert count(app, Watch) == 1 and local_server.count("/a/") == 1


# -- the command line --------------------------------------------------------------------

def test_feed_add_and_list_commands(app, runner, local_server):
    url = local_server.url("/feed")
    added = runner.invoke("feed", "add", url, "--every", "30m", "--watch-for", "7d")
    assert added.exit_code == 0, added.output
    assert added.output.startswith(f"feed 1: {url} polled every 30m; new articles watched for 1w")
    assert "(every 1h for 2d, then every 6h)" in added.output
    listed = json.loads(runner.invoke("feed", "list", "--json").output)
    assert [(f["id"], f["url"], f["every"], f["last_outcome"], f["articles"]) for f in listed] == [
        (1, url, "30m", None, 0)]
    assert "never polled" in runner.invoke("feed", "list").output


@pytest.mark.parametrize("args, message", [
    (["ftp://example.org/feed"], "http"),
    (["http://10.1.2.3/feed"], "ARCHIVE_ALLOW_PRIVATE_ADDRESSES"),
    (["http://127.0.0.1:9/feed", "--every", "soon"], "not a duration"),
    (["http://127.0.0.1:9/feed", "--every", "10s"], "at least 1m"),
])
def test_feed_add_refuses_bad_input_in_one_line(app, runner, args, message):
    with_settings(app, allow_private_addresses="10.1.2.3" not in args[0])
    result = runner.invoke("feed", "add", *args)
    assert result.exit_code != 0 and message in result.output
    assert count(app, Feed) == 0


def test_feed_poll_command_polls_one_feed_now(app, runner, local_server):
    local_server.route("/feed", rss(local_server, [("/a/", "A")]), content_type=RSS)
    local_server.route("/other", rss(local_server, [("/b/", "B")]), content_type=RSS)
    feed_id, _other = new_feed(app, local_server.url("/feed")), new_feed(app, local_server.url("/other"))
    with get_db(app).write() as session:
        session.get_one(Feed, feed_id).next_due_at = utcnow() + timedelta(days=1)
    result = runner.invoke("feed", "poll", str(feed_id))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"[feed ok] {local_server.url('/feed')}: 1 new articles, 1 new watches"
    assert local_server.count("/feed") == 1 and local_server.count("/other") == 0
    assert count(app, Watch) == 1 and local_server.count("/a/") == 0, "polling watches; it does not capture"
    assert ("command line", "feed-poll", f"feed {feed_id}") in [
        (actor, action, target) for actor, action, target, _r in audit_actions(app)]
    missing = runner.invoke("feed", "poll", "99")
    assert missing.exit_code == 1 and "no feed with id 99" in missing.output


def test_feed_add_twice_is_refused(app, runner):
    assert runner.invoke("feed", "add", "http://127.0.0.1:9/feed").exit_code == 0
    again = runner.invoke("feed", "add", "http://127.0.0.1:9/feed")
    assert again.exit_code == 1 and "already polled as feed 1" in again.output
