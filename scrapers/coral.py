"""Coral (the Coral Project's Talk, now run by Vox Media) comment streams, read in a browser.

Coral's embed loads its stream with JavaScript and asks its GraphQL endpoint
(`<coral>/api/graphql`) for the comments, so a capture opens the article in
a browser (`fetch_mode = "browser"`), clicks "Load All Comments" / "Load More"
/ "Show All Replies" while they are there, and this adapter reads the GraphQL
answers the page received. Nothing here fetches; the adapter takes no options.
Coral 4-7 put the stream in an iframe (`/embed/stream`), Coral 8 and later into
the page itself: the browser looks for the stream's elements in every frame.

Sources (read in github.com/coralproject/talk at 9.11.8, July 2026):
- server/src/core/server/graph/schema/schema.graphql: `Query.stream(id, url)`
  and `Query.story` return a `Story` {id, url, metadata {title},
  commentCounts {totalPublished}, comments(first, after, orderBy):
  CommentsConnection}; `Query.comment(id)` a `Comment`. A connection is
  {edges [{node, cursor}], pageInfo {hasNextPage, endCursor}}. A `Comment`
  has id, body (HTML, an alias of revision.body), createdAt, author (User,
  nullable), status (COMMENT_STATUS), parent, replyCount, replies(...),
  deleted, revision.
- client/src/core/client/stream/tabs/Comments/Stream/AllCommentsTab/
  AllCommentsTabQuery.tsx and AllCommentsTabContainer.tsx: the first answer
  is `{"data": {"viewer", "story": {..., "commentCounts", "comments"}, "settings"}}`,
  20 top-level comments (every one when Coral's Redis comment cache serves the
  story: that path ignores `first` and `after`); "Load All Comments" (`#comments-loadAll`) asks
  AllCommentsTabContainerPaginationQuery `story(id) {...same fragment}` for
  99999 more. ReplyList/ReplyListContainer.tsx nests `replies` in each node
  (ascending, 10 at a time, a few levels deep) and "Show All Replies"
  (`.coral-replyList-showAllButton`) asks `comment(id) { id, replies {...} }`.
  CommentContainer.tsx asks each node's `parent { id }`, `deleted`, `status`.
- server/.../app/middleware/graphql/persistedQuery.ts, graph/persisted/ and
  client/.../network/persistedQueriesGetMethodMiddleware.ts: the client sends
  persisted query ids (`{"id": ..., "query": "", "variables": ...}`), as a GET
  with those as URL parameters when the reader is anonymous and the operation
  is not a mutation, else a POST. The adapter sees only the answer (`Page`
  carries no request), so it recognises answers by their shape, whatever the method.
- server/.../models/comment/constants.ts, counts/counts.ts, resolvers/
  CommentCounts.ts: `totalPublished` is the story's count of comments whose
  status is NONE or APPROVED, replies at every depth included (stacks/helpers/
  updateAllCommentCounts.ts counts every comment's status change). Coral's
  tracker confirms the consequence: issue #4749 (9.5.3) found the count
  including approved replies under a rejected comment, and PR #4757's
  `totalPublishedAndVisible` fixing it was reverted (55dbac6a2d, March 2025).
- graph/loaders/Comments.ts, models/comment/comment.ts, data/cache/
  commentCache.ts: the story's connection lists published top-level comments,
  `replies` published direct replies; a rejected comment leaves both, and so
  do its replies (they stay published, so `totalPublished` keeps counting
  them). resolvers/Comment.ts: `replyCount` counts published direct replies;
  `deleted` is `!!deletedAt`; `author` is null without an author id; `body`
  is null without revisions.
- services/users/delete.ts: deleting an account sets the author's comments
  that have replies to APPROVED and the others to REJECTED, then clears
  `authorID`, `revisions` and sets `deletedAt`. So a deleted account's comment
  with replies stays in the stream as `deleted: true, body: null, author:
  null` (the client shows "This comment is no longer available. The commenter
  has deleted their account."): a tombstone here; one without replies is
  gone, exactly like a rejected comment.

What a capture must show to be complete (`join`): answers about one story
only, one `totalPublished` in all of them (else the thread changed during
the capture), a page that ends (`hasNextPage: false`) every connection the
stream opened, and for every comment exactly `replyCount` comments naming it
as their parent. More comments than `totalPublished` is unrecognised. Fewer
is not by itself: the published replies of a rejected comment are counted
but never shown, so the shortfall is handed on as `claimed_count` and the
core's count rule (archive/rules/assess.py), which knows which absent
comments lost their parent, decides whether known comments vanishing is believable.

Not confirmed (no live Coral answer was available offline): the exact field
set of the compiled persisted queries (the fixtures follow the fragments
above, with the `cursor`, `pageInfo` and `__typename` Relay adds to a
connection), `#comments-allComments-log` as the stream's ready mark in a live
page (AllCommentsTabContainer.tsx renders it once the comments' answer is in,
inside the "All Comments" tab pane `.coral-allComments`), and how long a live
stream takes to settle. Known limits: a stream that opens on its
"Featured" tab (Coral does when a story has featured comments) never asks for
all comments, and replies deeper than Coral nests them (a "Read more of this
conversation" link) are not loaded: both leave the capture failed or
unrecognised, never a removal.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapers.base import Adapter, BrowserPlan, CommentRecord, Page, PageResult, ThreadView
from scrapers.text import fragment_text, parse_iso_utc

PUBLISHED_STATUSES = frozenset({"NONE", "APPROVED"})
GRAPHQL_PATH = "/api/graphql"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
# Coral nests replies a handful of levels deep; anything far deeper is hostile.
MAX_NESTING = 32
MAX_ERROR_TEXT = 200
# Rendered once the comments' answer is in (the tab pane itself shows earlier, with a spinner).
READY_SELECTOR = "#comments-allComments-log"
MORE_SELECTOR = "#comments-loadAll, #comments-loadMore, .coral-replyList-showAllButton"


class _Unreadable(Exception):
    """An answer that is not what Coral sends; the message is the reason."""


@dataclass(frozen=True)
class Connection:
    """One page of one comment list: the story's own (owner None) or a comment's replies."""
    owner: str | None
    has_next: bool


@dataclass
class CoralPage(PageResult):
    """A page result that also says which lists it holds and what Coral counts."""
    story_id: str | None = None           # set on answers about the story itself
    replies_of: str | None = None         # set on `comment(id) { replies }` answers
    connections: list[Connection] = field(default_factory=list)
    reply_counts: dict[str, int] = field(default_factory=dict)


def _answer(page: Page) -> Any:
    if page.body.lstrip()[:1] != b"{":
        raise _Unreadable("the answer is not a GraphQL JSON object")
    try:
        return json.loads(page.body)
    except (ValueError, RecursionError) as exc:
        raise _Unreadable(f"Coral answered invalid JSON: {type(exc).__name__}: {exc}") from None


def _is_graphql(page: Page) -> bool:
    path = urlsplit(page.final_url or page.url).path.rstrip("/")
    return path.endswith(GRAPHQL_PATH)


def _errors(answer: dict[str, Any]) -> str:
    """Coral's GraphQL errors in one line, or "" when there are none."""
    errors = answer.get("errors")
    if errors is None:
        return ""
    if not isinstance(errors, list) or not errors:
        return "Coral answered a malformed errors field"
    messages = []
    for error in errors[:3]:
        message = error.get("message") if isinstance(error, dict) else None
        messages.append(" ".join(str(message).split())[:MAX_ERROR_TEXT] if message else "no message")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "Coral answered errors: " + "; ".join(messages) + more


def _comment_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise _Unreadable(f"{what} has no usable id")
    return value


class CoralAdapter(Adapter):
    """Every published comment and deleted-account tombstone of one Coral story."""

    name = "coral"
    label = "Coral (The Coral Project, in a browser)"
    fetch_mode = "browser"

    def browser_plan(self, thread_url: str) -> BrowserPlan:
        return BrowserPlan(url=thread_url, ready_selector=READY_SELECTOR,
                           more_selector=MORE_SELECTOR, max_clicks=50)

    def reads_response(self, page: Page) -> bool:
        """Coral GraphQL answers about a story's comments or a comment's replies, and GraphQL
        errors (a failed stream must make the capture suspect, never pass unseen). Never raises."""
        try:
            answer = _answer(page) if _is_graphql(page) else None
        except (_Unreadable, ValueError):   # ValueError: a URL urlsplit cannot read
            return False
        if not isinstance(answer, dict):
            return False
        if "errors" in answer:
            return True
        data = answer.get("data")
        if not isinstance(data, dict):
            return False
        story, comment = data.get("story"), data.get("comment")
        return ((isinstance(story, dict) and "comments" in story) or ("story" in data and story is None)
                or (isinstance(comment, dict) and "replies" in comment))

    def read(self, page: Page) -> PageResult:
        try:
            return self._read(page)
        except _Unreadable as exc:
            return PageResult(recognised=False, reason=str(exc))

    def _read(self, page: Page) -> CoralPage:
        if not 200 <= page.status < 300:
            raise _Unreadable(f"Coral answered HTTP {page.status}")
        answer = _answer(page)
        if not isinstance(answer, dict):
            raise _Unreadable("the answer is not a GraphQL JSON object")
        problem = _errors(answer)
        if problem:
            raise _Unreadable(problem)
        data = answer.get("data")
        if not isinstance(data, dict):
            raise _Unreadable("Coral's answer has no data")
        result = CoralPage(recognised=True)
        if "story" in data:
            story = data["story"]
            if not isinstance(story, dict):
                raise _Unreadable("Coral answered story: null (it does not know this story)")
            result.story_id = _comment_id(story.get("id"), "the story")
            counts = story.get("commentCounts")
            total = counts.get("totalPublished") if isinstance(counts, dict) else None
            if not isinstance(total, int) or isinstance(total, bool) or total < 0:
                raise _Unreadable("Coral's story has no commentCounts.totalPublished")
            result.claimed_count, result.platform_id = total, result.story_id
            metadata = story.get("metadata")
            title = metadata.get("title") if isinstance(metadata, dict) else None
            result.title = title.strip() if isinstance(title, str) else ""
            self._walk(story.get("comments"), None, 0, result)
        elif "comment" in data:
            comment = data["comment"]
            if not isinstance(comment, dict):
                raise _Unreadable("Coral answered comment: null (the comment is gone or hidden)")
            owner = _comment_id(comment.get("id"), "the comment whose replies were asked for")
            result.replies_of = owner
            self._walk(comment.get("replies"), owner, 0, result)
        else:
            raise _Unreadable("not a Coral answer about a story's comments")
        return result

    def _walk(self, connection: Any, owner: str | None, depth: int, out: CoralPage) -> None:
        """Append one connection's comments (and the replies nested in them) to `out`."""
        where = "the story's comments" if owner is None else f"the replies of comment {owner}"
        if depth > MAX_NESTING:
            raise _Unreadable(f"replies nested more than {MAX_NESTING} deep")
        if not isinstance(connection, dict):
            raise _Unreadable(f"{where} are missing")
        edges, info = connection.get("edges"), connection.get("pageInfo")
        has_next = info.get("hasNextPage") if isinstance(info, dict) else None
        if not isinstance(edges, list) or not isinstance(has_next, bool):
            raise _Unreadable(f"{where} have no edges or pageInfo.hasNextPage")
        out.connections.append(Connection(owner, has_next))
        for edge in edges:
            node = edge.get("node") if isinstance(edge, dict) else None
            if not isinstance(node, dict):
                raise _Unreadable(f"an edge of {where} has no comment")
            record = self._record(node, owner, len(out.comments))
            count = node.get("replyCount")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise _Unreadable(f"comment {record.key} has no replyCount")
            out.comments.append(record)
            if out.reply_counts.setdefault(record.key, count) != count:
                raise _Unreadable(f"comment {record.key} is listed twice with different reply counts")
            if node.get("replies") is not None:
                self._walk(node["replies"], record.key, depth + 1, out)

    @staticmethod
    def _record(node: dict[str, Any], owner: str | None, position: int) -> CommentRecord:
        key = _comment_id(node.get("id"), f"a comment at position {position}")
        status = node.get("status")
        if status is not None and status not in PUBLISHED_STATUSES:
            raise _Unreadable(f"comment {key} has status {str(status)[:40]}: not what a reader sees")
        posted_at = parse_iso_utc(node.get("createdAt") if isinstance(node.get("createdAt"), str) else None)
        body, deleted, author = node.get("body"), node.get("deleted"), node.get("author")
        if (posted_at is None or not (body is None or isinstance(body, str))
                or not (deleted is None or isinstance(deleted, bool))
                or not (author is None or isinstance(author, dict))):
            raise _Unreadable(f"comment {key} is not shaped like a Coral comment")
        parent_key = owner
        if "parent" in node:
            parent = node["parent"]
            if (parent is None) != (owner is None):
                raise _Unreadable(f"comment {key} names a parent that does not match where it is listed")
            if parent is not None:
                parent_key = _comment_id(parent.get("id") if isinstance(parent, dict) else None,
                                         f"the parent of comment {key}")
        if deleted:
            return CommentRecord(key=key, author="", text="", posted_at=posted_at,
                                 parent_key=parent_key, position=position, tombstone=True)
        username = author.get("username") if author else None
        html = body or ""
        return CommentRecord(key=key, author=username if isinstance(username, str) else "",
                             text=fragment_text(html) if html else "", html=html, posted_at=posted_at,
                             parent_key=parent_key, position=position)

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        problem = _incomplete(results)
        if problem:
            return _unrecognised(problem)
        pages = [r for r in results if isinstance(r, CoralPage)]
        stories = [p for p in pages if p.story_id is not None]
        merged: dict[str, CommentRecord] = {}
        reply_counts: dict[str, int] = {}
        for page in pages:
            for record in page.comments:
                first = merged.setdefault(record.key, record)
                if first.parent_key != record.parent_key:
                    return _unrecognised(f"comment {record.key} is listed under two parents")
            for key, count in page.reply_counts.items():
                if reply_counts.setdefault(key, count) != count:
                    return _unrecognised(f"the thread changed during the capture (comment {key} had "
                                         f"{reply_counts[key]}, then {count} replies)")
        problem = _counts_problem(pages, merged, reply_counts, stories[0].claimed_count or 0)
        if problem:
            return _unrecognised(problem)
        ordered = _reading_order(merged)
        if len(ordered) != len(merged):   # every parent is in `merged`, yet none leads to a root
            return _unrecognised("the comments' parents form a loop")
        return ThreadView(recognised=True, reason="", comments=ordered, coverage="complete",
                          title=next((p.title for p in stories if p.title), ""),
                          claimed_count=stories[0].claimed_count, platform_id=stories[0].story_id)


def _unrecognised(reason: str) -> ThreadView:
    return ThreadView(recognised=False, reason=reason, comments=[], coverage="none")


def _incomplete(results: Sequence[PageResult]) -> str:
    """Why these answers cannot make one whole stream, or ""."""
    if not results:
        return "no Coral answer listing comments was received (did the stream load?)"
    reasons = list(dict.fromkeys(r.reason or "unrecognised answer" for r in results if not r.recognised))
    if reasons:
        return "; ".join(reasons[:3])
    if not all(isinstance(r, CoralPage) for r in results):
        return "an answer was not read by the coral adapter"
    pages = [r for r in results if isinstance(r, CoralPage)]
    stories = {p.story_id for p in pages if p.story_id is not None}
    if not stories:
        return "no answer listed the story's comments (only replies arrived)"
    if len(stories) > 1:
        return f"the answers are about {len(stories)} different Coral stories"
    counts = list(dict.fromkeys(p.claimed_count for p in pages if p.story_id is not None))
    if len(counts) > 1:
        return f"the thread changed during the capture (Coral counted {counts[0]}, then {counts[-1]})"
    opened = {c.owner for p in pages for c in p.connections}
    ended = {c.owner for p in pages for c in p.connections if not c.has_next}
    if None in opened - ended:
        return "the stream has more comments than the capture loaded (no answer ended Coral's list)"
    unended = sorted(str(owner) for owner in opened - ended)
    if unended:
        return f"the replies of comment {unended[0]} were not all loaded"
    return ""


def _counts_problem(pages: Sequence[CoralPage], merged: dict[str, CommentRecord],
                    reply_counts: dict[str, int], total: int) -> str:
    """Whether what was seen contradicts Coral's own counts; "" when it does not."""
    for page in pages:
        if page.replies_of is not None and page.replies_of not in merged:
            return f"Coral answered replies of comment {page.replies_of}, which the stream never showed"
    children: dict[str, int] = {}
    for record in merged.values():
        if record.parent_key is not None:
            children[record.parent_key] = children.get(record.parent_key, 0) + 1
    for key in merged:
        seen, counted = children.get(key, 0), reply_counts[key]
        if seen != counted:
            return f"comment {key} has {counted} replies by Coral's count, the capture saw {seen}"
    if len(merged) > total:
        return f"the capture saw {len(merged)} comments but Coral counts only {total}"
    return ""


def _reading_order(merged: dict[str, CommentRecord]) -> list[CommentRecord]:
    """Top-level comments in the stream's order, each followed by its replies, depth first."""
    children: dict[str | None, list[CommentRecord]] = {}
    for record in merged.values():
        parent = record.parent_key if record.parent_key in merged else None
        children.setdefault(parent, []).append(record)
    ordered: list[CommentRecord] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        record = stack.pop()
        ordered.append(dataclasses.replace(record, position=len(ordered)))
        stack.extend(reversed(children.get(record.key, [])))
    return ordered
