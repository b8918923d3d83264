"""The WordPress REST API adapter on saved real API answers (tests/fixtures/wordpress/)."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from scrapers import choose_adapter
from scrapers.base import FollowUp, Page, PageResult
from scrapers.wordpress.api import WordPressApiAdapter
from scrapers.wordpress.feed import WordPressFeedAdapter
from scrapers.wordpress.page import WordPressAdapter
from scrapers.wordpress.status import interpret_single_comment_status
from tests.scrapers.wordpress_pages import load

ADAPTER = WordPressApiAdapter()
API = "http://wordpress.test/wp-json/wp/v2/comments"


def _pages(*names: str) -> list[PageResult]:
    return [ADAPTER.parse(load(name)) for name in names]


def test_article_page_leads_to_the_api() -> None:
    result = ADAPTER.parse(load("t21-thread"))
    assert result.recognised and result.comments == [] and result.claimed_count is None
    assert result.follow == [f"{API}?post=4&per_page=100&page=1"]
    assert result.platform_id == "4"
    assert result.title.startswith("Cafcass rated")


def test_api_root_falls_back_to_wp_json_and_reads_plain_roots() -> None:
    page = load("t21-thread")
    link = b'<link rel="https://api.w.org/" href="http://wordpress.test/wp-json/" />'
    assert link in page.body
    without = ADAPTER.parse(Page(page.url, page.final_url, 200, page.headers,
                                 page.body.replace(link, b"")))
    assert without.follow == [f"{API}?post=4&per_page=100&page=1"]
    plain = page.body.replace(link, b'<link rel="https://api.w.org/" '
                                    b'href="http://wordpress.test/?rest_route=/" />')
    result = ADAPTER.parse(Page(page.url, page.final_url, 200, page.headers, plain))
    assert result.follow == ["http://wordpress.test/?rest_route=/wp/v2/comments"
                             "&post=4&per_page=100&page=1"]


def test_a_json_page_gives_comments_and_the_next_page() -> None:
    result = ADAPTER.parse(load("api-thread-page-1"))
    assert result.recognised and result.claimed_count == 9 and result.platform_id == "4"
    assert [c.key for c in result.comments] == ["10", "9", "8", "7"]     # the API's newest first
    assert {c.key: c.parent_key for c in result.comments} == {"10": "9", "9": None, "8": "7", "7": "6"}
    assert result.follow == [f"{API}?post=4&per_page=4&page=2"]
    hostile = {c.key: c for c in result.comments}
    assert "<script>alert('moderated')</script>" in hostile["9"].html
    assert 'onerror="alert(document.cookie)"' in hostile["10"].html
    assert hostile["10"].posted_at == datetime(2018, 4, 13, 11, 30)
    assert ADAPTER.parse(load("api-thread-page-3")).follow == []


def test_all_pages_combine_to_the_complete_thread_in_reading_order() -> None:
    view = ADAPTER.combine(_pages("t21-thread", "api-thread-page-1", "api-thread-page-2",
                                  "api-thread-page-3"))
    assert view.recognised and view.coverage == "complete" and view.has_tree
    assert [c.key for c in view.comments] == [str(n) for n in range(2, 11)]
    assert [c.position for c in view.comments] == list(range(9))
    assert view.claimed_count == 9 and view.platform_id == "4"
    assert view.title.startswith("Cafcass rated")
    one_page = ADAPTER.combine(_pages("t21-thread", "api-thread-all"))
    assert [c.key for c in one_page.comments] == [c.key for c in view.comments]


def test_the_api_and_the_page_agree_on_every_comment() -> None:
    html = {c.key: c for c in WordPressAdapter().parse(load("t21-thread")).comments}
    api = {c.key: c for c in ADAPTER.combine(_pages("t21-thread", "api-thread-all")).comments}
    assert html.keys() == api.keys()
    for key, record in api.items():
        assert (record.author, record.text, record.parent_key, record.posted_at) == (
            html[key].author, html[key].text, html[key].parent_key, html[key].posted_at), key


def test_a_missing_page_makes_the_capture_incomplete() -> None:
    view = ADAPTER.combine(_pages("t21-thread", "api-thread-page-1", "api-thread-page-2"))
    assert not view.recognised and view.coverage == "none"
    assert "X-WP-Total=9 but gave 8" in view.reason
    only_article = ADAPTER.combine(_pages("t21-thread"))
    assert not only_article.recognised and "no REST API comment page" in only_article.reason


def test_no_comments_is_a_complete_empty_thread() -> None:
    view = ADAPTER.combine(_pages("t21-empty", "api-empty"))
    assert view.recognised and view.coverage == "complete" and view.comments == []
    assert view.claimed_count == 0


def _json_page(body: bytes, status: int = 200, /, **headers: str) -> Page:
    url = f"{API}?post=4&per_page=100&page=1"
    return Page(url, url, status, {"content-type": "application/json; charset=UTF-8", **headers},
                body)


@pytest.mark.parametrize("page, words", [
    (_json_page(b'{"code":"rest_post_invalid_id","message":"Invalid post ID.","data":{"status":400}}',
                400), "rest_post_invalid_id: Invalid post ID."),
    (_json_page(b"[{broken", **{"x-wp-total": "1"}), "invalid JSON"),
    (_json_page(b"[]"), "no X-WP-Total header"),
    (_json_page(b'[{"post": 4, "content": {"rendered": "x"}}]', **{"x-wp-total": "1"}),
     "unexpected comment object at index 0"),
    (_json_page(b'"a string"', **{"x-wp-total": "1"}), "not a list of comments"),
    (_json_page(b"\xff\xfe\x00garbage", **{"x-wp-total": "1"}), "invalid JSON"),
])
def test_bad_answers_are_not_recognised(page: Page, words: str) -> None:
    result = ADAPTER.parse(page)
    assert not result.recognised and words in result.reason


def test_hostile_json_values_stay_data() -> None:
    item = {"id": 7, "post": 4, "parent": 0, "author_name": "<b>Mike</b>", "author_url": "javascript:x",
            "date_gmt": "not a date", "content": {"rendered": "<script>alert(1)</script><p>ok</p>"}}
    result = ADAPTER.parse(_json_page(json.dumps([item]).encode(), **{"x-wp-total": "1"}))
    record = result.comments[0]
    assert result.recognised and record.author == "<b>Mike</b>" and record.text == "ok"
    assert record.posted_at is None and "<script>" in record.html


def test_maintenance_article_is_blocked() -> None:
    result = ADAPTER.parse(load("maintenance"))
    assert not result.recognised and result.blocked and "maintenance" in result.reason


@pytest.mark.parametrize("status, meaning", [
    (200, "visible"), (401, "exists but hidden"), (403, "exists but hidden"), (404, "deleted"),
    (500, "unknown (HTTP 500)")])
def test_single_comment_status(status: int, meaning: str) -> None:
    assert interpret_single_comment_status(status) == meaning


def test_every_wordpress_adapter_asks_the_rest_api_about_missing_comment_ids() -> None:
    for adapter in (WordPressAdapter(), ADAPTER, WordPressFeedAdapter()):
        asks = adapter.follow_ups("http://127.0.0.1:8080/2026/a-post/?p=1", ["12", "fp:0a1b", "", "3x"])
        assert asks == [FollowUp("12", "http://127.0.0.1:8080/wp-json/wp/v2/comments/12")]
        assert adapter.read_follow_up(403, b"") == "exists but hidden"
        assert adapter.read_follow_up(None, b"") == "no answer"


def test_detection_lets_the_html_adapter_win_article_pages() -> None:
    article = load("t21-thread")
    assert ADAPTER.detect(article) == 50 < WordPressAdapter().detect(article)
    assert isinstance(choose_adapter(article), WordPressAdapter)
    assert ADAPTER.detect(load("api-thread-page-2")) == 80
    assert isinstance(choose_adapter(load("api-thread-page-2")), WordPressApiAdapter)
    assert ADAPTER.detect(load("feed-thread")) == 0
    assert ADAPTER.detect(load("handmade-challenge")) == 0
