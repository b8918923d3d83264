"""The Disqus adapter on pages saved from the loopback fake Disqus (tests/fixtures/disqus/,
made by tests/fixtures/make_disqus_fixtures.py, whose docstring lists the thread).

Each test feeds saved bytes to `parse` and `combine`, as the capture pipeline does;
the end-to-end test (tests/test_end_to_end_disqus.py) fetches them over real HTTP.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from scrapers import ADAPTERS, choose_adapter, get_adapter
from scrapers.base import Page, PageResult
from scrapers.disqus import DisqusAdapter, validate
from tests.disqus_server import API_KEY, embed_html

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "disqus"
ARTICLE = "https://news.example/2026/12/cafcass-inspection/"
EMBED = ("https://disqus.com/embed/comments/?base=default&f=localnews&t_i=cafcass-2026-12"
         "&t_u=https%3A%2F%2Fnews.example%2F2026%2F12%2Fcafcass-inspection%2F&s_o=default")
API = ("https://disqus.com/api/3.0/threads/listPostsThreaded?limit=100&thread=6467564608"
       f"&forum=localnews&order=popular&cursor=1%3A0%3A0&api_key={API_KEY}")
SAM, JO, KIM, NELL, BOB = (str(5256177490 + n) for n in range(5))
_DATA = re.compile(r'(<script type="text/json" id="disqus-threadData">)(.*?)(</script>)', re.S)


def _page(body: bytes, url: str) -> Page:
    kind = "application/json" if url.startswith("https://disqus.com/api/") else "text/html; charset=utf-8"
    return Page(url=url, final_url=url, status=200, headers={"content-type": kind}, body=body)


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _thread_data(name: str) -> Any:
    found = _DATA.search(_fixture(name).decode())
    assert found is not None
    return json.loads(found.group(2))


def _embed(data: Any) -> bytes:
    return embed_html(data).encode()


def _adapter(**options: str) -> DisqusAdapter:
    adapter = DisqusAdapter()
    if options:
        adapter.configure(options)
    return adapter


def test_the_article_page_leads_to_the_embed_page_its_configuration_names() -> None:
    page = _page(_fixture("article.html"), ARTICLE)
    result = _adapter().parse(page)
    assert result.recognised and not result.comments, result.reason
    assert result.follow == [EMBED]
    mirrored = _adapter(base="http://127.0.0.1:8080/", forum="othernews").parse(page)
    assert mirrored.follow[0].startswith("http://127.0.0.1:8080/embed/comments/?base=default&f=othernews&")
    assert DisqusAdapter().score(page) == 95


def test_a_wordpress_plugin_page_names_its_thread_in_embed_vars() -> None:
    body = (b'<div id="disqus_thread"></div><script>var embedVars = {"disqusConfig":{},'
            b'"disqusIdentifier":"528 https:\\/\\/news.example\\/?p=528","disqusShortname":"localnews",'
            b'"disqusTitle":"A story","disqusUrl":"https:\\/\\/news.example\\/a-story\\/","postId":"528"};'
            b"</script>")
    query = parse_qs(urlsplit(_adapter().parse(_page(body, ARTICLE)).follow[0]).query)
    assert (query["f"], query["t_i"], query["t_u"]) == (
        ["localnews"], ["528 https://news.example/?p=528"], ["https://news.example/a-story/"])


def test_options_naming_the_thread_start_at_the_embed_page() -> None:
    adapter = get_adapter("disqus", {"forum": "localnews", "identifier": "cafcass-2026-12"})
    assert adapter.first_url(ARTICLE) == EMBED
    assert get_adapter("disqus", {"forum": "localnews"}).first_url(ARTICLE) == ARTICLE


def test_a_thread_on_two_pages_reads_whole_through_the_api_cursor() -> None:
    adapter = _adapter(api_key=API_KEY)
    first = adapter.parse(_page(_fixture("embed-page1.html"), EMBED))
    assert first.recognised, first.reason
    assert first.follow == [API]
    second = adapter.parse(_page(_fixture("api-page2.json"), API))
    assert second.recognised and not second.follow, second.reason
    view = adapter.combine([first, second])
    assert view.recognised and view.coverage == "complete", view.reason
    assert [(r.key, r.parent_key, r.author, r.position) for r in view.comments] == [
        (SAM, None, "Sam", 0), (JO, SAM, "Jo", 1), (KIM, JO, "Kim", 2), (NELL, None, "Nell", 3),
        (BOB, None, "Bob", 4)], "Ann's held comment is neither listed nor counted"
    assert (view.claimed_count, view.platform_id, view.title) == (
        5, "6467564608", "Cafcass rated outstanding by inspectors")
    jo = view.comments[1]
    assert jo.text == "Same here.\nNo sibling was interviewed."
    assert jo.html == "<p>Same here.<br>No sibling was interviewed.</p>"
    assert jo.posted_at == datetime(2026, 12, 1, 9, 1) and jo.posted_at.tzinfo is None
    assert jo.author_url == "https://disqus.com/by/jo/"
    assert view.comments[3].text == "See the report."
    assert not any(r.tombstone for r in view.comments)


def test_without_an_api_key_a_longer_thread_is_unrecognised_not_shortened() -> None:
    adapter = _adapter()
    first = adapter.parse(_page(_fixture("embed-page1.html"), EMBED))
    assert not first.recognised and not first.follow
    assert "API key" in first.reason and "ARCHIVE_DISQUS_API_KEY" in first.reason
    view = adapter.combine([first])
    assert not view.recognised and view.coverage == "none" and not view.comments


def test_a_page_the_cursor_names_but_nobody_read_leaves_the_thread_unrecognised() -> None:
    adapter = _adapter(api_key=API_KEY)
    view = adapter.combine([adapter.parse(_page(_fixture("embed-page1.html"), EMBED))])
    assert not view.recognised and "cursor '1:0:0'" in view.reason


def test_cursors_that_loop_are_refused() -> None:
    data = json.loads(_fixture("api-page2.json"))
    data["cursor"].update(hasNext=True, next="1:0:0")
    adapter = _adapter(api_key=API_KEY)
    pages = [adapter.parse(_page(_fixture("embed-page1.html"), EMBED)),
             adapter.parse(_page(json.dumps(data).encode(), API))]
    view = adapter.combine(pages)
    assert not view.recognised and "loop" in view.reason


def test_a_deleted_post_with_replies_is_a_tombstone_and_a_deleted_leaf_is_gone() -> None:
    adapter = _adapter()
    result = adapter.parse(_page(_fixture("embed-tombstone.html"), EMBED))
    assert result.recognised, result.reason
    view = adapter.combine([result])
    assert view.recognised and view.claimed_count == 3, view.reason
    assert [(r.key, r.tombstone) for r in view.comments] == [
        (SAM, True), (JO, False), (KIM, False), (NELL, False)]
    sam = view.comments[0]
    assert (sam.text, sam.html, sam.author, sam.author_url) == ("", "", "", None)
    assert sam.posted_at == datetime(2026, 12, 1, 9, 0)
    assert view.comments[1].parent_key == SAM, "a reply keeps its deleted parent"


def test_a_count_the_listing_does_not_reach_is_unrecognised() -> None:
    data = _thread_data("embed-tombstone.html")
    data["response"]["thread"]["posts"] = 4       # e.g. a count that includes the placeholder
    adapter = _adapter()
    view = adapter.combine([adapter.parse(_page(_embed(data), EMBED))])
    assert not view.recognised and not view.comments
    assert view.reason == "Disqus counts 4 comments but the capture listed 3"


def test_spam_and_unapproved_posts_are_not_public_and_parents_may_be_strings() -> None:
    data = _thread_data("embed-tombstone.html")
    posts = data["response"]["posts"]
    posts[2]["parent"] = str(posts[2]["parent"])
    posts[3]["isSpam"] = True
    data["response"]["thread"]["posts"] = 2
    adapter = _adapter()
    view = adapter.combine([adapter.parse(_page(_embed(data), EMBED))])
    assert view.recognised, view.reason
    assert [(r.key, r.parent_key) for r in view.comments] == [(SAM, None), (JO, SAM), (KIM, JO)]


def test_script_end_tags_in_a_message_stay_inside_the_thread_data() -> None:
    data = _thread_data("embed-tombstone.html")
    data["response"]["posts"][1]["message"] = "<p>ok</p></script><script>alert(1)</script>"
    result = _adapter().parse(_page(_embed(data), EMBED))
    assert result.recognised and result.comments[1].text == "ok"
    assert result.comments[1].html.endswith("<script>alert(1)</script>")


def _broken(change: str) -> bytes:
    data = _thread_data("embed-tombstone.html")
    posts = data["response"]["posts"]
    if change == "code":
        return _embed({"code": 2, "response": "Invalid argument, 'thread': Unable to find thread"})
    if change == "posts":
        data["response"]["posts"] = {"0": posts[0]}
    elif change == "flag":
        del posts[1]["isDeleted"]
    elif change == "id":
        posts[1]["id"] = "../../etc"
    elif change == "parent":
        posts[1]["parent"] = {"id": 1}
    elif change == "thread":
        posts[1]["thread"] = "999"
    elif change == "time":
        posts[1]["createdAt"] = "yesterday"
    elif change == "cursor":
        data["cursor"] = {"hasNext": True}
    elif change == "forum":
        data["response"]["thread"]["forum"] = "othernews"
    elif change == "count":
        data["response"]["thread"]["posts"] = "3"
    return _embed(data)


@pytest.mark.parametrize(("change", "reason"), [
    ("code", "Disqus answered code 2: Invalid argument"),
    ("posts", "the answer lists no posts"),
    ("flag", f"post {JO} lacks isDeleted"),
    ("id", "post 1 has no id"),
    ("parent", f"post {JO} has an unreadable parent"),
    ("thread", f"post {JO} belongs to thread '999'"),
    ("time", f"post {JO} has no creation time"),
    ("cursor", "names none"),
    ("forum", "for forum 'othernews', not 'localnews'"),
    ("count", "the thread has no comment count"),
])
def test_unexpected_thread_data_is_unrecognised_with_its_reason(change: str, reason: str) -> None:
    result = _adapter().parse(_page(_broken(change), EMBED))
    assert not result.recognised
    assert result.reason.startswith("unexpected Disqus thread data: ") and reason in result.reason


@pytest.mark.parametrize("body", [
    b'<script type="text/json" id="disqus-threadData">{"code": 0, "response": </script>',
    b'<script type="text/json" id="disqus-threadData">' + b"[" * 100000 + b"</script>",
    b'<script type="text/json" id="disqus-threadData">[1, 2]</script>',
    b"\xff\xfe<script type=\"text/json\" id=\"disqus-threadData\">\xff</script>",
])
def test_malformed_thread_data_is_unrecognised_and_never_raises(body: bytes) -> None:
    result = _adapter().parse(_page(body, EMBED))
    assert not result.recognised and result.reason
    assert not _adapter().combine([result]).recognised


def test_api_answers_are_checked_like_the_embed() -> None:
    adapter = _adapter(api_key=API_KEY)
    bad = adapter.parse(_page(b'{"code": 5, "response": "Invalid API key"}', API))
    assert not bad.recognised and "code 5: Invalid API key" in bad.reason
    other = adapter.parse(_page(_fixture("api-page2.json"), API.replace("6467564608", "1")))
    assert not other.recognised and "belongs to thread '6467564608', not 1" in other.reason
    elsewhere = adapter.parse(_page(_fixture("api-page2.json"), "https://disqus.com/api/3.0/users/x"))
    assert not elsewhere.recognised and "listPostsThreaded" in elsewhere.reason


def test_an_article_without_disqus_is_unrecognised() -> None:
    page = _page(b"<html><title>Story</title><div id='comments'></div></html>", ARTICLE)
    result = _adapter().parse(page)
    assert not result.recognised and result.reason == "no Disqus embed found on this page"
    assert DisqusAdapter().score(page) == 0
    assert not _adapter().combine([result]).recognised


def test_an_empty_thread_gives_no_count_to_confirm_a_mass_removal() -> None:
    data = _thread_data("embed-tombstone.html")
    data["response"]["posts"], data["response"]["thread"]["posts"] = [], 0
    adapter = _adapter()
    view = adapter.combine([adapter.parse(_page(_embed(data), EMBED))])
    assert view.recognised and view.comments == [] and view.claimed_count is None


@pytest.mark.parametrize(("options", "problem"), [
    ({"shortname": "x"}, "unknown option(s) shortname"),
    ({"forum": "local news"}, "Disqus shortname"),
    ({"forum": ""}, None),
    ({"api_key": "k e y"}, "letters and digits"),
    ({"base": "ftp://disqus.com/"}, "http(s) URL without query"),
    ({"url": "/relative"}, "http(s) URL"),
    ({"identifier": ["a"]}, "non-empty string"),
])
def test_options_are_validated_in_one_line(options: dict[str, Any], problem: str | None) -> None:
    if problem is None:
        assert DisqusAdapter.validate_options(options) is None
        return
    with pytest.raises(ValueError) as caught:
        DisqusAdapter.validate_options(options)
    assert problem in str(caught.value) and "\n" not in str(caught.value)
    adapter = get_adapter("disqus", options)
    result = adapter.parse(_page(_fixture("embed-tombstone.html"), EMBED))
    assert not result.recognised and problem in result.reason


def test_options_are_cleaned() -> None:
    assert validate({"forum": " localnews ", "identifier": 528, "base": "http://127.0.0.1:9/d"}) == {
        "forum": "localnews", "identifier": "528", "base": "http://127.0.0.1:9/d/"}


def test_the_archive_setting_supplies_the_key_a_watch_leaves_out() -> None:
    class Settings:
        disqus_api_key = "fromSettings"

    keyed = get_adapter("disqus", None, Settings())
    assert isinstance(keyed, DisqusAdapter) and keyed.options == {"api_key": "fromSettings"}
    mine = get_adapter("disqus", {"api_key": "fromWatch"}, Settings())
    assert isinstance(mine, DisqusAdapter) and mine.options == {"api_key": "fromWatch"}
    chosen = choose_adapter(_page(_fixture("embed-page1.html"), EMBED), Settings())
    assert isinstance(chosen, DisqusAdapter) and chosen.options == {"api_key": "fromSettings"}
    assert "disqus" in ADAPTERS


def test_detect_claims_embed_pages_and_disqus_articles_only() -> None:
    assert isinstance(choose_adapter(_page(_fixture("article.html"), ARTICLE)), DisqusAdapter)
    assert DisqusAdapter().score(_page(_fixture("embed-page1.html"), EMBED)) == 95
    count_only = b'<script src="//localnews.disqus.com/count.js" id="dsq-count-scr"></script>'
    assert DisqusAdapter().score(_page(count_only, ARTICLE)) == 0
    assert DisqusAdapter().score(_page(b"\xff" * 10, ARTICLE)) == 0


def test_a_page_result_of_another_adapter_is_never_mistaken_for_a_disqus_page() -> None:
    view = _adapter().combine([PageResult(recognised=True)])
    assert not view.recognised


def test_an_error_answer_is_reported_on_one_short_line() -> None:
    body = json.dumps({"code": "9" * 5000, "response": "bad\nthing " * 500}).encode()
    result = _adapter().parse(_page(body, API))
    assert not result.recognised and "\n" not in result.reason and len(result.reason) < 400
