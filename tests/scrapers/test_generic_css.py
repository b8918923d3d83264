"""generic-css: a site described by CSS selectors (the watch's options)."""
from __future__ import annotations

from datetime import datetime

import pytest

from scrapers import ADAPTERS, choose_adapter
from scrapers.base import Page, fingerprint_key
from scrapers.generic_css import GenericCssAdapter, parse_options
from scrapers.text import html_to_text

NESTED = {"area": "#comments", "item": "li.comment", "body": ".text", "id_attr": "id",
          "id_pattern": r"comment-(\d+)", "author": ".who", "time": "time", "time_attr": "datetime",
          "count": "h2.count", "next": "a.next", "tombstone": ".deleted"}

NESTED_PAGE = """<!doctype html><html><head><title>Cafcass rated outstanding</title></head><body>
<article><h1>Cafcass rated outstanding</h1></article>
<section id="comments"><h2 class="count">5 Responses</h2>
<ol>
 <li class="comment" id="comment-11">
   <a class="who" href="https://example.org/~sam">Sam</a> <time datetime="2025-03-01T10:00:00+01:00">1 March</time>
   <div class="text"><p>First point.</p><p>Second <b>point</b>.<script>steal()</script></p></div>
   <ol class="children">
     <li class="comment" id="comment-12"><span class="who">Jo</span><time datetime="2025-03-01T11:00:00Z">x</time>
       <div class="text"><p>A reply</p></div>
       <ol class="children"><li class="comment" id="comment-14"><div class="text">Reply to a reply, no author</div></li></ol>
     </li>
   </ol>
 </li>
 <li class="comment" id="comment-13"><span class="who">Ann</span><div class="text"><p>This comment was deleted</p></div><span class="deleted"></span></li>
</ol>
<a class="next" href="/cafcass/comment-page-2/#comments">Older comments</a>
</section></body></html>"""  # noqa: E501 (the page reads as served)


def page(body: str, url: str = "https://example.org/cafcass/") -> Page:
    return Page(url=url, final_url=url, status=200,
                headers={"content-type": "text/html; charset=utf-8"}, body=body.encode("utf-8"))


def adapter(options: dict) -> GenericCssAdapter:
    configured = GenericCssAdapter()
    configured.configure(options)
    return configured


def test_nested_comments_with_ids_times_and_next_page() -> None:
    result = adapter(NESTED).parse(page(NESTED_PAGE))
    assert result.recognised, result.reason
    assert result.title == "Cafcass rated outstanding"
    assert result.claimed_count == 5
    assert result.follow == ["https://example.org/cafcass/comment-page-2/"]
    rows = [(c.key, c.parent_key, c.author, c.position, c.tombstone) for c in result.comments]
    assert rows == [("11", None, "Sam", 0, False), ("12", "11", "Jo", 1, False),
                    ("14", "12", "", 2, False), ("13", None, "Ann", 3, True)]
    first = result.comments[0]
    assert first.text == "First point.\n\nSecond point."
    assert "<script>" in first.html, "the HTML is kept as served; display sanitises it"
    assert first.posted_at == datetime(2025, 3, 1, 9, 0)
    assert first.author_url == "https://example.org/~sam"
    assert result.comments[1].author_url is None
    assert result.comments[2].author == "", "a nested reply's author is never borrowed from its parent"


def test_parent_from_an_attribute() -> None:
    flat = """<div id="c"><div class="c" data-id="7" data-parent="0"><p class="b">top</p></div>
    <div class="c" data-id="8" data-parent="7"><p class="b">reply</p></div></div>"""
    options = {"area": "#c", "item": ".c", "body": ".b", "id_attr": "data-id", "parent_attr": "data-parent"}
    result = adapter(options).parse(page(flat))
    assert [(c.key, c.parent_key) for c in result.comments] == [("7", None), ("8", "7")]


def test_without_ids_comments_are_fingerprinted() -> None:
    html = """<ul id="c"><li class="c"><b>Sam</b><p>Hello there</p></li>
    <li class="c"><b>Jo</b><p>Hi</p><ul><li class="c"><b>Sam</b><p>Reply</p></li></ul></li></ul>"""
    options = {"area": "#c", "item": "li.c", "body": "p", "author": "b"}
    result = adapter(options).parse(page(html))
    keys = [c.key for c in result.comments]
    assert keys[0] == fingerprint_key("Sam", None, "Hello there")
    assert all(k.startswith("fp:") for k in keys) and len(set(keys)) == 3
    assert result.comments[2].parent_key == keys[1]
    again = adapter(options).parse(page(html))
    assert [c.key for c in again.comments] == keys, "fingerprints are stable"


def test_an_empty_comment_area_is_recognised_with_no_comments() -> None:
    empty = '<section id="comments"><h2 class="count">No responses</h2></section>'
    result = adapter(NESTED).parse(page(empty))
    assert result.recognised and result.comments == [] and result.claimed_count is None


@pytest.mark.parametrize("html, reason", [
    ("<html><body><p>Maintenance</p></body></html>", "comment area '#comments' not found"),
    ('<section id="comments"><li class="comment"><div class="text">x</div></li></section>',
     "comment 1 has no id in attribute 'id'"),
    ('<section id="comments"><li class="comment" id="comment-1"></li></section>', "comment 1 has no body"),
])
def test_an_unexpected_page_is_not_recognised(html: str, reason: str) -> None:
    result = adapter(NESTED).parse(page(html))
    assert not result.recognised and result.comments == []
    assert reason in result.reason


def test_without_options_or_with_bad_ones_nothing_is_recognised_and_nothing_raises() -> None:
    bare = GenericCssAdapter().parse(page(NESTED_PAGE))
    assert not bare.recognised and "options" in bare.reason
    broken = adapter({"area": "#comments", "item": "li[[", "body": ".text"}).parse(page(NESTED_PAGE))
    assert not broken.recognised and "not a CSS selector" in broken.reason


@pytest.mark.parametrize("options, message", [
    ({"area": "#c", "item": "li"}, "needs the option(s): body"),
    ({"area": "#c", "item": "li", "body": "p", "colour": "red"}, "unknown generic-css option(s): colour"),
    ({"area": "#c", "item": "li:::", "body": "p"}, "item: 'li:::' is not a CSS selector"),
    ({"area": "#c", "item": "li", "body": "p", "id_attr": "data id"}, "not an attribute name"),
    ({"area": "#c", "item": "li", "body": "p", "id_pattern": "comment-("}, "not a regex"),
    ({"area": "#c", "item": "li", "body": "p", "id_pattern": r"comment-\d+"}, "exactly one (group)"),
    ({"area": "#c", "item": "li", "body": 3}, "must be text"),
    (["area"], "must be a JSON object"),
])
def test_option_errors_say_what_is_wrong(options: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_options(options)
    assert message in str(caught.value)


def test_never_chosen_automatically() -> None:
    assert "generic-css" in ADAPTERS
    assert GenericCssAdapter().detect(page(NESTED_PAGE)) == 0
    chosen = choose_adapter(page(NESTED_PAGE))
    assert chosen is None or chosen.name != "generic-css"


def test_pages_combine_in_reading_order() -> None:
    configured = adapter(NESTED)
    one = configured.parse(page(NESTED_PAGE))
    two = configured.parse(page(NESTED_PAGE.replace("comment-1", "comment-2").replace('class="next"', ""),
                                "https://example.org/cafcass/comment-page-2/"))
    view = configured.combine([one, two])
    assert view.recognised and view.coverage == "complete"
    assert [c.key for c in view.comments] == ["11", "12", "14", "13", "21", "22", "24", "23"]
    assert [c.position for c in view.comments] == list(range(8))
    assert view.claimed_count == 5


def test_next_link_to_itself_or_elsewhere_than_http_is_ignored() -> None:
    for href in ("#comments", "javascript:alert(1)", "mailto:x@example.org"):
        html = f'<div id="c"><a class="n" href="{href}">next</a></div>'
        result = adapter({"area": "#c", "item": ".x", "body": "p", "next": "a.n"}).parse(page(html))
        assert result.follow == [], href


def test_plain_text_drops_code_and_keeps_paragraphs() -> None:
    assert html_to_text("<p>a<style>p{}</style></p><p>b<br>c</p><iframe>x</iframe>") == "a\n\nb\nc"
