"""The Coral adapter on GraphQL answers shaped like Coral's (tests/fixtures/coral/), and on the
answers of a loopback Coral (tests/coral_server.py) over real HTTP, asked as its embed asks.

story_first.json: AllCommentsTabQuery's answer: Ann (two replies, Bob and Cy, nested) and
Dee, newest first, `hasNextPage: true`; Coral counts 7 published comments.
story_more.json: the "Load All Comments" page: a deleted account's comment (a tombstone:
`deleted: true`, no author, no body) with one of its two replies nested (Eve), the list ended.
replies_more.json: "Show All Replies" of the tombstone: Fay.
errors.json: Coral's answer for a story it does not know, with its error extensions.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from archive.rules.assess import classify_view
from archive.rules.verdicts import Known
from scrapers import ADAPTERS, choose_adapter, get_adapter
from scrapers.base import Page, PageResult
from scrapers.coral import MORE_SELECTOR, CoralAdapter
from tests.coral_server import FIRST_QUERY, MORE_QUERY, REPLIES_QUERY, CoralServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "coral"
API = "https://coral.example.com/api/graphql"
R1, A1, A2, R2 = ("5d0c8f42-1b6e-4c3a-9f27-6a1e4b8d2c01", "0e7a5b13-8c2d-4f61-a4b9-3d5f7e9a1c02",
                  "c41f9a2e-6d3b-47a8-b5e1-2f8c0d6a9b03", "7a3e1c5b-9f0d-4b28-8e64-1c7d3f5a2e04")
R3, T1, T2 = ("e2b84d16-3a7c-4e95-9d02-8f6b1a4c7d05", "1f6c3e8a-5b2d-4a79-b031-9e4d7c2f6a06",
              "a8d25f7c-0e4b-4c16-93fa-5b7e2d1c8f07")
READING_ORDER = [R1, A1, A2, R2, R3, T1, T2]


def _page(doc: Any, url: str = API, status: int = 200) -> Page:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return Page(url=url, final_url=url, status=status, headers={"content-type": "application/json"}, body=body)


def _data(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_bytes())


def _results(*docs: Any) -> list[PageResult]:
    adapter = CoralAdapter()
    return [adapter.parse(_page(doc)) for doc in docs]


def _whole() -> list[Any]:
    return [_data("story_first"), _data("story_more"), _data("replies_more")]


def test_the_first_page_reads_in_order_with_uuids_parents_and_naive_utc_times() -> None:
    result = CoralAdapter().parse(_page(_data("story_first")))
    assert result.recognised, result.reason
    assert [(r.key, r.parent_key, r.author) for r in result.comments] == [
        (R1, None, "Ann"), (A1, R1, "Bob"), (A2, R1, "Cy"), (R2, None, "Dee")]
    ann, _, cy, _ = result.comments
    assert ann.text == "Cafcass ignored the Parental Conflict Tool."
    assert ann.html.startswith('<p>Cafcass ignored the <a href="https://example.org/tool"')
    assert cy.text == "Line one\nline two & <script>alert(1)</script>"
    assert ann.posted_at == datetime(2026, 12, 2, 10, 40) and ann.posted_at.tzinfo is None
    assert cy.posted_at == datetime(2026, 12, 2, 10, 51, 40, 4000)
    assert (result.claimed_count, result.title) == (7, "Cafcass rated outstanding")
    assert result.platform_id == "9b2e6c1a-4f7d-4e3b-8a51-0d6c2f9e7a13"
    assert not any(r.tombstone for r in result.comments)


def test_the_first_page_alone_is_not_the_whole_stream() -> None:
    view = CoralAdapter().combine(_results(_data("story_first")))
    assert not view.recognised and view.coverage == "none"
    assert view.reason == "the stream has more comments than the capture loaded (no answer ended Coral's list)"


def test_a_deleted_accounts_comment_with_replies_is_a_tombstone() -> None:
    result = CoralAdapter().parse(_page(_data("story_more")))
    assert result.recognised, result.reason
    tombstone, reply = result.comments
    assert (tombstone.key, tombstone.tombstone, tombstone.author, tombstone.text, tombstone.html) == \
        (R3, True, "", "", "")
    assert (reply.key, reply.parent_key, reply.author, reply.tombstone) == (T1, R3, "Eve", False)


def test_first_load_more_and_reply_pages_make_the_whole_thread() -> None:
    view = CoralAdapter().combine(_results(*_whole()))
    assert view.recognised, view.reason
    assert view.coverage == "complete" and view.claimed_count == 7
    assert [r.key for r in view.comments] == READING_ORDER
    assert [r.position for r in view.comments] == list(range(7))
    assert {r.key: r.parent_key for r in view.comments}[T2] == R3
    assert view.platform_id == "9b2e6c1a-4f7d-4e3b-8a51-0d6c2f9e7a13"
    # Reading order follows the order the answers arrived in; what the thread holds does not.
    shuffled = CoralAdapter().combine(_results(*reversed(_whole())))
    assert shuffled.recognised
    assert [r.key for r in shuffled.comments] == [R3, T2, T1, R1, A1, A2, R2]
    assert {(r.key, r.parent_key) for r in shuffled.comments} == {(r.key, r.parent_key) for r in view.comments}


def test_a_missing_reply_page_leaves_the_capture_unrecognised() -> None:
    view = CoralAdapter().combine(_results(_data("story_first"), _data("story_more")))
    assert not view.recognised
    assert view.reason == f"the replies of comment {R3} were not all loaded"


def test_more_comments_than_coral_counts_is_unrecognised() -> None:
    docs = _whole()
    for doc in docs[:2]:
        doc["data"]["story"]["commentCounts"]["totalPublished"] = 6
    view = CoralAdapter().combine(_results(*docs))
    assert not view.recognised
    assert view.reason == "the capture saw 7 comments but Coral counts only 6"


def test_counts_that_change_between_pages_are_unrecognised() -> None:
    docs = _whole()
    docs[1]["data"]["story"]["commentCounts"]["totalPublished"] = 8
    view = CoralAdapter().combine(_results(*docs))
    assert not view.recognised
    assert view.reason == "the thread changed during the capture (Coral counted 7, then 8)"


def test_fewer_replies_than_the_reply_count_is_unrecognised() -> None:
    docs = _whole()
    docs[0]["data"]["story"]["comments"]["edges"][0]["node"]["replyCount"] = 3
    view = CoralAdapter().combine(_results(*docs))
    assert not view.recognised
    assert view.reason == f"comment {R1} has 3 replies by Coral's count, the capture saw 2"


def test_a_shortfall_is_left_to_the_core_count_rule() -> None:
    """Coral keeps counting the published replies of a rejected comment that the stream no
    longer shows: the adapter hands the count on, and the core refuses to believe a known
    comment vanished when what it saw (plus what lost its parent) falls short of it."""
    docs = _whole()
    for doc in docs[:2]:
        doc["data"]["story"]["commentCounts"]["totalPublished"] = 9
    view = CoralAdapter().combine(_results(*docs))
    assert view.recognised and view.claimed_count == 9
    now = datetime(2026, 12, 2, 12, 0)
    gone = Known(key="0b1c9d2e-0000-4000-8000-000000000001", status="visible", text_sha256="0" * 64,
                 parent_key=None, posted_at=now, last_seen_at=now)
    outcome, reason = classify_view(view, {gone.key: gone})
    assert outcome == "suspect" and "says 9 comments but shows 7" in reason
    child = Known(key="0b1c9d2e-0000-4000-8000-000000000002", status="visible", text_sha256="0" * 64,
                  parent_key=gone.key, posted_at=now, last_seen_at=now)
    assert classify_view(view, {gone.key: gone, child.key: child})[0] == "suspect"
    assert classify_view(view, {})[0] == "good", "nothing vanished: nothing to doubt"


def test_coral_errors_are_unrecognised_with_their_message() -> None:
    adapter = CoralAdapter()
    page = _page(_data("errors"))
    assert adapter.reads_response(page)
    result = adapter.parse(page)
    assert not result.recognised and result.reason == "Coral answered errors: Story not found."
    assert adapter.combine([result]).reason == "Coral answered errors: Story not found."


def _edit(path: str, value: Any) -> Callable[[Any], Any]:
    """A mutation of story_first.json: set the value at a dotted path (numbers index lists)."""
    def mutate(doc: Any) -> Any:
        *parents, last = path.split(".")
        target = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
        return doc
    return mutate


NODE = "data.story.comments.edges.0.node"
HOSTILE = [
    (_edit("data", None), "Coral's answer has no data"),
    (_edit("data.story", None), "Coral answered story: null (it does not know this story)"),
    (_edit("errors", "boom"), "Coral answered a malformed errors field"),
    (_edit("errors", [{"message": "x" * 500}, 1, {}, {}]), "Coral answered errors: " + "x" * 200
     + "; no message; no message (and 1 more)"),
    (_edit("data.story.commentCounts", None), "Coral's story has no commentCounts.totalPublished"),
    (_edit("data.story.commentCounts.totalPublished", True), "no commentCounts.totalPublished"),
    (_edit("data.story.id", "../../etc"), "the story has no usable id"),
    (_edit("data.story.comments", None), "the story's comments are missing"),
    (_edit("data.story.comments.edges", {}), "the story's comments have no edges or pageInfo.hasNextPage"),
    (_edit("data.story.comments.pageInfo", None), "have no edges or pageInfo.hasNextPage"),
    (_edit("data.story.comments.edges.0", {"node": None}), "an edge of the story's comments has no comment"),
    (_edit(f"{NODE}.id", None), "a comment at position 0 has no usable id"),
    (_edit(f"{NODE}.id", "<script>"), "a comment at position 0 has no usable id"),
    (_edit(f"{NODE}.createdAt", "yesterday"), f"comment {R1} is not shaped like a Coral comment"),
    (_edit(f"{NODE}.body", 12), f"comment {R1} is not shaped like a Coral comment"),
    (_edit(f"{NODE}.deleted", "yes"), f"comment {R1} is not shaped like a Coral comment"),
    (_edit(f"{NODE}.author", "Ann"), f"comment {R1} is not shaped like a Coral comment"),
    (_edit(f"{NODE}.status", "REJECTED"), f"comment {R1} has status REJECTED: not what a reader sees"),
    (_edit(f"{NODE}.replyCount", "2"), f"comment {R1} has no replyCount"),
    (_edit(f"{NODE}.parent", {"id": R2}), f"comment {R1} names a parent that does not match where it is listed"),
    (_edit(f"{NODE}.replies.edges.0.node.parent", None), f"comment {A1} names a parent that does not match"),
    (_edit(f"{NODE}.replies", {"edges": []}), f"the replies of comment {R1} have no edges"),
]


@pytest.mark.parametrize(("mutate", "reason"), HOSTILE)
def test_hostile_answers_are_unrecognised_with_a_reason(mutate: Callable[[Any], Any], reason: str) -> None:
    result = CoralAdapter().parse(_page(mutate(_data("story_first"))))
    assert not result.recognised
    assert reason in result.reason
    assert not CoralAdapter().combine([result]).recognised


@pytest.mark.parametrize(("body", "status", "reason"), [
    (b"<html>maintenance</html>", 200, "the answer is not a GraphQL JSON object"),
    (b"{not json", 200, "Coral answered invalid JSON"),
    (b"[1, 2]", 200, "the answer is not a GraphQL JSON object"),
    (b'{"data": {"settings": {}}}', 200, "not a Coral answer about a story's comments"),
    (b'{"data": {"comment": null}}', 200, "Coral answered comment: null"),
    (json.dumps(_data("story_first")).encode(), 503, "Coral answered HTTP 503"),
])
def test_what_is_not_a_coral_answer_is_unrecognised(body: bytes, status: int, reason: str) -> None:
    result = CoralAdapter().parse(_page(body, status=status))
    assert not result.recognised and reason in result.reason


def test_one_answer_listing_a_comment_twice_with_different_counts_is_unrecognised() -> None:
    doc = _data("story_first")
    edges = doc["data"]["story"]["comments"]["edges"]
    edges.append(copy.deepcopy(edges[0]))
    edges[-1]["node"]["replyCount"] = 5
    result = CoralAdapter().parse(_page(doc))
    assert not result.recognised
    assert result.reason == f"comment {R1} is listed twice with different reply counts"


def test_replies_nested_without_end_are_refused() -> None:
    node: dict[str, Any] = {"edges": [], "pageInfo": {"hasNextPage": False}}
    for depth in range(200):
        node = {"edges": [{"node": {"id": f"c{depth}", "createdAt": "2026-12-02T09:00:00Z", "body": "",
                                    "replyCount": 1, "replies": node}}],
                "pageInfo": {"hasNextPage": False}}
    doc = {"data": {"story": {"id": "s", "commentCounts": {"totalPublished": 200}, "comments": node}}}
    result = CoralAdapter().parse(_page(doc))
    assert not result.recognised and result.reason == "replies nested more than 32 deep"


def test_parents_forming_a_loop_are_unrecognised() -> None:
    def replies_page(owner: str, child: str) -> Any:
        node = {"id": child, "createdAt": "2026-12-02T09:00:00Z", "body": "<p>x</p>", "replyCount": 1,
                "parent": {"id": owner}}
        return {"data": {"comment": {"id": owner, "replies": {"edges": [{"cursor": "c", "node": node}],
                                                              "pageInfo": {"hasNextPage": False}}}}}
    story = {"data": {"story": {"id": "s", "commentCounts": {"totalPublished": 2},
                                "comments": {"edges": [], "pageInfo": {"hasNextPage": False}}}}}
    view = CoralAdapter().combine(_results(story, replies_page(A1, A2), replies_page(A2, A1)))
    assert not view.recognised and view.reason == "the comments' parents form a loop"


def test_a_reply_count_that_changes_between_pages_is_unrecognised() -> None:
    doc = _data("replies_more")
    doc["data"]["comment"]["replies"]["edges"].append(copy.deepcopy(_data("story_more")["data"]["story"][
        "comments"]["edges"][0]["node"]["replies"]["edges"][0]))
    doc["data"]["comment"]["replies"]["edges"][1]["node"]["replyCount"] = 1
    view = CoralAdapter().combine(_results(*_whole()[:2], doc))
    assert not view.recognised
    assert view.reason == f"the thread changed during the capture (comment {T1} had 0, then 1 replies)"


def test_a_comment_listed_under_two_parents_is_unrecognised() -> None:
    doc = _data("replies_more")
    doc["data"]["comment"]["id"] = A1
    node = doc["data"]["comment"]["replies"]["edges"][0]["node"]
    node["id"], node["parent"] = T1, {"id": A1}
    view = CoralAdapter().combine(_results(*_whole(), doc))
    assert not view.recognised and view.reason == f"comment {T1} is listed under two parents"


def test_replies_of_a_comment_the_stream_never_showed_are_unrecognised() -> None:
    doc = _data("replies_more")
    doc["data"]["comment"]["id"] = "0b1c9d2e-0000-4000-8000-00000000dead"
    view = CoralAdapter().combine(_results(_data("story_first"), _data("story_more"), _data("replies_more"), doc))
    assert not view.recognised and "which the stream never showed" in view.reason


def test_answers_about_two_stories_or_only_replies_are_unrecognised() -> None:
    other = _data("story_more")
    other["data"]["story"]["id"] = "0b1c9d2e-0000-4000-8000-000000000bad"
    assert CoralAdapter().combine(_results(*_whole(), other)).reason == \
        "the answers are about 2 different Coral stories"
    assert CoralAdapter().combine(_results(_data("replies_more"))).reason == \
        "no answer listed the story's comments (only replies arrived)"
    assert CoralAdapter().combine([]).reason.startswith("no Coral answer listing comments")
    assert CoralAdapter().combine([PageResult(recognised=True)]).reason == \
        "an answer was not read by the coral adapter"


def test_reads_only_coral_graphql_answers_about_comments() -> None:
    adapter = CoralAdapter()
    first = _data("story_first")
    assert adapter.reads_response(_page(first))
    get_url = API + "?query=&id=5e3f0c&variables=%7B%22storyURL%22%3A%22x%22%7D"   # Coral's GET form
    assert adapter.reads_response(_page(first, url=get_url))
    assert adapter.reads_response(_page(_data("replies_more")))
    assert adapter.reads_response(_page({"data": {"story": None}}))
    assert not adapter.reads_response(_page(first, url="https://coral.example.com/assets/js/stream.js"))
    stream_query = {"data": {"viewer": None, "story": {"id": "s", "commentCounts": {"totalPublished": 3}},
                             "settings": {}}}
    assert not adapter.reads_response(_page(stream_query)), "StreamQuery lists no comments"
    assert not adapter.reads_response(_page({"data": {"settings": {"locale": "en-US"}}}))
    assert not adapter.reads_response(_page(b"<html></html>"))
    assert not adapter.reads_response(_page(b"[]"))
    deep = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert not adapter.reads_response(_page(deep))
    assert not adapter.reads_response(_page(first, url="http://[::1/api/graphql"))
    assert adapter.parse(_page(deep)).reason.startswith("Coral answered invalid JSON: RecursionError")


def test_the_browser_plan_and_the_registry() -> None:
    adapter = get_adapter("coral")
    assert ADAPTERS["coral"] is CoralAdapter and adapter.fetch_mode == "browser"
    plan = adapter.browser_plan("https://news.example.com/2026/12/story/")
    assert plan.url == "https://news.example.com/2026/12/story/"
    assert plan.ready_selector == "#comments-allComments-log" and plan.more_selector == MORE_SELECTOR
    assert 0 < plan.max_clicks <= 100
    with pytest.raises(ValueError, match="coral: this adapter takes no options"):
        CoralAdapter.validate_options({"x": 1})
    article = Page(url="https://news.example.com/a", final_url="https://news.example.com/a", status=200,
                   headers={"content-type": "text/html"},
                   body=b'<div id="coral_thread"></div><script src="/assets/js/embed.js"></script>')
    assert not isinstance(choose_adapter(article), CoralAdapter), "a plain page lacks Coral's comments"


# -- a loopback Coral over real HTTP, asked as its embed asks ---------------------------------

@pytest.fixture(scope="module")
def coral() -> Iterator[CoralServer]:
    with CoralServer(page_size=2, reply_page=1) as server:
        yield server


def _as_the_embed(coral: CoralServer, url: str) -> list[PageResult]:
    """Every answer the embed gets when a reader loads all comments and all replies."""
    adapter = CoralAdapter()
    api = coral.coral_url + "/api/graphql"
    answers = [coral.graphql(FIRST_QUERY, {"storyURL": url})]
    story = answers[0]["data"]["story"]
    connection = story["comments"]
    pending = [connection]
    while connection["pageInfo"]["hasNextPage"]:
        answers.append(coral.graphql(MORE_QUERY, {"storyID": story["id"], "count": 2,
                                                  "cursor": connection["pageInfo"]["endCursor"]}))
        connection = answers[-1]["data"]["story"]["comments"]
        pending.append(connection)
    while pending:
        for edge in pending.pop()["edges"]:
            replies = edge["node"].get("replies")
            if replies and replies["pageInfo"]["hasNextPage"]:
                answers.append(coral.graphql(REPLIES_QUERY, {
                    "commentID": edge["node"]["id"], "count": 999999999,
                    "cursor": replies["pageInfo"]["endCursor"]}))
                pending.append(answers[-1]["data"]["comment"]["replies"])
            if replies:
                pending.append(replies)
    pages = [_page(answer, url=api) for answer in answers]
    assert all(adapter.reads_response(page) for page in pages)
    return [adapter.parse(page) for page in pages]


def test_a_loopback_coral_paged_by_cursor_reads_whole(coral: CoralServer) -> None:
    url = coral.story("/2026/12/paged/", "Paged")
    ann = coral.post(url, "Ann", "<p>One</p>")
    replies = [coral.post(url, name, f"<p>Re {name}</p>", parent=ann) for name in ("Bob", "Cy", "Dee")]
    deep = coral.post(url, "Eve", "<p>Deeper</p>", parent=replies[0])
    others = [coral.post(url, name, f"<p>{name}</p>") for name in ("Fay", "Gus", "Hal", "Ida")]
    results = _as_the_embed(coral, url)
    assert len(results) == 4, "three pages of top-level comments, one of replies"
    view = CoralAdapter().combine(results)
    assert view.recognised, view.reason
    assert {r.key for r in view.comments} == {ann, deep, *replies, *others}
    assert view.claimed_count == 9
    assert [r.key for r in view.comments][:6] == others[::-1] + [ann, replies[0]]


def test_a_loopback_rejection_and_account_deletion(coral: CoralServer) -> None:
    url = coral.story("/2026/12/moderated/", "Moderated")
    ann = coral.post(url, "Ann", "<p>Parent</p>")
    bob = coral.post(url, "Bob", "<p>Reply</p>", parent=ann)
    leaf = coral.post(url, "Ann", "<p>A leaf of Ann's</p>")
    rude = coral.post(url, "Cy", "<p>Rude</p>")
    rude_reply = coral.post(url, "Dee", "<p>Answering the rude one</p>", parent=rude)
    coral.delete_account("Ann")
    coral.reject(bob)
    view = CoralAdapter().combine(_as_the_embed(coral, url))
    assert view.recognised, view.reason
    by_key = {r.key: r for r in view.comments}
    assert set(by_key) == {ann, rude, rude_reply}, "Bob's reply rejected, Ann's leaf rejected with her account"
    assert ann not in {bob} and leaf not in by_key
    coral.reject(rude)
    view = CoralAdapter().combine(_as_the_embed(coral, url))
    # Ann's comment lost its last reply, but a deleted account's comment keeps its status.
    assert view.recognised and {r.key for r in view.comments} == {ann}
    assert by_key[ann].tombstone and view.claimed_count == 2, "Dee's hidden reply is still counted"


def test_a_loopback_persisted_query_as_a_get_reads_like_the_post(coral: CoralServer) -> None:
    """Coral's client sends an anonymous reader's persisted queries as GETs, their id and
    variables in the URL: the adapter reads the answer the same way."""
    url = coral.story("/2026/12/get/", "Get")
    coral.post(url, "Ann", "<p>By GET</p>")
    query = urlencode({"query": "", "id": FIRST_QUERY, "variables": json.dumps({"storyURL": url})})
    get_url = f"{coral.coral_url}/api/graphql?{query}"
    with urlopen(get_url, timeout=10) as answer:
        body = answer.read()
    assert json.loads(body) == coral.graphql(FIRST_QUERY, {"storyURL": url})
    adapter = CoralAdapter()
    page = _page(body, url=get_url)
    assert adapter.reads_response(page)
    view = adapter.combine([adapter.parse(page)])
    assert view.recognised and [r.text for r in view.comments] == ["By GET"]


def test_the_loopback_answers_in_the_fixtures_shapes(coral: CoralServer) -> None:
    """Every field the loopback Coral sends is one the Coral-shaped fixtures have, at the same place
    in some answer."""
    def fields(value: Any, path: str = "") -> set[str]:
        if isinstance(value, dict):
            return {f"{path}.{k}" for k in value} | {f for k, v in value.items() for f in fields(v, f"{path}.{k}")}
        if isinstance(value, list):
            return {f for item in value for f in fields(item, path + "[]")}
        return set()

    url = coral.story("/2026/12/shapes/", "Shapes")
    ann = coral.post(url, "Ann", "<p>One</p>")
    coral.post(url, "Bob", "<p>Two</p>", parent=ann)
    first = coral.graphql(FIRST_QUERY, {"storyURL": url})
    answers = [first, coral.graphql(MORE_QUERY, {"storyID": first["data"]["story"]["id"], "count": 2}),
               coral.graphql(REPLIES_QUERY, {"commentID": ann, "count": 9})]
    def shapes(docs: list[Any]) -> set[str]:
        # A comment's fields are compared wherever the comment is listed.
        return {re.sub(r"^.*edges\[\]\.node", "node", f) for doc in docs for f in fields(doc)}

    assert shapes(answers) <= shapes([_data(n) for n in ("story_first", "story_more", "replies_more")])
