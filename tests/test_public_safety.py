"""Hostile comment bodies, authors and links come out inert on every public page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from selectolax.lexbor import LexborHTMLParser

from archive.capture.ledger import MAX_TEXT_CHARS
from archive.context import archive_context
from archive.search import reindex
from archive.store.db import get_db
from tests.html_support import find_first, markup
from tests.public_helpers import T0, capture, comment_id, new_thread, rec

HOSTILE = [
    ("<script>alert('x')</script>shadowbanned", "shadowbanned"),
    ('<img src=x onerror="alert(1)">shadowbanned', "shadowbanned"),
    ('<a href="javascript:alert(1)">shadowbanned</a>', "shadowbanned"),
    ('<iframe src="https://evil.example/"></iframe>shadowbanned', "shadowbanned"),
    ("<p>unclosed <em>shadowbanned <div><table><tr><td>", "unclosed shadowbanned"),
    ("</textarea></title><script>alert(1)</script>shadowbanned", "shadowbanned"),
    ('<svg onload=alert(1)><a xlink:href="javascript:alert(1)">shadowbanned</a></svg>', "shadowbanned"),
    ('<p style="position:fixed;inset:0">shadowbanned</p><style>*{display:none}</style>', "shadowbanned"),
    ('<form action="https://evil.example/"><input name=p>shadowbanned</form>', "shadowbanned"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example/">shadowbanned', "shadowbanned"),
]


@pytest.fixture
def hostile(app):
    records = [rec(str(i), f'<b onmouseover="alert({i})">author{i}</b>', text, html=html, position=i)
               for i, (html, text) in enumerate(HOSTILE)]
    huge_text = "shadowbanned " + "x" * (MAX_TEXT_CHARS * 2)
    records.append(rec("huge", "Huge", huge_text, html="<p>" + huge_text + "</p>", position=99))
    edited = rec("0", "author0", "shadowbanned <script>alert(2)</script> again",
                 html="<script>alert(2)</script><p>shadowbanned again</p>", position=0)
    with get_db(app).write() as session:
        thread = new_thread(session, "https://news.example/hostile/", '<script>alert("title")</script>')
        capture(session, thread, T0, records)
        capture(session, thread, T0 + timedelta(hours=1), [edited] + records[1:-1])
        capture(session, thread, T0 + timedelta(hours=2), [edited] + records[1:-1])
        thread_id = thread.id
    reindex(archive_context(app))
    return {"thread": thread_id, "edited": comment_id(app, thread_id, "0"),
            "huge": comment_id(app, thread_id, "huge")}


def _assert_inert(html: str) -> None:
    doc = LexborHTMLParser(html)
    # The search page has its own form (class "search"); no other form may appear.
    assert doc.css("script, iframe, object, embed, svg, math, form:not(.search), textarea, style, "
                   "meta[http-equiv]") == []
    for node in doc.css("body *"):     # the head is the template's own (e.g. its data: icon)
        for name, value in node.attributes.items():
            assert not name.startswith("on"), (node.tag, name)
            assert name != "style", node.tag
            if name in ("href", "src", "action", "xlink:href"):
                assert not (value or "").strip().lower().startswith(("javascript:", "data:")), value


def test_thread_page_is_inert(client, hostile) -> None:
    response = client.get(f"/threads/{hostile['thread']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    _assert_inert(html)
    assert html.count("shadowbanned") >= len(HOSTILE)      # the text itself is kept
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html     # the title, escaped


def test_comment_page_and_its_diff_are_inert(client, hostile) -> None:
    response = client.get(f"/comments/{hostile['edited']}")
    html = response.get_data(as_text=True)
    _assert_inert(html)
    diff = find_first(LexborHTMLParser(html), ".diff")
    assert "&lt;script&gt;" in markup(diff)        # the hostile text is shown as text


def test_home_and_search_are_inert(client, hostile) -> None:
    for url in ("/", "/search?q=shadowbanned", "/search?q=alert"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_inert(response.get_data(as_text=True))


def test_huge_body_is_cut_for_display(client, hostile) -> None:
    response = client.get(f"/threads/{hostile['thread']}")
    assert len(response.data) < 600_000
    assert b"cut for display" in response.data


def test_commenter_links_are_http_only(app, client) -> None:
    from scrapers.base import CommentRecord
    records = [CommentRecord(key="1", author="Evil", text="hi", author_url="javascript:alert(1)", posted_at=T0),
               CommentRecord(key="2", author="Fine", text="hi", author_url="https://fine.example/", posted_at=T0,
                             position=1)]
    with get_db(app).write() as session:
        thread = new_thread(session, "https://news.example/links/", "Links")
        capture(session, thread, T0, records)
        thread_id = thread.id
    doc = LexborHTMLParser(client.get(f"/threads/{thread_id}").get_data(as_text=True))
    authors = {a.text(): a.attributes.get("href") for a in doc.css(".author a")}
    assert authors == {"Fine": "https://fine.example/"}
