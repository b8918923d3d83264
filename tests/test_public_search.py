"""The search page over the real search module (every engine the app runs)."""
from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser
from werkzeug.test import TestResponse

from archive.context import archive_context
from archive.search import reindex
from tests.html_support import attr, find_first, markup
from tests.public_helpers import build_moderated_thread


@pytest.fixture
def ids(app):
    found = build_moderated_thread(app)
    reindex(archive_context(app))
    return found


def _doc(response: TestResponse) -> LexborHTMLParser:
    return LexborHTMLParser(response.get_data(as_text=True))


def _hit_ids(doc: LexborHTMLParser) -> list[int]:
    links = [href for href in (attr(a, "href") for a in doc.css("ol.hits a")) if "/comments/" in href]
    return [int(href.rsplit("/", 1)[1]) for href in links]


def test_empty_search_shows_help(client, ids) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    doc = _doc(response)
    assert doc.css_first("form.search input#q") is not None
    assert "Type a few words" in doc.text()


def test_phrase_finds_the_removed_comment_with_its_status(client, ids) -> None:
    doc = _doc(client.get('/search?q="twenty minutes"'))
    assert _hit_ids(doc) == [ids["sarah"]]
    hit = find_first(doc, "ol.hits > li")
    assert "Removed between 2018-04-01 12:00 UTC and 2018-04-01 13:00 UTC" in hit.text()
    assert [m.text() for m in hit.css("mark")] == ["twenty", "minutes"]
    assert "1 comment found" in find_first(doc, ".facets").text()


ALL = ("wl", "cha", "sarah", "paul", "mike", "nell", "dave", "jo", "ann")


def test_filters_alone_list_every_matching_comment(client, ids) -> None:
    response = client.get("/search?status=removed")
    assert response.status_code == 200
    doc = _doc(response)
    assert "Type a few words" not in doc.text()
    newest = _hit_ids(doc)
    assert set(newest) == {ids["sarah"], ids["nell"], ids["ann"]}
    facets = " ".join(find_first(doc, ".facets").text().split())
    assert "3 comments found" in facets and "Newest first" in facets
    assert newest == _hit_ids(_doc(client.get("/search?status=removed&sort=newest")))
    assert newest[::-1] == _hit_ids(_doc(client.get("/search?status=removed&sort=oldest")))
    # Excerpts are the start of each comment's text, nothing marked.
    sarah = [li for li in doc.css("ol.hits > li") if f"/comments/{ids['sarah']}" in markup(li)][0]
    assert "Our officer met my daughter once" in find_first(sarah, ".excerpt").text()
    assert not doc.css("ol.hits mark")
    # Facet links keep the filters and add no words.
    links = [attr(a, "href") for a in doc.css(".facets a")]
    assert links and all("q=" not in href for href in links)
    assert any("site=news.example" in href and "status=removed" in href for href in links)


def test_each_filter_alone_is_a_search(client, ids) -> None:
    in_thread = _doc(client.get(f"/search?thread={ids['thread']}"))
    assert sorted(_hit_ids(in_thread)) == sorted(ids[name] for name in ALL)
    assert "Only in" in in_thread.text()
    # The redacted comment is listed, never its text.
    jo = [li for li in in_thread.css("ol.hits > li") if f"/comments/{ids['jo']}" in markup(li)]
    assert jo and "Redacted by the archive's operators" in jo[0].text()
    assert "Private details" not in markup(in_thread)
    assert len(_hit_ids(_doc(client.get("/search?site=news.example")))) == 9
    assert _hit_ids(_doc(client.get("/search?status=removed&site=elsewhere.example"))) == []
    assert len(_hit_ids(_doc(client.get("/search?from=2018-04-01&to=2018-04-01")))) == 9
    empty = _doc(client.get("/search?from=2018-04-02"))
    assert _hit_ids(empty) == [] and "No comment matches" in empty.text()
    assert _hit_ids(_doc(client.get("/search?status=missing"))) == [ids["cha"]]


def test_an_order_alone_is_not_a_search(client, ids) -> None:
    for url in ("/search?sort=newest", "/search?q=&status=&site=&from=&to="):
        response = client.get(url)
        assert response.status_code == 200
        doc = _doc(response)
        assert "Type a few words" in doc.text() and doc.css_first("ol.hits") is None


def test_filters_alone_page_through_cursors(client, ids, monkeypatch) -> None:
    from archive.web.public import search as search_views
    monkeypatch.setattr(search_views, "PER_PAGE", 4)
    monkeypatch.setattr(search_views, "MAX_PAGE_LINKS", 1)
    url, seen, pages = f"/search?thread={ids['thread']}", [], 0
    while url:
        doc = _doc(client.get(url))
        seen += _hit_ids(doc)
        pages += 1
        following = doc.css_first('nav.pager a[rel="next"]')
        url = attr(following, "href") if following else ""
        assert not url or "cursor=" in url
    assert pages == 3
    assert sorted(seen) == sorted(ids[name] for name in ALL)
    monkeypatch.setattr(search_views, "PER_PAGE", 20)
    assert seen == _hit_ids(_doc(client.get(f"/search?thread={ids['thread']}&sort=newest")))


# The thread's title says "Cafcass": a plain word matches comment text and title,
# so `cafcass` finds every comment of the thread.
def test_status_filter_and_counts(client, ids) -> None:
    doc = _doc(client.get("/search?q=cafcass&status=removed"))
    assert set(_hit_ids(doc)) == {ids["sarah"], ids["nell"], ids["ann"]}
    everything = _doc(client.get("/search?q=cafcass"))
    facets = " ".join(find_first(everything, ".facets").text().split())
    assert "9 comments found" in facets
    for count in ("visible (5)", "missing (1)", "removed (3)", "reinstated (1)", "edited (1)"):
        assert count in facets
    assert _hit_ids(_doc(client.get("/search?q=cafcass&status=missing"))) == [ids["cha"]]
    assert _hit_ids(_doc(client.get("/search?q=cafcass&status=reinstated"))) == [ids["dave"]]
    assert _hit_ids(_doc(client.get("/search?q=cafcass&status=edited"))) == [ids["wl"]]


def test_facet_links_keep_the_query(client, ids) -> None:
    doc = _doc(client.get("/search?q=cafcass"))
    links = [attr(a, "href") for a in doc.css(".facets a")]
    assert any("status=removed" in href and "q=cafcass" in href for href in links)
    assert any("site=news.example" in href for href in links)


def test_site_thread_and_date_filters(client, ids) -> None:
    assert len(_hit_ids(_doc(client.get("/search?q=cafcass&site=news.example")))) == 9
    assert _hit_ids(_doc(client.get("/search?q=cafcass&site=elsewhere.example"))) == []
    in_thread = _doc(client.get(f"/search?q=cafcass&thread={ids['thread']}&status=removed"))
    assert "Only in" in in_thread.text() and len(_hit_ids(in_thread)) == 3
    # Every comment was posted on 2018-04-01 (the helper's T0).
    assert _hit_ids(_doc(client.get("/search?q=cafcass&from=2018-04-02"))) == []
    same_day = _doc(client.get("/search?q=cafcass&status=removed&from=2018-04-01&to=2018-04-01"))
    assert len(_hit_ids(same_day)) == 3


def test_sort_orders(client, ids) -> None:
    newest = _hit_ids(_doc(client.get("/search?q=cafcass&sort=newest")))
    oldest = _hit_ids(_doc(client.get("/search?q=cafcass&sort=oldest")))
    assert len(newest) == 9 and sorted(newest) == sorted(oldest)


def test_pagination_pages_and_cursor(client, ids, monkeypatch) -> None:
    from archive.web.public import search as search_views
    monkeypatch.setattr(search_views, "PER_PAGE", 4)
    first = _doc(client.get("/search?q=cafcass&sort=oldest"))
    assert len(_hit_ids(first)) == 4
    pages = [a.text() for a in first.css("nav.pager a")]
    assert pages[:2] == ["2", "3"]
    seen = _hit_ids(first)
    seen += _hit_ids(_doc(client.get("/search?q=cafcass&sort=oldest&page=2")))
    seen += _hit_ids(_doc(client.get("/search?q=cafcass&sort=oldest&page=3")))
    assert sorted(seen) == sorted(ids[n] for n in ("wl", "cha", "sarah", "paul", "mike", "nell",
                                                    "dave", "jo", "ann"))
    monkeypatch.setattr(search_views, "MAX_PAGE_LINKS", 1)
    capped = _doc(client.get("/search?q=cafcass&sort=oldest"))
    cursor_link = attr(find_first(capped, 'nav.pager a[rel="next"]'), "href")
    assert "cursor=" in cursor_link
    assert _hit_ids(_doc(client.get(cursor_link))) == seen[4:8]


@pytest.mark.parametrize("url", [
    "/search?q=%22unclosed",                 # unbalanced quote
    "/search?q=NOT+alone",                   # "everything except" is refused
    "/search?q=x&status=deleted",            # unknown status
    "/search?q=x&from=yesterday",            # not a date
    "/search?q=x&from=2020-02-02&to=2020-01-01",
    "/search?q=x&thread=abc",
    "/search?q=x&thread=999",
    "/search?q=x&sort=random",
    "/search?q=" + "a" * 600,
])
def test_malformed_queries_are_friendly(client, ids, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400, response.status_code
    doc = _doc(response)
    assert doc.css_first("div.flash.error") is not None
    assert doc.css_first("form.search") is not None


def test_redacted_text_never_appears_in_results(client, ids) -> None:
    response = client.get("/search?q=private+details")
    assert response.status_code == 200
    assert ids["jo"] not in _hit_ids(_doc(response))     # the index keeps no redacted text
    listed = _doc(client.get(f"/search?q=cafcass&thread={ids['thread']}"))
    jo = [li for li in listed.css("ol.hits > li") if f"/comments/{ids['jo']}" in markup(li)]
    assert jo and "Redacted by the archive's operators: personal data of a child" in jo[0].text()
    assert "Private details" not in markup(listed)
