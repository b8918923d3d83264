"""guardian: the Guardian's discussion API, on hand-made fixtures (see tests/fixtures/guardian/README.md)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from scrapers import choose_adapter
from scrapers.base import Page, PageResult
from scrapers.guardian import GuardianAdapter, GuardianPage, discussion_url, responses_url

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "guardian"
ARTICLE = "https://www.theguardian.com/society/2025/mar/01/childrens-services-inspection"
PAGE_1 = discussion_url("x4b7q", 1)
PAGE_2 = discussion_url("x4b7q", 2)
REPLIES_30 = responses_url("30")


def page(name: str, url: str) -> Page:
    content_type = "application/json" if name.endswith(".json") else "text/html; charset=utf-8"
    return Page(url=url, final_url=url, status=200, headers={"content-type": content_type},
                body=(FIXTURES / name).read_bytes())


def raw(body: str, url: str = PAGE_1) -> Page:
    return Page(url=url, final_url=url, status=200, headers={"content-type": "application/json"},
                body=body.encode())


@pytest.fixture
def guardian() -> GuardianAdapter:
    return GuardianAdapter()


def test_first_url(guardian: GuardianAdapter) -> None:
    assert guardian.first_url("https://www.theguardian.com/p/x4b7q") == PAGE_1
    api_url = "https://discussion.theguardian.com/discussion-api/discussion/p/x4b7q"
    assert guardian.first_url(api_url) == PAGE_1
    assert guardian.first_url(ARTICLE) == ARTICLE, "an article is read first for its discussion key"
    assert PAGE_1 == ("https://discussion.theguardian.com/discussion-api/discussion/p/x4b7q"
                      "?page=1&pageSize=100&orderBy=oldest&displayThreaded=true")


def test_detect(guardian: GuardianAdapter) -> None:
    assert guardian.detect(page("discussion_page1.json", PAGE_1)) == 100
    assert guardian.detect(page("article.html", ARTICLE)) == 90
    assert guardian.detect(page("article.html", "https://example.org/a")) == 0
    chosen = choose_adapter(page("article.html", ARTICLE))
    assert chosen is not None and chosen.name == "guardian"


def test_article_points_to_the_discussion(guardian: GuardianAdapter) -> None:
    result = guardian.parse(page("article.html", ARTICLE))
    assert result.recognised and result.comments == []
    assert result.follow == [PAGE_1]
    assert result.platform_id == "/p/x4b7q"
    assert result.title == "Children's services inspection: what the report says"
    assert "discussion.theguardian.com" in GuardianAdapter.follow_hosts


def test_article_without_discussion_is_not_recognised(guardian: GuardianAdapter) -> None:
    result = guardian.parse(page("article_no_discussion.html", ARTICLE))
    assert not result.recognised and "no discussion key" in result.reason


def test_first_page_threads_replies_and_keeps_the_moderator_tombstone(guardian: GuardianAdapter) -> None:
    result = guardian.parse(page("discussion_page1.json", PAGE_1))
    assert result.recognised and result.claimed_count == 9
    assert result.follow == [PAGE_2]
    rows = [(c.key, c.parent_key, c.author, c.tombstone) for c in result.comments]
    assert rows == [("10", None, "ParentVoice", False), ("11", "10", "FosterCarer", False),
                    ("12", "11", "ParentVoice", False), ("20", None, "Whistle", True),
                    ("21", "20", "Reader", False)]
    first = result.comments[0]
    assert first.text == "The inspectors never spoke to a single family.\n\nAsk the parents."
    assert first.posted_at == datetime(2025, 3, 1, 9, 5, 12)
    assert first.author_url == "https://profile.theguardian.com/user/id/9001"
    blocked = result.comments[3]
    assert blocked.text.startswith("This comment was removed by a moderator")
    assert result.comments[4].author_url is None, "a javascript: profile link is dropped"


def test_cut_short_replies_are_fetched_in_full(guardian: GuardianAdapter) -> None:
    result = guardian.parse(page("discussion_page2.json", PAGE_2))
    assert isinstance(result, GuardianPage) and result.truncated == ["30"]
    assert result.follow == [REPLIES_30], "the last page asks for no further page"
    replies = guardian.parse(page("comment_30_responses.json", REPLIES_30))
    assert [(c.key, c.parent_key) for c in replies.comments] == [("31", "30"), ("32", "30"), ("33", "32")]


def _all_pages(guardian: GuardianAdapter) -> list[PageResult]:
    return [guardian.parse(page("article.html", ARTICLE)),
            guardian.parse(page("discussion_page1.json", PAGE_1)),
            guardian.parse(page("discussion_page2.json", PAGE_2)),
            guardian.parse(page("comment_30_responses.json", REPLIES_30))]


def test_combine_gives_the_whole_thread_in_reading_order(guardian: GuardianAdapter) -> None:
    view = guardian.combine(_all_pages(guardian))
    assert view.recognised and view.coverage == "complete", view.reason
    assert [c.key for c in view.comments] == ["10", "11", "12", "20", "21", "30", "31", "32", "33"]
    assert [c.position for c in view.comments] == list(range(9))
    assert view.claimed_count == 9 == len(view.comments)
    assert view.platform_id == "/p/x4b7q" and view.title.startswith("Children's services")
    assert [c.key for c in view.comments if c.tombstone] == ["20"]


@pytest.mark.parametrize("drop, reason", [
    (2, "discussion page(s) [2] of 2 not read"),
    (3, "replies of comment(s) 30 not read"),
])
def test_a_missing_part_makes_the_capture_unrecognised(guardian: GuardianAdapter, drop: int,
                                                       reason: str) -> None:
    pages = _all_pages(guardian)
    del pages[drop]
    view = guardian.combine(pages)
    assert not view.recognised and view.comments == [] and view.coverage == "none"
    assert reason in view.reason


def test_the_article_alone_is_not_a_capture(guardian: GuardianAdapter) -> None:
    view = guardian.combine([guardian.parse(page("article.html", ARTICLE))])
    assert not view.recognised and "discussion API was not read" in view.reason


@pytest.mark.parametrize("body, reason", [
    ((FIXTURES / "error_not_found.json").read_text(), "DISCUSSION_NOT_FOUND"),
    ("{not json", "unexpected discussion API answer"),
    ('{"status": "ok", "discussion": {"comments": [{"body": "no id"}]}}', "unexpected discussion API answer"),
    ('{"status": "ok", "currentPage": "one", "discussion": {"comments": []}}',
     "unexpected discussion API answer"),
    ('{"status": "ok"}', "holds no discussion"),
    ("[1, 2]", "unexpected discussion API answer"),
    ("[" * 100_000 + "]" * 100_000, "unexpected discussion API answer"),
])
def test_hostile_or_broken_answers_are_not_recognised(guardian: GuardianAdapter, body: str,
                                                      reason: str) -> None:
    result = guardian.parse(raw(body))
    assert not result.recognised and reason in result.reason
    assert not guardian.combine([result]).recognised
