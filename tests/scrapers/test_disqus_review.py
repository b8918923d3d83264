"""The Disqus adapter against captures that must never call a comment removed.

Disqus pages a "popular" thread by position (cursors `1:0:0`, `2:0:0`): a vote, a
deletion or a new post between two pages shifts posts across the page boundary,
so a post can be listed twice or skipped. Each case is such a capture, or a
hostile answer; the pure rules of archive/rules/assess.py decide, as the
capture pipeline would.
"""
from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

import pytest

from archive.rules.assess import classify_view
from archive.rules.verdicts import Known, text_hash
from scrapers.base import Page, ThreadView
from scrapers.disqus import DisqusAdapter
from tests.disqus_server import API_KEY
from tests.scrapers.test_disqus import (
    API,
    BOB,
    EMBED,
    JO,
    KIM,
    NELL,
    SAM,
    _adapter,
    _embed,
    _fixture,
    _page,
    _thread_data,
)


def _api_data() -> Any:
    return json.loads(_fixture("api-page2.json"))


def _read(embed: Any, api: Any) -> ThreadView:
    adapter = _adapter(api_key=API_KEY)
    return adapter.combine([adapter.parse(_page(_embed(embed), EMBED)),
                            adapter.parse(_page(json.dumps(api).encode(), API))])


def _known(view: ThreadView) -> dict[str, Known]:
    return {r.key: Known(r.key, "visible", text_hash(r.text), r.parent_key, r.posted_at, datetime(2026, 12, 1))
            for r in view.comments if not r.tombstone}


def _before() -> ThreadView:
    view = _read(_thread_data("embed-page1.html"), _api_data())
    assert view.recognised, view.reason
    return view


def _new_post(api: Any, post_id: str) -> dict[str, Any]:
    post = copy.deepcopy(api["response"][-1])
    post.update(id=post_id, message="<p>Posted while the capture ran.</p>", createdAt="2026-12-01T10:00:00")
    return post


def test_a_post_listed_on_two_pages_makes_the_capture_unrecognised() -> None:
    # Votes while the capture ran: Nell rose onto page 1 after it was read, Kim fell
    # onto page 2, and a new post arrived: the count matches, Nell is absent.
    embed, api = _thread_data("embed-page1.html"), _api_data()
    kim = next(p for p in embed["response"]["posts"] if p["id"] == KIM)
    api["response"] = [copy.deepcopy(kim), api["response"][1], _new_post(api, "5256177499")]
    assert [p["id"] for p in api["response"]][:2] == [KIM, BOB]
    view = _read(embed, api)
    assert not view.recognised and view.comments == []
    assert f"post {KIM} is listed twice" in view.reason
    assert NELL in {r.key for r in _before().comments}
    assert classify_view(view, _known(_before()))[0] == "suspect"


def _dated(embed: Any, api: Any, date: str | None) -> ThreadView:
    """A capture whose embed page (which carries the count) answered at `date` (its Date header)."""
    adapter = _adapter(api_key=API_KEY)
    headers = {"content-type": "text/html; charset=utf-8", **({"date": date} if date else {})}
    first = Page(url=EMBED, final_url=EMBED, status=200, headers=headers, body=_embed(embed))
    return adapter.combine([adapter.parse(first), adapter.parse(_page(json.dumps(api).encode(), API))])


COUNTED = "Tue, 01 Dec 2026 09:30:00 GMT"     # after every fixture post, before _new_post's


def test_a_post_skipped_while_a_new_one_arrived_is_not_hidden_by_the_count() -> None:
    # A post on page 1 was deleted after page 1 was read: Nell moved up onto page 1,
    # unseen; a post written during the capture fills the count back up.
    embed, api = _thread_data("embed-page1.html"), _api_data()
    api["response"] = [api["response"][1], _new_post(api, "5256177499")]
    view = _dated(embed, api, COUNTED)
    assert not view.recognised and view.comments == []
    assert view.reason == "Disqus counts 5 comments but the capture listed 4 posted by then (and 1 newer)"
    assert classify_view(view, _known(_before()))[0] == "suspect"


def test_a_post_written_during_the_capture_is_not_a_failure() -> None:
    embed, api = _thread_data("embed-page1.html"), _api_data()
    api["response"].append(_new_post(api, "5256177499"))
    view = _dated(embed, api, COUNTED)
    assert view.recognised, view.reason
    assert [r.key for r in view.comments][-1] == "5256177499" and view.claimed_count == 5
    assert not _dated(embed, api, None).recognised, "without the count's time, 6 listed is not 5 counted"


def test_an_id_is_the_same_key_however_it_is_spelled() -> None:
    # 5256177491, "5256177491" and "05256177491" name one post: a key that changed with
    # its spelling would make the post look removed and a new one appear.
    spelled = []
    for jo, kim_parent in ((int(JO), int(JO)), (JO, JO), ("0" + JO, "00" + JO)):
        data = _thread_data("embed-tombstone.html")
        posts = data["response"]["posts"]
        posts[1]["id"], posts[2]["parent"] = jo, kim_parent
        data["response"]["thread"]["id"] = "0" + str(data["response"]["thread"]["id"])
        adapter = _adapter()
        view = adapter.combine([adapter.parse(_page(_embed(data), EMBED))])
        assert view.recognised, view.reason
        spelled.append([(r.key, r.parent_key) for r in view.comments] + [view.platform_id])
    assert spelled[0] == spelled[1] == spelled[2]
    assert (JO, SAM) in spelled[0] and (KIM, JO) in spelled[0] and "6467564608" in spelled[0]


def test_a_forum_named_in_capitals_is_the_same_forum() -> None:
    # Shortnames are host names (<forum>.disqus.com): an embed code or option in capitals
    # names the forum Disqus answers for in lower case.
    adapter = _adapter(forum="LocalNews", identifier="cafcass-2026-12")
    view = adapter.combine([adapter.parse(_page(_fixture("embed-tombstone.html"),
                                                EMBED.replace("f=localnews", "f=LocalNews")))])
    assert view.recognised, view.reason
    data = _thread_data("embed-tombstone.html")
    data["response"]["thread"]["forum"] = "othernews"
    other = _adapter().parse(_page(_embed(data), EMBED))
    assert not other.recognised and "for forum 'othernews'" in other.reason


@pytest.mark.parametrize(("options", "problem"), [
    (["forum"], "options must be a JSON object"),
    ("forum", "options must be a JSON object"),
    ([{}], "options must be a JSON object"),
    ({1: "x"}, "unknown option(s) 1"),
    ({1: "x", "b": 2}, "unknown option(s) 1, b"),
    ({"base": "http://[::1"}, '"base" must be an http(s) URL'),
    ({"base": "http://127.0.0.1:99999/"}, '"base" must be an http(s) URL'),
    ({"base": "http://user:secret@127.0.0.1/"}, '"base" must be an http(s) URL'),
    ({"url": "http://news.example:0x50/"}, '"url" must be an http(s) URL'),
])
def test_any_bad_options_are_one_line_value_errors(options: Any, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        DisqusAdapter.validate_options(options)
    message = str(caught.value)
    assert message.startswith("disqus: ") and problem in message and "\n" not in message
    adapter = DisqusAdapter()
    adapter.configure(options)      # never raises: every page is unrecognised instead
    result = adapter.parse(_page(_fixture("embed-tombstone.html"), EMBED))
    assert not result.recognised and result.reason == message


def test_the_embed_pages_own_posts_are_in_its_count_whatever_their_clock_says() -> None:
    # Disqus's servers disagree by a second or two: a post on the very page that carries
    # the count is in it, even dated a moment after that page's Date.
    embed, api = _thread_data("embed-page1.html"), _api_data()
    embed["response"]["posts"][0]["createdAt"] = "2026-12-01T09:30:01"
    view = _dated(embed, api, COUNTED)
    assert view.recognised, view.reason
