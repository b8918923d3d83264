"""Hostile nesting: 100,000 nested elements, which a tree builder takes minutes to parse.

A page nested deeper than the archive reads is unrecognised with a one-line reason (so
its capture is suspect and never removes anything); a comment body that deep is read
flat (scrapers/nesting.py `flat_text`), and its page stays recognised."""
from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from archive.web.sanitize import MAX_BODY_CHARS, clean_html, comment_body
from scrapers import get_adapter
from scrapers.base import Adapter, Page
from scrapers.guardian import GuardianAdapter, discussion_url
from scrapers.isso import IssoAdapter
from scrapers.nesting import MAX_DEPTH, MAX_REOPENED, flat_text, nesting_depth, parse_html, refusal
from scrapers.text import fragment_text, html_to_text
from scrapers.viafoura import comments_url, parse_options
from scrapers.wordpress.api import WordPressApiAdapter
from scrapers.wordpress.feed import WordPressFeedAdapter
from scrapers.wordpress.page import WordPressAdapter
from tests.disqus_server import API_KEY
from tests.scrapers.wordpress_pages import load

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
DEPTH = 100_000
DEEP = "<div>" * DEPTH + "deep words" + "</div>" * DEPTH
# 250 formatting elements closed by a block's end, then paragraphs: the builder re-opens all
# 250 in each paragraph (10 million elements from 160 KB).
BOMB = "<div>" + "".join(f"<b id={i}>" for i in range(250)) + "</div>" + "<p>x" * 40_000
REOPENS = f"re-opens unclosed formatting elements more than {MAX_REOPENED:,} times: more than the archive reads"
REASON = re.compile(rf"nested (over )?[\d,]+ levels deep: more than the {MAX_DEPTH} the archive reads")
VIAFOURA_SITE = "00000000-0000-4000-8000-8e2c1f4a7b19"
VIAFOURA_CONTAINER = "0192f3a1-6c2e-7b40-9d3e-5a1f0c2b7e44"
DISQUS_API = ("https://disqus.com/api/3.0/threads/listPostsThreaded?limit=100&thread=6467564608"
              f"&forum=localnews&order=popular&cursor=1%3A0%3A0&api_key={API_KEY}")
DISQUS_EMBED = ("https://disqus.com/embed/comments/?base=default&f=localnews&t_i=cafcass-2026-12"
                "&t_u=https%3A%2F%2Fnews.example%2F2026%2F12%2Fcafcass-inspection%2F&s_o=default")


def _deepen(body: bytes, marker: bytes) -> bytes:
    """`body` with DEEP inserted right after the first `marker`."""
    assert marker in body
    return body.replace(marker, marker + DEEP.encode(), 1)


def _page(url: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> Page:
    return Page(url=url, final_url=url, status=200, headers={"content-type": content_type}, body=body)


def _viafoura() -> Adapter:
    return get_adapter("viafoura", {"site": VIAFOURA_SITE})


def _disqus() -> Adapter:
    return get_adapter("disqus", {"api_key": API_KEY})


def _generic() -> Adapter:
    return get_adapter("generic-css", {"area": "#comments", "item": "li.comment", "body": ".text"})


def _pages() -> list[tuple[str, Adapter, Page]]:
    wordpress = load("t21-thread")
    html = "text/html; charset=utf-8"
    return [
        ("wordpress", WordPressAdapter(), wordpress),
        ("wordpress-api", WordPressApiAdapter(), wordpress),
        ("wordpress-feed", WordPressFeedAdapter(), wordpress),
        ("generic-css", _generic(), _page("https://example.org/a", (
            b"<html><body><section id='comments'><ol><li class='comment'><div class='text'>hi"
            b"</div></li></ol></section></body></html>"), html)),
        ("viafoura", _viafoura(), _page("https://www.independent.co.uk/news/a-26844213.html",
                                        (FIXTURES / "viafoura" / "article.html").read_bytes())),
        ("disqus", _disqus(), _page(DISQUS_EMBED,
                                          (FIXTURES / "disqus" / "embed-page1.html").read_bytes())),
    ]


@pytest.mark.parametrize("name, adapter, page", _pages(), ids=[p[0] for p in _pages()])
def test_a_page_nested_too_deep_is_unrecognised_with_the_reason(name: str, adapter: Adapter,
                                                                 page: Page) -> None:
    assert adapter.parse(page).recognised, "the page as saved is read"
    deep = replace(page, body=page.body.replace(b"</body>", DEEP.encode() + b"</body>", 1))
    assert len(deep.body) > len(page.body)
    result = adapter.parse(deep)
    assert not result.recognised and result.comments == []
    assert REASON.fullmatch(result.reason), result.reason
    assert not adapter.combine([result]).recognised, "a suspect capture: never a removal"
    assert adapter.score(deep) == 0


def test_a_page_re_opening_formatting_without_end_is_unrecognised_with_the_reason() -> None:
    page = load("t21-thread")
    bomb = replace(page, body=page.body.replace(b"</body>", BOMB.encode() + b"</body>", 1))
    result = WordPressAdapter().parse(bomb)
    assert not result.recognised and result.reason == REOPENS
    assert refusal("<p><b>bold left open</p>" + "<p>then paragraphs</p>\n" * 50_000) is None, \
        "one element left open re-opens once a paragraph: an ordinary sloppy page"
    text = fragment_text(BOMB)
    assert text.splitlines() == ["x"] * 40_000


def _bodies() -> list[tuple[str, Adapter, Page]]:
    viafoura_listing = comments_url(parse_options({"site": VIAFOURA_SITE}), VIAFOURA_CONTAINER)
    wp_api, wp_feed = load("api-thread-all"), load("feed-thread")
    return [
        ("wordpress-api", WordPressApiAdapter(), replace(wp_api, body=_deepen(wp_api.body, b'"rendered":"<p>'))),
        ("wordpress-feed", WordPressFeedAdapter(), replace(wp_feed, body=_deepen(
            wp_feed.body, b"<content:encoded><![CDATA[<p>"))),
        ("isso", IssoAdapter(), _page("http://127.0.0.1:8080/?uri=/post-1/", _deepen(
            (FIXTURES / "isso" / "thread.json").read_bytes(), b'"text": "'), "application/json")),
        ("viafoura", _viafoura(), _page(viafoura_listing, _deepen(
            (FIXTURES / "viafoura" / "comments_page1.json").read_bytes(), b'"content": "'),
            "application/json")),
        ("disqus", _disqus(), _page(DISQUS_API,
                                          _deepen((FIXTURES / "disqus" / "api-page2.json").read_bytes(),
                                                  b'"message": "'), "application/json")),
        ("guardian", GuardianAdapter(), _page(discussion_url("x4b7q"), _deepen(
            (FIXTURES / "guardian" / "discussion_page1.json").read_bytes(), b'"body": "'),
            "application/json")),
    ]


@pytest.mark.parametrize("name, adapter, page", _bodies(), ids=[p[0] for p in _bodies()])
def test_a_comment_body_nested_too_deep_is_read_flat(name: str, adapter: Adapter, page: Page) -> None:
    result = adapter.parse(page)
    assert result.recognised, result.reason
    deep = [r for r in result.comments if "deep words" in r.text]
    assert len(deep) == 1, [r.text for r in result.comments]
    assert "<div" not in deep[0].text and deep[0].text.startswith("deep words")
    assert len(deep[0].html) > DEPTH, "the body's HTML is kept as served"


def test_the_reason_says_how_deep_up_to_a_hundred_times_the_cap() -> None:
    assert refusal("<div>" * 600) == "nested 600 levels deep: more than the 512 the archive reads"
    assert refusal("<div>" * 512) is None
    assert refusal(DEEP) == "nested over 51,200 levels deep: more than the 512 the archive reads"


def test_fragment_text_and_html_to_text_read_a_deep_body_flat() -> None:
    body = "<p>before</p>" + DEEP + "<script>x()</script><br>after &amp; all"
    assert fragment_text(body) == "before\ndeep words\nafter & all"
    assert html_to_text(body) == "before\ndeep words\nafter & all"


def test_flat_text_keeps_the_words_and_one_line_per_block() -> None:
    body = ("<p>a <b>b</b><br>c</p><noscript>n</noscript><template>t</template><style>s</style>"
            "<!-- <p>gone</p> --><ul><li>x</li><li>y &lt;z&gt;</li></ul><textarea>raw")
    assert [line for line in flat_text(body).splitlines() if line.strip()] == [
        "a b", "c", "x", "y <z>"]


def test_the_sanitiser_shows_a_deep_body_as_its_words() -> None:
    body = "<p>opening words</p>" + DEEP
    shown = clean_html(body)
    assert "opening words" in shown and "<div" not in shown
    assert "cut for display" in shown, "the body is longer than the display cut"
    assert comment_body(body, "stored text").startswith("<p>opening words</p>")
    short = "<em>words</em>" + "<div>" * (MAX_DEPTH + 10) + "x"
    assert clean_html(short) == "<p>words</p><p>x</p>"
    assert str(clean_html(BOMB)).startswith("<p>x</p><p>x</p>"), "no <b> re-opened 250 times"
    assert len(body) > MAX_BODY_CHARS


def test_ordinary_bodies_go_through_the_tree_rules() -> None:
    body = "<p>a</p>" + "<blockquote>" * 40 + "quoted" + "</blockquote>" * 40
    assert nesting_depth(body) <= MAX_DEPTH
    assert fragment_text(body) == "a\nquoted"
    assert str(clean_html(body)).count("<blockquote>") == 40


def _tree_depth(html: str) -> int:
    """How deep lexbor nests `html`, counting <html> as 1."""
    root = LexborHTMLParser(html).root
    assert root is not None
    deepest, pending = 0, [(root, 1)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        child = item.child
        while child is not None:
            pending.append((child, depth + 1))
            child = child.next
    return deepest


# Markup a tree builder nests deeper than its tags say: elements it implies or re-opens,
# end tags it ignores, self-closing tags it does not honour.
HOSTILE: dict[str, Callable[[int], str]] = {
    "div": lambda i: "<div>", "self-closing": lambda i: "<div/>", "lists": lambda i: "<ul><li>",
    "misnested": lambda i: "<span><div></span>", "formatting": lambda i: "<b><div></b>",
    "re-opened": lambda i: f"<div><b id={i}></div>x", "table": lambda i: "<table><td>",
    "svg-breakout": lambda i: "<svg><style>" if i == 0 else "<div>",
    "svg-html": lambda i: "<svg><foreignObject>" if i == 0 else "<span/>",
    "math-html": lambda i: "<math><mi>" if i == 0 else "<b/>", "after-body": lambda i: "</body><div>",
    "comment": lambda i: "<!--><div>", "raw-text": lambda i: "<textarea></textarea ><div>",
    "form": lambda i: "<form><div></form>", "definitions": lambda i: "<dl><dd>",
}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=list(HOSTILE))
def test_the_scan_never_counts_shallower_than_the_tree(make: Callable[[int], str]) -> None:
    html = "".join(make(i) for i in range(600)) + "x"
    real = _tree_depth(html) - 3   # less <html>, <body> and the text "x"
    assert real > MAX_DEPTH / 2
    assert nesting_depth(html) >= real


@pytest.mark.parametrize("html", [
    "<p>one<p>two<p>three", "<ul><li>a<li>b</ul>", "<select><option>a<option>b</select>",
    "<table><tr><td>a<td>b<tr><td>c</table>", "<svg><path/><path/></svg>", "<a href=1>x<a href=2>y",
])
def test_implied_ends_are_not_counted_as_nesting(html: str) -> None:
    repeated = html * 1000
    assert nesting_depth(repeated) <= _tree_depth(repeated) + 4
    parse_html(repeated)


def test_saved_pages_are_read_at_nearly_their_depth() -> None:
    for path in sorted(FIXTURES.rglob("*.html")):
        text = path.read_text(encoding="utf-8", errors="replace")
        real = _tree_depth(text)
        assert real - 2 <= nesting_depth(text) <= real + 5, path.name


def test_only_the_nesting_module_builds_trees() -> None:
    """Every adapter parses through `parse_html` (or the text rules), so none escapes the cap."""
    for path in sorted((ROOT / "scrapers").rglob("*.py")):
        if path.name == "nesting.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "LexborHTMLParser":
                assert path.name == "text.py", f"{path.name} parses without the nesting cap"
    text_rules = (ROOT / "scrapers" / "text.py").read_text()
    assert text_rules.count("LexborHTMLParser(") == text_rules.count("too_deep(")

