"""The Isso adapter on answers saved from a live Isso 0.14.0 (tests/fixtures/isso/),
and a check that a live Isso still answers in the same shape.

thread.json: a thread of four public comments (Ann, Bob's reply, Cy's reply
to Bob that Isso flattened under Ann, an anonymous leaf) and one held.
tombstone.json: the same thread after the moderator edited Bob's reply,
deleted Ann's comment (it has replies: a tombstone) and the leaf (gone).
paged.json: tombstone.json asked for with limit=1&nested_limit=1.
empty.json: a uri Isso has no thread for.
"""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scrapers import ADAPTERS, choose_adapter, get_adapter
from scrapers.base import Page
from scrapers.isso import IssoAdapter, parse_options, thread_api_url
from tests.isso_server import IssoServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "isso"
API = "http://127.0.0.1:8080/?uri=/post-1/"


def _page(body: bytes, url: str = API) -> Page:
    return Page(url=url, final_url=url, status=200, headers={"content-type": "application/json"}, body=body)


def _load(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def _data(name: str) -> Any:
    return json.loads(_load(name))


def test_a_thread_reads_in_order_with_stable_ids_and_flat_replies() -> None:
    result = IssoAdapter().parse(_page(_load("thread")))
    assert result.recognised, result.reason
    assert [(r.key, r.parent_key, r.author, r.position) for r in result.comments] == [
        ("1", None, "Ann", 0), ("2", "1", "Bob", 1), ("3", "1", "Cy", 2), ("4", None, "", 3)]
    assert result.claimed_count == 4, "held comment 5 is not public and not counted"
    ann = result.comments[0]
    assert ann.text == "First comment <script>alert(1)</script>"
    assert ann.html == "<p>First <em>comment</em> &lt;script&gt;alert(1)&lt;/script&gt;</p>"
    created = _data("thread")["replies"][0]["created"]
    assert ann.posted_at == datetime.fromtimestamp(created, UTC).replace(tzinfo=None)
    assert not any(r.tombstone for r in result.comments)


def test_posted_at_is_naive_utc_from_the_unix_time() -> None:
    data = _data("thread")
    data["replies"][0]["created"] = 0.5
    first = IssoAdapter().parse(_page(json.dumps(data).encode())).comments[0]
    assert first.posted_at == datetime(1970, 1, 1, 0, 0, 0, 500000)


def test_a_deleted_parent_is_a_tombstone_and_a_deleted_leaf_is_gone() -> None:
    result = IssoAdapter().parse(_page(_load("tombstone")))
    assert result.recognised, result.reason
    by_key = {r.key: r for r in result.comments}
    assert set(by_key) == {"1", "2", "3"}
    assert by_key["1"].tombstone and by_key["1"].text == "" and by_key["1"].author == ""
    assert by_key["2"].text == "Reply to Ann, edited" and not by_key["2"].tombstone
    # Isso's root total_replies counts the tombstone; POST /count (2 here) does not.
    assert result.claimed_count == 3


def test_an_answer_with_left_out_replies_is_never_complete() -> None:
    result = IssoAdapter().parse(_page(_load("paged")))
    assert not result.recognised
    assert result.reason == "Isso left out 1 replies of comment 1"


def test_fewer_comments_than_isso_counts_is_not_recognised() -> None:
    data = _data("tombstone")
    data["replies"][0]["replies"].pop()
    data["replies"][0]["hidden_replies"] = 0
    result = IssoAdapter().parse(_page(json.dumps(data).encode()))
    assert not result.recognised and result.reason == "Isso counts 3 comments but listed 2"


def test_left_out_top_level_comments_are_not_recognised() -> None:
    data = _data("thread")
    data["hidden_replies"] = 2
    result = IssoAdapter().parse(_page(json.dumps(data).encode()))
    assert not result.recognised and result.reason == "Isso left out 2 top-level comments"


@pytest.mark.parametrize("damage", [
    lambda d: d["replies"][0].__setitem__("mode", 2),
    lambda d: d["replies"][0].__setitem__("id", "1"),
    lambda d: d["replies"][0].__setitem__("text", None),
    lambda d: d["replies"][0]["replies"][0].__setitem__("parent", 4),
    lambda d: d["replies"][0].__setitem__("replies", {}),
    lambda d: d.__setitem__("total_replies", "4"),
    lambda d: d["replies"].append(["not", "a", "comment"]),
])
def test_damaged_answers_are_unrecognised_never_raise(damage: Any) -> None:
    data = copy.deepcopy(_data("thread"))
    damage(data)
    result = IssoAdapter().parse(_page(json.dumps(data).encode()))
    assert not result.recognised and result.reason


@pytest.mark.parametrize("body", [b"", b"<html>maintenance</html>", b"{", b"[]", b'{"id": null}',
                                  b'{"created": 1e400}'])
def test_other_bodies_are_unrecognised(body: bytes) -> None:
    assert not IssoAdapter().parse(_page(body)).recognised
    assert IssoAdapter().score(_page(body)) == 0


def test_an_overflowing_date_is_unrecognised() -> None:
    data = _data("thread")
    data["replies"][0]["created"] = 1e300
    result = IssoAdapter().parse(_page(json.dumps(data).encode()))
    assert not result.recognised and "unreadable page" in result.reason


def test_the_empty_answer_is_an_empty_thread_that_confirms_no_count() -> None:
    result = IssoAdapter().parse(_page(_load("empty")))
    assert result.recognised and result.comments == [] and result.claimed_count is None


def test_an_empty_answer_never_confirms_a_mass_removal() -> None:
    from archive.rules.assess import classify_view
    from archive.rules.verdicts import Known

    adapter = IssoAdapter()
    view = adapter.combine([adapter.parse(_page(_load("empty")))])
    known = {key: Known(key=key, status="visible", text_sha256="x" * 64, parent_key=None, posted_at=None,
                        last_seen_at=datetime(2026, 12, 1)) for key in ("1", "2", "3")}
    outcome, reason = classify_view(view, known)
    assert outcome == "suspect" and "all 3 known comments vanished" in reason


def test_an_unconfigured_adapter_says_what_it_needs() -> None:
    article = Page(url="http://blog.test/post-1/", final_url="http://blog.test/post-1/", status=200,
                   headers={"content-type": "text/html"}, body=b"<html><script src='embed.min.js'></script>")
    adapter = IssoAdapter()
    assert adapter.first_url(article.url) == article.url
    result = adapter.parse(article)
    assert not result.recognised and 'option "isso"' in result.reason


def test_options_map_the_article_to_the_isso_thread() -> None:
    adapter = get_adapter("isso", {"isso": "http://comments.test:8080/isso"})
    assert adapter.first_url("https://blog.test/2026/a post/?utm=x") == \
        "http://comments.test:8080/isso/?uri=/2026/a%20post/"
    named = get_adapter("isso", {"isso": "https://comments.test/", "uri": "/thread?id=7&x"})
    assert named.first_url("https://blog.test/anything/") == "https://comments.test/?uri=/thread%3Fid%3D7%26x"
    assert thread_api_url("http://i.test/", "/") == "http://i.test/?uri=/"


@pytest.mark.parametrize(("options", "message"), [
    ({}, 'the option "isso"'),
    ({"isso": ""}, 'the option "isso"'),
    ({"isso": "ftp://i.test/"}, "not an http(s) server URL"),
    ({"isso": "http://i.test/?uri=/x"}, "not an http(s) server URL"),
    ({"isso": "http://i.test/", "uri": "post-1"}, 'must be a path starting with "/"'),
    ({"isso": "http://i.test/", "uri": 7}, 'must be a path starting with "/"'),
    ({"isso": "http://i.test/", "server": "x"}, "unknown option(s) server"),
])
def test_bad_options_are_refused_in_one_line(options: dict, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_options(options)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_bad_options_make_every_answer_unrecognised_never_raise() -> None:
    adapter = get_adapter("isso", {"isso": "ftp://i.test/"})
    assert adapter.first_url("http://blog.test/post-1/") == "http://blog.test/post-1/"
    result = adapter.parse(_page(_load("thread")))
    assert not result.recognised and "not an http(s) server URL" in result.reason


def test_an_isso_answer_is_detected_and_registered() -> None:
    assert ADAPTERS["isso"] is IssoAdapter
    chosen = choose_adapter(_page(_load("thread")))
    assert isinstance(chosen, IssoAdapter)
    assert chosen.combine([chosen.parse(_page(_load("tombstone")))]).coverage == "complete"


def _shape(data: Any) -> Any:
    """The keys at every level of an answer: what the saved answers must share with a live one."""
    if isinstance(data, dict):
        return {key: _shape(value) for key, value in data.items() if key != "config"}
    if isinstance(data, list):
        return _shape(data[0]) if data else []
    return type(data).__name__ if data is not None else "null"


def test_saved_answers_are_shaped_like_a_live_isso(isso: IssoServer) -> None:
    uri = "/shape-check/"
    parent = isso.post(uri, "Ann", "First")
    reply = isso.post(uri, "Bob", "Second", parent=parent)
    for comment_id in (parent, reply):
        isso.activate(comment_id)
    live = isso.thread(uri)
    assert _shape(live) == _shape(_data("thread"))
    result = IssoAdapter().parse(_page(json.dumps(live).encode(), isso.api_url(uri)))
    assert result.recognised and [r.key for r in result.comments] == [str(parent), str(reply)]
