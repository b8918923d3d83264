"""Which element belongs to which comment, and comment text read off the page's own nodes.

Small synthetic pages, one rule each; the saved real pages are in test_wordpress.py.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from selectolax.lexbor import LexborHTMLParser

from scrapers.base import CommentRecord, Page
from scrapers.text import children_text, fragment_text
from scrapers.wordpress.page import WordPressAdapter

URL = "http://wordpress.test/cafcass/"


def _comments(items: str, head: str = "") -> dict[str, CommentRecord]:
    html = (f"<!doctype html><html><head>{head}</head><body class='postid-4'><div id='comments'>"
            f"<ol class='comment-list'>{items}</ol></div></body></html>")
    result = WordPressAdapter().parse(Page(URL, URL, 200, {"content-type": "text/html"},
                                           html.encode()))
    assert result.recognised, result.reason
    return {c.key: c for c in result.comments}


def _comment(key: str, inner: str, children: str = "") -> str:
    return (f"<li id='comment-{key}'><article id='div-comment-{key}' class='comment-body'>"
            f"{inner}</article>{children}</li>")


def test_a_comment_without_an_author_does_not_take_its_replys() -> None:
    reply = _comment("6", "<b class='fn'>Nell</b><div class='comment-content'>no</div>")
    comments = _comments(_comment("5", "<div class='comment-content'>yes</div>",
                                  f"<ol class='children'>{reply}</ol>"))
    assert (comments["5"].author, comments["5"].text) == ("", "yes")
    assert (comments["6"].author, comments["6"].parent_key) == ("Nell", "5")


def test_what_a_commenter_wrote_is_never_furniture() -> None:
    forged = ("<div class='comment-content'><p>hi</p><b class='fn'>Admin</b>"
              "<time datetime='2001-01-01T00:00:00Z'>x</time>"
              "<a href='/cafcass/#comment-5'>January 1, 2001 at 1:00 am</a>"
              "<div id='div-comment-6'><b class='fn'>Forged</b></div></div>")
    comments = _comments(_comment("5", "<cite>Cha</cite>" + forged))
    assert list(comments) == ["5"]
    assert comments["5"].author == "Cha"
    assert comments["5"].posted_at is None
    assert comments["5"].text == "hi\nAdminxJanuary 1, 2001 at 1:00 amForged"


def test_an_element_with_the_same_id_outside_the_comment_is_not_part_of_it() -> None:
    comments = _comments(_comment("5", "<b class='fn'>WL</b><div class='comment-content'>a</div>")
                         + "<li><div id='div-comment-5'><b class='fn'>Impostor</b>"
                           "<div class='comment-content'>b</div></div></li>")
    assert list(comments) == ["5"]
    assert (comments["5"].author, comments["5"].text) == ("WL", "a")


def test_a_printed_date_is_the_permalink_of_its_own_comment() -> None:
    item = ("<div class='comment-meta'><a href='/cafcass/#comment-4'>May 1, 2018 at 9:00 am</a>"
            "<a href='/cafcass/#comment-5'>March 29, 2018 at 3:21 pm</a></div>"
            "<div class='comment-content'>a</div>")
    comments = _comments(_comment("5", item),
                         head="<meta property='article:published_time' "
                              "content='2018-03-01T10:00:00+01:00'>")
    assert comments["5"].posted_at == datetime(2018, 3, 29, 14, 21)


@pytest.mark.parametrize("body", [
    "<p>one paragraph</p>",
    "<p>a <b>b</b><br>c</p>\n<p> d  e </p>",
    "<blockquote><p>quoted</p></blockquote>reply<ul><li>x</li><li>y</li></ul>",
    "<p>a <!-- note --> b</p>",
    "text <a href='javascript:alert(1)'>link</a> &amp; &lt;p&gt; &nbsp;more",
    "<script>alert('moderated')</script>after",
    "<noscript><p>hidden</p></noscript>shown",
    "<title>t</title>x",
    "<pre>\n\ncode</pre>",
    "<table><tr><td>cell</td></tr></table>tail",
    "<h1>big <b>bold<h2>inner</b> rest</h2></h1>",
    "<svg><tr>a</tr></svg>b",
    "<p>" + "<span>" * 3000 + "deep" + "</span>" * 3000 + "</p>",
])
def test_text_read_off_the_page_is_the_text_of_its_html(body: str) -> None:
    comments = _comments(_comment("5", f"<div class='comment-content'>{body}</div>"))
    assert comments["5"].text == fragment_text(comments["5"].html)


@pytest.mark.parametrize("body, read_off", [
    ("<p>a <b>b</b><br>c</p><p>d</p>", True),
    ("<p>a</p>\n<!-- c --><ul><li>x</li></ul>", True),
    ("<script>x()</script>y", False),   # the HTML of a script is not what it shows
    ("<pre>\n\ncode</pre>", False),     # <pre> drops a leading newline when parsed again
    ("<table><tr><td>c</td></tr></table>", False),
])
def test_which_bodies_are_read_off_the_nodes(body: str, read_off: bool) -> None:
    node = LexborHTMLParser(f"<div class='comment-content'>{body}</div>").css_first("div")
    assert node is not None
    text = children_text(node)
    assert (text is not None) is read_off
    if read_off:
        assert text == fragment_text(node.inner_html or "")
