"""A fake Disqus on loopback, answering over real HTTP as Disqus's public side does.

    with DisqusServer(page_size=3) as disqus:
        thread = disqus.add_thread("localnews", "story-1", "/2026/12/story/", "A story")
        first = disqus.post(thread, "Ann", "<p>First!</p>")
        disqus.post(thread, "Bob", "<p>Reply</p>", parent=first)
        disqus.delete(first)           # has a reply: listed as a deleted placeholder
        with disqus.failing("api"):    # the API answers 503 for a while
            ...

It serves, on one address:

- the article `<path>` with Disqus's universal embed code (`disqus_config` naming
  the page's url and identifier, `embed.js` from `<forum>.disqus.com`);
- the embed page `/embed/comments/?base=default&f=<forum>&t_i=<identifier>&t_u=<url>`
  with `<script type="text/json" id="disqus-threadData">` (the thread, its `posts`
  count, the first `page_size` posts, a cursor);
- `/api/3.0/threads/listPostsThreaded?thread=<id>&cursor=<page>:0:0&api_key=<key>&...`
  with the next pages (`{"code": 0, "cursor": {...}, "response": [...]}`); a wrong or
  missing key answers 400 `{"code": 5, "response": "Invalid API key"}`, as Disqus does.

Posts are listed threaded (each top-level post, then its replies, oldest first).
A deleted post stays listed while it has listed replies (`isDeleted: true`, empty
message, anonymous author), and disappears otherwise; held posts (`isApproved: false`)
are neither listed nor counted; the thread's `posts` counts the listed posts that are
not deleted. The JSON shapes follow what scrapers/disqus.py's docstring cites;
tests/fixtures/make_disqus_fixtures.py saves the fixtures from this server.
"""
from __future__ import annotations

import contextlib
import html
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_KEY = "loopbackPublicKey0123456789"
FIRST_POST_ID = 5256177490
FIRST_THREAD_ID = 6467564608
START = datetime(2026, 12, 1, 9, 0, 0)
AVATAR = "//a.disquscdn.com/1611874952/images/noavatar92.png"


@dataclass
class FakePost:
    id: int
    thread: FakeThread
    author: str
    html: str
    created: datetime
    parent: int | None = None
    deleted: bool = False
    approved: bool = True
    likes: int = 0


@dataclass
class FakeThread:
    id: int
    forum: str
    identifier: str
    path: str
    title: str
    posts: list[FakePost] = field(default_factory=list)

    def listed(self) -> list[FakePost]:
        """What the public sees, threaded: each post, then its replies, oldest first."""
        children: dict[int | None, list[FakePost]] = {}
        for post in self.posts:
            if post.approved:
                children.setdefault(post.parent, []).append(post)

        def walk(parent: int | None) -> list[FakePost]:
            out: list[FakePost] = []
            for post in children.get(parent, []):
                below = walk(post.id)
                if not post.deleted or below:
                    out += [post, *below]
            return out
        return walk(None)

    def count(self) -> int:
        return sum(1 for post in self.listed() if not post.deleted)


def post_json(post: FakePost, depth: int = 0) -> dict[str, Any]:
    """One post as Disqus's public API and thread data show it."""
    slug = post.author.lower().replace(" ", "_")
    author: dict[str, Any] = {
        "username": slug, "about": "", "name": post.author, "url": "",
        "profileUrl": f"https://disqus.com/by/{slug}/", "isAnonymous": False, "isPrivate": False,
        "signedUrl": "", "joinedAt": "2019-03-02T10:11:12", "id": str(900000 + post.id % 1000),
        "avatar": {"permalink": AVATAR, "cache": AVATAR}}
    if post.deleted:
        author = {"name": "", "url": "", "profileUrl": "", "isAnonymous": True, "signedUrl": "",
                  "avatar": {"permalink": AVATAR, "cache": AVATAR}}
    raw = "" if post.deleted else " ".join(html.unescape(re.sub(r"<[^>]+>", " ", post.html)).split())
    return {
        "editableUntil": (post.created + timedelta(days=7)).isoformat(), "dislikes": 0,
        "thread": str(post.thread.id), "numReports": 0, "likes": post.likes,
        "message": "" if post.deleted else post.html, "id": str(post.id),
        "createdAt": post.created.isoformat(), "author": author, "media": [], "isSpam": False,
        "isDeletedByAuthor": False, "isHighlighted": False, "parent": post.parent,
        "isApproved": post.approved, "isDeleted": post.deleted, "isFlagged": False,
        "raw_message": raw, "isAtFlagLimit": False, "canVote": False, "forum": post.thread.forum,
        "url": f"https://news.example{post.thread.path}#comment-{post.id}", "points": post.likes,
        "moderationLabels": [], "isEdited": False, "sb": False, "depth": depth, "hasMore": False}


def thread_json(thread: FakeThread, link: str) -> dict[str, Any]:
    return {
        "feed": f"https://{thread.forum}.disqus.com/{thread.identifier}/latest.rss",
        "clean_title": thread.title, "dislikes": 0, "likes": 0, "message": "", "ratingsEnabled": False,
        "isSpam": False, "isDeleted": False, "category": "3375237", "adsDisabled": False,
        "author": "17736500", "userScore": 0, "id": str(thread.id), "signedLink": "",
        "createdAt": START.isoformat(), "hasStreaming": False, "raw_message": "", "isClosed": False,
        "link": link, "slug": thread.identifier.replace("-", "_"), "forum": thread.forum,
        "identifiers": [thread.identifier], "posts": thread.count(), "userSubscription": False,
        "validateAllPosts": False, "title": thread.title, "highlightedPost": None}


def cursor_json(page: int, has_next: bool, total: int | None) -> dict[str, Any]:
    return {"prev": f"{page - 1}:0:0" if page else None, "hasNext": has_next,
            "next": f"{page + 1}:0:0", "hasPrev": page > 0, "total": total, "id": f"{page}:0:0",
            "more": has_next}


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element (no "</script>" can close it early)."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def article_html(thread: FakeThread, page_url: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{thread.title}</title></head>
<body><article><h1>{thread.title}</h1><p>Story text.</p></article>
<div id="disqus_thread"></div>
<script>
var disqus_config = function () {{
this.page.url = '{page_url}';
this.page.identifier = '{thread.identifier}';
}};
(function() {{
var d = document, s = d.createElement('script');
s.src = 'https://{thread.forum}.disqus.com/embed.js';
s.setAttribute('data-timestamp', +new Date());
(d.head || d.body).appendChild(s);
}})();
</script>
<noscript>Please enable JavaScript to view the
<a href="https://disqus.com/?ref_noscript">comments powered by Disqus.</a></noscript>
</body></html>
"""


def embed_html(data: dict[str, Any]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\"><head><meta charset=\"utf-8\">"
            "<title>Disqus Comments</title></head><body>\n<div id=\"layout\" role=\"main\"></div>\n"
            f"<script type=\"text/json\" id=\"disqus-threadData\">{script_json(data)}</script>\n"
            "<script src=\"https://c.disquscdn.com/next/embed/lounge.bundle.js\"></script>\n"
            "</body></html>\n")


class DisqusServer:
    """See the module docstring."""

    def __init__(self, page_size: int = 3, api_key: str = API_KEY) -> None:
        self.page_size, self.api_key = page_size, api_key
        self.threads: list[FakeThread] = []
        self.requests: list[str] = []
        self._down: set[str] = set()
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()

    def __enter__(self) -> DisqusServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def add_thread(self, forum: str, identifier: str, path: str, title: str) -> FakeThread:
        with self._lock:
            thread = FakeThread(FIRST_THREAD_ID + len(self.threads), forum, identifier, path, title)
            self.threads.append(thread)
            return thread

    def post(self, thread: FakeThread, author: str, html: str, parent: int | None = None,
             approved: bool = True) -> int:
        with self._lock:
            count = sum(len(t.posts) for t in self.threads)
            post = FakePost(FIRST_POST_ID + count, thread, author, html, START + timedelta(minutes=count),
                            parent, approved=approved)
            thread.posts.append(post)
            return post.id

    def delete(self, post_id: int) -> None:
        with self._lock:
            self._find(post_id).deleted = True

    def edit(self, post_id: int, html: str) -> None:
        with self._lock:
            self._find(post_id).html = html

    def api_requests(self) -> list[str]:
        return [r for r in self.requests if "/api/3.0/" in r]

    @contextlib.contextmanager
    def failing(self, what: str = "all") -> Iterator[None]:
        """Answer 503 to the API ("api") or to everything ("all") inside the block."""
        self._down.add(what)
        try:
            yield
        finally:
            self._down.discard(what)

    def _find(self, post_id: int) -> FakePost:
        return next(p for t in self.threads for p in t.posts if p.id == post_id)

    def answer(self, target: str) -> tuple[int, str, str]:
        """(status, content type, body) for one request target."""
        with self._lock:
            self.requests.append(target)
            parts = urlsplit(target)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            is_api = parts.path.startswith("/api/")
            if "all" in self._down or (is_api and "api" in self._down):
                return 503, "text/plain", "Service Unavailable"
            if is_api:
                return self._api(parts.path, query)
            if parts.path == "/embed/comments/":
                return self._embed(query)
            thread = next((t for t in self.threads if t.path == parts.path), None)
            if thread is None:
                return 404, "text/plain", "not found"
            return 200, "text/html; charset=utf-8", article_html(thread, self.url(thread.path))

    def _page(self, thread: FakeThread, page: int) -> tuple[list[dict[str, Any]], bool]:
        listed = thread.listed()
        depth: dict[int, int] = {}
        for post in listed:
            depth[post.id] = 0 if post.parent is None else depth.get(post.parent, 0) + 1
        chunk = listed[page * self.page_size:(page + 1) * self.page_size]
        return [post_json(p, depth[p.id]) for p in chunk], len(listed) > (page + 1) * self.page_size

    def _embed(self, query: dict[str, str]) -> tuple[int, str, str]:
        forum, ident, link = query.get("f"), query.get("t_i"), query.get("t_u", "")
        thread = next((t for t in self.threads if t.forum == forum and t.identifier == ident), None)
        if thread is None:
            return 200, "text/html; charset=utf-8", embed_html({"code": 2, "response": "Unable to find thread"})
        posts, more = self._page(thread, 0)
        data = {"code": 0, "cursor": cursor_json(0, more, thread.count()),
                "response": {"thread": thread_json(thread, link), "posts": posts, "order": "popular",
                             "lastModified": int(max([START, *(p.created for p in thread.posts)])
                                                 .replace(tzinfo=UTC).timestamp())}}
        return 200, "text/html; charset=utf-8", embed_html(data)

    def _api(self, path: str, query: dict[str, str]) -> tuple[int, str, str]:
        if path.rstrip("/") not in ("/api/3.0/threads/listPostsThreaded",
                                    "/api/3.0/threads/listPostsThreaded.json"):
            return 404, "application/json", json.dumps({"code": 1, "response": "Resource not found"})
        if query.get("api_key") != self.api_key:
            return 400, "application/json", json.dumps({"code": 5, "response": "Invalid API key"})
        thread = next((t for t in self.threads if str(t.id) == query.get("thread")), None)
        cursor = query.get("cursor", "0:0:0").split(":")[0]
        if thread is None or not cursor.isdigit():
            return 400, "application/json", json.dumps({"code": 2, "response": "Invalid argument"})
        posts, more = self._page(thread, int(cursor))
        data = {"cursor": cursor_json(int(cursor), more, None), "code": 0, "response": posts}
        return 200, "application/json; charset=utf-8", json.dumps(data)


def _handler(server: DisqusServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            status, content_type, body = server.answer(self.path)
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
            pass
    return Handler
