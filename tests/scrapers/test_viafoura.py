"""The Viafoura adapter on saved answers (tests/fixtures/viafoura/, shaped as scrapers/viafoura.py says).

The thread: R1 with a reply and a reply to that reply; R2 with three replies of
which the listing inlines one (so its thread is read from the replies
endpoint); R3 deleted, a tombstone keeping its reply; R4 with an HTML body.
Two listing pages; the container counts 9 visible comments.
"""
from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from scrapers import choose_adapter, get_adapter
from scrapers.base import Page, PageResult
from scrapers.viafoura import (
    DEFAULT_API,
    ViafouraAdapter,
    comments_url,
    container_url,
    parse_options,
    replies_url,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "viafoura"
SITE = "00000000-0000-4000-8000-8e2c1f4a7b19"
CONTAINER = "0192f3a1-6c2e-7b40-9d3e-5a1f0c2b7e44"
ARTICLE = "https://www.independent.co.uk/news/uk/cafcass-inspection-26844213.html"
R1, A, B, R2, C, E, F, R3, D, R4 = (f"0192f3a1-7a10-7c01-8a11-{n:012x}" for n in range(1, 11))
OPTIONS = parse_options({"site": SITE})
JSON = {"content-type": "application/json"}


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def adapter(**options: str) -> ViafouraAdapter:
    made = get_adapter("viafoura", {"site": SITE, **options})
    assert isinstance(made, ViafouraAdapter)
    return made


def page(url: str, body: Any, headers: dict[str, str] | None = None) -> Page:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Page(url=url, final_url=url, status=200, headers=headers or JSON, body=data)


def article_page() -> Page:
    return page(ARTICLE, (FIXTURES / "article.html").read_bytes(), {"content-type": "text/html; charset=utf-8"})


PAGE2 = comments_url(OPTIONS, CONTAINER, R2)


def answers(**changes: Any) -> dict[str, Any]:
    """url -> saved answer, as a capture fetches them; `changes` replace some by name."""
    bodies = {"container": load("container"), "page1": load("comments_page1"),
              "page2": load("comments_page2"), "replies": load("replies"), **changes}
    return {container_url(OPTIONS, "26844213"): bodies["container"],
            comments_url(OPTIONS, CONTAINER): bodies["page1"],
            PAGE2: bodies["page2"],
            replies_url(OPTIONS, CONTAINER, R2): bodies["replies"]}


def capture(skip: tuple[str, ...] = (), **changes: Any) -> list[PageResult]:
    """The pages one capture reads, in the order the pipeline fetches them."""
    reader = adapter()
    bodies = answers(**changes)
    results = [reader.parse(article_page())]
    queue = list(results[0].follow)
    while queue:
        url = queue.pop(0)
        if url in skip or url not in bodies:
            continue
        results.append(reader.parse(page(url, bodies[url])))
        queue += results[-1].follow
    return results


def test_the_article_page_leads_to_the_container_lookup() -> None:
    result = adapter().parse(article_page())
    assert result.recognised, result.reason
    assert result.follow == [f"{DEFAULT_API}{SITE}/contentcontainer/id?container_id=26844213"]
    assert result.title == "Cafcass inspection: what the report left out"
    assert result.platform_id == "26844213"


def test_the_container_option_starts_at_the_api() -> None:
    reader = adapter(container="26844213")
    assert reader.first_url(ARTICLE) == container_url(OPTIONS, "26844213")
    assert adapter().first_url(ARTICLE) == ARTICLE


def test_the_container_answer_gives_the_listing_and_the_count() -> None:
    result = adapter().parse(page(container_url(OPTIONS, "26844213"), load("container")))
    assert result.recognised, result.reason
    assert result.follow == [comments_url(OPTIONS, CONTAINER)]
    assert "limit=100" in result.follow[0] and "sorted_by=oldest" in result.follow[0]
    assert result.claimed_count == 9


def test_a_listing_page_gives_replies_and_the_next_page() -> None:
    result = adapter().parse(page(comments_url(OPTIONS, CONTAINER), load("comments_page1")))
    assert result.recognised, result.reason
    assert [(r.key, r.parent_key) for r in result.comments] == [(R1, None), (A, R1), (B, A), (R2, None), (C, R2)]
    # R2 counts three replies and carries one: its thread is read whole; R2 is the cursor.
    assert result.follow == [replies_url(OPTIONS, CONTAINER, R2), PAGE2]
    assert "starting_from=" + R2 in PAGE2


def test_a_whole_capture_reads_every_comment_and_the_tombstone() -> None:
    view = adapter().combine(capture())
    assert view.recognised, view.reason
    assert view.coverage == "complete" and view.claimed_count == 9
    assert [r.key for r in view.comments] == [R1, A, B, R2, C, E, F, R3, D, R4]
    assert [r.position for r in view.comments] == list(range(10))
    by_key = {r.key: r for r in view.comments}
    assert by_key[F].parent_key == C, "a reply to a reply keeps its own parent"
    tomb = by_key[R3]
    assert tomb.tombstone and tomb.text == "" and tomb.author == "" and tomb.html == ""
    assert by_key[D].parent_key == R3 and not by_key[D].tombstone, "the tombstone keeps its reply"
    assert by_key[R4].text == "Complaints data shows the opposite of outstanding.\nAsk Ofsted."
    assert by_key[F].text == "Same in the North East & in Wales."
    posted = by_key[R1].posted_at
    assert posted == datetime(2026, 11, 30, 9, 0) and posted.tzinfo is None, "naive UTC"
    assert by_key[R1].author == "5d1e7c2a-0b3f-4e6a-9c1d-000000000001", "the listing names authors by uuid"
    assert view.title == "Cafcass inspection: what the report left out"
    assert view.platform_id == "26844213"


def test_an_actor_name_is_the_author_when_the_answer_carries_one() -> None:
    first = load("comments_page1")
    first["contents"][0]["actor"] = {"name": "apreader"}
    result = adapter().parse(page(comments_url(OPTIONS, CONTAINER), first))
    assert result.comments[0].author == "apreader"


@pytest.mark.parametrize("skip, reason", [
    ((PAGE2,), "announced comment page(s) not read"),
    ((replies_url(OPTIONS, CONTAINER, R2),), f"replies of 1 comment(s) not read (e.g. {R2})"),
    ((comments_url(OPTIONS, CONTAINER),), "no Viafoura comment page was read"),
    ((container_url(OPTIONS, "26844213"),), "the Viafoura content container was not read"),
])
def test_a_capture_missing_a_page_is_unrecognised(skip: tuple[str, ...], reason: str) -> None:
    view = adapter().combine(capture(skip))
    assert not view.recognised and view.coverage == "none" and view.comments == []
    assert reason in view.reason


def test_fewer_comments_than_the_container_counts_is_unrecognised() -> None:
    container = load("container")
    container["total_visible_content"] = 11
    view = adapter().combine(capture(container=container))
    assert not view.recognised
    assert view.reason == "Viafoura counts 11 visible comments but listed 9"


def test_more_comments_than_counted_are_new_arrivals() -> None:
    container = load("container")
    container["total_visible_content"] = 8
    assert adapter().combine(capture(container=container)).recognised


def test_a_thread_with_fewer_replies_than_it_counts_is_unrecognised() -> None:
    replies = load("replies")
    del replies["contents"][1]          # E, from R2's three
    view = adapter().combine(capture(replies=replies))
    assert not view.recognised
    assert view.reason == f"comment {R2} counts 3 replies but 2 were listed"


def test_a_listing_that_repeats_itself_is_unrecognised() -> None:
    # The cursor comment vanished between two pages: the API answers page 1 again.
    view = adapter().combine(capture(page2=load("comments_page1")))
    assert not view.recognised
    assert "the comment cursor did not advance" in view.reason


def test_a_repeated_top_level_comment_across_pages_is_unrecognised() -> None:
    second = load("comments_page2")
    second["contents"][:0] = load("comments_page1")["contents"][:3]     # R1 and its replies again
    view = adapter().combine(capture(page2=second))
    assert not view.recognised and "repeated comment" in view.reason


def _item(mutate: Any) -> dict[str, Any]:
    first = load("comments_page1")
    mutate(first["contents"][0])
    return first


HOSTILE = {
    "not json": b"<html>Service Unavailable</html>",
    "truncated json": b'{"contents": [{"content_uuid": ',
    "a list": [1, 2, 3],
    "no flag": {"contents": []},
    "contents not a list": {"contents": {}, "more_available": False},
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "unknown state": _item(lambda c: c.update(state="spam")),
    "visible without content": _item(lambda c: c.pop("content")),
    "content uuid not a uuid": _item(lambda c: c.update(content_uuid="../../etc")),
    "date as text": _item(lambda c: c.update(date_created="yesterday")),
    "date out of range": _item(lambda c: c.update(date_created=10**20)),
    "reply count as text": _item(lambda c: c.update(total_replies="2")),
    "item not an object": {"contents": ["x"], "more_available": False},
    "more but nothing": {"contents": [], "more_available": True},
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_listing_answers_are_unrecognised_with_a_reason(name: str) -> None:
    body = HOSTILE[name]
    result = adapter().parse(page(comments_url(OPTIONS, CONTAINER), body if isinstance(body, bytes) else body))
    assert not result.recognised and result.comments == []
    assert result.reason and "\n" not in result.reason


def test_a_replies_page_holding_another_thread_is_unrecognised() -> None:
    reader = adapter()
    other = reader.parse(page(replies_url(OPTIONS, CONTAINER, R1), load("replies")))
    assert not other.recognised and f"not {R1}" in other.reason
    top = load("replies")
    top["contents"].append(load("comments_page2")["contents"][2])     # R4, a top-level comment
    result = reader.parse(page(replies_url(OPTIONS, CONTAINER, R2), top))
    assert not result.recognised and "top-level comment in the replies" in result.reason


@pytest.mark.parametrize("body, reason", [
    ({"container_id": "26844213", "total_visible_content": 9}, "no content_container_uuid"),
    ({"content_container_uuid": CONTAINER, "total_visible_content": "9"}, "no total_visible_content"),
    ({"content_container_uuid": CONTAINER}, "no total_visible_content"),
    ([], "not an object"),
])
def test_a_container_answer_without_uuid_or_count_is_unrecognised(body: Any, reason: str) -> None:
    result = adapter().parse(page(container_url(OPTIONS, "26844213"), body))
    assert not result.recognised and reason in result.reason


def test_a_hidden_conversation_is_unrecognised_not_emptied() -> None:
    container = load("container")
    container["settings"]["is_hidden"] = True
    result = adapter().parse(page(container_url(OPTIONS, "26844213"), container))
    assert not result.recognised and result.reason == "the conversation is hidden on this article"


def test_the_flat_container_form_nests_its_record() -> None:
    result = adapter().parse(page(container_url(OPTIONS, "26844213"), {"container": load("container")}))
    assert result.recognised and result.claimed_count == 9


def test_an_article_without_a_container_id_is_unrecognised() -> None:
    html = b"<html><body><vf-conversations></vf-conversations></body></html>"
    result = adapter().parse(page(ARTICLE, html, {"content-type": "text/html"}))
    assert not result.recognised and "no Viafoura container id" in result.reason
    view = adapter().combine([result])
    assert not view.recognised and "no Viafoura container id" in view.reason


def test_the_container_id_may_come_from_the_widget_attribute() -> None:
    html = b'<html><body><vf-conversations-count vf-container-id="A65xRHy7KY6g"></vf-conversations-count></body></html>'
    result = adapter().parse(page(ARTICLE, html, {"content-type": "text/html"}))
    assert result.follow == [container_url(OPTIONS, "A65xRHy7KY6g")]


def test_without_options_every_page_is_unrecognised() -> None:
    result = ViafouraAdapter().parse(article_page())
    assert not result.recognised and 'option "site"' in result.reason
    broken = ViafouraAdapter()
    broken.configure({"site": "not-a-uuid"})
    assert 'option "site"' in broken.parse(article_page()).reason


@pytest.mark.parametrize("options, message", [
    (None, '"site"'),
    ({}, '"site"'),
    ({"site": "x"}, "section UUID"),
    ({"site": SITE, "colour": "red"}, "unknown option(s) colour"),
    ({"site": SITE, "container": ""}, '"container"'),
    ({"site": SITE, "container": "a\nb"}, '"container"'),
    ({"site": SITE, "container": "x" * 201}, '"container"'),
    ({"site": SITE, "api": "ftp://example.com/"}, "not an http(s) API base URL"),
    ({"site": SITE, "api": "https://example.com/?a=1"}, "not an http(s) API base URL"),
    ({"site": SITE, "api": 7}, "not an http(s) API base URL"),
    ({"site": SITE, "api": "https://example.com/" + "a" * 600}, "not an http(s) API base URL"),
])
def test_bad_options_are_refused_in_one_line(options: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        ViafouraAdapter.validate_options(options)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_options_are_cleaned() -> None:
    cleaned = ViafouraAdapter.validate_options({"site": f" {SITE.upper()} ", "container": " 26844213 ",
                                                "api": "http://127.0.0.1:8080/v4/livecomments"})
    assert cleaned == {"site": SITE, "container": "26844213", "api": "http://127.0.0.1:8080/v4/livecomments/"}
    assert ViafouraAdapter.validate_options({"site": SITE, "api": DEFAULT_API}) == {"site": SITE}


def test_detect_scores_pages_that_embed_viafoura() -> None:
    reader = ViafouraAdapter()
    assert reader.score(article_page()) == 80
    assert reader.score(page(comments_url(OPTIONS, CONTAINER), load("comments_page1"))) == 90
    assert reader.score(page(ARTICLE, b"<html><p>no comments here</p></html>", {"content-type": "text/html"})) == 0
    assert reader.score(page(comments_url(OPTIONS, CONTAINER), b"\xff{{{")) == 0
    chosen = choose_adapter(article_page())
    assert chosen is not None and chosen.name == "viafoura"


def test_a_tombstone_is_read_from_a_deleted_state_without_content() -> None:
    second = copy.deepcopy(load("comments_page2"))
    assert "content" not in second["contents"][0] and second["contents"][0]["state"] == "deleted"
    result = adapter().parse(page(PAGE2, second))
    assert [r.tombstone for r in result.comments] == [True, False, False]
