"""A right-to-left override in user text never reorders the archive's own words.

U+202E (RIGHT-TO-LEFT OVERRIDE) in a commenter's name turns everything after
it in the same paragraph backwards: "2024-10-02 10:00 UTC" reads
"CTU 00:01 20-10-4202". Every user string that shares a line with the
archive's text must sit in its own bidi isolate: a <bdi>, an element with a
`dir` attribute, or (where markup cannot go) U+2068 ... U+2069.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from archive.capture.watches import add_watch
from archive.context import archive_context
from archive.search import reindex
from archive.store.db import get_db
from archive.store.models import Comment, Feed, FeedEntry
from tests.operator_support import logged_in
from tests.public_helpers import T0, capture, comment_id, new_thread, rec

RLO = "\u202e"
# Elements that end a bidi paragraph: an override inside one cannot leak out of it.
BLOCKS = {"p", "div", "li", "td", "th", "dd", "dt", "h1", "h2", "h3", "title", "option", "summary",
          "section", "article", "main", "body", "ul", "ol", "table", "tr", "pre", "blockquote", "form",
          "label", "textarea", "details", "nav", "header", "footer", "html"}


def _inside_marks(text: str) -> bool:
    """Every override in `text` lies between U+2068 and U+2069."""
    depth = 0
    for char in text:
        if char == "\u2068":
            depth += 1
        elif char == "\u2069":
            depth = max(0, depth - 1)
        elif char == RLO and depth == 0:
            return False
    return True


def _scope(node: LexborNode) -> LexborNode | None:
    """The nearest element that isolates its content: <bdi>, any element with `dir`, or a block."""
    parent = node.parent
    while parent is not None and not (parent.tag == "bdi" or "dir" in parent.attributes
                                      or parent.tag in BLOCKS):
        parent = parent.parent
    return parent


def leaks(html: str) -> list[str]:
    """Text that an override (each test string ends with one) would turn backwards:
    anything after an RLO in the same isolate."""
    found = []
    for node in LexborHTMLParser(html).root.traverse(include_text=True):  # type: ignore[union-attr]
        text = node.text_content or ""
        if node.tag != "-text" or RLO not in text or _inside_marks(text):
            continue
        scope = _scope(node)
        scope_text = scope.text(deep=True) if scope is not None else text
        for after in scope_text.split(RLO)[1:]:
            if after.strip():
                found.append(f"<{scope.tag if scope else '?'}> {scope_text.strip()[:80]!r}")
    return found


def test_the_checker_catches_the_reported_line():
    assert leaks(f'<p class="meta"><strong>Mallory{RLO}</strong> <span>2024-10-02 10:00 UTC</span></p>')
    assert leaks(f"<p>From date “{RLO}” is not a date</p>")
    assert not leaks(f'<p class="meta"><strong dir="auto">Mallory{RLO}</strong> <span>2024-10-02</span></p>')
    assert not leaks(f"<p>by <bdi>Mallory{RLO}</bdi> at 10:00</p>")
    assert not leaks(f"<table><tr><td>Mallory{RLO}</td><td>3</td></tr></table>")
    assert not leaks(f"<p>date “\u2068x{RLO}\u2069” is not a date</p>")


@pytest.fixture
def hostile(app):
    """Every user-supplied string ends with an override, as in the report."""
    records = [rec("1", f"Mallory{RLO}", f"A comment about cafcass{RLO}", position=1),
               rec("2", f"Replyer{RLO}", f"cafcass again{RLO}", parent="1", position=2),
               rec("3", "Trent", "cafcass soon gone", position=3)]
    with get_db(app).write() as session:
        thread = new_thread(session, "https://news.example/rlo/", f"Title{RLO}")
        thread.site.name = f"Site{RLO}"
        capture(session, thread, T0, records)
        capture(session, thread, T0 + timedelta(hours=1), records[:2], outcome="failed",
                reason=f"HTTP 503 from the site{RLO}")
        capture(session, thread, T0 + timedelta(hours=2), records[:2])
        capture(session, thread, T0 + timedelta(hours=3), records[:2])
        session.add(Comment(thread_id=thread.id, key="4", author=f"Tomb{RLO}", status="removed",
                            tombstone_text=f"Deleted by moderator{RLO}", first_seen_at=T0, last_seen_at=T0,
                            redacted=True, redaction_reason=f"privacy{RLO}"))
        watch = add_watch(session, thread.url, allow_private=True)
        watch.last_outcome, watch.last_reason, watch.consecutive_failures = "failed", f"HTTP 503{RLO}", 1
        feed = Feed(url="https://news.example/feed", title=f"Feed{RLO}", last_error=f"bad xml{RLO}",
                    consecutive_failures=1, last_outcome="failed")
        session.add(feed)
        session.flush()
        session.add(FeedEntry(feed_id=feed.id, url="https://news.example/a/", title=f"Entry{RLO}"))
        ids = {"thread": thread.id, "feed": feed.id}
    ids["mallory"] = comment_id(app, ids["thread"], "1")
    ids["tomb"] = comment_id(app, ids["thread"], "4")
    reindex(archive_context(app))
    return ids


def test_public_pages_isolate_user_text(app, client, hostile):
    pages = ["/", f"/threads/{hostile['thread']}", f"/threads/{hostile['thread']}?show=disappeared",
             f"/comments/{hostile['mallory']}", f"/comments/{hostile['tomb']}",
             f"/threads/{hostile['thread']}/captures", "/captures/2", "/captures/4",
             "/search?q=cafcass", f"/search?q=cafcass&thread={hostile['thread']}",
             f"/search?q=cafcass{RLO}", f"/search?from=2018{RLO}&status=x{RLO}&sort=y{RLO}",
             "/stats?by=author", "/stats?by=site",
             "/find?text=A+comment+about+cafcass", f"/find?text=cafcass+again+please&url=x{RLO}"]
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 400), path
        assert leaks(response.get_data(as_text=True)) == [], path


def test_operator_pages_isolate_user_text(app, hostile):
    client = logged_in(app)
    pages = ["/ops/watches", "/ops/health", "/ops/feeds", f"/ops/feeds/{hostile['feed']}",
             f"/ops/threads/{hostile['thread']}", f"/ops/comments/{hostile['mallory']}",
             f"/ops/comments/{hostile['tomb']}"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert leaks(response.get_data(as_text=True)) == [], path


def test_page_titles_isolate_user_text(client, hostile):
    html = client.get(f"/comments/{hostile['mallory']}").get_data(as_text=True)
    assert f"<title>Comment by \u2068Mallory{RLO}\u2069 · Comment archive</title>" in html
