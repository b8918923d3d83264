"""A loopback Coral for tests: an article on one origin, its Coral stream on another.

    with CoralServer() as coral:
        url = coral.story("/2026/12/post/", "A title")     # the article page, embedding the stream
        ann = coral.post(url, "Ann", "<p>First!</p>")       # published (status NONE)
        coral.post(url, "Bob", "<p>Reply</p>", parent=ann)
        coral.edit(ann, "<p>First, edited</p>")             # a new revision, the same id
        coral.reject(ann)                                   # a moderator rejects it
        coral.delete_account("Bob")                         # Coral's account deletion rules
        answer = coral.graphql(FIRST_QUERY, {"storyURL": url})   # what the embed asks

Both origins are real HTTP servers on 127.0.0.1 (free ports). The article
page loads `/assets/js/embed.js` from the Coral origin (tests/fixtures/coral/
embed.js, a minimal stand-in for Coral's embed): it POSTs persisted-query ids
to `/api/graphql` on the Coral origin (with CORS, as Coral does), renders the
comments, and offers "Load More" and "Show All Replies" buttons that ask for
the next page by cursor (`first_answer_delay` holds the first page back, as a
slow Coral does). The GraphQL answers follow Coral's shapes and rules
(see scrapers/coral.py): newest top-level comments first, `page_size` at a
time, replies oldest first, `reply_page` nested per comment, two levels deep;
rejected comments leave every list and `totalPublished`; deleting an account
keeps its comments that have replies as `deleted` tombstones and rejects the
others. `stopped()` takes both origins down for a while (`stopped(site=False)`
only Coral's), then serves them again on the same ports.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

EMBED_JS = Path(__file__).resolve().parent / "fixtures" / "coral" / "embed.js"
PUBLISHED = ("NONE", "APPROVED")
START = datetime(2026, 12, 2, 9, 0, 0)
NESTED_LEVELS = 2


def persisted_id(operation: str) -> str:
    """The persisted-query id of one of the embed's operations (Coral's are hashes too)."""
    return hashlib.md5(operation.encode()).hexdigest()


FIRST_QUERY = persisted_id("AllCommentsTabQuery")
MORE_QUERY = persisted_id("AllCommentsTabContainerPaginationQuery")
REPLIES_QUERY = persisted_id("ReplyListContainer1PaginationQuery")


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Comment:
    id: str
    story: str
    parent: str | None
    author: str | None
    body: str | None
    created: datetime
    status: str = "NONE"
    deleted: bool = False
    children: list[str] = field(default_factory=list)


class CoralServer:
    """Stories, comments and the two HTTP origins serving them."""

    def __init__(self, page_size: int = 2, reply_page: int = 1) -> None:
        self.page_size, self.reply_page = page_size, reply_page
        self.first_answer_delay = 0.0      # seconds before the first page of comments answers
        self.stories: dict[str, tuple[str, str, str]] = {}     # url -> (story id, path, title)
        self.comments: dict[str, Comment] = {}
        self.lock = threading.Lock()
        self.site = self._serve(0, self._site_answer)
        self.coral = self._serve(0, self._coral_answer)

    def __enter__(self) -> CoralServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.site.server_port}"

    @property
    def coral_url(self) -> str:
        return f"http://127.0.0.1:{self.coral.server_port}"

    # -- what a newsroom and its moderators do -------------------------------------------

    def story(self, path: str, title: str) -> str:
        url = self.site_url + path
        self.stories[url] = (str(uuid.uuid4()), path, title)
        return url

    def post(self, story_url: str, author: str, body: str, parent: str | None = None) -> str:
        with self.lock:
            cid = str(uuid.uuid4())
            created = START + timedelta(minutes=len(self.comments))
            self.comments[cid] = Comment(cid, self.stories[story_url][0], parent, author, body, created)
            if parent:
                self.comments[parent].children.append(cid)
            return cid

    def edit(self, cid: str, body: str) -> None:
        """The author edits within Coral's edit window: a new revision, the same id."""
        with self.lock:
            self.comments[cid].body = body

    def reject(self, cid: str) -> None:
        with self.lock:
            self.comments[cid].status = "REJECTED"

    def delete_account(self, author: str) -> None:
        """services/users/delete.ts: comments with replies stay APPROVED, the others are
        REJECTED; then every one loses its author and body and is marked deleted."""
        with self.lock:
            for comment in self.comments.values():
                if comment.author == author:
                    comment.status = "APPROVED" if comment.children else "REJECTED"
                    comment.author, comment.body, comment.deleted = None, None, True

    def graphql(self, query_id: str, variables: dict[str, Any]) -> Any:
        """Ask the Coral origin as the embed does (a POST), for tests without a browser."""
        body = json.dumps({"id": query_id, "query": "", "variables": variables}).encode()
        request = Request(self.coral_url + "/api/graphql", data=body,
                          headers={"Content-Type": "application/json"}, method="POST")
        with urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    @contextlib.contextmanager
    def stopped(self, site: bool = True) -> Iterator[None]:
        """Coral's origin down (connections refused), and the article's too unless `site` is
        False; then up again on the same ports."""
        coral_port, site_port = self.coral.server_port, self.site.server_port
        self._halt(self.coral)
        if site:
            self._halt(self.site)
        try:
            yield
        finally:
            self.coral = self._serve(coral_port, self._coral_answer)
            if site:
                self.site = self._serve(site_port, self._site_answer)

    @staticmethod
    def _halt(server: ThreadingHTTPServer) -> None:
        server.shutdown()
        server.server_close()

    def close(self) -> None:
        self._halt(self.site)
        self._halt(self.coral)

    # -- HTTP ----------------------------------------------------------------------------

    @staticmethod
    def _serve(port: int, answer: Any) -> ThreadingHTTPServer:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._reply(*answer("GET", self.path, b""))

            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
                self._reply(*answer("POST", self.path, self.rfile.read(length)))

            def do_OPTIONS(self) -> None:
                self._reply(204, "text/plain", b"")

            def _reply(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")
                self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def _site_answer(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        url = self.site_url + urlsplit(path).path
        if url not in self.stories:
            return 404, "text/plain", b"not found"
        title = self.stories[url][2]
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
                f"<link rel='canonical' href='{url}'></head><body><article><h1>{title}</h1>"
                "<p>The article's text.</p></article><div id='coral_thread'></div>"
                f"<script src='{self.coral_url}/assets/js/embed.js'></script>"
                f"<script>Coral.createStreamEmbed({{id: 'coral_thread', rootURL: '{self.coral_url}', "
                f"storyURL: '{url}', autoRender: true}});</script></body></html>")
        return 200, "text/html; charset=utf-8", page.encode()

    def _coral_answer(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        parts = urlsplit(path)
        if parts.path == "/assets/js/embed.js":
            script = EMBED_JS.read_text()
            for name, query_id in (("__FIRST__", FIRST_QUERY), ("__MORE__", MORE_QUERY),
                                   ("__REPLIES__", REPLIES_QUERY)):
                script = script.replace(name, query_id)
            return 200, "application/javascript", script.encode()
        if parts.path != "/api/graphql":
            return 404, "text/plain", b"not found"
        try:
            if method == "POST":
                payload = json.loads(body)
            else:   # Coral's GET form of a persisted query: id and variables as parameters
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                payload = {"id": query.get("id"), "variables": json.loads(query.get("variables", "{}"))}
            if payload.get("id") == FIRST_QUERY:
                time.sleep(self.first_answer_delay)
            with self.lock:
                answer = self._execute(payload.get("id"), payload.get("variables") or {})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            answer = {"errors": [{"message": f"bad request: {exc}"}]}
        return 200, "application/json", json.dumps(answer).encode()

    # -- GraphQL, by persisted query -----------------------------------------------------

    def _execute(self, query_id: str | None, variables: dict[str, Any]) -> Any:
        if query_id == FIRST_QUERY:
            story = next((s for u, s in self.stories.items() if u == variables.get("storyURL")), None)
            return {"data": {"viewer": None, "settings": {"featureFlags": [], "flattenReplies": False},
                             "story": self._story(story, None, self.page_size) if story else None}}
        if query_id == MORE_QUERY:
            story = next((s for s in self.stories.values() if s[0] == variables.get("storyID")), None)
            return {"data": {"story": self._story(story, variables.get("cursor"), int(variables["count"]))
                             if story else None}}
        if query_id == REPLIES_QUERY:
            comment = self.comments.get(variables.get("commentID") or "")
            if comment is None or comment.status not in PUBLISHED:
                return {"data": {"comment": None}}
            return {"data": {"comment": {"id": comment.id, "status": comment.status, "pending": False,
                                         "replies": self._replies(comment, variables.get("cursor"),
                                                                  int(variables["count"]),
                                                                  self._depth(comment) + 1)}}}
        return {"errors": [{"message": "Persisted query not found.",
                            "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}], "data": None}

    def _story(self, story: tuple[str, str, str], cursor: str | None, count: int) -> dict[str, Any]:
        story_id, path, title = story
        mine = [c for c in self.comments.values() if c.story == story_id and c.status in PUBLISHED]
        roots = sorted((c for c in mine if c.parent is None), key=lambda c: c.created, reverse=True)
        if cursor:
            roots = [c for c in roots if _time(c.created) < cursor]
        return {"id": story_id, "url": self.site_url + path, "metadata": {"title": title},
                "isClosed": False, "commentCounts": {"totalPublished": len(mine)},
                "comments": self._connection(roots, count, 0)}

    def _depth(self, comment: Comment) -> int:
        depth = 0
        while comment.parent:
            comment, depth = self.comments[comment.parent], depth + 1
        return depth

    def _replies(self, comment: Comment, cursor: str | None, count: int, depth: int) -> dict[str, Any]:
        """One page of a comment's published replies, which are at `depth`."""
        replies = sorted((self.comments[c] for c in comment.children if self.comments[c].status in PUBLISHED),
                         key=lambda c: c.created)
        if cursor:
            replies = [c for c in replies if _time(c.created) > cursor]
        return self._connection(replies, count, depth)

    def _connection(self, comments: list[Comment], count: int, depth: int) -> dict[str, Any]:
        """The first `count` of `comments` (which are at `depth`), as a Relay connection."""
        page = comments[:count]
        edges = [{"cursor": _time(c.created), "node": self._node(c, depth)} for c in page]
        return {"edges": edges, "pageInfo": {"endCursor": edges[-1]["cursor"] if edges else None,
                                             "hasNextPage": len(comments) > count}}

    def _node(self, comment: Comment, depth: int) -> dict[str, Any]:
        parent = self.comments.get(comment.parent or "")
        node: dict[str, Any] = {
            "id": comment.id,
            "author": {"id": "user-" + comment.author.lower(), "username": comment.author}
            if comment.author else None,
            "parent": {"id": parent.id, "author": {"username": parent.author} if parent.author else None}
            if parent else None,
            "body": comment.body, "createdAt": _time(comment.created), "status": comment.status,
            "deleted": True if comment.deleted else None,
            "replyCount": sum(1 for c in comment.children if self.comments[c].status in PUBLISHED),
            "__typename": "Comment"}
        if depth < NESTED_LEVELS:   # Coral nests a few levels, then links to the conversation
            node["replies"] = self._replies(comment, None, self.reply_page, depth + 1)
        return node
