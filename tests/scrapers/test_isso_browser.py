"""The isso-browser adapter on paged answers from a live Isso, asked exactly as its widget asks.

The widget's first request is `?uri=..&limit=N&nested_limit=M`, then each "load
more" link asks with `offset` (top level) or `parent` and `offset` (replies).
The adapter must put those pages together into the whole thread, and refuse
(unrecognised: the capture is suspect) whenever Isso's own counts say a
comment was not loaded or the thread changed between two answers.
"""
from __future__ import annotations

import json
import urllib.request
import uuid
from urllib.parse import urlencode

import pytest

from scrapers import ADAPTERS, choose_adapter, get_adapter
from scrapers.base import Page
from scrapers.isso_browser import IssoBrowserAdapter
from tests.isso_server import IssoServer


def _answer(isso: IssoServer, uri: str, **params: int) -> Page:
    """One answer, fetched like the widget fetches it (sort=oldest is Isso's default)."""
    url = f"{isso.base_url}?{urlencode({'uri': uri, 'sort': 'oldest', **params})}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
    return Page(url=url, final_url=url, status=200, headers={"content-type": "application/json"}, body=body)


def _thread(isso: IssoServer) -> tuple[str, dict[str, int]]:
    """Four top-level comments; Ann's has three replies, Cy's one; all published."""
    uri = f"/paged-{uuid.uuid4().hex[:8]}/"
    ids: dict[str, int] = {}
    for name, parent in [("ann", None), ("a1", "ann"), ("a2", "ann"), ("a3", "ann"), ("bob", None),
                         ("cy", None), ("c1", "cy"), ("dee", None)]:
        ids[name] = isso.post(uri, name.title(), f"{name} says hello", parent=ids[parent] if parent else None)
        isso.activate(ids[name])
    return uri, ids


def _join(pages: list[Page]):  # noqa: ANN202 - a ThreadView
    adapter = IssoBrowserAdapter()
    return adapter.combine([adapter.parse(page) for page in pages])


def _whole(isso: IssoServer, uri: str, ids: dict[str, int]) -> list[Page]:
    """What the widget fetches with max-comments-top=2, max-comments-nested=1, reveal-on-click=5."""
    return [_answer(isso, uri, limit=2, nested_limit=1, offset=0),
            _answer(isso, uri, limit=5, nested_limit=1, offset=2),
            _answer(isso, uri, parent=ids["ann"], limit=5, nested_limit=1, offset=1)]


def test_paged_answers_join_into_the_whole_thread_in_reading_order(isso: IssoServer) -> None:
    uri, ids = _thread(isso)
    view = _join(_whole(isso, uri, ids))
    assert view.recognised, view.reason
    key = {str(v): k for k, v in ids.items()}
    assert [(key[c.key], c.position) for c in view.comments] == [
        ("ann", 0), ("a1", 1), ("a2", 2), ("a3", 3), ("bob", 4), ("cy", 5), ("c1", 6), ("dee", 7)]
    assert view.claimed_count == 8 and view.coverage == "complete"
    assert {c.parent_key for c in view.comments if key[c.key].startswith("a") and c.key != str(ids["ann"])} \
        == {str(ids["ann"])}


@pytest.mark.parametrize("left_out", [1, 2], ids=["more top-level not clicked", "more replies not clicked"])
def test_a_load_more_left_unclicked_is_unrecognised(isso: IssoServer, left_out: int) -> None:
    uri, ids = _thread(isso)
    pages = _whole(isso, uri, ids)
    del pages[left_out]
    view = _join(pages)
    assert not view.recognised and view.comments == []
    assert "loaded" in view.reason


def test_without_the_first_answer_nothing_is_recognised(isso: IssoServer) -> None:
    uri, ids = _thread(isso)
    view = _join(_whole(isso, uri, ids)[1:])
    assert not view.recognised and "first answer" in view.reason
    assert not _join([]).recognised


def test_a_thread_changed_between_two_answers_is_unrecognised(isso: IssoServer) -> None:
    uri, ids = _thread(isso)
    first = _answer(isso, uri, limit=2, nested_limit=1, offset=0)
    isso.delete(ids["bob"])             # a leaf, on the second page: the offsets shift
    rest = [_answer(isso, uri, limit=5, nested_limit=1, offset=2),
            _answer(isso, uri, parent=ids["ann"], limit=5, nested_limit=1, offset=1)]
    view = _join([first, *rest])
    assert not view.recognised and "changed" in view.reason


def test_answers_about_two_threads_are_unrecognised(isso: IssoServer) -> None:
    uri, ids = _thread(isso)
    other, _ = _thread(isso)
    pages = _whole(isso, uri, ids)
    pages[1] = _answer(isso, other, limit=5, nested_limit=1, offset=2)
    view = _join(pages)
    assert not view.recognised and "more than one thread" in view.reason


def test_a_tombstone_keeps_its_place_and_counts(isso: IssoServer) -> None:
    uri, ids = _thread(isso)
    isso.delete(ids["cy"])              # has a reply: Isso keeps a tombstone
    view = _join(_whole(isso, uri, ids))
    assert view.recognised, view.reason
    cy = next(c for c in view.comments if c.key == str(ids["cy"]))
    assert cy.tombstone and cy.text == "" and cy.author == ""
    assert len(view.comments) == view.claimed_count == 8


def test_an_empty_thread_confirms_no_count(isso: IssoServer) -> None:
    view = _join([_answer(isso, f"/nothing-{uuid.uuid4().hex[:8]}/", limit=2, nested_limit=1)])
    assert view.recognised and view.comments == [] and view.claimed_count is None


def test_reads_only_the_widgets_thread_answers() -> None:
    adapter = IssoBrowserAdapter()

    def reads(url: str) -> bool:
        return adapter.reads_response(Page(url=url, final_url=url, status=200, headers={}, body=b""))

    assert reads("http://isso.example/?uri=%2Fa%2F&limit=3")
    assert reads("http://example.org/isso/?uri=/a/&parent=4&offset=5")
    for other in ("http://isso.example/config", "http://isso.example/count", "http://isso.example/new?uri=/a/",
                  "http://isso.example/js/embed.min.js", "http://isso.example/feed?uri=/a/",
                  "http://news.example/a/", "http://isso.example/id/4?plain=1"):
        assert not reads(other), other


def test_hostile_answers_are_unrecognised_never_raised() -> None:
    adapter = IssoBrowserAdapter()
    url = "http://isso.example/?uri=/a/&offset=x"
    for body in (b"{", b"[]", b'{"id": null, "total_replies": -1, "hidden_replies": 0, "replies": []}',
                 b'{"id": "7", "total_replies": 1, "hidden_replies": 0, "replies": []}',
                 json.dumps({"id": None, "total_replies": 1, "hidden_replies": 0, "replies": [{"id": 1}]}).encode(),
                 b'{"id": null, "total_replies": 0, "hidden_replies": 0, "replies": []}'):
        result = adapter.parse(Page(url=url, final_url=url, status=200, headers={}, body=body))
        assert not result.recognised and result.reason


def test_never_chosen_from_a_page_and_registered() -> None:
    assert ADAPTERS["isso-browser"] is IssoBrowserAdapter
    assert get_adapter("isso-browser").fetch_mode == "browser"
    answer = b'{"id": null, "total_replies": 0, "hidden_replies": 0, "replies": [], "config": {}}'
    chosen = choose_adapter(Page(url="http://i.example/?uri=/a/", final_url="http://i.example/?uri=/a/",
                                 status=200, headers={"content-type": "application/json"}, body=answer))
    assert chosen is not None and chosen.name == "isso"
    plan = IssoBrowserAdapter().browser_plan("http://news.example/a/")
    assert plan.url == "http://news.example/a/" and plan.more_selector and plan.max_clicks > 0
