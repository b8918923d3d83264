"""The fetcher's HTTP plumbing: a requests Session with guarded, time-boxed connections.

Two things cannot be done from outside a connection, so the Session's
connection classes do them:

- the private-address guard on the address a socket really connects to
  (checking a URL first and connecting later would let a host's DNS answer
  change in between);
- a total time cap per response. Socket timeouts bound each read, not the
  whole answer: a server dripping one byte per second (in its headers or its
  body) would never time out. Every socket a response uses is attached to a
  `Deadline`, whose timer shuts the socket down when the time is up, which
  ends whatever read is blocked on it.
"""
from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.response import BaseHTTPResponse
from urllib3.util.connection import create_connection

from archive.capture.fetch.addresses import check_public_host


class Deadline:
    """Cuts the sockets of one response once `seconds` have passed."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _cut(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _cut(sock)

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()


def _cut(sock: socket.socket) -> None:
    # The plain socket's shutdown, even for a TLS socket: it wakes a read
    # blocked in another thread without touching the TLS object that
    # thread is using.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class SocketWatch:
    """Which Deadline the current thread's sockets belong to."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[Deadline]:
        with Deadline(seconds) as deadline:
            self._local.deadline = deadline
            try:
                yield deadline
            finally:
                self._local.deadline = None

    def attach(self, sock: socket.socket | None) -> None:
        deadline = getattr(self._local, "deadline", None)
        if sock is not None and deadline is not None:
            deadline.attach(sock)


class _GuardedConnectionMixin:
    """Connects only to checked addresses and attaches its socket to the current Deadline."""

    archive_watch: SocketWatch
    archive_allow_private: bool
    # Provided by urllib3's HTTPConnection.
    host: str
    port: int
    timeout: Any
    socket_options: Any
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        if self.archive_allow_private:
            sock = super()._new_conn()  # type: ignore[misc]
        else:
            sock = self._connect_public()
        self.archive_watch.attach(sock)
        return sock

    def _connect_public(self) -> socket.socket:
        # UrlRejected propagates through urllib3 and requests unchanged, so
        # the fetcher can tell a refusal from a network failure.
        addresses = check_public_host(self.host, self.port)
        failure: OSError | None = None
        for _family, address in addresses:
            try:
                return create_connection((address, self.port), self.timeout,
                                         socket_options=self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})") from exc
            except OSError as exc:
                failure = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure}")  # type: ignore[arg-type]

    def request(self, *args: Any, **kwargs: Any) -> None:
        # A kept-alive connection brings its socket from an earlier response.
        self.archive_watch.attach(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _ArchiveAdapter(HTTPAdapter):
    def __init__(self, watch: SocketWatch, allow_private: bool) -> None:
        attrs = {"archive_watch": watch, "archive_allow_private": allow_private}
        http_conn = type("ArchiveHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), attrs)
        https_conn = type("ArchiveHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), attrs)
        self._pool_classes = {
            "http": type("ArchiveHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("ArchiveHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes


def build_session(watch: SocketWatch, allow_private: bool) -> requests.Session:
    """A Session that ignores proxies, netrc and cookies, with guarded connections."""
    session = requests.Session()
    # Environment proxies would make the guard check the proxy, not the
    # target; netrc could add credentials. Neither belongs in evidence.
    session.trust_env = False
    # Every capture should see what an anonymous first-time reader sees.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = _ArchiveAdapter(watch, allow_private)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# What can go wrong on the wire, from every layer requests and urllib3 have.
NETWORK_ERRORS = (OSError, urllib3.exceptions.HTTPError, http.client.HTTPException)
READ_CHUNK = 64 * 1024


def read_capped(raw: BaseHTTPResponse, limit: int, truncate: bool) -> tuple[bytes, str | None]:
    """The decoded body, or (b"", error) once it passes `limit` bytes.

    Counting decoded bytes catches compression bombs: urllib3 2.x hands out
    at most READ_CHUNK decoded bytes per step, however small the input.
    With `truncate`, the first `limit` bytes are kept instead (robots.txt).
    """
    too_large = f"response larger than {limit} bytes"
    declared = raw.headers.get("content-length", "")
    if (not truncate and declared.isdigit() and int(declared) > limit
            and not raw.headers.get("content-encoding")):
        return b"", too_large
    chunks: list[bytes] = []
    total = 0
    for chunk in raw.stream(READ_CHUNK, decode_content=True):
        total += len(chunk)
        if total > limit:
            if not truncate:
                return b"", too_large
            chunks.append(chunk[:len(chunk) - (total - limit)])
            break
        chunks.append(chunk)
    return b"".join(chunks), None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (causes, contexts, urllib3 reasons)."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None),
                      *current.args])


_TIMEOUTS = (TimeoutError, requests.Timeout, urllib3.exceptions.TimeoutError)


def describe_failure(exc: BaseException, host: str, timeout: float) -> tuple[str, bool]:
    """A one-line reason for a network failure, and whether trying again may help."""
    causes = list(_causes(exc))
    # urllib3's NewConnectionError subclasses its timeout error for old
    # callers' sake; a refused connection is not a timeout.
    if any(isinstance(c, _TIMEOUTS) and not isinstance(c, NewConnectionError) for c in causes):
        return timed_out(timeout), True
    for kinds, message in (
            (ConnectionRefusedError, "connection refused"),
            (ConnectionResetError, "connection reset by the server"),
            ((urllib3.exceptions.NameResolutionError, socket.gaierror), f"cannot resolve host {host}"),
            (http.client.RemoteDisconnected, "the server closed the connection without answering"),
            ((urllib3.exceptions.DecodeError, requests.exceptions.ContentDecodingError),
             "the response body could not be decompressed"),
            ((http.client.IncompleteRead, urllib3.exceptions.ProtocolError,
              requests.exceptions.ChunkedEncodingError), "the response was cut short")):
        if any(isinstance(c, kinds) for c in causes):
            return message, "decompressed" not in message
    tls = next((c for c in causes if isinstance(c, ssl.SSLError)), None)
    if tls is not None:
        return f"TLS error: {_one_line(tls)}", False
    return f"request failed: {_one_line(exc)}", True


def timed_out(timeout: float) -> str:
    return f"timed out after {timeout:g}s"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
