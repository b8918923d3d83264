"""The WordPress comments-feed adapter on saved real feeds (tests/fixtures/wordpress/)."""
from __future__ import annotations

from datetime import datetime

import pytest

from scrapers import choose_adapter
from scrapers.base import Page, PageResult
from scrapers.wordpress.feed import WordPressFeedAdapter
from scrapers.wordpress.page import WordPressAdapter
from tests.scrapers.wordpress_pages import load

ADAPTER = WordPressFeedAdapter()
ARTICLE = ("http://wordpress.test/cafcass-rated-outstanding-for-effective-leaders-and-practice-"
           "that-acts-on-the-childs-views/")


def _pages(*names: str) -> list[PageResult]:
    return [ADAPTER.parse(load(name)) for name in names]


def test_article_page_leads_to_its_own_comments_feed() -> None:
    result = ADAPTER.parse(load("t21-thread"))
    # Not the site's feed (/feed/) nor the site-wide comments feed (/comments/feed/).
    assert result.recognised and result.follow == [ARTICLE + "feed/"]
    assert result.platform_id == "4"


def test_feed_url_without_a_link() -> None:
    page = load("t21-thread")
    bare = b"".join(line for line in page.body.splitlines(keepends=True)
                    if b'rel="alternate"' not in line)
    result = ADAPTER.parse(Page(page.url, page.final_url, 200, page.headers, bare))
    assert result.follow == [ARTICLE + "feed/"]
    plain = "http://wordpress.test/?p=4"
    result = ADAPTER.parse(Page(plain, plain, 200, page.headers, bare))
    assert result.follow == ["http://wordpress.test/?p=4&feed=rss2"]


def test_feed_gives_the_newest_comments_with_exact_dates() -> None:
    result = ADAPTER.parse(load("feed-thread"))
    assert result.recognised and result.follow == []
    comments = {c.key: c for c in result.comments}
    assert list(comments) == ["10", "9", "8", "7", "6", "5", "4", "3", "2"]
    assert comments["2"].author == "WL" and comments["7"].author == "Mike"
    assert comments["7"].posted_at == datetime(2018, 4, 12, 13, 37)
    # "In reply to <a>…</a>." gives the parent and is not part of the text.
    assert {k: c.parent_key for k, c in comments.items() if c.parent_key} == {
        "10": "9", "8": "7", "7": "6"}
    assert comments["10"].text == "Look: and my evidence."
    assert 'href="javascript:alert(1)"' in comments["10"].html
    assert "In reply to" not in comments["10"].html
    assert "<script>alert('moderated')</script>" in comments["9"].html


def test_feed_and_page_agree_on_text() -> None:
    html = {c.key: c for c in WordPressAdapter().parse(load("t21-thread")).comments}
    for record in ADAPTER.parse(load("feed-thread")).comments:
        assert (record.author, record.text, record.posted_at) == (
            html[record.key].author, html[record.key].text, html[record.key].posted_at)


def test_combined_view_is_a_window_after_the_oldest_item() -> None:
    view = ADAPTER.combine(_pages("t21-thread", "feed-thread"))
    assert view.recognised and view.coverage == "window" and not view.has_tree
    assert view.window_after == datetime(2018, 3, 29, 14, 21)
    assert [c.key for c in view.comments] == [str(n) for n in range(2, 11)]
    assert view.title.startswith("Cafcass rated") and view.platform_id == "4"


def test_an_empty_feed_covers_nothing() -> None:
    view = ADAPTER.combine(_pages("t21-empty", "feed-empty"))
    assert view.recognised and view.coverage == "window"
    assert view.window_after is None and view.comments == []


def test_a_malformed_feed_is_not_recognised() -> None:
    result = ADAPTER.parse(load("handmade-bozo-feed"))
    assert not result.recognised and "malformed feed" in result.reason
    assert "not well-formed" in result.reason
    view = ADAPTER.combine([ADAPTER.parse(load("t21-thread")), result])
    assert not view.recognised and view.coverage == "none" and view.window_after is None


def test_an_unread_feed_means_no_coverage() -> None:
    view = ADAPTER.combine(_pages("t21-thread"))
    assert not view.recognised and "comments feed was not read" in view.reason


def _feed(body: bytes) -> Page:
    url = ARTICLE + "feed/"
    return Page(url, url, 200, {"content-type": "application/rss+xml; charset=UTF-8"}, body)


@pytest.mark.parametrize("body, words", [
    (b"", "not an RSS or Atom feed"),
    (b"\x00\xff\xfe\x80", "malformed feed"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</title>'
     b"<guid>http://wordpress.test/?p=1</guid><pubDate>Fri, 13 Apr 2018 11:30:00 +0000</pubDate>"
     b"</item></channel></rss>", "no #comment-N id"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</title>'
     b"<guid>http://wordpress.test/a/#comment-5</guid></item></channel></rss>", "has no date"),
])
def test_bad_feeds_are_not_recognised(body: bytes, words: str) -> None:
    result = ADAPTER.parse(_feed(body))
    assert not result.recognised and words in result.reason


def test_walls_are_blocked() -> None:
    result = ADAPTER.parse(load("handmade-challenge"))
    assert result.blocked and not result.recognised


def test_detection() -> None:
    article = load("t21-thread")
    assert ADAPTER.detect(article) == 40 < WordPressAdapter().detect(article)
    assert ADAPTER.detect(load("feed-thread")) == 80
    assert isinstance(choose_adapter(load("feed-thread")), WordPressFeedAdapter)
    assert ADAPTER.detect(load("feed-empty")) == 0
    assert ADAPTER.detect(load("api-thread-all")) == 0
