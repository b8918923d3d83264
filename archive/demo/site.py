"""The demo's local WordPress-like site: a small threaded HTTP server on 127.0.0.1.

One server per demo article. It answers for the article's real address (its
pages link there), and the demo's fetcher (archive/demo/simulation.py) sends
the requests for that address here. The capture pipeline fetches from it
exactly as from a real site (robots.txt, conditional GET, the REST look-ups
it makes when a comment goes missing); `set_stage` changes what it shows
next. Every answer carries a header saying it is the demo's, so the
evidence itself says where its bytes came from.
"""
from __future__ import annotations

import hashlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from archive.demo.content import Article, Stage
from archive.demo.pages import MAINTENANCE_PAGE, article_page, rest_comment

_HOST = "127.0.0.1"
DEMO_HEADER = "X-Archive-Demo"
_REST_COMMENT = re.compile(r"^/wp-json/wp/v2/comments/(\d+)/?$")


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1; a context manager that starts and stops it."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self._server = ThreadingHTTPServer((_HOST, 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name=name)

    @property
    def local_origin(self) -> str:
        return f"http://{_HOST}:{self._server.server_port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class DemoSite(LoopbackServer):
    """Serves one article; use as a context manager (starts and stops the server)."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.stage: Stage = article.stage_at(article.published)
        self._lock = threading.Lock()
        super().__init__(_handler_for(self), f"demo-site-{article.post_id}")

    def set_stage(self, stage: Stage) -> None:
        with self._lock:
            self.stage = stage

    def respond(self, path: str, if_none_match: str | None) -> tuple[int, dict[str, str], bytes]:
        """The status, headers and body the site answers for one GET."""
        with self._lock:
            stage = self.stage
        demo = {DEMO_HEADER: f"simulated by the archive's offline demo at {self.local_origin}, "
                             f"not fetched from {self.article.host}"}
        html = {**demo, "Content-Type": "text/html; charset=UTF-8"}
        if path == "/robots.txt":
            return 200, {**demo, "Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /wp-admin/\n"
        match = _REST_COMMENT.match(path)
        if match:
            status, answer = rest_comment(self.article, stage, int(match.group(1)))
            return status, {**demo, "Content-Type": "application/json; charset=UTF-8"}, answer.encode()
        if path.rstrip("/") != self.article.path.rstrip("/"):
            return 404, html, b"<!doctype html><title>Page not found</title><h1>Nothing here</h1>"
        if stage.mode == "maintenance":
            return 503, html, MAINTENANCE_PAGE.encode()
        body = article_page(self.article, stage).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers = {**html, "ETag": etag,
                   "Link": f'<{self.article.origin}/wp-json/>; rel="https://api.w.org/"'}
        if if_none_match == etag:
            return 304, {**demo, "ETag": etag}, b""
        return 200, headers, body


def _handler_for(site: DemoSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "Apache"
        sys_version = ""

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            status, headers, body = site.respond(path, self.headers.get("If-None-Match"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet: the demo prints its own account of what happened."""

    return Handler
