"""A real HTTP server on 127.0.0.1 whose answers tests set while it runs.

Use the `local_server` fixture (registered in tests/conftest.py), or
`with LocalServer() as server:` outside pytest. It listens on a free port of
127.0.0.1 in a background thread, speaks HTTP/1.1 with keep-alive, serves
GET, HEAD and POST (a POST gets the path's answer like a GET; its body is
recorded), and answers 404 for paths it has no answer for.

Setting answers (a path is matched with its query string first, then without):

    server.route("/article", "<html>...</html>")        # the standing answer (str or bytes)
    server.route("/feed", body, status=200, headers={"X-A": "1"},
                 content_type="application/rss+xml",
                 etag='"v1"', last_modified="Wed, 01 Jan 2025 00:00:00 GMT",
                 delay=0.0,             # seconds before the status line is sent
                 meet=None,             # a threading.Barrier: answer only once as many
                                        # requests wait at it as it has parties (a 504
                                        # when it breaks): proof they were in flight at once
                 drip=None, chunk=1,    # send the body `chunk` bytes at a time, `drip` s apart
                 gzip=False,            # gzip the body, with Content-Encoding: gzip
                 header_lines=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
                                       # sent after `headers`, in order, names may repeat
    server.push("/article", "busy", status=503, headers={"Retry-After": "3"})
                                       # one-off answers, served first-in first-out
                                       # before the standing one (same arguments)
    server.redirect("/old", "/new", status=301)    # Location may be relative or absolute
    server.robots("User-agent: *\\nDisallow: /private\\n")
    server.remove("/article")           # back to 404

With `etag` or `last_modified`, a request whose If-None-Match contains the
ETag, or whose If-Modified-Since equals the date, gets a 304 with no body.

URLs: `server.url("/article")` -> "http://127.0.0.1:PORT/article";
`server.url("/a", host="localhost")` spells the host differently (the
private-address guard must refuse it). `server.base_url`, `.host`, `.port`.

Inspecting what arrived (every request is recorded, in order):

    server.requests                     # list of Recorded(method, path, headers, at, body);
                                        # `at` is time.monotonic() on arrival, `body` a POST's
    server.requests_for("/article")     # those for one path (query string included if given)
    server.count("/article")            # how many
    server.last("/article").header("user-agent")   # header names are case-insensitive
    server.clear_requests()
    server.peak_in_flight()             # most requests waiting for their answer at once
                                        # (from arrival until the answer starts; use `delay`)
    server.peak_in_flight("localhost")  # ... for one host name (the Host header, port ignored)

`LocalServer(ssl_context=context)` serves HTTPS instead (`url()` then says
https). `server.close()` stops it (the fixture does). Connections still dripping
or delayed are cut when the client goes away; nothing blocks shutdown.
"""
from __future__ import annotations

import gzip as gzip_module
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest


@dataclass(frozen=True)
class Answer:
    """One answer the server gives for a path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float | None = None
    chunk: int = 1
    etag: str | None = None
    last_modified: str | None = None
    meet: threading.Barrier | None = None
    lines: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    at: float = 0.0  # time.monotonic() when the request had arrived (headers read)
    body: bytes = b""  # a POST's body

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _answer(body: bytes | str, status: int, headers: dict[str, str] | None, content_type: str,
            delay: float, drip: float | None, chunk: int, etag: str | None,
            last_modified: str | None, gzip: bool, meet: threading.Barrier | None,
            lines: Sequence[tuple[str, str]]) -> Answer:
    data = body.encode("utf-8") if isinstance(body, str) else body
    all_headers = {"Content-Type": content_type}
    if gzip:
        data = gzip_module.compress(data)
        all_headers["Content-Encoding"] = "gzip"
    all_headers.update(headers or {})
    return Answer(data, status, all_headers, delay, drip, max(1, chunk), etag, last_modified, meet,
                  tuple(lines))


class LocalServer:
    """See the module docstring."""

    host = "127.0.0.1"

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._lock = threading.Lock()
        self._standing: dict[str, Answer] = {}
        self._queued: dict[str, deque[Answer]] = {}
        self._requests: list[Recorded] = []
        self._in_flight: dict[str, int] = {}
        self._peaks: dict[str, int] = {}
        self._server = ThreadingHTTPServer((self.host, 0), _make_handler(self))
        self._server.daemon_threads = True
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if ssl_context is not None else "http"
        self.port = int(self._server.server_address[1])
        self.base_url = f"{self.scheme}://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def route(self, path: str, body: bytes | str = b"", *, status: int = 200,
              headers: dict[str, str] | None = None,
              content_type: str = "text/html; charset=utf-8", delay: float = 0.0,
              drip: float | None = None, chunk: int = 1, etag: str | None = None,
              last_modified: str | None = None, gzip: bool = False,
              meet: threading.Barrier | None = None,
              header_lines: Sequence[tuple[str, str]] = ()) -> None:
        answer = _answer(body, status, headers, content_type, delay, drip, chunk, etag,
                         last_modified, gzip, meet, header_lines)
        with self._lock:
            self._standing[path] = answer

    def push(self, path: str, body: bytes | str = b"", *, status: int = 200,
             headers: dict[str, str] | None = None,
             content_type: str = "text/html; charset=utf-8", delay: float = 0.0,
             drip: float | None = None, chunk: int = 1, etag: str | None = None,
             last_modified: str | None = None, gzip: bool = False,
             meet: threading.Barrier | None = None,
             header_lines: Sequence[tuple[str, str]] = ()) -> None:
        answer = _answer(body, status, headers, content_type, delay, drip, chunk, etag,
                         last_modified, gzip, meet, header_lines)
        with self._lock:
            self._queued.setdefault(path, deque()).append(answer)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.route(path, b"", status=status, headers={"Location": location})

    def robots(self, text: str) -> None:
        self.route("/robots.txt", text, content_type="text/plain; charset=utf-8")

    def remove(self, path: str) -> None:
        with self._lock:
            self._standing.pop(path, None)
            self._queued.pop(path, None)

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[Recorded]:
        with_query = "?" in path
        return [r for r in self.requests
                if (r.path if with_query else urlsplit(r.path).path) == path]

    def count(self, path: str) -> int:
        return len(self.requests_for(path))

    def last(self, path: str) -> Recorded:
        found = self.requests_for(path)
        if not found:
            raise AssertionError(f"no request for {path}")
        return found[-1]

    def peak_in_flight(self, host: str | None = None) -> int:
        with self._lock:
            return self._peaks.get(host or "", 0)

    def _enter(self, host: str) -> None:
        with self._lock:
            for key in (host, ""):
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
                self._peaks[key] = max(self._peaks.get(key, 0), self._in_flight[key])

    def _leave(self, host: str) -> None:
        with self._lock:
            for key in (host, ""):
                self._in_flight[key] -= 1

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _take(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Answer | None:
        """Record a request and choose its answer."""
        with self._lock:
            self._requests.append(Recorded(method, path, headers, time.monotonic(), body))
            for key in (path, urlsplit(path).path):
                queue = self._queued.get(key)
                if queue:
                    return queue.popleft()
                if key in self._standing:
                    return self._standing[key]
        return None


def _met(barrier: threading.Barrier) -> bool:
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        return False
    return True


def _not_modified(answer: Answer, headers: dict[str, str]) -> bool:
    if answer.etag and answer.etag in headers.get("if-none-match", ""):
        return True
    return bool(answer.last_modified) and headers.get("if-modified-since") == answer.last_modified


def _make_handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # An idle kept-alive connection is dropped after this many seconds.
        timeout = 30

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def do_POST(self) -> None:
            length = self.headers.get("Content-Length", "0")
            self._serve(send_body=True,
                        body=self.rfile.read(int(length)) if length.isdigit() else b"")

        def log_message(self, format: str, *args: object) -> None:
            return

        def _serve(self, send_body: bool, body: bytes = b"") -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = server._take(self.command, self.path, headers, body)
            if answer is None:
                answer = Answer(b"not found", 404, {"Content-Type": "text/plain"})
            host = headers.get("host", "").rsplit(":", 1)[0]
            # "In flight" ends when the answer starts: a client cannot send
            # its next request before that, so peaks never overcount.
            server._enter(host)
            try:
                if answer.meet is not None and not _met(answer.meet):
                    answer = Answer(b"the other requests never came", 504, {"Content-Type": "text/plain"})
                if answer.delay:
                    time.sleep(answer.delay)
            finally:
                server._leave(host)
            try:
                self._send(answer, headers, send_body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _send(self, answer: Answer, headers: dict[str, str], send_body: bool) -> None:
            validators = {k: v for k, v in (("ETag", answer.etag),
                                            ("Last-Modified", answer.last_modified)) if v}
            if _not_modified(answer, headers):
                self.send_response(304)
                for name, value in validators.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(answer.status)
            for name, value in [*{**answer.headers, **validators}.items(), *answer.lines]:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if not send_body:
                return
            if answer.drip is None:
                self.wfile.write(answer.body)
                return
            for start in range(0, len(answer.body), answer.chunk):
                self.wfile.write(answer.body[start:start + answer.chunk])
                self.wfile.flush()
                time.sleep(answer.drip)

    return Handler


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A running LocalServer, closed after the test."""
    server = LocalServer()
    try:
        yield server
    finally:
        server.close()
