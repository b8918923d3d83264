"""Polite fetching: the only way the archive talks to other people's servers.

`Fetcher.fetch(url)` never raises for network, HTTP, robots or size
problems: it returns a `FetchResult` whose `error` says what went wrong in
one line, and leaves it to the capture pipeline to decide what a result
means. On the way it

- sends its User-Agent and obeys robots.txt (archive.robots), per origin;
- waits a minimum delay between two requests to one host (longer when
  robots.txt asks with Crawl-delay), counted across every process of the
  archive through the host gate (archive.politeness), and never fetches one
  host from two of its own threads at once, while other hosts proceed in
  parallel; a host whose next free turn is further away than
  `max_host_wait` is not fetched at all (a failed fetch, tried again later);
- sends If-None-Match / If-Modified-Since when asked: a 304 is a result;
- sends GET, or POST with a body for the browser's page scripts (GraphQL
  widgets ask that way): a POST is never retried (a repeat may not be
  harmless), and after a 301, 302 or 303 it becomes a GET without its body,
  as browsers do;
- retries timeouts, connection errors, 429 and 5xx a bounded number of
  times, with exponential backoff and jitter or the server's Retry-After;
- caps each response's decoded size and total time (archive.transport);
- with `send_by` (a browser capture's deadline), sends nothing after it: a
  request still waiting for its host's turn then is dropped unsent;
- follows redirects itself, so each hop is recorded, checked against the
  private-address guard (archive.addresses) and robots.txt, and waits its
  host's turn.

Politeness waits use the injected `sleep` (and, without a shared gate, the
injected `monotonic`), so tests can see the waits asked for; the
per-response time cap uses real time. The time a result says it was fetched
comes from the injected `clock` (the wall clock, except in the demo's
simulated captures).

Retries are done here rather than with urllib3's `Retry`: a retry is a new
request to the host, so it must wait its turn like any other, its waits
must go through the injected clock, and a Retry-After longer than a worker
should block for ends the retries instead of stalling the worker.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests

from archive.capture.fetch.addresses import check_url, normalise_url
from archive.capture.fetch.politeness import LATENESS_MARGIN, HostGate, LocalGate, host_of, open_gate
from archive.capture.fetch.robots import (
    ROBOTS_MAX_BYTES,
    RobotsCache,
    RobotsFile,
    RobotsRules,
    rules_from,
)
from archive.capture.fetch.transport import (
    NETWORK_ERRORS,
    SocketWatch,
    build_session,
    describe_failure,
    read_capped,
    timed_out,
)
from archive.clock import to_naive_utc, utcnow
from archive.errors import UrlRejected
from archive.store.headers import HeaderLines, header_map

if TYPE_CHECKING:
    from archive.settings import Settings

__all__ = ["Fetcher", "FetchResult", "check_url"]

MAX_REDIRECTS = 10
# RFC 9309: follow at least five redirects for robots.txt.
ROBOTS_REDIRECTS = 5
# Longest wait a server can ask for (Retry-After) or impose (Crawl-delay).
RETRY_AFTER_CAP = 120.0
CRAWL_DELAY_CAP = 120.0
# Longest a request waits for its host's turn before the fetch gives up.
HOST_WAIT_CAP = 300.0
# Turns missed in a row (each left too late to be taken) before a fetch gives up.
MAX_LATE_TURNS = 5
BACKOFF_BASE = 1.0
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Only these keep a POST a POST (with its body) on the next hop.
METHOD_KEEPING_REDIRECTS = frozenset({307, 308})
METHODS = ("GET", "POST")
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass
class FetchResult:
    """What one fetch gave: an answer (any status) or a one-line error."""

    url: str
    final_url: str
    status: int | None
    header_lines: HeaderLines  # every response header line as received, in order
    body: bytes
    request_headers: dict[str, str]
    redirects: list[dict[str, Any]]  # [{"url": ..., "status": ...}] for each hop followed
    fetched_at: datetime  # naive UTC, when the final request was sent
    elapsed_ms: int
    error: str | None
    robots_disallowed: bool = False
    method: str = "GET"  # as asked; a redirected POST may have ended as a GET (see `method_after`)
    request_body: bytes | None = None  # a POST's body as sent on the first hop

    @property
    def headers(self) -> dict[str, str]:
        """Response headers by lower-case name, for look-ups."""
        return header_map(self.header_lines)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


def method_after(method: str, statuses: list[int | None]) -> str:
    """What a request's method becomes after redirects with these statuses (as browsers do)."""
    if method != "GET" and all(status in METHOD_KEEPING_REDIRECTS for status in statuses):
        return method
    return "GET"


@dataclass
class _Answer:
    """One request's outcome, before redirects are followed."""

    url: str
    request_headers: dict[str, str]
    fetched_at: datetime
    status: int | None = None
    header_lines: HeaderLines = field(default_factory=list)
    body: bytes = b""
    error: str | None = None
    retryable: bool = False
    refused: bool = False
    busy: bool = False  # the host's turn was too far away: nothing was sent
    elapsed_ms: int = 0

    @property
    def headers(self) -> dict[str, str]:
        return header_map(self.header_lines)

    @property
    def location(self) -> str | None:
        if self.error is None and self.status in REDIRECT_STATUSES:
            return self.headers.get("location") or None
        return None


def product_token(user_agent: str) -> str:
    """'CommentArchiveBot/0.1 (+https://...)' -> 'CommentArchiveBot' (what robots.txt names)."""
    words = user_agent.split("/", 1)[0].split()
    return words[0] if words else user_agent


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or HTTP date), or None."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (to_naive_utc(when) - utcnow()).total_seconds())


def _clean_header(value: str | None) -> str | None:
    # Validators come from earlier answers: never let one break a request.
    if value and value.isprintable():
        return value
    return None


class Fetcher:
    """Shared by every worker thread; see the module docstring for what it promises."""

    def __init__(self, *, user_agent: str, min_host_delay: float, timeout: float, max_bytes: int,
                 retries: int, allow_private: bool, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 clock: Callable[[], datetime] = utcnow, gate: HostGate | None = None,
                 max_host_wait: float = HOST_WAIT_CAP) -> None:
        self.user_agent = user_agent
        self.robots_token = product_token(user_agent)
        self.min_host_delay = max(0.0, min_host_delay)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.retries = max(0, retries)
        self.allow_private = allow_private
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random()
        self._watch = SocketWatch()
        self._session = build_session(self._watch, allow_private)
        # The gate is the Fetcher's from now on (closed with it); without a
        # gate shared with other processes, one of its own.
        self._gate = gate if gate is not None else LocalGate(monotonic)
        self.max_host_wait = max_host_wait
        self._host_locks: dict[str, threading.Lock] = {}
        self._hosts_lock = threading.Lock()
        self._robots = RobotsCache(self._get_robots, monotonic)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Fetcher:
        """A Fetcher as the archive's settings describe it, sharing the fleet's host gate."""
        arguments: dict[str, Any] = dict(
            user_agent=settings.user_agent, min_host_delay=settings.min_host_delay,
            timeout=settings.fetch_timeout, max_bytes=settings.max_response_bytes,
            retries=settings.fetch_retries, allow_private=settings.allow_private_addresses)
        arguments.update(overrides)
        if arguments.get("gate") is None:
            arguments["gate"] = open_gate(settings)
        return cls(**arguments)

    def close(self) -> None:
        self._session.close()
        self._gate.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              accept: str | None = None, method: str = "GET", body: bytes | None = None,
              content_type: str | None = None, send_by: float | None = None) -> FetchResult:
        """GET (or POST `body`) `url` politely; never raises for network, HTTP, robots or size problems.

        `send_by` (time.monotonic()): no request of this fetch leaves later."""
        if method not in METHODS:
            raise ValueError(f"the fetcher sends {' and '.join(METHODS)} only, not {method!r}")
        headers = self._headers(accept, etag, last_modified)
        body = body if method == "POST" else None
        if body is not None and content_type and content_type.isprintable():
            headers["Content-Type"] = content_type
        asked: dict[str, Any] = {"method": method, "request_body": body}
        redirects: list[dict[str, Any]] = []
        try:
            current = normalise_url(url)
        except UrlRejected as exc:
            return self._failure(url, url, str(exc), redirects, headers, **asked)
        elapsed_ms = 0
        hop_method, hop_body, hop_headers = method, body, headers
        for _hop in range(MAX_REDIRECTS + 1):
            if send_by is not None and time.monotonic() >= send_by:
                # Not even robots.txt: nothing leaves after `send_by`.
                return self._failure(url, current, "this capture's deadline has passed: nothing was sent",
                                     redirects, headers, **asked)
            rules = self._robots.rules_for(current)
            if not rules.allows(current, self.robots_token):
                return self._refused_by_robots(url, current, rules, redirects, headers, asked)
            answer = self._get(current, hop_headers, self._delay(rules), self.max_bytes, truncate=False,
                               method=hop_method, body=hop_body, send_by=send_by)
            elapsed_ms += answer.elapsed_ms
            location = answer.location
            if location is None:
                return FetchResult(url=url, final_url=current, status=answer.status,
                                   header_lines=answer.header_lines, body=answer.body,
                                   request_headers=answer.request_headers, redirects=redirects,
                                   fetched_at=answer.fetched_at, elapsed_ms=elapsed_ms,
                                   error=answer.error, method=method, request_body=body)
            redirects.append({"url": current, "status": answer.status})
            if method_after(hop_method, [answer.status]) != hop_method:
                hop_method, hop_body = "GET", None
                hop_headers = {k: v for k, v in headers.items() if k != "Content-Type"}
            try:
                current = normalise_url(urljoin(current, location))
            except UrlRejected as exc:
                return self._failure(url, current, f"redirect refused: {exc}", redirects, headers,
                                     **asked)
        return self._failure(url, current, f"more than {MAX_REDIRECTS} redirects", redirects, headers,
                             **asked)

    def _refused_by_robots(self, url: str, current: str, rules: RobotsRules,
                           redirects: list[dict[str, Any]], headers: dict[str, str],
                           asked: dict[str, Any]) -> FetchResult:
        if rules.unreachable:
            return self._failure(url, current, rules.reason or "robots.txt unreachable",
                                 redirects, headers, **asked)
        reason = rules.reason or f"robots.txt disallows this URL for {self.robots_token}"
        return self._failure(url, current, reason, redirects, headers, robots_disallowed=True, **asked)

    def _failure(self, url: str, final_url: str, error: str, redirects: list[dict[str, Any]],
                 headers: dict[str, str], robots_disallowed: bool = False, method: str = "GET",
                 request_body: bytes | None = None) -> FetchResult:
        return FetchResult(url=url, final_url=final_url, status=None, header_lines=[], body=b"",
                           request_headers=headers, redirects=redirects, fetched_at=self._clock(),
                           elapsed_ms=0, error=error, robots_disallowed=robots_disallowed,
                           method=method, request_body=request_body)

    def _headers(self, accept: str | None, etag: str | None, last_modified: str | None) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent, "Accept": accept or DEFAULT_ACCEPT,
                   "Accept-Encoding": "gzip, deflate"}
        if _clean_header(etag):
            headers["If-None-Match"] = etag  # type: ignore[assignment]
        if _clean_header(last_modified):
            headers["If-Modified-Since"] = last_modified  # type: ignore[assignment]
        return headers

    def _delay(self, rules: RobotsRules) -> float:
        crawl_delay = rules.crawl_delay(self.robots_token) or 0.0
        return max(self.min_host_delay, min(crawl_delay, CRAWL_DELAY_CAP))

    def _get_robots(self, url: str) -> RobotsFile:
        headers = self._headers("text/plain, */*;q=0.1", None, None)
        for _hop in range(ROBOTS_REDIRECTS + 1):
            answer = self._get(url, headers, self.min_host_delay, ROBOTS_MAX_BYTES, truncate=True)
            location = answer.location
            if location is None:
                found = RobotsFile(answer.status, answer.body, answer.error, answer.refused,
                                   answer.busy)
                # A Crawl-delay binds every request reserved from now on, in
                # every process, not only those this Fetcher sends.
                delay = self._delay(rules_from(found)[0])
                if delay > self.min_host_delay:
                    self._gate.hold(host_of(url), delay)
                return found
            try:
                url = normalise_url(urljoin(url, location))
            except UrlRejected:
                break
        # Too many redirects or a bad target: the file is unavailable, which
        # RFC 9309 treats like a 4xx (rules_from: 3xx -> allow all).
        return RobotsFile(answer.status, b"")

    def _host_lock(self, host: str) -> threading.Lock:
        with self._hosts_lock:
            return self._host_locks.setdefault(host, threading.Lock())

    def _get(self, url: str, headers: dict[str, str], delay: float, limit: int,
             truncate: bool, method: str = "GET", body: bytes | None = None,
             send_by: float | None = None) -> _Answer:
        """One request with retries (a GET's), each waiting its host's turn at the gate."""
        host = host_of(url)
        elapsed_ms = 0
        lock = self._host_lock(host)
        if not lock.acquire(timeout=-1 if send_by is None else max(0.0, send_by - time.monotonic())):
            return self._too_late(url, headers, host, elapsed_ms)
        try:
            attempt = late = 0
            while True:
                max_wait = self.max_host_wait
                if send_by is not None:
                    left = send_by - time.monotonic()
                    if left <= 0:
                        return self._too_late(url, headers, host, elapsed_ms)
                    max_wait = min(max_wait, left)
                turn = self._gate.reserve(host, delay, max_wait)
                if not turn.granted:
                    if max_wait < self.max_host_wait:
                        return self._too_late(url, headers, host, elapsed_ms)
                    return self._host_busy(url, headers, host, turn.wait, elapsed_ms)
                if turn.due is None:
                    if turn.wait > 0:
                        self._sleep(turn.wait)
                else:
                    self._sleep(max(0.0, turn.due - time.monotonic()))
                    if time.monotonic() - turn.due > LATENESS_MARGIN / 2:
                        # Too late for this turn (a slow commit, a thread woken
                        # late): the next turn may already be near. Ask again.
                        # Half the margin: the other half is for the time from
                        # here to the request's arrival, which a loaded machine
                        # stretches too.
                        late += 1
                        if late > MAX_LATE_TURNS:
                            return self._host_busy(url, headers, host, None, elapsed_ms)
                        continue
                answer = self._attempt(url, headers, limit, truncate, method, body)
                elapsed_ms += answer.elapsed_ms
                pause = self._retry_pause(answer, attempt) if method == "GET" else None
                # Counted from the end of the answer as well: a slow answer
                # still has the delay after it, and a retry its back-off.
                after = max(delay, pause or 0.0)
                if after > 0:
                    self._gate.hold(host, after)
                if pause is None:
                    answer.elapsed_ms = elapsed_ms
                    return answer
                attempt += 1
        finally:
            lock.release()

    def _too_late(self, url: str, headers: dict[str, str], host: str, elapsed_ms: int) -> _Answer:
        error = f"{host}'s next free turn comes after this capture's deadline: nothing was sent"
        return _Answer(url=url, request_headers=dict(headers), error=error, busy=True,
                       fetched_at=self._clock(), elapsed_ms=elapsed_ms)

    def _host_busy(self, url: str, headers: dict[str, str], host: str, wait: float | None,
                   elapsed_ms: int) -> _Answer:
        """`wait`: how far the host's next turn is; None when this process kept
        missing its turns (too loaded to send on time)."""
        # Not a network failure: nothing was sent, and trying later will do.
        why = (f"its next free turn is {wait:.0f} s away, more than the {self.max_host_wait:g} s a fetch waits"
               if wait is not None else
               f"this process missed {MAX_LATE_TURNS + 1} turns in a row, too loaded to send in time")
        error = f"{host} is busy: {why}; nothing was sent, it will be tried later"
        return _Answer(url=url, request_headers=dict(headers), error=error, busy=True,
                       fetched_at=self._clock(), elapsed_ms=elapsed_ms)

    def _retry_pause(self, answer: _Answer, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None to keep this answer."""
        if attempt >= self.retries:
            return None
        if answer.error is not None:
            return self._backoff(attempt) if answer.retryable else None
        if answer.status is None or (answer.status != 429 and answer.status < 500):
            return None
        asked = retry_after_seconds(answer.headers.get("retry-after"))
        if asked is None:
            return self._backoff(attempt)
        # Waiting longer would tie up a worker: the server's answer stands.
        return asked if asked <= RETRY_AFTER_CAP else None

    def _backoff(self, attempt: int) -> float:
        return min(RETRY_AFTER_CAP, BACKOFF_BASE * 2 ** attempt) + self._random.uniform(0, BACKOFF_BASE)

    def _attempt(self, url: str, headers: dict[str, str], limit: int, truncate: bool,
                 method: str, body: bytes | None) -> _Answer:
        answer = _Answer(url=url, request_headers=dict(headers), fetched_at=self._clock())
        host = host_of(url)
        started = time.monotonic()
        with self._watch.deadline(self.timeout) as deadline:
            try:
                request = requests.Request(method, url, headers=headers, data=body).prepare()
                answer.request_headers = {name: str(value) for name, value in request.headers.items()}
                response = self._session.send(request, stream=True, timeout=self.timeout,
                                              allow_redirects=False)
            except UrlRejected as exc:
                answer.error, answer.refused = str(exc), True
            except (*NETWORK_ERRORS, ValueError) as exc:
                answer.error, answer.retryable = describe_failure(exc, host, self.timeout)
            else:
                with response:
                    self._read(response, answer, limit, truncate, host)
            if deadline.expired:
                answer.body, answer.error, answer.retryable = b"", timed_out(self.timeout), True
        answer.elapsed_ms = int((time.monotonic() - started) * 1000)
        return answer

    def _read(self, response: requests.Response, answer: _Answer, limit: int, truncate: bool,
              host: str) -> None:
        answer.status = response.status_code
        answer.header_lines = _header_lines(response)
        if answer.location is not None or answer.status == 304:
            return
        try:
            answer.body, answer.error = read_capped(response.raw, limit, truncate)
        except NETWORK_ERRORS as exc:
            answer.error, answer.retryable = describe_failure(exc, host, self.timeout)


def _header_lines(response: requests.Response) -> HeaderLines:
    # requests joins repeated headers into one value and urllib3 groups them by
    # name; http.client's message (kept by urllib3 as `_original_response`)
    # still has the lines as they arrived.
    message = getattr(getattr(response.raw, "_original_response", None), "msg", None)
    items = message.items() if message is not None else response.raw.headers.items()
    return [(str(name), str(value)) for name, value in items]
