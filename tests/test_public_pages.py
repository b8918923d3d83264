"""Home, thread and comment pages, on a thread the real verdict engine moderated."""
from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from selectolax.lexbor import LexborHTMLParser, LexborNode

from tests.html_support import attr, body_of, find_first
from tests.public_helpers import build_moderated_thread


@pytest.fixture
def ids(app):
    return build_moderated_thread(app)


def _page(client: FlaskClient, url: str, status: int = 200) -> LexborHTMLParser:
    response = client.get(url)
    assert response.status_code == status, response.data[:500]
    return LexborHTMLParser(response.get_data(as_text=True))


def _text(node: LexborNode) -> str:
    return " ".join(node.text(separator=" ").split())


def _comment(doc: LexborHTMLParser, comment_id: int) -> LexborNode:
    node = doc.css_first(f"li#c{comment_id}")
    assert node is not None, f"comment {comment_id} not on the page"
    return node


def test_home_lists_threads_counts_and_recent_removals(client, ids) -> None:
    doc = _page(client, "/")
    headline = _text(find_first(doc, "ul.headline"))
    assert "1 thread watched" in headline
    assert "9 comments seen" in headline
    assert "3 removed" in headline          # Sarah, Nell, Ann (tombstone)
    assert "1 missing" in headline          # Cha
    assert "1 reinstated" in headline       # Dave
    assert "1 edited" in headline           # WL
    assert "6 captures (4 good, 2 failed or suspect)" in headline
    row = _text(find_first(doc, "table.threads tbody tr"))
    assert "Cafcass rated outstanding" in row and "news.example" in row
    recent = [_text(li) for li in doc.css("ol.recent > li")]
    assert recent, "recent removals are listed"
    nell = next(r for r in recent if "Nell" in r and r.startswith("Removed"))
    assert "between 2018-04-01 13:00 UTC and 2018-04-01 16:00 UTC" in nell
    assert any(r.startswith("Missing") and "Cha" in r for r in recent)
    assert any(r.startswith("Removed (tombstone)") and "Ann" in r for r in recent)


def test_thread_shows_disappeared_comments_in_place(client, ids) -> None:
    doc = _page(client, f"/threads/{ids['thread']}")
    order = [int(attr(li, "id")[1:]) for li in doc.css("ol.comment-tree > li")]
    # Reading order: Mike's reply right after Paul, removed ones where they were.
    assert order == [ids[n] for n in ("wl", "cha", "sarah", "paul", "mike", "nell", "dave", "jo", "ann")]
    sarah = _comment(doc, ids["sarah"])
    assert "removed" in attr(sarah, "class").split()
    assert "Removed between 2018-04-01 12:00 UTC and 2018-04-01 13:00 UTC" in _text(sarah)
    assert "twenty minutes" in _text(sarah)         # the removed text is kept and shown
    cha = _comment(doc, ids["cha"])
    assert "Missing, awaiting confirmation" in _text(cha)
    assert "Removed" not in _text(find_first(cha, ".badges"))
    dave = _comment(doc, ids["dave"])
    assert "Reinstated" in _text(dave) and "Visible" in _text(dave)
    wl = _comment(doc, ids["wl"])
    assert "Edited (2 versions)" in _text(wl) and "rarely see" in _text(wl)
    ann = _comment(doc, ids["ann"])
    assert "Removed (tombstone)" in _text(ann) and "placeholder" in _text(ann)
    mike = _comment(doc, ids["mike"])
    assert "depth-1" in attr(mike, "class").split()


def test_thread_never_claims_an_exact_removal_time(client, ids) -> None:
    text = _text(body_of(_page(client, f"/threads/{ids['thread']}")))
    assert not re.search(r"removed (at|on) \d", text, re.I)


def test_only_what_disappeared_toggle(client, ids) -> None:
    doc = _page(client, f"/threads/{ids['thread']}?show=disappeared")
    shown = {int(attr(li, "id")[1:]) for li in doc.css("ol.comment-tree > li")}
    assert shown == {ids[n] for n in ("cha", "sarah", "nell", "dave", "ann")}
    link = find_first(doc, "p.toggle a")
    assert attr(link, "href") == f"/threads/{ids['thread']}"
    back = find_first(_page(client, f"/threads/{ids['thread']}"), "p.toggle a")
    assert attr(back, "href") == f"/threads/{ids['thread']}?show=disappeared"


def test_thread_timeline_lists_every_capture_with_reasons(client, ids) -> None:
    doc = _page(client, f"/threads/{ids['thread']}")
    items = [_text(li) for li in doc.css("ol.timeline > li")]
    assert len(items) == 6
    assert items[0].startswith("2018-04-01 17:00 UTC Good")          # newest first
    assert any("Failed" in i and "HTTP 503" in i for i in items)
    assert any("Suspect" in i and "the page says 7 comments but shows 2" in i for i in items)
    hrefs = [attr(a, "href") for a in doc.css("ol.timeline a")]
    assert f"/captures/{ids['first']}" in hrefs


def test_redacted_comment_never_shows_its_text(client, ids) -> None:
    for url in (f"/threads/{ids['thread']}", f"/comments/{ids['jo']}", "/"):
        body = client.get(url).get_data(as_text=True)
        assert "Private details" not in body, url
    jo = _comment(_page(client, f"/threads/{ids['thread']}"), ids["jo"])
    assert "Redacted by the archive's operators: personal data of a child" in _text(jo)
    page = _text(body_of(_page(client, f"/comments/{ids['jo']}")))
    assert "Redacted by the archive's operators: personal data of a child" in page


def test_comment_page_shows_versions_diff_and_events(client, ids) -> None:
    doc = _page(client, f"/comments/{ids['wl']}")
    versions = doc.css("ol.versions > li")
    assert len(versions) == 2
    diff = find_first(versions[1], ".diff")
    assert find_first(diff, "del").text() == "never"
    assert find_first(diff, "ins").text() == "rarely"
    assert "1 word added, 1 removed" in _text(versions[1])
    events = [_text(tr) for tr in doc.css("table.events tbody tr")]
    assert events[0].startswith("appeared") and events[1].startswith("edited")
    assert f"capture {ids['second']}" in events[1]


def test_comment_page_of_a_removed_comment_has_window_and_evidence(client, ids) -> None:
    doc = _page(client, f"/comments/{ids['sarah']}")
    text = _text(body_of(doc))
    assert "Removed between 2018-04-01 12:00 UTC and 2018-04-01 13:00 UTC" in text
    rows = {_text(tr).split(" ")[0]: tr for tr in doc.css("table.events tbody tr")}
    assert set(rows) == {"appeared", "missing", "removed"}
    assert "between 2018-04-01 12:00 UTC and 2018-04-01 13:00 UTC" in _text(rows["removed"])
    link = attr(find_first(rows["removed"], "a"), "href")
    assert link == f"/captures/{ids['confirming']}"
    assert _page(client, link).css_first("h1") is not None


def test_reinstated_comment_history(client, ids) -> None:
    doc = _page(client, f"/comments/{ids['dave']}")
    kinds = [_text(tr).split(" ")[0] for tr in doc.css("table.events tbody tr")]
    assert kinds == ["appeared", "missing", "removed", "reinstated"]
    assert "Reinstated: it disappeared and came back (1 time)" in _text(body_of(doc))


def test_reply_links_to_its_parent(client, ids) -> None:
    doc = _page(client, f"/comments/{ids['mike']}")
    hrefs = [attr(a, "href") for a in doc.css("p.meta a")]
    assert f"/comments/{ids['paul']}" in hrefs


@pytest.mark.parametrize("url", ["/threads/999", "/comments/999", "/captures/999", "/threads/999/captures"])
def test_unknown_ids_are_friendly_404s(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert b"The archive has no" in response.data


def test_pages_carry_no_inline_script_or_style(client, ids) -> None:
    for url in ("/", f"/threads/{ids['thread']}", f"/comments/{ids['wl']}", f"/captures/{ids['second']}",
                f"/threads/{ids['thread']}/captures"):
        doc = _page(client, url)
        assert doc.css("script") == [], url
        assert doc.css("[style]") == [], url
        assert doc.css("style") == [], url
        assert doc.css_first('meta[name="viewport"]') is not None


def test_big_threads_are_paged_in_reading_order(client, ids, monkeypatch) -> None:
    from archive.web.public import pages as public
    monkeypatch.setattr(public, "COMMENTS_PER_PAGE", 3)
    seen = []
    page, pages = 1, None
    while True:
        doc = _page(client, f"/threads/{ids['thread']}?page={page}")
        seen += [int(attr(li, "id")[1:]) for li in doc.css("ol.comment-tree > li")]
        pager = _text(find_first(doc, "nav.pager"))
        match = re.search(r"page \d+ of (\d+)", pager)
        assert match, pager
        pages = int(match.group(1))
        if page == pages:
            assert "Next" not in pager
            break
        assert attr(find_first(doc, 'nav.pager a[rel="next"]'), "href").endswith(f"page={page + 1}")
        page += 1
    assert pages == 3
    assert seen == [ids[n] for n in ("wl", "cha", "sarah", "paul", "mike", "nell", "dave", "jo", "ann")]
    # Paul and his reply stay on one page; a page past the end shows the last one.
    last = _page(client, f"/threads/{ids['thread']}?page=99")
    assert "page 3 of 3" in _text(find_first(last, "nav.pager"))


def test_a_thread_gone_as_a_whole_is_an_article_event(app, client) -> None:
    from datetime import timedelta

    from archive.store.db import get_db
    from tests.public_helpers import T0, capture, new_thread, rec
    with get_db(app).write() as session:
        thread = new_thread(session, "https://news.example/pulled/", "A pulled article")
        capture(session, thread, T0, [rec("1", "Ann", "First!")])
        for hour in (1, 2):
            capture(session, thread, T0 + timedelta(hours=hour), [], outcome="gone",
                    reason="the article answered HTTP 410")
        thread_id = thread.id
    doc = _page(client, f"/threads/{thread_id}")
    text = _text(body_of(doc))
    assert "The article itself is gone" in text
    assert "The article was confirmed gone at 2018-04-01 14:00 UTC" in text
    assert [_text(b) for b in doc.css("ol.timeline .badge")] == ["Gone", "Gone", "Good"]
    comment = find_first(doc, "ol.comment-tree > li")
    assert "Visible" in _text(comment)          # not counted as moderated one by one
