"""The WordPress article-page adapter on saved real pages (tests/fixtures/wordpress/).

No server here: each test feeds one saved response to the parser. The few
small synthetic pages below test one rule each (count headings, ?cpage links,
ids inside a comment body) that the saved pages do not show.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from scrapers import choose_adapter
from scrapers.base import CommentRecord, Page, PageResult
from scrapers.text import fragment_text, parse_text_date
from scrapers.wordpress.page import WordPressAdapter
from tests.scrapers.wordpress_pages import load

ADAPTER = WordPressAdapter()
HOST = "http://wordpress.test"
ARTICLE = (f"{HOST}/cafcass-rated-outstanding-for-effective-leaders-and-practice-that-acts-"
           "on-the-childs-views/")
PAGED = f"{HOST}/cafcass-complaints-data/"
SEED_AUTHORS = {"2": "WL", "3": "Cha", "4": "Nell", "5": "Paul", "6": "Paul", "7": "Mike",
                "8": "Paul", "9": "Nell", "10": "Cha"}
SEED_PARENTS = {"7": "6", "8": "7", "10": "9"}
SEED_DATES = {  # UTC; the site shows Europe/London (BST) times
    "2": datetime(2018, 3, 29, 14, 21), "3": datetime(2018, 3, 29, 20, 10),
    "4": datetime(2018, 4, 4, 15, 23), "5": datetime(2018, 4, 7, 8, 59),
    "6": datetime(2018, 4, 7, 9, 9), "7": datetime(2018, 4, 12, 13, 37),
    "8": datetime(2018, 4, 12, 15, 2), "9": datetime(2018, 4, 13, 10, 0),
    "10": datetime(2018, 4, 13, 11, 30)}
THREAD_VARIANTS = ["t21-thread", "xhtml-thread", "classic-thread", "t23-thread", "handmade-latin1"]


def _parse(name: str, **changes: Any) -> PageResult:
    return ADAPTER.parse(load(name, **changes))


def _by_key(result: PageResult) -> dict[str, CommentRecord]:
    return {c.key: c for c in result.comments}


@pytest.mark.parametrize("name", THREAD_VARIANTS)
def test_seed_thread_reads_the_same_on_every_markup(name: str) -> None:
    result = _parse(name)
    assert result.recognised and not result.blocked and result.reason == ""
    assert [c.key for c in result.comments] == list(SEED_AUTHORS)
    assert {c.key: c.author for c in result.comments} == SEED_AUTHORS
    assert {c.key: c.parent_key for c in result.comments if c.parent_key} == SEED_PARENTS
    assert {c.key: c.posted_at for c in result.comments} == SEED_DATES
    assert [c.position for c in result.comments] == sorted(c.position for c in result.comments)
    assert result.claimed_count == 9
    assert result.platform_id == "4"
    assert result.title.startswith("Cafcass rated \u2018outstanding\u2019")
    assert result.comments_open is True
    assert result.follow == []
    comments = _by_key(result)
    assert comments["2"].author_url == "http://example.org/wl"
    assert comments["3"].author_url is None
    # Two paragraphs stay two lines; the theme's furniture is not part of the text.
    assert comments["5"].text.startswith("one can only speak of one\u2019s own experience.")
    assert "it.\nFinally, on a more general note" in comments["5"].text
    assert comments["8"].text == ("Thanks Mike. Na\u00efve of me to expect a caf\u00e9-style chat, "
                                  "but \u00a3 for \u00a3 Cafcass spends more on PR than on training.")
    for record in result.comments:
        assert "Reply" not in record.text and "says:" not in record.text
        assert "2018" not in record.text and not record.text.startswith(record.author + "\n")


@pytest.mark.parametrize("name", THREAD_VARIANTS)
def test_hostile_bodies_are_kept_as_data(name: str) -> None:
    comments = _by_key(_parse(name))
    script, image = comments["9"], comments["10"]
    assert "<script>alert('moderated')</script>" in script.html
    assert script.text == "Cafcass never replied to my complaint."
    assert 'onerror="alert(document.cookie)"' in image.html
    assert 'href="javascript:alert(1)"' in image.html
    assert image.text == "Look: and my evidence."


def test_latin1_page_decodes_with_or_without_a_header_charset() -> None:
    from_meta = _parse("handmade-latin1")
    declared = _parse("handmade-latin1", headers={"content-type": "text/html; charset=ISO-8859-1"})
    assert _by_key(from_meta)["8"].text == _by_key(declared)["8"].text
    assert "caf\u00e9" in _by_key(declared)["8"].text
    # A lying header gives replacement characters, never an exception.
    lying = _parse("handmade-latin1", headers={"content-type": "text/html; charset=utf-8"})
    assert lying.recognised and "\ufffd" in _by_key(lying)["8"].text
    unknown = _parse("handmade-latin1", headers={"content-type": "text/html; charset=x-nonsense"})
    assert unknown.recognised


def test_oldest_first_paging_follows_every_other_page() -> None:
    first = _parse("t21-paged-oldest")
    assert [c.key for c in first.comments] == ["11", "12", "13"]
    assert _by_key(first)["13"].parent_key == "12"
    assert first.claimed_count == 6
    assert first.follow == [f"{PAGED}comment-page-2/", f"{PAGED}comment-page-3/"]
    second = _parse("t21-paged-oldest-page-2")
    assert [c.key for c in second.comments] == ["14", "15"]
    assert second.follow == [f"{PAGED}comment-page-1/", f"{PAGED}comment-page-3/"]
    third = _parse("t21-paged-oldest-page-3")
    view = ADAPTER.combine([first, second, third])
    assert view.recognised and view.coverage == "complete"
    assert [c.key for c in view.comments] == ["11", "12", "13", "14", "15", "16"]


def test_newest_first_paging_starts_on_the_last_page() -> None:
    bare = _parse("t21-paged-newest")      # the bare URL shows page 3 of 3
    assert [c.key for c in bare.comments] == ["16"]
    assert bare.follow == [f"{PAGED}comment-page-1/", f"{PAGED}comment-page-2/"]
    pages = [bare, _parse("t21-paged-newest-page-1"), _parse("t21-paged-newest-page-2")]
    view = ADAPTER.combine(pages)
    assert view.coverage == "complete"
    assert [c.key for c in view.comments] == ["11", "12", "13", "14", "15", "16"]


@pytest.mark.parametrize("name, follow", [
    ("classic-paged-oldest", ["comment-page-2/", "comment-page-3/"]),
    # Old-style "« Older Comments" on page 2 links to the bare URL, not comment-page-1.
    ("classic-paged-oldest-page-2", ["comment-page-3/"]),
    ("t23-paged-oldest", ["comment-page-2/", "comment-page-3/"]),
    ("t23-paged-oldest-page-2", ["comment-page-1/", "comment-page-3/"]),
])
def test_paging_links_on_other_markups(name: str, follow: list[str]) -> None:
    result = _parse(name)
    assert result.recognised
    assert result.follow == [PAGED + tail for tail in follow]


def test_follow_ignores_other_posts_and_reply_links() -> None:
    # The twentytwentyone footer's Recent Comments widget links hello-world's pages.
    result = _parse("t21-paged-newest-page-1")
    assert all(url.startswith(PAGED) for url in result.follow)
    assert not any("replytocom" in url or "#" in url for url in result.follow)


@pytest.mark.parametrize("name", ["t21-closed", "t23-closed"])
def test_closed_comments_are_still_listed(name: str) -> None:
    result = _parse(name)
    assert result.recognised and result.comments_open is False
    assert [(c.key, c.author) for c in result.comments] == [("17", "WL"), ("18", "Cha")]
    assert result.claimed_count == 2


@pytest.mark.parametrize("name", ["t21-empty", "t23-empty"])
def test_a_post_with_no_comments_yet_is_a_good_empty_page(name: str) -> None:
    result = _parse(name)
    assert result.recognised and result.comments == [] and result.comments_open is True
    assert result.platform_id == "8"


def test_closed_and_empty_post_has_no_comment_area() -> None:
    result = _parse("t21-empty-closed")
    assert not result.recognised and not result.blocked
    assert "no comment area" in result.reason


@pytest.mark.parametrize("name, words", [
    ("maintenance", "maintenance page (HTTP 503)"),
    ("handmade-challenge", "challenge or captcha page"),
    ("handmade-captcha", "challenge or captcha page"),
    ("handmade-consent", "consent wall"),
])
def test_walls_are_blocked_with_a_reason(name: str, words: str) -> None:
    result = _parse(name)
    assert not result.recognised and result.blocked
    assert words in result.reason
    assert not ADAPTER.combine([result]).recognised


def test_truncated_page_is_not_a_good_page() -> None:
    result = _parse("handmade-truncated")
    assert not result.recognised and not result.blocked
    assert "truncated" in result.reason
    view = ADAPTER.combine([result])
    assert view.coverage == "none" and not view.recognised


def test_no_cut_of_a_real_page_passes_for_a_whole_one() -> None:
    page = load("t21-thread")
    end = page.body.rindex(b"</html>")
    for cut in range(0, end, 613):
        result = ADAPTER.parse(Page(page.url, page.final_url, 200, page.headers, page.body[:cut]))
        assert not result.recognised, cut


@pytest.mark.parametrize("body", [
    b"", b"\x00\xff\xfe garbage \x80\x81", b"<html><body>" + b"<div>" * 5000,
    b'<li id="comment-1"><li id="comment-99999999999999999999999">',
    "<html>\u202e<body id=comments></body></html>".encode("utf-16"),
])
def test_hostile_bytes_never_raise(body: bytes) -> None:
    page = Page(ARTICLE, ARTICLE, 200, {"content-type": "text/html"}, body)
    result = ADAPTER.parse(page)
    assert isinstance(result, PageResult)
    assert not result.recognised or result.comments == []
    assert 0 <= ADAPTER.score(page) <= 100


def _synthetic(body: str, url: str = ARTICLE) -> PageResult:
    html = f"<html><body class='single postid-4'>{body}</body></html>"
    return ADAPTER.parse(Page(url, url, 200, {"content-type": "text/html"}, html.encode()))


@pytest.mark.parametrize("heading, count", [
    ("One thought on &ldquo;Cafcass&rdquo;", 1), ("No Responses to Cafcass", 0),
    ("1,234 comments", 1234), ("6 Responses to \u201cCafcass\u201d", 6), ("Comments", None),
    ("Leave a Reply", None),
])
def test_claimed_count_headings(heading: str, count: int | None) -> None:
    result = _synthetic(f'<div id="comments"><h2 class="comments-title">{heading}</h2>'
                        '<ol class="comment-list"><li id="comment-5"><div class="comment-content">'
                        'x</div></li></ol></div>')
    assert result.claimed_count == count


def test_claimed_comments_that_cannot_be_read_mean_an_unknown_layout() -> None:
    result = _synthetic('<div id="comments"><h2 class="comments-title">6 comments</h2>'
                        '<ol class="comment-list"><li class="new-layout">x</li></ol></div>')
    assert not result.recognised and "layout not recognised" in result.reason


def test_plain_permalink_cpage_links_are_followed() -> None:
    url = f"{HOST}/?p=4"
    result = _synthetic('<div id="comments"><ol class="commentlist"><li id="comment-5">'
                        '<div class="comment-content">x</div></li></ol>'
                        '<a href="/?p=4&amp;cpage=2#comments">2</a>'
                        '<a href="/?p=5&amp;cpage=2#comments">other post</a>'
                        '<a href="https://elsewhere.example/?p=4&amp;cpage=3">other host</a></div>',
                        url=url)
    assert result.follow == [f"{HOST}/?p=4&cpage=2"]


def test_a_comment_id_written_inside_a_body_is_not_a_comment() -> None:
    result = _synthetic('<div id="comments"><ol class="comment-list"><li id="comment-5">'
                        '<div class="comment-content"><p>hi</p><div id="comment-6">fake</div>'
                        '</div></li></ol></div>')
    assert [c.key for c in result.comments] == ["5"]


def test_detection_scores_and_choice() -> None:
    for name in ("t21-thread", "t23-thread", "xhtml-thread", "classic-thread", "t21-paged-oldest"):
        page = load(name)
        assert ADAPTER.detect(page) == 100, name
        assert isinstance(choose_adapter(page), WordPressAdapter), name
    assert ADAPTER.detect(load("t21-empty")) == 90
    assert ADAPTER.detect(load("maintenance")) == 0
    assert ADAPTER.detect(load("handmade-challenge")) == 0
    assert ADAPTER.detect(load("api-thread-all")) == 0
    assert ADAPTER.detect(load("feed-thread")) == 0


def test_text_helpers() -> None:
    assert fragment_text("<p>a <b>b</b><br>c</p><script>x()</script><p> d  e </p>") == "a b\nc\nd e"
    assert parse_text_date("March 29, 2018 at 3:21 pm") == datetime(2018, 3, 29, 15, 21)
    assert parse_text_date("29th March 2018 @ 15:21") == datetime(2018, 3, 29, 15, 21)
    assert parse_text_date("3 days ago") is None
