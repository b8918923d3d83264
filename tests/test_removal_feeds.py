"""Removal feeds: real Atom responses from the app, read with feedparser."""
from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest
from selectolax.lexbor import LexborHTMLParser

from archive.context import archive_context
from archive.operators.redaction import set_redacted
from archive.search import reindex
from archive.store.db import get_db
from archive.store.models import Comment, Event, Thread
from tests.html_support import attr
from tests.public_helpers import T0, build_moderated_thread, capture, new_thread, rec

HOSTILE = ('<script>alert("x")</script> ]]> &amp; <b onclick="steal()">bold</b>\x01\x0b '
           "\u202eevil")


@pytest.fixture
def ids(app):
    found = build_moderated_thread(app)
    reindex(archive_context(app))
    return found


def _feed(client, url: str, **headers: str) -> feedparser.FeedParserDict:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.data[:300]
    assert response.content_type.startswith("application/atom+xml")
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def _events(app, thread_id: int | None = None) -> list[Event]:
    with get_db(app).read_session() as session:
        query = session.query(Event).filter(Event.kind.in_(("missing", "removed", "tombstoned",
                                                              "thread-gone")))
        if thread_id is not None:
            query = query.filter(Event.thread_id == thread_id)
        return query.order_by(Event.at.desc(), Event.id.desc()).all()


def test_archive_feed_lists_every_disappearance_newest_first(client, app, ids) -> None:
    feed = _feed(client, "/feeds/all.atom")
    events = _events(app)
    assert len(events) == 8   # Sarah, Dave, Nell: missing then removed; Cha missing; Ann tombstoned
    assert [e.id for e in feed.entries] == [f"http://localhost/comments/{ev.comment_id}#event-{ev.id}"
                                            for ev in events]
    by_id = {e.id: e for e in feed.entries}
    sarah_removed = next(ev for ev in events if ev.comment_id == ids["sarah"] and ev.kind == "removed")
    entry = by_id[f"http://localhost/comments/{ids['sarah']}#event-{sarah_removed.id}"]
    assert entry.title == "Removed: comment by Sarah T on Cafcass rated outstanding"
    assert entry.author == "Sarah T"
    assert entry.updated == entry.published == sarah_removed.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "between 2018-04-01 12:00 UTC and 2018-04-01 13:00 UTC" in entry.summary
    assert entry.content[0].value == "Our officer met my daughter once for twenty minutes."
    links = {link.rel: link.href for link in entry.links}
    assert links == {"alternate": f"http://localhost/comments/{ids['sarah']}",
                     "related": f"http://localhost/threads/{ids['thread']}#c{ids['sarah']}"}
    assert [t.term for t in entry.tags] == ["removed"]
    # The reinstated comment's disappearance stays, saying what it is now.
    dave = [e for e in feed.entries if f"/comments/{ids['dave']}#" in e.id]
    assert [e.tags[0].term for e in dave] == ["removed", "missing"]
    assert all("Status now: visible again." in e.summary for e in dave)
    assert feed.feed.updated == events[0].at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert feed.feed.id == "http://localhost/feeds/all.atom"


def test_entry_ids_are_stable_and_a_new_removal_comes_first(client, app, ids) -> None:
    first = _feed(client, "/feeds/all.atom")
    again = _feed(client, "/feeds/all.atom?utm_source=reader")
    assert [e.id for e in again.entries] == [e.id for e in first.entries]
    assert again.feed.id == first.feed.id
    with get_db(app).write() as session:
        thread = session.get_one(Thread, ids["thread"])
        kept = [rec("1", "WL", "This is bonkers. I know officers who rarely see their children.",
                    position=1),
                rec("5", "Mike", "Absolutely right Paul, my comment was removed.", parent="4",
                    position=5),
                rec("8", "Jo", "Private details that the archive's operators hid.", position=8),
                rec("9", "", "This comment was deleted.", position=9, tombstone=True),
                rec("7", "Dave", "Ofsted inspected the files Cafcass chose to show them.", position=7)]
        # Paul goes missing; Cha, missing since the last capture, is now removed.
        capture(session, thread, T0 + timedelta(hours=6), kept)
    later = _feed(client, "/feeds/all.atom")
    new = [(e.id.split("#")[0], e.tags[0].term) for e in later.entries[:2]]
    assert sorted(new) == sorted([(f"http://localhost/comments/{ids['paul']}", "missing"),
                                  (f"http://localhost/comments/{ids['cha']}", "removed")])
    assert [e.id for e in later.entries[2:]] == [e.id for e in first.entries]


def test_conditional_get_answers_304_until_something_changes(client, app, ids) -> None:
    response = client.get("/feeds/all.atom")
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert response.headers["Cache-Control"] == "no-cache"
    assert modified == "Sun, 01 Apr 2018 17:00:00 GMT"    # the newest event's time
    unchanged = client.get("/feeds/all.atom", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/feeds/all.atom", headers={
        "If-Modified-Since": "Sun, 01 Apr 2018 16:59:59 GMT"}).status_code == 200
    # A redaction changes what the feed says, so its ETag and its Last-Modified too.
    with get_db(app).write() as session:
        set_redacted(session, ids["sarah"], True, reason="asked by the commenter", actor="op",
                     user_id=None)
    changed = client.get("/feeds/all.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert b"twenty minutes" not in changed.data
    since = client.get("/feeds/all.atom", headers={"If-Modified-Since": modified})
    assert since.status_code == 200 and b"twenty minutes" not in since.data


def test_redacted_comments_stay_redacted_in_feeds(client, app, ids) -> None:
    with get_db(app).write() as session:
        sarah = session.get_one(Comment, ids["sarah"])
        sarah.redacted, sarah.redaction_reason = True, "asked by the commenter"
    response = client.get(f"/feeds/threads/{ids['thread']}.atom")
    assert b"twenty minutes" not in response.data and b"Sarah" not in response.data
    feed = feedparser.parse(response.data)
    entries = [e for e in feed.entries if f"/comments/{ids['sarah']}#" in e.id]
    assert len(entries) == 2
    for entry in entries:
        assert entry.author == "(name withheld)"
        assert entry.content[0].value == ("The text and the author's name are withheld by the "
                                          "archive's operators: asked by the commenter")


def test_hostile_comment_text_is_text_in_the_feed(client, app) -> None:
    with get_db(app).write() as session:
        thread = new_thread(session, "https://news.example/2018/hostile/", "<i>Title</i> & co")
        capture(session, thread, T0, [rec("1", '<img src=x onerror="a()">', HOSTILE),
                                      rec("2", "Calm", "Nothing to see.")])
        capture(session, thread, T0 + timedelta(hours=1), [rec("2", "Calm", "Nothing to see.")])
        thread_id = thread.id
    response = client.get(f"/feeds/threads/{thread_id}.atom")
    assert b"<script" not in response.data and b"<img" not in response.data
    assert b"<b " not in response.data and b"\x01" not in response.data
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    [entry] = feed.entries
    content = entry.content[0]
    assert content.type == "text/plain"
    # Every character a reader can see survives, as text; only XML-illegal controls go.
    assert content.value == HOSTILE.replace("\x01", "").replace("\x0b", "")
    assert entry.title == 'Missing: comment by <img src=x onerror="a()"> on <i>Title</i> & co'
    assert entry.title_detail.type == "text/plain"


def test_site_thread_and_search_feeds_hold_only_their_own(client, app, ids) -> None:
    with get_db(app).write() as session:
        other = new_thread(session, "https://elsewhere.example/story/", "Another story")
        capture(session, other, T0, [rec("1", "Zed", "Elsewhere entirely, about twenty things.")])
        capture(session, other, T0 + timedelta(hours=1), [])
        other_id, other_site = other.id, other.site_id
        site_id = session.get_one(Thread, ids["thread"]).site_id
    reindex(archive_context(app))
    thread_feed = _feed(client, f"/feeds/threads/{ids['thread']}.atom")
    assert len(thread_feed.entries) == len(_events(app, ids["thread"]))
    assert all(f"/threads/{ids['thread']}#" in e.links[1].href for e in thread_feed.entries)
    site_feed = _feed(client, f"/feeds/sites/{site_id}.atom")
    assert [e.id for e in site_feed.entries] == [e.id for e in thread_feed.entries]
    other_feed = _feed(client, f"/feeds/sites/{other_site}.atom")
    assert [e.author for e in other_feed.entries] == ["Zed"]
    assert len(_feed(client, "/feeds/all.atom").entries) == len(thread_feed.entries) + 1
    search = _feed(client, "/feeds/search.atom?q=twenty")
    assert {e.author for e in search.entries} == {"Sarah T", "Zed"}
    only = _feed(client, f"/feeds/search.atom?q=twenty&thread={other_id}")
    assert [e.author for e in only.entries] == ["Zed"]
    assert only.feed.id == f"http://localhost/feeds/search.atom?q=twenty&thread={other_id}"
    assert client.get("/feeds/threads/99999.atom").status_code == 404
    assert client.get("/feeds/sites/99999.atom").status_code == 404
    assert client.get("/feeds/search.atom").status_code == 400
    assert client.get("/feeds/search.atom?q=NOT").status_code == 400


def test_pages_advertise_their_feeds(client, app, ids) -> None:
    with get_db(app).read_session() as session:
        site_id = session.get_one(Thread, ids["thread"]).site_id
    expected = {
        "/": {"/feeds/all.atom", f"/feeds/sites/{site_id}.atom"},
        f"/threads/{ids['thread']}": {f"/feeds/threads/{ids['thread']}.atom",
                                      f"/feeds/sites/{site_id}.atom", "/feeds/all.atom"},
        "/search?q=twenty&status=removed": {"/feeds/search.atom?q=twenty&status=removed"},
    }
    for page, feeds in expected.items():
        doc = LexborHTMLParser(client.get(page).get_data(as_text=True))
        advertised = {attr(link, "href") for link in
                      doc.css('head link[rel=alternate][type="application/atom+xml"]')}
        assert advertised == feeds, page
        for href in advertised:
            assert _feed(client, href).entries, href


def test_an_article_gone_is_one_entry_not_a_removal_of_each_comment(client, app) -> None:
    with get_db(app).write() as session:
        thread = new_thread(session, "https://news.example/2018/withdrawn/", "Withdrawn story")
        capture(session, thread, T0, [rec("1", "Amy", "First!"), rec("2", "Bob", "Second.")])
        for hours in (1, 2):
            capture(session, thread, T0 + timedelta(hours=hours), [], outcome="gone",
                    reason="the article answered HTTP 410")
        thread_id = thread.id
    feed = _feed(client, f"/feeds/threads/{thread_id}.atom")
    [entry] = feed.entries
    assert entry.title == "Article gone: Withdrawn story"
    assert entry.tags[0].term == "thread-gone"
    assert entry.id.startswith(f"http://localhost/threads/{thread_id}#event-")
    assert entry.link == f"http://localhost/threads/{thread_id}"
    assert "not counted as removed one by one" in entry.summary
