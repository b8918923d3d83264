"""A small Viafoura on loopback: an article page and the public Live Comments API, in the
shapes saved in tests/fixtures/viafoura/ (scrapers/viafoura.py says where they come from).

    def test_something(viafoura: ViafouraServer) -> None:     # a fixture around `serving()`
        root = viafoura.post("Ann", "First!")
        viafoura.post("Bob", "Reply", parent=root)
        viafoura.tombstone(root)           # state "deleted", no content, keeps its replies
        viafoura.remove(some_leaf)         # gone from every answer
        viafoura.hide(other)               # disabled by a moderator: gone until `unhide`
        viafoura.miscount = 2              # total_visible_content lies by 2
        with viafoura.failing(): ...       # the API answers 500 (the article still 200)
        with viafoura.stopped(): ...       # nothing listens on the port

One real HTTP server on 127.0.0.1 (`serving()`; a test module starts one), serving one container:
`article_url` (with its `vf:container_id` meta tag), and under `api_base`
the container lookup, the listing (`page_size` top-level comments a page,
each with at most `inline_replies` of its replies, paged by `starting_from`;
an unknown cursor answers page 1, as the real API does) and the replies of
one thread (paged the same way). `reset()` empties it between tests.
"""
from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SITE = "00000000-0000-4000-8000-8e2c1f4a7b19"
CONTAINER_ID = "26844213"
ARTICLE_PATH = "/news/uk/cafcass-inspection-26844213"
API_PATH = "/v4/livecomments/"
EPOCH = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
NOT_FOUND = "io.vertx.core.impl.NoStackTraceThrowable: Content container not found"


@dataclass
class Stored:
    """One comment as the platform holds it; `state` "disabled" and "gone" are never listed."""
    uuid: str
    parent: str | None
    thread: str | None
    actor: str
    content: str
    created: int
    state: str = "visible"


def comment_object(c: Stored, container: str, replies: int = 0, direct: int = 0) -> dict[str, Any]:
    """A comment as the listing answers it (the fields of the fixtures)."""
    item: dict[str, Any] = {
        "section_uuid": SITE, "content_container_uuid": container,
        "thread_uuid": c.thread or container, "parent_uuid": c.parent or container,
        "content_uuid": c.uuid, "actor_uuid": c.actor, "content": c.content,
        "time": c.created, "date_created": c.created, "state": c.state,
        "total_likes": 0, "total_dislikes": 0, "total_replies": replies, "total_direct_replies": direct,
        "is_edited": False, "is_pinned": False, "is_picked": False, "is_top_comment": False,
        "metadata": {"origin_title": "Cafcass inspection", "origin_url": "https://example.invalid/"},
    }
    if c.state == "deleted":
        del item["content"]
    return item


@dataclass
class ViafouraServer:
    container_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    page_size: int = 3
    inline_replies: int = 2
    miscount: int = 0
    comments: list[Stored] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.broken = False
        self.http: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def article_url(self) -> str:
        return self.base_url + ARTICLE_PATH

    @property
    def api_base(self) -> str:
        return self.base_url + API_PATH

    def start(self) -> None:
        self.http = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True, name="viafoura").start()

    def stop(self) -> None:
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
            self.http = None

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()

    @contextlib.contextmanager
    def failing(self) -> Iterator[None]:
        self.broken = True
        try:
            yield
        finally:
            self.broken = False

    def reset(self) -> None:
        with self.lock:
            self.comments.clear()
            self.container_uuid = str(uuid.uuid4())
            self.miscount, self.broken = 0, False

    def post(self, actor: str, content: str, parent: str | None = None) -> str:
        with self.lock:
            created = int((EPOCH + timedelta(minutes=len(self.comments))).timestamp() * 1000)
            thread = None if parent is None else (self._get(parent).thread or parent)
            stored = Stored(str(uuid.uuid4()), parent, thread, actor, content, created)
            self.comments.append(stored)
            return stored.uuid

    def tombstone(self, key: str) -> None:
        self._set(key, "deleted")

    def remove(self, key: str) -> None:
        self._set(key, "gone")

    def hide(self, key: str) -> None:
        self._set(key, "disabled")

    def unhide(self, key: str) -> None:
        self._set(key, "visible")

    def _set(self, key: str, state: str) -> None:
        with self.lock:
            self._get(key).state = state

    def _get(self, key: str) -> Stored:
        return next(c for c in self.comments if c.uuid == key)

    # What the API answers, computed under the lock from the stored comments.

    def _public(self, c: Stored) -> bool:
        """Visible, or a tombstone that still has visible replies."""
        return c.state == "visible" or (c.state == "deleted" and any(
            r.state == "visible" for r in self.comments if r.thread == c.uuid))

    def _object(self, c: Stored) -> dict[str, Any]:
        in_thread = [r for r in self.comments if r.state == "visible" and r.thread == c.uuid]
        direct = [r for r in in_thread if r.parent == c.uuid]
        return comment_object(c, self.container_uuid, len(in_thread), len(direct))

    def container_answer(self) -> dict[str, Any]:
        visible = sum(1 for c in self.comments if c.state == "visible")
        return {"container_id": CONTAINER_ID, "content_container_uuid": self.container_uuid,
                "section_uuid": SITE, "total_visible_content": visible + self.miscount,
                "total_visible_pinned_content": 0, "total_visible_picked_content": 0,
                "total_visible_top_content": 0, "settings": {"is_hidden": False}}

    def listing(self, limit: int, reply_limit: int, after: str | None) -> dict[str, Any]:
        roots = [c for c in self.comments if c.parent is None and self._public(c)]
        page, more = _page(roots, min(limit, self.page_size), after)
        contents = []
        for root in page:
            contents.append(self._object(root))
            replies = [r for r in self.comments if r.thread == root.uuid and self._public(r)]
            contents.extend(self._object(r) for r in replies[:min(reply_limit, self.inline_replies)])
        return {"contents": contents, "more_available": more}

    def replies(self, thread: str, limit: int, after: str | None) -> dict[str, Any]:
        replies = [r for r in self.comments if r.thread == thread and self._public(r)]
        page, more = _page(replies, min(limit, self.page_size), after)
        return {"contents": [self._object(r) for r in page], "more_available": more}

    def article(self) -> str:
        return ('<!doctype html><html><head><title>Cafcass inspection</title>'
                '<meta property="og:title" content="Cafcass inspection: what the report left out">'
                f'<meta name="vf:container_id" content="{CONTAINER_ID}">'
                '<script src="https://cdn.viafoura.net/entry/index.js" async></script></head>'
                '<body><article><p>Ofsted rated Cafcass outstanding.</p></article>'
                '<div class="viafoura"><vf-conversations limit="15" reply-limit="3"></vf-conversations>'
                '</div></body></html>')


def _page(items: list[Stored], size: int, after: str | None) -> tuple[list[Stored], bool]:
    """One page after the cursor; an unknown cursor gives page 1, as the real API does."""
    keys = [c.uuid for c in items]
    start = keys.index(after) + 1 if after in keys else 0
    return items[start:start + max(size, 1)], start + max(size, 1) < len(items)


def _handler(server: ViafouraServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/robots.txt":
                return self._send(200, "User-agent: *\nAllow: /\n", "text/plain")
            if parts.path == ARTICLE_PATH:
                return self._send(200, server.article(), "text/html; charset=utf-8")
            if not parts.path.startswith(API_PATH):
                return self._send(404, "not found", "text/plain")
            if server.broken:
                return self._send(500, "io.vertx.core.VertxException: internal error", "text/plain")
            with server.lock:
                answer = self._api(parts.path[len(API_PATH):].split("/"), query)
            if answer is None:
                return self._send(404, NOT_FOUND, "text/plain")
            self._send(200, json.dumps(answer), "application/json")

        def _api(self, path: list[str], query: dict[str, str]) -> dict[str, Any] | None:
            limit = int(query.get("limit", "10"))
            if path[0] != SITE:
                return None
            if path[1:] == ["contentcontainer", "id"]:
                return server.container_answer() if query.get("container_id") == CONTAINER_ID else None
            if len(path) < 3 or path[1] != server.container_uuid or path[2] != "comments":
                return None
            if len(path) == 3:
                return server.listing(limit, int(query.get("reply_limit", "2")), query.get("starting_from"))
            return server.replies(path[3], limit, query.get("starting_from"))

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextlib.contextmanager
def serving() -> Iterator[ViafouraServer]:
    """A running server, stopped on the way out (a test module's fixture wraps it)."""
    server = ViafouraServer()
    try:
        yield server
    finally:
        server.stop()
